/* kiosk.hours (schedule.h): parsing and its errors, open / closed across a week, ranges
 * past midnight and to 24:00, the daylight-saving changes of 2026 in Berlin and New York,
 * the test clock; and the loop thread's pause (piece_set_paused) that closed hours use. */
#define _DEFAULT_SOURCE /* timegm */
#include "check.h"
#include "clock.h"
#include "config.h"
#include "piece.h"
#include "schedule.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct error err;

static void zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* An instant given in UTC. */
static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return timegm(&tm);
}

/* An instant given on the wall clock of the current zone (not for ambiguous times). */
static time_t wall(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_isdst = -1};
    return mktime(&tm);
}

static struct schedule parsed(const char *text)
{
    struct schedule s;
    if (schedule_parse(&s, text, &err))
        CHECK_MSG(0, "'%s': %s", text, err.msg);
    return s;
}

/* Minutes open in [from, to), looked at every minute. */
static int open_minutes(const struct schedule *s, time_t from, time_t to)
{
    int n = 0;
    for (time_t t = from; t < to; t += 60)
        n += schedule_open_at(s, t);
    return n;
}

/* ---- parsing ---------------------------------------------------------------------------- */

/* 2026-06-08 is a Monday; the week in UTC so that wall clock = the instants. */
#define JUNE(d, h, mi) utc(2026, 6, (d), (h), (mi), 0)

static void test_week(void)
{
    zone("UTC");
    struct schedule s = parsed("mon-fri 10:00-18:00; sat,sun 11:00-17:00");
    CHECK(!schedule_open_at(&s, JUNE(8, 9, 59)));
    CHECK(schedule_open_at(&s, JUNE(8, 10, 0)));
    CHECK(schedule_open_at(&s, JUNE(8, 17, 59) + 59));
    CHECK(!schedule_open_at(&s, JUNE(8, 18, 0)));
    CHECK(schedule_open_at(&s, JUNE(12, 12, 0)));   /* Friday */
    CHECK(!schedule_open_at(&s, JUNE(13, 10, 59))); /* Saturday */
    CHECK(schedule_open_at(&s, JUNE(13, 11, 0)));
    CHECK(schedule_open_at(&s, JUNE(14, 16, 59))); /* Sunday */
    CHECK(!schedule_open_at(&s, JUNE(14, 17, 0)));
    /* 5 x 8 h + 2 x 6 h in the whole week, nothing more */
    CHECK(open_minutes(&s, JUNE(8, 0, 0), JUNE(15, 0, 0)) == 5 * 480 + 2 * 360);
}

static void test_days_not_named_are_closed(void)
{
    zone("UTC");
    struct schedule s = parsed("Tuesday,THU 10:00-11:00");
    CHECK(!schedule_open_at(&s, JUNE(8, 10, 30)));
    CHECK(schedule_open_at(&s, JUNE(9, 10, 30)));
    CHECK(!schedule_open_at(&s, JUNE(10, 10, 30)));
    CHECK(schedule_open_at(&s, JUNE(11, 10, 30)));
    CHECK(open_minutes(&s, JUNE(8, 0, 0), JUNE(15, 0, 0)) == 2 * 60);
    struct schedule wrap = parsed("fri-mon 12:00-13:00"); /* over the weekend */
    CHECK(open_minutes(&wrap, JUNE(8, 0, 0), JUNE(15, 0, 0)) == 4 * 60);
    CHECK(schedule_open_at(&wrap, JUNE(8, 12, 0)) && !schedule_open_at(&wrap, JUNE(9, 12, 0)));
    struct schedule daily = parsed("daily 9:00-9:30");
    CHECK(open_minutes(&daily, JUNE(8, 0, 0), JUNE(15, 0, 0)) == 7 * 30);
}

static void test_several_ranges_a_day(void)
{
    zone("UTC");
    const char *texts[] = {"tue 10:00-13:00 14:00-19:00", "tue 10:00-13:00,14:00-19:00",
                           "tue 10:00-13:00; tue 14:00-19:00",
                           "tue 10:00-12:00 11:00-13:00 14:00-19:00"};
    for (int i = 0; i < 4; i++) {
        struct schedule s = parsed(texts[i]);
        CHECK_MSG(schedule_open_at(&s, JUNE(9, 12, 59)), "%s", texts[i]);
        CHECK_MSG(!schedule_open_at(&s, JUNE(9, 13, 30)), "%s", texts[i]);
        CHECK_MSG(schedule_open_at(&s, JUNE(9, 14, 0)), "%s", texts[i]);
        CHECK_MSG(open_minutes(&s, JUNE(8, 0, 0), JUNE(15, 0, 0)) == 8 * 60, "%s", texts[i]);
    }
}

static void test_past_midnight_and_24(void)
{
    zone("UTC");
    struct schedule s = parsed("fri 20:00-02:00");
    CHECK(!schedule_open_at(&s, JUNE(12, 19, 59)));
    CHECK(schedule_open_at(&s, JUNE(12, 20, 0)));
    CHECK(schedule_open_at(&s, JUNE(13, 1, 59))); /* Saturday morning, Friday's night */
    CHECK(!schedule_open_at(&s, JUNE(13, 2, 0)));
    CHECK(!schedule_open_at(&s, JUNE(12, 1, 0))); /* Thursday's night was not named */
    CHECK(open_minutes(&s, JUNE(8, 0, 0), JUNE(15, 0, 0)) == 6 * 60);
    struct schedule sun = parsed("sun 22:00-01:00"); /* Sunday's night runs into Monday */
    CHECK(schedule_open_at(&sun, JUNE(8, 0, 30)) && schedule_open_at(&sun, JUNE(14, 23, 0)));
    CHECK(!schedule_open_at(&sun, JUNE(8, 1, 0)));
    struct schedule end = parsed("sat 18:00-24:00");
    CHECK(schedule_open_at(&end, JUNE(13, 23, 59)));
    CHECK(!schedule_open_at(&end, JUNE(14, 0, 0)));
    struct schedule whole = parsed("mon-sun 00:00-24:00");
    CHECK(open_minutes(&whole, JUNE(8, 0, 0), JUNE(15, 0, 0)) == 7 * 1440);
    CHECK(schedule_next_change(&whole, JUNE(8, 5, 0)) == SCHEDULE_NEVER);
}

static void test_empty_is_always_open(void)
{
    zone("UTC");
    const char *texts[] = {"", "   "};
    for (int i = 0; i < 2; i++) {
        struct schedule s = parsed(texts[i]);
        CHECK(s.always);
        CHECK(open_minutes(&s, JUNE(8, 0, 0), JUNE(15, 0, 0)) == 7 * 1440);
        CHECK(schedule_next_change(&s, JUNE(8, 0, 0)) == SCHEDULE_NEVER);
    }
    struct params p;
    params_defaults(&p);
    CHECK(p.kiosk.hours[0] == '\0' && p.kiosk.closed == KIOSK_CLOSED_BLACK);
}

static void test_next_change(void)
{
    zone("UTC");
    struct schedule s = parsed("mon-fri 10:00-18:00; sat,sun 11:00-17:00");
    CHECK(schedule_next_change(&s, JUNE(8, 9, 0)) == JUNE(8, 10, 0));
    CHECK(schedule_next_change(&s, JUNE(8, 10, 0)) == JUNE(8, 18, 0));
    CHECK(schedule_next_change(&s, JUNE(12, 17, 30) + 30) == JUNE(12, 18, 0)); /* mid-minute */
    CHECK(schedule_next_change(&s, JUNE(12, 18, 0)) == JUNE(13, 11, 0));       /* Fri -> Sat */
    CHECK(schedule_next_change(&s, JUNE(14, 17, 0)) == JUNE(15, 10, 0));       /* Sun -> Mon */
    struct schedule weekly = parsed("wed 10:00-11:00");
    CHECK(schedule_next_change(&weekly, JUNE(10, 11, 0)) == JUNE(17, 10, 0)); /* a week on */
}

/* The error names the bad token and says what is expected. */
static void expect_error(const char *text, const char *want)
{
    struct schedule s;
    err.msg[0] = '\0';
    CHECK_MSG(schedule_parse(&s, text, &err) != 0, "'%s' parsed", text);
    CHECK_MSG(strstr(err.msg, want) != NULL, "'%s': got \"%s\", want \"%s\"", text, err.msg, want);
}

static void test_parse_errors(void)
{
    expect_error("tues 10:00-18:00", "'tues' is not a day: mon, tue, wed, thu, fri, sat, sun");
    expect_error("mon-xyz 10:00-18:00", "'mon-xyz' is not a day");
    expect_error("mon 25:00-26:00", "'25:00' in '25:00-26:00' is not a time: HH:MM");
    expect_error("mon 10:00-18:60", "'18:60' in '10:00-18:60' is not a time: HH:MM");
    expect_error("mon 10:00-24:01", "'24:01' in '10:00-24:01' is not a time");
    expect_error("mon 10-18", "'10' in '10-18' is not a time");
    expect_error("mon 10:00", "'10:00' is not a range of hours: HH:MM-HH:MM, e.g. 10:00-18:00");
    expect_error("mon 24:00-02:00", "'24:00-02:00': 24:00 only ends a range");
    expect_error("mon 10:00-10:00", "'10:00-10:00' is empty");
    expect_error("10:00-18:00", "'10:00-18:00' has no day before it: start with days");
    expect_error("mon", "'mon' has no hours: follow the days with ranges, e.g. mon 10:00-18:00");
    expect_error("mon 10:00-18:00 sat 11:00-12:00", "'sat' comes after the hours: split entries");
    expect_error("mon @ 10:00-11:00", "'@' is neither days");
    expect_error(";", "holds no hours; leave it empty for always open");
    /* with several entries, which one */
    expect_error("mon-fri 10:00-18:00; sat 9-12",
                 "entry 2 (sat 9-12): '9' in '9-12' is not a time");
}

/* Through the registry and a config file: the parameter and file:line are named, and a
 * bad value changes nothing. */
static void test_errors_name_parameter_and_line(void)
{
    struct params p, before;
    params_defaults(&p);
    CHECK(params_set(&p, "kiosk.hours", "mon-fri 10:00-18:00", &err) == 0);
    before = p;
    CHECK(params_set(&p, "kiosk.hours", "mon-fri 10:00-1800", &err) != 0);
    CHECK_MSG(strstr(err.msg, "kiosk.hours: '1800' in '10:00-1800' is not a time") == err.msg, "%s",
              err.msg);
    CHECK(memcmp(&p, &before, sizeof p) == 0);
    CHECK(params_set(&p, "kiosk.closed", "off", &err) != 0);
    CHECK_MSG(strstr(err.msg, "kiosk.closed: 'off' is not one of black|dpms"), "%s", err.msg);
    CHECK(params_set(&p, "kiosk.closed", "dpms", &err) == 0 && p.kiosk.closed == KIOSK_CLOSED_DPMS);
    const char *cfg = "kiosk = {\n"
                      "    closed = \"black\";\n"
                      "    hours = \"mon-fri 10:00-18:00; sun 11:00-17:00 sat 10:00-12:00\";\n"
                      "};\n";
    CHECK(params_load_string(&p, cfg, "kiosk.cfg", &err) != 0);
    CHECK_MSG(strstr(err.msg, "kiosk.cfg:3: kiosk.hours: entry 2 (sun 11:00-17:00 sat "
                              "10:00-12:00): 'sat' comes after the hours") == err.msg,
              "%s", err.msg);
    CHECK(params_load_string(&p, "kiosk = { hours = \"sat,sun 11:00-17:00\"; };", "k", &err) == 0);
    CHECK(strcmp(p.kiosk.hours, "sat,sun 11:00-17:00") == 0);
}

/* ---- daylight saving -------------------------------------------------------------------- */

/* Berlin, Sunday 2026-03-29: at 01:00 UTC the clock jumps from 02:00 CET to 03:00 CEST. */
static void test_berlin_spring_forward(void)
{
    zone("Europe/Berlin");
    time_t jump = utc(2026, 3, 29, 1, 0, 0);
    struct schedule ends = parsed("sun 01:00-02:30"); /* ends inside the gap: at the jump */
    CHECK(!schedule_open_at(&ends, utc(2026, 3, 28, 23, 59, 59)));
    CHECK(schedule_open_at(&ends, utc(2026, 3, 29, 0, 0, 0))); /* 01:00 CET */
    CHECK(schedule_open_at(&ends, jump - 1));
    CHECK(!schedule_open_at(&ends, jump)); /* 03:00 CEST */
    CHECK(schedule_next_change(&ends, utc(2026, 3, 29, 0, 0, 1)) == jump);
    CHECK(open_minutes(&ends, utc(2026, 3, 28, 22, 0, 0), utc(2026, 3, 29, 6, 0, 0)) == 60);
    struct schedule starts = parsed("sun 02:30-04:00"); /* starts inside the gap: at the jump */
    CHECK(!schedule_open_at(&starts, jump - 1));
    CHECK(schedule_open_at(&starts, jump));
    CHECK(schedule_open_at(&starts, utc(2026, 3, 29, 1, 59, 59))); /* 03:59:59 CEST */
    CHECK(!schedule_open_at(&starts, utc(2026, 3, 29, 2, 0, 0)));  /* 04:00 CEST */
    CHECK(schedule_next_change(&starts, utc(2026, 3, 29, 0, 30, 0)) == jump);
    struct schedule inside = parsed("sun 02:00-02:30"); /* wholly in the gap: not that night */
    CHECK(open_minutes(&inside, utc(2026, 3, 28, 22, 0, 0), utc(2026, 3, 29, 6, 0, 0)) == 0);
    /* 10:00 is 10:00 on the wall: 09:00 UTC on Saturday, 08:00 UTC on Sunday */
    struct schedule day = parsed("daily 10:00-18:00");
    CHECK(schedule_next_change(&day, utc(2026, 3, 28, 3, 0, 0)) == utc(2026, 3, 28, 9, 0, 0));
    CHECK(schedule_next_change(&day, utc(2026, 3, 29, 3, 0, 0)) == utc(2026, 3, 29, 8, 0, 0));
    CHECK(schedule_next_change(&day, utc(2026, 3, 29, 9, 0, 0)) == utc(2026, 3, 29, 16, 0, 0));
    CHECK(wall(2026, 3, 29, 10, 0) == utc(2026, 3, 29, 8, 0, 0)); /* the zone is really there */
}

/* Berlin, Sunday 2026-10-25: at 01:00 UTC the clock goes back from 03:00 CEST to 02:00
 * CET, so 02:00-02:59 shows twice; the repeat keeps the state of its first pass's end. */
static void test_berlin_fall_back(void)
{
    zone("Europe/Berlin");
    time_t back = utc(2026, 10, 25, 1, 0, 0);
    struct schedule ends = parsed("sun 01:00-02:30");
    CHECK(schedule_open_at(&ends, utc(2026, 10, 24, 23, 0, 0)));  /* 01:00 CEST */
    CHECK(!schedule_open_at(&ends, utc(2026, 10, 25, 0, 30, 0))); /* 02:30 CEST */
    CHECK(!schedule_open_at(&ends, back));                        /* 02:00 CET */
    CHECK(!schedule_open_at(&ends, utc(2026, 10, 25, 1, 15, 0))); /* 02:15 CET: no reopening */
    CHECK(open_minutes(&ends, utc(2026, 10, 24, 20, 0, 0), utc(2026, 10, 25, 6, 0, 0)) == 90);
    CHECK(schedule_next_change(&ends, utc(2026, 10, 25, 0, 30, 0)) ==
          utc(2026, 11, 1, 0, 0, 0)); /* not again tonight: next Sunday, 01:00 CET */
    struct schedule starts = parsed("sun 02:30-04:00");
    CHECK(!schedule_open_at(&starts, utc(2026, 10, 25, 0, 29, 59)));
    CHECK(schedule_open_at(&starts, utc(2026, 10, 25, 0, 30, 0)));  /* the first 02:30 */
    CHECK(schedule_open_at(&starts, back));                         /* 02:00 CET */
    CHECK(schedule_open_at(&starts, utc(2026, 10, 25, 1, 15, 0)));  /* 02:15 CET: still open */
    CHECK(schedule_open_at(&starts, utc(2026, 10, 25, 2, 59, 59))); /* 03:59:59 CET */
    CHECK(!schedule_open_at(&starts, utc(2026, 10, 25, 3, 0, 0)));  /* 04:00 CET */
    CHECK(schedule_next_change(&starts, utc(2026, 10, 25, 0, 30, 0)) == utc(2026, 10, 25, 3, 0, 0));
    CHECK(open_minutes(&starts, utc(2026, 10, 24, 20, 0, 0), utc(2026, 10, 25, 6, 0, 0)) == 150);
    struct schedule night = parsed("sat 22:00-03:00"); /* ends after the repeat: 6 h */
    CHECK(open_minutes(&night, utc(2026, 10, 24, 18, 0, 0), utc(2026, 10, 25, 6, 0, 0)) == 360);
}

/* New York 2026: 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC); 2026-11-01 02:00 EDT ->
 * 01:00 EST (06:00 UTC). */
static void test_new_york(void)
{
    zone("America/New_York");
    struct schedule day = parsed("daily 10:00-18:00");
    CHECK(schedule_next_change(&day, utc(2026, 3, 7, 12, 0, 0)) == utc(2026, 3, 7, 15, 0, 0));
    CHECK(schedule_next_change(&day, utc(2026, 3, 8, 12, 0, 0)) == utc(2026, 3, 8, 14, 0, 0));
    CHECK(schedule_next_change(&day, utc(2026, 3, 8, 14, 0, 0)) == utc(2026, 3, 8, 22, 0, 0));
    struct schedule late = parsed("sun 01:00-01:30");
    CHECK(schedule_open_at(&late, utc(2026, 11, 1, 5, 0, 0)));   /* 01:00 EDT */
    CHECK(!schedule_open_at(&late, utc(2026, 11, 1, 5, 30, 0))); /* 01:30 EDT */
    CHECK(!schedule_open_at(&late, utc(2026, 11, 1, 6, 15, 0))); /* 01:15 EST, the repeat */
    CHECK(open_minutes(&late, utc(2026, 11, 1, 3, 0, 0), utc(2026, 11, 1, 9, 0, 0)) == 30);
}

/* ---- the clock -------------------------------------------------------------------------- */

static time_t fixed_clock(void)
{
    return 1234567890;
}

static void test_clock(void)
{
    clock_wall_set(fixed_clock);
    CHECK(clock_wall() == 1234567890);
    clock_wall_set(NULL);
    /* MNEMO_TEST_TIME is read at the first call of the real clock: 10 times as fast */
    setenv("MNEMO_TEST_TIME", "1781078390x10", 1);
    time_t t0 = clock_wall();
    struct timespec half = {0, 500000000};
    nanosleep(&half, NULL);
    time_t t1 = clock_wall();
    CHECK_MSG(t0 >= 1781078390 && t0 <= 1781078391, "%lld", (long long)t0);
    CHECK_MSG(t1 - t0 >= 4, "%lld", (long long)(t1 - t0)); /* >= 0.5 s x 10, less rounding */
    unsetenv("MNEMO_TEST_TIME");
}

/* ---- the loop thread's pause ------------------------------------------------------------ */

/* Pauses the piece and waits until the loop thread has taken the pause; then the newest
 * published iteration is the last one it made (into *out when newer than `last`). */
static uint64_t pause_taken(struct piece *pc, uint64_t last, struct piece_frame *out)
{
    piece_set_paused(pc, true);
    for (double give_up = clock_now() + 60; !piece_paused(pc) && clock_now() < give_up;)
        ;
    CHECK(piece_paused(pc));
    struct piece_frame f;
    if (piece_latest(pc, last, &f)) {
        last = f.iteration;
        *out = f;
    }
    return last;
}

/* Waits (busy, up to 30 s) for a published iteration past `after`; returns the newest. */
static uint64_t newer(struct piece *pc, uint64_t after, struct piece_frame *out)
{
    uint64_t last = after;
    for (double give_up = clock_now() + 30; last < after + 3 && clock_now() < give_up;)
        if (piece_latest(pc, last, out))
            last = out->iteration;
    return last;
}

static void wait_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

static void params_small(struct params *p)
{
    params_defaults(p);
    snprintf(p->loop.painter, sizeof p->loop.painter, "%s/unet_bn.onnx", MNEMO_TEST_DATA);
    snprintf(p->loop.sketcher, sizeof p->loop.sketcher, "%s/resnet_in_op13.onnx", MNEMO_TEST_DATA);
    p->loop.size = 64;
    p->loop.rate = 0;
}

/* A loop opened afresh and stepped to `iterations`: what an uninterrupted piece shows. */
static bool same_as_uninterrupted(const struct params *p, const struct piece_frame *f)
{
    struct loop L;
    if (loop_open(&L, p, "ref", &err))
        return false;
    while (L.iterations < f->iteration && loop_step(&L, &err) == 0)
        ;
    bool same = L.iterations == f->iteration &&
                memcmp(L.portrait.data, f->portrait, 3 * 64 * 64 * sizeof(float)) == 0;
    loop_close(&L);
    return same;
}

/* Paused: no iterations (the stats lines go on, standing still); resumed: the same
 * sequence an uninterrupted loop makes; stop while paused joins. */
static void test_piece_pause(void)
{
    struct params p;
    params_small(&p);
    struct loop L;
    if (loop_open(&L, &p, "ref", &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    char path[] = "/tmp/mnemo-schedule-stats-XXXXXX";
    int fd = mkstemp(path);
    struct stats stats;
    CHECK(fd >= 0 && stats_open(&stats, path, &err) == 0);
    struct piece *pc = piece_start(&L, &stats, NULL, NULL, &err);
    struct piece_frame f = {0}, g = {0};
    uint64_t first = newer(pc, 0, &f);
    CHECK(first >= 3);
    CHECK(!piece_paused(pc));
    uint64_t at = pause_taken(pc, first, &f);
    CHECK(f.iteration == at);
    wait_s(2.5); /* paused: nothing new, the stats lines go on */
    CHECK(!piece_latest(pc, at, &g));
    CHECK_MSG(same_as_uninterrupted(&p, &f), "iteration %llu", (unsigned long long)at);
    piece_set_paused(pc, false);
    uint64_t later = newer(pc, at, &g);
    CHECK(later >= at + 3);
    later = pause_taken(pc, later, &g);
    CHECK_MSG(same_as_uninterrupted(&p, &g), "iteration %llu", (unsigned long long)later);
    CHECK(piece_stop(pc, &err) == 0);
    CHECK(L.iterations == later);
    stats_close(&stats);
    /* the --stats lines written while paused show the iterations standing still */
    FILE *in = fopen(path, "r");
    char line[2048];
    int still = 0;
    while (in && fgets(line, sizeof line, in)) {
        const char *it = strstr(line, "\"iterations\":");
        still += it && strtoull(it + 13, NULL, 10) == at && !strstr(line, "\"final\"");
    }
    CHECK_MSG(still >= 2, "%d stats lines at iteration %llu", still, (unsigned long long)at);
    if (in)
        fclose(in);
    close(fd);
    unlink(path);
    loop_close(&L);
}

/* Closed at start: not one iteration until unpaused; then the sequence starts at 1. */
static void test_piece_start_paused(void)
{
    struct params p;
    params_small(&p);
    struct loop L;
    if (loop_open(&L, &p, "ref", &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    struct piece *pc = piece_start_paused(&L, NULL, NULL, NULL, &err);
    for (double give_up = clock_now() + 60; !piece_paused(pc) && clock_now() < give_up;)
        ;
    CHECK(piece_paused(pc));
    wait_s(1.0);
    struct piece_frame f;
    CHECK(!piece_latest(pc, 0, &f));
    piece_set_paused(pc, false);
    CHECK(newer(pc, 0, &f) >= 3);
    CHECK(piece_stop(pc, &err) == 0);
    loop_close(&L);
}

int main(void)
{
    RUN(test_week);
    RUN(test_days_not_named_are_closed);
    RUN(test_several_ranges_a_day);
    RUN(test_past_midnight_and_24);
    RUN(test_empty_is_always_open);
    RUN(test_next_change);
    RUN(test_parse_errors);
    RUN(test_errors_name_parameter_and_line);
    RUN(test_berlin_spring_forward);
    RUN(test_berlin_fall_back);
    RUN(test_new_york);
    RUN(test_clock);
    RUN(test_piece_pause);
    RUN(test_piece_start_paused);
    return check_report();
}
