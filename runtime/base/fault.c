/* fault.c — see fault.h. */
#include "fault.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

const char *fault_entry(const char *seam, char *buf, size_t size)
{
    const char *spec = getenv("MNEMO_FAULT");
    size_t seam_len = strlen(seam);
    for (const char *at = spec; at && *at && size > 0;) {
        size_t len = strcspn(at, ",");
        if (len > seam_len && strncmp(at, seam, seam_len) == 0 && at[seam_len] == ':') {
            size_t n = len - seam_len - 1;
            n = n < size - 1 ? n : size - 1;
            memcpy(buf, at + seam_len + 1, n);
            buf[n] = '\0';
            return buf;
        }
        at += len + (at[len] == ',');
    }
    return NULL;
}

bool fault_switch(const char *seam, const char *what)
{
    char got[64];
    if (!fault_entry(seam, got, sizeof got))
        return false;
    if (strcmp(got, what) == 0)
        return true;
    log_warn("MNEMO_FAULT: '%s:%s' is not a %s fault (%s)", seam, got, seam, what);
    return false;
}
