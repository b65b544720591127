/* error.h — one way to report what went wrong.
 *
 * Every fallible function takes a `struct error *` and returns nonzero on failure after
 * filling it with one human sentence that names the file, node or parameter and what to
 * do. Callers add context with error_prefix(). Never prints, never exits: the caller
 * (main, the loop) decides what a failure means. */
#ifndef MNEMO_ERROR_H
#define MNEMO_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#define ERROR_MSG_MAX 1024

struct error {
    char msg[ERROR_MSG_MAX];
};

#if defined(__GNUC__)
#define MNEMO_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define MNEMO_PRINTF(fmt_index, first_arg)
#endif

/* Sets the message (overwrites). Always returns -1 so callers can `return error_set(...)`. */
int error_set(struct error *err, const char *fmt, ...) MNEMO_PRINTF(2, 3);

/* Prepends "<prefix>: " to the current message. Returns -1. */
int error_prefix(struct error *err, const char *fmt, ...) MNEMO_PRINTF(2, 3);

#endif
