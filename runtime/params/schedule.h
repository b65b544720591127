/* schedule.h — opening hours of a kiosk (kiosk.hours): when the piece runs and when the
 * screens go black and the GPU idles.
 *
 * kiosk.hours is one line of entries split by ';', each a list of days followed by one or
 * more ranges of wall-clock time:
 *
 *   mon-fri 10:00-18:00; sat,sun 11:00-17:00
 *   tue-sat 10:00-13:00 14:00-19:00; fri 20:00-02:00
 *
 * Days are mon tue wed thu fri sat sun (or their full names, any case), spans like mon-fri
 * (fri-mon wraps over the weekend), or daily. Ranges are HH:MM-HH:MM, split by spaces or
 * commas; 24:00 may end a range; a range that ends before its start runs past midnight
 * into the next day (fri 20:00-02:00 is open until Saturday 02:00); one that ends where it
 * starts is an error (00:00-24:00 is the whole day). Ranges may overlap (their union
 * counts). Days not named are closed. An empty (or blank) text means always open.
 *
 * Time is the local wall clock (localtime_r: TZ, else /etc/localtime), so 10:00 is 10:00
 * on the wall on both sides of a daylight-saving change:
 *   - Spring forward (e.g. Berlin 2026-03-29 02:00 -> 03:00): the skipped hour is never
 *     lived. A range is open on that night only for the part of it the clock shows: one
 *     ending inside the gap (01:00-02:30) ends at the jump, one starting inside it
 *     (02:30-04:00) starts at the jump, one wholly inside it does not happen.
 *   - Fall back (e.g. Berlin 2026-10-25 03:00 -> 02:00): the repeated hour counts once,
 *     the first time. While the clock shows it again, the state stays what it was when the
 *     clock went back: 01:00-02:30 closes at the first 02:30 and stays closed; 02:30-04:00
 *     opens at the first 02:30 and stays open through the repeat to 04:00.
 * So no range ever opens twice in a night, and every state change is at a whole minute.
 *
 * Once parsed, the functions below neither allocate nor read files, provided the zone was
 * loaded before (tzset(), as the presenter does at start): glibc's localtime_r reads the
 * zone file only the first time and never looks at it again (checked with strace), so a
 * changed /etc/localtime is noticed at the next start. */
#ifndef MNEMO_SCHEDULE_H
#define MNEMO_SCHEDULE_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define SCHEDULE_DAY_MINUTES 1440
/* schedule_next_change when the state never changes (always open, open around the clock). */
#define SCHEDULE_NEVER ((time_t)-1)

struct schedule {
    bool always; /* empty text: open around the clock */
    /* Bit m of open[d] (d = 0 Sunday .. 6 Saturday, as tm_wday): open in minute m of day d. */
    uint8_t open[7][SCHEDULE_DAY_MINUTES / 8];
};

/* Parses kiosk.hours text. On failure s is unspecified and err names the bad token and
 * what is expected, with the entry when there are several, e.g.
 *   entry 2 (sat 9-12): '9' in '9-12' is not a time: HH:MM from 00:00 to 23:59 */
int schedule_parse(struct schedule *s, const char *text, struct error *err);
/* The same, result thrown away: the registry's validator for kiosk.hours. */
int schedule_check(const char *text, struct error *err);

/* Is the kiosk open at t (by the rules above)? A few localtime_r calls. */
bool schedule_open_at(const struct schedule *s, time_t t);
/* The first time after t at which schedule_open_at differs from its value at t, or
 * SCHEDULE_NEVER when it does not change within the next 8 days. Scans minute by minute:
 * milliseconds, for logs and transitions, not for every frame. */
time_t schedule_next_change(const struct schedule *s, time_t t);

#endif
