/* log.c — see log.h. */
#include "log.h"

#include "clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static bool journal;
static double tokens = LOG_BURST, refilled_at;
static unsigned long dropped_since, dropped_total;

/* systemd sets JOURNAL_STREAM="<dev>:<inode>" of the stream it connected; it is ours only
 * while stderr is still that stream (a child may have been redirected since). */
static void journal_detect(void)
{
    const char *v = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    journal = v && sscanf(v, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
              (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
    refilled_at = clock_now();
}

bool log_to_journal(void)
{
    pthread_once(&log_once, journal_detect);
    return journal;
}

/* Under log_lock: may one more line go out now? */
static bool bucket_take(void)
{
    double now = clock_now();
    tokens += (now - refilled_at) * LOG_RATE;
    if (tokens > LOG_BURST)
        tokens = LOG_BURST;
    refilled_at = now;
    if (tokens < 1.0) {
        dropped_since++;
        dropped_total++;
        return false;
    }
    tokens -= 1.0;
    return true;
}

static void line_write(enum log_level level, const char *text)
{
    char prefix[8] = "";
    if (journal)
        snprintf(prefix, sizeof prefix, "<%d>", (int)level);
    if (dropped_since) {
        fprintf(stderr, "%smnemo: warning: %lu log lines dropped (more than %g a second)\n",
                journal ? "<4>" : "", dropped_since, LOG_RATE);
        dropped_since = 0;
    }
    fprintf(stderr, "%smnemo: %s%s\n", prefix, level == LOG_WARNING ? "warning: " : "", text);
    fflush(stderr);
    clearerr(stderr); /* a full disk or closed pipe now must not silence later lines */
}

void log_line(enum log_level level, const char *fmt, ...)
{
    pthread_once(&log_once, journal_detect);
    char text[ERROR_MSG_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    if (bucket_take())
        line_write(level, text);
    pthread_mutex_unlock(&log_lock);
}

unsigned long log_dropped_total(void)
{
    pthread_mutex_lock(&log_lock);
    unsigned long n = dropped_total;
    pthread_mutex_unlock(&log_lock);
    return n;
}

void log_warn(const char *fmt, ...)
{
    char text[ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_line(LOG_WARNING, "%s", text);
}
