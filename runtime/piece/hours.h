/* hours.h — opening hours (kiosk.hours) for the piece on screen: outside them the loop
 * is paused, the screens black (or powered down through DPMS), frames slow. */
#ifndef MNEMO_HOURS_H
#define MNEMO_HOURS_H

#include "params.h"
#include "present_internal.h"
#include "schedule.h"

#include <stdbool.h>

struct piece;

/* Frame rate while closed: black frames, little work for the GPU, and a frame loop that
 * still makes progress (a watchdog sees it alive). */
#define HOURS_CLOSED_FPS 4

struct hours {
    struct schedule schedule;
    char text[PARAM_STRING_MAX]; /* the kiosk.hours schedule was parsed from */
    int32_t mode;                /* enum kiosk_closed in force */
    bool parsed, announced;
    bool closed;      /* outside the hours now: piece paused, screens black */
    bool changed;     /* closed changed at the last hours_update (pacing skips a frame) */
    bool dpms_failed; /* DPMS was tried and is not available: logged once, black instead */
    struct dpms dpms;
    double next_check_s; /* clock_now() at which the clock is looked at again */
    double dpms_again_s; /* ... and DPMS off is asserted again (a touch may wake a screen) */
};

/* Once per frame: looks at the clock (clock_wall) at most once a second, and at once
 * when kiosk.hours or kiosk.closed changed; on a change logs the new state once, pauses or
 * resumes the piece, powers the screens of window w down or up. Returns h->closed. */
bool hours_update(struct hours *h, const struct params *p, struct piece *pc, struct SDL_Window *w,
                  double now_s);
/* Whether p's hours are closed now: at start, so that the piece starts paused then. */
bool hours_closed_now(const struct params *p);
/* Screens back on (if DPMS put them off) before the windows go. */
void hours_end(struct hours *h, struct SDL_Window *w);

#endif
