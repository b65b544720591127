/* clock.h — the program's clocks, so that nothing else has to call clock_gettime or
 * nanosleep itself:
 *   - a monotonic clock in seconds (timing, pacing, rates, watchdogs): never jumps when
 *     NTP steps the wall clock;
 *   - one sleep on it, to an absolute time (no drift from repeated relative sleeps);
 *   - the wall clock that opening hours (kiosk.hours) follow, with a test clock.
 * Knows no part of mnemo. */
#ifndef MNEMO_CLOCK_H
#define MNEMO_CLOCK_H

#include <time.h>

/* Seconds on a monotonic clock (CLOCK_MONOTONIC). */
double clock_now(void);

/* Sleeps until clock_now() reaches t (returns at once when it already has). A signal ends
 * the sleep early, so that a stop flag its handler set is seen at once: callers that must
 * reach t look at clock_now() again. */
void clock_sleep_until(double t);

/* The wall clock kiosk.hours follows: time(NULL), or the test clock when the environment
 * has MNEMO_TEST_TIME=<epoch>[x<speed>] (read at the first call: from then on the clock
 * starts at <epoch> and runs <speed> times as fast as the real one, e.g. 1782036000x10). */
time_t clock_wall(void);
/* Tests: replaces the wall clock with fn (NULL: back to the real / MNEMO_TEST_TIME one). */
void clock_wall_set(time_t (*fn)(void));

#endif
