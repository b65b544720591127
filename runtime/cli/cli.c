/* cli.c — small helpers the subcommands share for reading their command lines. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *cli_option(int argc, char **argv, int *i, const char *name, bool *bad)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, len) != 0)
        return NULL;
    if (arg[len] == '=')
        return arg + len + 1;
    if (arg[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "mnemo: %s needs a value\n", name);
        *bad = true;
        return NULL;
    }
    *i += 1;
    return argv[*i];
}

int cli_parse_size(const char *text, int64_t *height, int64_t *width)
{
    long long h, w;
    char tail;
    if (sscanf(text, "%lldx%lld%c", &h, &w, &tail) != 2 || h < 1 || w < 1 || h > 16384 || w > 16384)
        return -1;
    *height = h;
    *width = w;
    return 0;
}

int cli_parse_count(const char *text, int32_t *count)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < 1 || v > 1000000000)
        return -1;
    *count = (int32_t)v;
    return 0;
}

bool cli_has_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path), m = strlen(suffix);
    return n >= m && strcasecmp(path + n - m, suffix) == 0;
}
