/* kiosk.c — see kiosk.h. */
#include "kiosk.h"
#include "clock.h"

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Without a watchdog, STATUS still goes out this often (a technician's `systemctl
 * status` should not show minutes-old numbers). */
#define STATUS_PERIOD_S 5.0
/* The watchdog interval mnemo keeps (--supervise --watchdog takes the same range). */
#define WATCHDOG_MIN_S 0.2
#define WATCHDOG_MAX_S 3600.0

struct part {
    _Atomic uint64_t alive_ms; /* CLOCK_MONOTONIC ms of the last sign of life, 0: never */
    _Atomic uint64_t count;    /* iterations or frames so far */
    uint64_t last_count;       /* watchdog thread's, for the rates */
};

static struct {
    int fd;
    struct sockaddr_un addr;
    socklen_t addr_len;
    double watchdog_s;
    unsigned needs;
    struct part parts[KIOSK_PARTS];
    atomic_bool ready;
    pthread_t thread;
    bool thread_on, quit, stalled;
    pthread_mutex_t lock; /* guards state, quit; wait_cond waits on it */
    pthread_cond_t wake;
    char state[128];
    double last_wake_s;
    int freeze_part;
    uint64_t freeze_at;
} K = {.fd = -1,
       .freeze_part = -1,
       .lock = PTHREAD_MUTEX_INITIALIZER,
       .wake = PTHREAD_COND_INITIALIZER};

static uint64_t now_ms(void)
{
    return (uint64_t)(clock_now() * 1000.0);
}

int kiosk_notify(const char *message)
{
    if (K.fd < 0)
        return 0;
    ssize_t n = sendto(K.fd, message, strlen(message), MSG_DONTWAIT | MSG_NOSIGNAL,
                       (const struct sockaddr *)&K.addr, K.addr_len);
    return n < 0 ? -1 : 0;
}

/* "/run/.../notify" is a path, "@name" an abstract socket (a leading NUL on the wire). */
static int socket_open(const char *where)
{
    size_t len = strlen(where);
    if ((where[0] != '/' && where[0] != '@') || len < 2 || len >= sizeof K.addr.sun_path) {
        log_line(LOG_WARNING, "NOTIFY_SOCKET='%s' is not a unix socket address; not notifying",
                 where);
        return -1;
    }
    K.addr.sun_family = AF_UNIX;
    memcpy(K.addr.sun_path, where, len);
    if (where[0] == '@')
        K.addr.sun_path[0] = '\0';
    K.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (where[0] == '/'));
    K.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return K.fd < 0 ? -1 : 0;
}

/* The watchdog applies to us unless $WATCHDOG_PID names another process. Kept within
 * what can work: pings go out every half interval, so WATCHDOG_USEC=1 would spin a core
 * (and no iteration is that fast), and a huge value would overflow the wait's deadline.
 * More frequent pings than asked for are harmless to systemd. */
static double watchdog_read(void)
{
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    if (!usec || (pid && strtol(pid, NULL, 10) != (long)getpid()))
        return 0;
    double s = strtod(usec, NULL) * 1e-6;
    if (!(s > 0))
        return 0;
    double kept = s < WATCHDOG_MIN_S ? WATCHDOG_MIN_S : (s > WATCHDOG_MAX_S ? WATCHDOG_MAX_S : s);
    if (kept != s)
        log_line(LOG_WARNING,
                 "WATCHDOG_USEC asks for a %g s watchdog, outside %g .. %g s: mnemo keeps %g s "
                 "(a ping every %g s); set WatchdogSec= within that range",
                 s, WATCHDOG_MIN_S, WATCHDOG_MAX_S, kept, kept / 2);
    return kept;
}

/* ---- the thread -------------------------------------------------------------------- */

/* A needed part silent for longer than the limit, or -1. */
static int part_silent(double limit_s, double *silent_s)
{
    uint64_t now = now_ms();
    for (int i = 0; i < KIOSK_PARTS; i++) {
        if (!(K.needs & KIOSK_NEEDS(i)))
            continue;
        uint64_t alive = atomic_load(&K.parts[i].alive_ms);
        *silent_s = alive ? (double)(now - alive) * 1e-3 : 0;
        if (alive && *silent_s > limit_s)
            return i;
    }
    return -1;
}

static double part_rate(int i, double dt)
{
    uint64_t c = atomic_load(&K.parts[i].count);
    double rate = dt > 0 ? (double)(c - K.parts[i].last_count) / dt : 0;
    K.parts[i].last_count = c;
    return rate;
}

static void status_format(char *buf, size_t size, double dt)
{
    double its = part_rate(KIOSK_LOOP, dt), fps = part_rate(KIOSK_PRESENTER, dt);
    unsigned long long iteration = atomic_load(&K.parts[KIOSK_LOOP].count);
    pthread_mutex_lock(&K.lock);
    int n = snprintf(buf, size, "STATUS=%s%s%.1f it/s", K.state, *K.state ? "; " : "", its);
    pthread_mutex_unlock(&K.lock);
    if (K.needs & KIOSK_NEEDS(KIOSK_PRESENTER))
        n += snprintf(buf + n, size - (size_t)n, ", %.1f fps", fps);
    snprintf(buf + n, size - (size_t)n, ", iteration %llu", iteration);
}

static const char *part_names[KIOSK_PARTS] = {"loop", "presenter"};

/* One wake-up: STATUS always; WATCHDOG=1 only while every needed part is alive. */
static void tick(double dt)
{
    char msg[256];
    status_format(msg, sizeof msg - 16, dt);
    double silent_s = 0;
    int silent =
        K.watchdog_s > 0 && atomic_load(&K.ready) ? part_silent(K.watchdog_s, &silent_s) : -1;
    if (silent >= 0 && !K.stalled)
        log_line(LOG_ERR,
                 "the %s has made no progress for %.1f s: watchdog pings stop, so "
                 "the supervisor restarts mnemo",
                 part_names[silent], silent_s);
    K.stalled = silent >= 0;
    if (K.watchdog_s > 0 && silent < 0)
        strcat(msg, "\nWATCHDOG=1");
    kiosk_notify(msg);
}

static void *watchdog_thread(void *arg)
{
    (void)arg;
    double period = K.watchdog_s > 0 ? K.watchdog_s / 2 : STATUS_PERIOD_S;
    K.last_wake_s = clock_now();
    pthread_mutex_lock(&K.lock);
    while (!K.quit) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until); /* the condition waits on this clock */
        double at = (double)until.tv_sec + (double)until.tv_nsec * 1e-9 + period;
        until.tv_sec = (time_t)at;
        until.tv_nsec = (long)((at - (double)until.tv_sec) * 1e9);
        if (pthread_cond_timedwait(&K.wake, &K.lock, &until) != ETIMEDOUT || K.quit)
            continue;
        pthread_mutex_unlock(&K.lock);
        double now = clock_now();
        tick(now - K.last_wake_s);
        K.last_wake_s = now;
        pthread_mutex_lock(&K.lock);
    }
    pthread_mutex_unlock(&K.lock);
    return NULL;
}

/* ---- the API ----------------------------------------------------------------------- */

static void freeze_read(void)
{
    const char *v = getenv("MNEMO_TEST_FREEZE");
    unsigned long long at;
    char part[16];
    if (!v || sscanf(v, "%15[a-z]@%llu", part, &at) != 2)
        return;
    K.freeze_part = strcmp(part, "loop") == 0        ? KIOSK_LOOP
                    : strcmp(part, "presenter") == 0 ? KIOSK_PRESENTER
                                                     : -1;
    K.freeze_at = at;
}

void kiosk_freeze_point(enum kiosk_part part, uint64_t count)
{
    if ((int)part != K.freeze_part || count < K.freeze_at)
        return;
    log_line(LOG_WARNING, "MNEMO_TEST_FREEZE: the %s hangs here for good", part_names[part]);
    for (;;)
        pause();
}

int kiosk_start(unsigned needs, struct error *err)
{
    freeze_read();
    const char *where = getenv("NOTIFY_SOCKET");
    K.needs = needs;
    if (where && socket_open(where) == 0)
        K.watchdog_s = watchdog_read();
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    if (K.fd < 0 || needs == 0)
        return 0; /* nothing to notify, or a relay (--supervise) that pings for its child */
    K.quit = false;
    /* A kiosk's wall clock jumps (NTP at boot, a technician setting it): a wait on it
     * could last hours and starve the watchdog. */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy(&K.wake);
    pthread_cond_init(&K.wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&K.thread, NULL, watchdog_thread, NULL) != 0)
        return error_set(err, "cannot start the watchdog thread");
    K.thread_on = true;
    return 0;
}

void kiosk_stop(void)
{
    kiosk_notify("STOPPING=1");
    if (K.thread_on) {
        pthread_mutex_lock(&K.lock);
        K.quit = true;
        pthread_cond_signal(&K.wake);
        pthread_mutex_unlock(&K.lock);
        pthread_join(K.thread, NULL);
        K.thread_on = false;
    }
    if (K.fd >= 0)
        close(K.fd);
    K.fd = -1;
}

void kiosk_alive(enum kiosk_part part)
{
    atomic_store(&K.parts[part].alive_ms, now_ms());
}

void kiosk_count(enum kiosk_part part, uint64_t total)
{
    atomic_store(&K.parts[part].count, total);
    kiosk_alive(part);
}

void kiosk_ready(void)
{
    if (atomic_exchange(&K.ready, true))
        return;
    for (int i = 0; i < KIOSK_PARTS; i++)
        kiosk_alive((enum kiosk_part)i); /* the watchdog counts from now */
    kiosk_notify("READY=1\nSTATUS=running");
}

void kiosk_state(const char *text)
{
    pthread_mutex_lock(&K.lock);
    snprintf(K.state, sizeof K.state, "%s", text ? text : "");
    pthread_mutex_unlock(&K.lock);
}

bool kiosk_supervised(void)
{
    return K.fd >= 0;
}

double kiosk_watchdog_s(void)
{
    return K.watchdog_s;
}
