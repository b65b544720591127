#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int error_set(struct error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int error_prefix(struct error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Truncation is fine: a long message loses its tail, never its start. */
    size_t used = strnlen(prefix, sizeof prefix - 3);
    char old[ERROR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    memcpy(err->msg, prefix, used);
    memcpy(err->msg + used, ": ", 2);
    size_t room = sizeof err->msg - used - 2;
    size_t old_len = strnlen(old, room - 1);
    memcpy(err->msg + used + 2, old, old_len);
    err->msg[used + 2 + old_len] = '\0';
    return -1;
}
