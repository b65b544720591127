/* schedule.c — see schedule.h. */
#define _DEFAULT_SOURCE /* tm_gmtoff */
#include "schedule.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEXT_MAX     4096
#define WEEK_MINUTES (7 * SCHEDULE_DAY_MINUTES)
/* Far enough back to see a daylight-saving change of up to this much (real ones are 1 h,
 * a few 30 min, Antarctica/Troll 2 h). */
#define LOOKBACK_S (3 * 3600)
/* schedule_next_change looks this far ahead: a week plus room for a clock change. */
#define HORIZON_MINUTES (8 * SCHEDULE_DAY_MINUTES)

/* ---- parsing ---------------------------------------------------------------------------- */

static const char *const day_names[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                         "thursday", "friday", "saturday"};

#define DAYS_EXPECTED                                                                              \
    "mon, tue, wed, thu, fri, sat, sun (or full names), a span like mon-fri, or daily"
#define RANGE_EXPECTED "HH:MM-HH:MM, e.g. 10:00-18:00 (24:00 may end a range)"

/* "mon" or "monday" (any case) -> 0..6 as tm_wday, else -1. */
static int day_index(const char *word, size_t len)
{
    for (int d = 0; d < 7; d++)
        if ((len == 3 || len == strlen(day_names[d])) && strncasecmp(word, day_names[d], len) == 0)
            return d;
    return -1;
}

/* One day word: "sat", "mon-fri", "fri-mon", "daily". Sets the days' bits in *days. */
static int parse_days(const char *word, unsigned *days, struct error *err)
{
    if (strcasecmp(word, "daily") == 0) {
        *days = 0x7f;
        return 0;
    }
    const char *dash = strchr(word, '-');
    size_t first_len = dash ? (size_t)(dash - word) : strlen(word);
    int first = day_index(word, first_len);
    int last = dash ? day_index(dash + 1, strlen(dash + 1)) : first;
    if (first < 0 || last < 0)
        return error_set(err, "'%s' is not a day: " DAYS_EXPECTED, word);
    for (int d = first;; d = (d + 1) % 7) {
        *days |= 1u << d;
        if (d == last)
            break;
    }
    return 0;
}

/* "H:MM" or "HH:MM" into minutes of the day; 24:00 allowed (the caller decides where). */
static int parse_clock(const char *text, size_t len, int *minutes)
{
    int h = 0, m = 0, digits = 0;
    size_t i = 0;
    for (; i < len && isdigit((unsigned char)text[i]); i++, digits++)
        h = h * 10 + (text[i] - '0');
    if (digits < 1 || digits > 2 || i + 3 != len || text[i] != ':' ||
        !isdigit((unsigned char)text[i + 1]) || !isdigit((unsigned char)text[i + 2]))
        return -1;
    m = (text[i + 1] - '0') * 10 + (text[i + 2] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

static void mark(struct schedule *s, int day, int from, int to)
{
    for (int m = from; m < to; m++) {
        int d = (day + m / SCHEDULE_DAY_MINUTES) % 7, dm = m % SCHEDULE_DAY_MINUTES;
        s->open[d][dm / 8] |= (uint8_t)(1u << (dm % 8));
    }
}

/* One range word "10:00-18:00" for every day in `days`. */
static int parse_range(struct schedule *s, const char *word, unsigned days, struct error *err)
{
    const char *dash = strchr(word, '-');
    if (!dash)
        return error_set(err, "'%s' is not a range of hours: " RANGE_EXPECTED, word);
    int from, to;
    if (parse_clock(word, (size_t)(dash - word), &from))
        return error_set(err, "'%.*s' in '%s' is not a time: HH:MM from 00:00 to 23:59",
                         (int)(dash - word), word, word);
    if (parse_clock(dash + 1, strlen(dash + 1), &to))
        return error_set(err, "'%s' in '%s' is not a time: HH:MM from 00:00 to 24:00", dash + 1,
                         word);
    if (from == SCHEDULE_DAY_MINUTES)
        return error_set(err, "'%s': 24:00 only ends a range; start at 00:00 of the next day",
                         word);
    if (from == to)
        return error_set(err,
                         "'%s' is empty: the end must differ from the start (00:00-24:00 is the "
                         "whole day)",
                         word);
    if (to < from) /* past midnight, into the next day */
        to += SCHEDULE_DAY_MINUTES;
    for (int d = 0; d < 7; d++)
        if (days & (1u << d))
            mark(s, d, from, to);
    return 0;
}

/* One entry: days, then ranges. Words are split by spaces and commas. */
static int parse_entry(struct schedule *s, char *entry, struct error *err)
{
    unsigned days = 0;
    int ranges = 0;
    const char *last_day = NULL;
    char *save = NULL;
    for (char *w = strtok_r(entry, " \t\r\n,", &save); w; w = strtok_r(NULL, " \t\r\n,", &save)) {
        if (isdigit((unsigned char)w[0])) {
            if (!days)
                return error_set(err, "'%s' has no day before it: start with days, e.g. mon-fri %s",
                                 w, w);
            if (parse_range(s, w, days, err))
                return -1;
            ranges++;
        } else if (isalpha((unsigned char)w[0])) {
            if (ranges)
                return error_set(err,
                                 "'%s' comes after the hours: split entries with ';', e.g. "
                                 "mon-fri 10:00-18:00; sat 11:00-17:00",
                                 w);
            if (parse_days(w, &days, err))
                return -1;
            last_day = w;
        } else {
            return error_set(
                err, "'%s' is neither days (" DAYS_EXPECTED ") nor hours (" RANGE_EXPECTED ")", w);
        }
    }
    if (!ranges)
        return error_set(err, "'%s' has no hours: follow the days with ranges, e.g. %s 10:00-18:00",
                         last_day, last_day);
    return 0;
}

static bool blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

int schedule_parse(struct schedule *s, const char *text, struct error *err)
{
    memset(s, 0, sizeof *s);
    if (blank(text)) {
        s->always = true;
        return 0;
    }
    char buf[TEXT_MAX];
    if (strlen(text) >= sizeof buf)
        return error_set(err, "longer than %d characters", TEXT_MAX - 1);
    strcpy(buf, text);
    int entries = 0;
    for (const char *c = text; *c; c++)
        entries += *c == ';';
    char *save = NULL;
    int n = 0, parsed = 0;
    for (char *e = strtok_r(buf, ";", &save); e; e = strtok_r(NULL, ";", &save), n++) {
        if (blank(e))
            continue;
        char shown[64];
        snprintf(shown, sizeof shown, "%s", e + strspn(e, " \t\r\n"));
        if (parse_entry(s, e, err))
            return entries ? error_prefix(err, "entry %d (%s)", n + 1, shown) : -1;
        parsed++;
    }
    if (!parsed)
        return error_set(err,
                         "'%s' holds no hours; leave it empty for always open, or write "
                         "e.g. mon-fri 10:00-18:00",
                         text);
    return 0;
}

int schedule_check(const char *text, struct error *err)
{
    struct schedule scratch; /* 1.3 KiB */
    return schedule_parse(&scratch, text, err);
}

/* ---- evaluation ------------------------------------------------------------------------- */

static bool minute_open(const struct schedule *s, const struct tm *tm)
{
    int m = tm->tm_hour * 60 + tm->tm_min;
    return (s->open[tm->tm_wday][m / 8] >> (m % 8)) & 1u;
}

static long utc_offset(time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

/* During the second pass of a repeated hour (the clock went back less than that hour ago)
 * the last second before the clock went back, whose state the repeat keeps; else t. */
static time_t first_pass(time_t t, long offset_now)
{
    long offset_before = utc_offset(t - LOOKBACK_S);
    long back = offset_before - offset_now;
    if (back <= 0 || utc_offset(t - back) != offset_before)
        return t;                        /* no fall-back lately, or its repeat is over */
    time_t first = t - back, second = t; /* offsets: before, now; the change is between */
    while (second - first > 1) {
        time_t mid = first + (second - first) / 2;
        *(utc_offset(mid) == offset_now ? &second : &first) = mid;
    }
    return first;
}

bool schedule_open_at(const struct schedule *s, time_t t)
{
    if (s->always)
        return true;
    struct tm tm;
    localtime_r(&t, &tm);
    time_t judged = first_pass(t, tm.tm_gmtoff);
    if (judged != t)
        localtime_r(&judged, &tm);
    return minute_open(s, &tm);
}

time_t schedule_next_change(const struct schedule *s, time_t t)
{
    if (s->always)
        return SCHEDULE_NEVER;
    bool now = schedule_open_at(s, t);
    /* States change only at whole minutes of UTC: zone offsets are whole minutes. */
    time_t m = t - (t % 60 + 60) % 60 + 60;
    for (int i = 0; i < HORIZON_MINUTES; i++, m += 60)
        if (schedule_open_at(s, m) != now)
            return m;
    return SCHEDULE_NEVER;
}
