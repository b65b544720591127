/* log.h — the runtime's log lines: to the journal with priorities when systemd runs us,
 * plain "mnemo: ..." lines on stderr otherwise, and never so many that a fault repeating
 * every frame could fill a disk.
 *
 * Under systemd, stderr is a stream to journald ($JOURNAL_STREAM names it); each line
 * then starts with a "<N>" syslog priority, which journald strips and files the line
 * under (sd-daemon(3)). Elsewhere the prefix would be noise, so it is left out.
 *
 * Rate limit: a token bucket shared by every line (LOG_BURST lines at once, LOG_RATE
 * a second after that); lines over the limit are counted, and the next line that gets
 * through says how many were dropped. A failed write (a full disk behind stderr, a
 * closed pipe) is ignored: logging never stops the piece. Thread-safe.
 *
 * Every line is one line: control characters and bytes that are not UTF-8 in it are
 * written as escapes (\n, \t, \\, \xHH), so outside text in a message (an OSC address, a
 * MIDI port's name, a config value, a file name) can never start a line of its own, with
 * a forged "<N>" priority, nor drive a terminal. */
#ifndef MNEMO_LOG_H
#define MNEMO_LOG_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_NOTICE = 5, LOG_INFO = 6 };

#define LOG_BURST 40
#define LOG_RATE  5.0

/* "mnemo: <text>" at `level` (with "warning: " before warnings). */
void log_line(enum log_level level, const char *fmt, ...) MNEMO_PRINTF(2, 3);

/* A warning that stops nothing (NaN weights, an ignored attribute): log_line at LOG_WARNING.
 * Named so, not warn(), which is BSD's warn(3) in <err.h>. */
void log_warn(const char *fmt, ...) MNEMO_PRINTF(1, 2);

/* True when stderr is the journal (the "<N>" prefixes are on). */
bool log_to_journal(void);

/* The newest lines written (not those the rate limit dropped), kept for a status page:
 * a ring of LOG_RECENT, each cut to LOG_ENTRY_TEXT bytes, escaped as written. */
#define LOG_RECENT     64
#define LOG_ENTRY_TEXT 320
struct log_entry {
    uint64_t seq;  /* 1, 2, ...: the line's number since the process started */
    double wall_s; /* when, seconds since the epoch */
    enum log_level level;
    char text[LOG_ENTRY_TEXT];
};
/* Copies the kept lines newer than `after_seq`, oldest first, at most `max` (the newest
 * ones when there are more); returns how many. */
size_t log_recent(uint64_t after_seq, struct log_entry *out, size_t max);

/* Tests: how many lines the rate limit dropped so far. */
unsigned long log_dropped_total(void);

#endif
