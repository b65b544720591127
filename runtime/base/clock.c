/* clock.c — see clock.h. */
#include "clock.h"

#include "log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

double clock_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void clock_sleep_until(double t)
{
    if (t <= clock_now())
        return;
    struct timespec until = {(time_t)t, (long)((t - (double)(time_t)t) * 1e9)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
}

/* ---- the wall clock, and the test clock ------------------------------------------------ */

static time_t (*wall_fn)(void);
static pthread_once_t test_clock_once = PTHREAD_ONCE_INIT;
static struct {
    bool on;
    time_t epoch;
    double speed, start_s;
} test_clock;

static void test_clock_read(void)
{
    const char *v = getenv("MNEMO_TEST_TIME");
    if (!v || !*v)
        return;
    char *end;
    long long epoch = strtoll(v, &end, 10);
    double speed = 1;
    if (*end == 'x')
        speed = strtod(end + 1, &end);
    if (end == v || *end || speed <= 0) {
        log_warn("MNEMO_TEST_TIME='%s' is not <epoch>[x<speed>]; using the real clock", v);
        return;
    }
    test_clock.epoch = (time_t)epoch;
    test_clock.speed = speed;
    test_clock.start_s = clock_now();
    test_clock.on = true;
}

time_t clock_wall(void)
{
    if (wall_fn)
        return wall_fn();
    pthread_once(&test_clock_once, test_clock_read);
    if (!test_clock.on)
        return time(NULL);
    return test_clock.epoch + (time_t)((clock_now() - test_clock.start_s) * test_clock.speed);
}

void clock_wall_set(time_t (*fn)(void))
{
    wall_fn = fn;
}
