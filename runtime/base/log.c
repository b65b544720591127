/* log.c — see log.h. */
#include "log.h"

#include "clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static bool journal;
static double tokens = LOG_BURST, refilled_at;
static unsigned long dropped_since, dropped_total;
static struct log_entry recent[LOG_RECENT]; /* recent[seq % LOG_RECENT] */
static uint64_t recent_seq;

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

/* Bytes of the well-formed UTF-8 character at s (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), or 0 when s does not start one. */
static size_t utf8_char(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    if (n == 0)
        return 0;
    /* The second byte's range rules out overlongs, surrogates and values past U+10FFFF. */
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    /* C1 controls (U+0080 .. U+009F) are UTF-8, but terminals obey them (CSI). */
    return n == 2 && c == 0xc2 && s[1] < 0xa0 ? 0 : n;
}

/* One byte that may not stand as it is, as \n, \r, \t, \\ or \xHH. */
static size_t escape_byte(unsigned char c, char *out)
{
    const char *named = c == '\n'   ? "\\n"
                        : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t"
                        : c == '\\' ? "\\\\"
                                    : NULL;
    if (named) {
        memcpy(out, named, 2);
        return 2;
    }
    static const char hex[] = "0123456789abcdef";
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[c >> 4];
    out[3] = hex[c & 15];
    return 4;
}

/* Outside text reaches log lines through %s: OSC addresses and strings, MIDI port names,
 * config values, file names. A newline in it would start a line of its own (under
 * journald one with any "<N>" priority it likes), and a terminal control or a stray byte
 * would garble what a technician reads. So every line is escaped as a whole: printable
 * ASCII and well-formed UTF-8 stay, everything else is written as an escape. `out` holds
 * 4 x strlen(in) + 1. */
static void escape_line(const char *in, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    while (*s) {
        size_t n = *s >= 0x80 ? utf8_char(s) : (*s >= 0x20 && *s != 0x7f && *s != '\\');
        if (n) {
            memcpy(out, s, n);
            out += n;
            s += n;
        } else {
            out += escape_byte(*s++, out);
        }
    }
    *out = '\0';
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

/* Under log_lock. */
static void recent_keep(enum log_level level, const char *text)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct log_entry *e = &recent[++recent_seq % LOG_RECENT];
    e->seq = recent_seq;
    e->wall_s = (double)now.tv_sec + now.tv_nsec * 1e-9;
    e->level = level;
    size_t n = strlen(text);
    if (n >= sizeof e->text) { /* cut, but not inside a UTF-8 character */
        n = sizeof e->text - 1;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(e->text, text, n);
    e->text[n] = '\0';
}

size_t log_recent(uint64_t after_seq, struct log_entry *out, size_t max)
{
    pthread_mutex_lock(&log_lock);
    uint64_t first = after_seq + 1;
    if (recent_seq >= LOG_RECENT && first <= recent_seq - LOG_RECENT)
        first = recent_seq - LOG_RECENT + 1;
    if (recent_seq >= max && first + max <= recent_seq)
        first = recent_seq - max + 1;
    size_t n = 0;
    for (uint64_t s = first; s <= recent_seq; s++)
        out[n++] = recent[s % LOG_RECENT];
    pthread_mutex_unlock(&log_lock);
    return n;
}

void log_line(enum log_level level, const char *fmt, ...)
{
    pthread_once(&log_once, journal_detect);
    char text[ERROR_MSG_MAX + 256], escaped[4 * sizeof text];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    escape_line(text, escaped);
    pthread_mutex_lock(&log_lock);
    if (bucket_take()) {
        line_write(level, escaped);
        recent_keep(level, escaped);
    }
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
