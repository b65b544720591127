/* hours.c — the presenter's side of kiosk.hours (schedule.h). Outside the hours the
 * loop thread is paused (no model runs, the GPU idles), the screens show black or, with
 * kiosk.closed = dpms, are powered down, and the frame loop slows to HOURS_CLOSED_FPS; at
 * opening the piece resumes where it stopped and the screens come back. Each change of
 * state is logged once. */
#include "hours.h"
#include "clock.h"

#include "kiosk.h"
#include "log.h"
#include "piece.h"

#include <SDL.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* How often the clock is looked at: a state change shows within a second. */
#define CHECK_EVERY_S 1.0
/* While powered down, DPMS off is asserted again this often (a touched mouse wakes it). */
#define DPMS_AGAIN_S 60.0

/* " until Tue 10:00" (the next change of state), or "" when there is none. */
static void until_text(const struct schedule *s, time_t now, char *buf, size_t size)
{
    time_t next = schedule_next_change(s, now);
    struct tm tm;
    char when[32];
    if (next == SCHEDULE_NEVER || !localtime_r(&next, &tm) ||
        !strftime(when, sizeof when, "%a %H:%M", &tm)) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, size, " until %s", when);
}

/* A new kiosk.hours: parsed here (already validated by the registry's check). */
static bool hours_reparse(struct hours *h, const struct params *p)
{
    if (h->parsed && strcmp(h->text, p->kiosk.hours) == 0)
        return false;
    if (!h->parsed)
        tzset(); /* the zone file is read now, at start, never again (schedule.h) */
    struct error err;
    if (schedule_parse(&h->schedule, p->kiosk.hours, &err)) {
        log_warn("kiosk.hours: %s; staying open", err.msg);
        schedule_parse(&h->schedule, "", &err);
    }
    snprintf(h->text, sizeof h->text, "%s", p->kiosk.hours);
    h->parsed = true;
    return true;
}

/* Screens down for mode dpms, up otherwise; DPMS missing is said once, black stands in. */
static void screens_power(struct hours *h, struct SDL_Window *w, bool on)
{
    if (on == !h->dpms.off || (!on && h->dpms_failed))
        return;
    struct error err;
    if (dpms_power(&h->dpms, w, on, &err) == 0) {
        /* SDL keeps the X screensaver from starting by resetting it every 30 s, which an
         * X server may take as activity that wakes the screens: let it be while off. */
        if (on)
            SDL_DisableScreenSaver();
        else
            SDL_EnableScreenSaver();
        return;
    }
    if (!on)
        h->dpms_failed = true;
    log_warn("kiosk.closed = dpms: cannot power the screens %s (%s); %s", on ? "up" : "down",
             err.msg, on ? "they stay as they are" : "showing black instead");
}

/* The log line, and the supervisor's STATUS while closed ("closed until Tue 10:00"). */
static void state_log(const struct hours *h, time_t now)
{
    char until[64], status[80];
    until_text(&h->schedule, now, until, sizeof until);
    if (h->closed)
        log_line(LOG_NOTICE, "closed (kiosk.hours): screens %s%s",
                 h->dpms.off ? "off (DPMS)" : "black", until);
    else if (!h->schedule.always)
        log_line(LOG_NOTICE, "open (kiosk.hours): the piece runs%s", until);
    else
        log_line(LOG_NOTICE, "open (kiosk.hours is empty: always open)");
    snprintf(status, sizeof status, "closed%s", until);
    kiosk_state(h->closed ? status : NULL);
}

/* A screen woken while closed (a touched mouse) goes back off within DPMS_AGAIN_S. */
static void dpms_keep_off(struct hours *h, struct SDL_Window *w, double now_s)
{
    if (!h->closed || !h->dpms.off || now_s < h->dpms_again_s)
        return;
    struct error err;
    h->dpms_again_s = now_s + DPMS_AGAIN_S;
    (void)dpms_power(&h->dpms, w, false, &err); /* it worked before; quiet if not now */
}

bool hours_update(struct hours *h, const struct params *p, struct piece *pc, struct SDL_Window *w,
                  double now_s)
{
    h->changed = false;
    bool reparsed = hours_reparse(h, p);
    bool mode_changed = p->kiosk.closed != h->mode;
    dpms_keep_off(h, w, now_s);
    if (!reparsed && !mode_changed && now_s < h->next_check_s)
        return h->closed;
    h->next_check_s = now_s + CHECK_EVERY_S;
    h->mode = p->kiosk.closed;
    time_t now = clock_wall();
    bool closed = !schedule_open_at(&h->schedule, now);
    h->changed = closed != h->closed;
    if (h->changed) {
        piece_set_paused(pc, closed);
        atomic_store(&piece_display(pc)->closed, closed);
    }
    h->closed = closed;
    if (h->changed || reparsed) { /* a scan of up to 8 days: only when it can differ */
        time_t next = closed ? schedule_next_change(&h->schedule, now) : SCHEDULE_NEVER;
        atomic_store(&piece_display(pc)->opens_at, next == SCHEDULE_NEVER ? 0 : (int64_t)next);
    }
    if (mode_changed)
        h->dpms_failed = false; /* dpms asked for again: try again, say again */
    if (h->changed || mode_changed) {
        screens_power(h, w, !closed || h->mode != KIOSK_CLOSED_DPMS);
        h->dpms_again_s = now_s + DPMS_AGAIN_S;
    }
    /* Said at start when there are hours, at every change, when the hours are edited. */
    bool announce = h->changed || (reparsed && (h->announced || !h->schedule.always)) ||
                    (mode_changed && closed);
    if (announce)
        state_log(h, now);
    h->announced |= announce;
    return h->closed;
}

bool hours_closed_now(const struct params *p)
{
    static struct schedule s; /* presenter thread only, once */
    struct error err;
    tzset(); /* the zone file is read now, at start, never again (schedule.h) */
    return schedule_parse(&s, p->kiosk.hours, &err) == 0 && !schedule_open_at(&s, clock_wall());
}

void hours_end(struct hours *h, struct SDL_Window *w)
{
    if (h->dpms.off)
        screens_power(h, w, true);
}
