/* datapath.c — see datapath.h. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "datapath.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLACES_MAX 5

static char config_dir[PATH_MAX]; /* "" = no config file; set once at start */

struct places {
    char dir[PLACES_MAX][PATH_MAX];
    int count;
};

void datapath_set_config(const char *config_path)
{
    config_dir[0] = '\0';
    if (!config_path)
        return;
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", config_path);
    const char *dir = dirname(copy);
    char *real = realpath(dir, NULL); /* messages name it plainly, whatever the cwd */
    snprintf(config_dir, sizeof config_dir, "%s", real ? real : dir);
    free(real);
}

static void places_add(struct places *pl, const char *dir)
{
    if (!dir || !dir[0] || pl->count == PLACES_MAX)
        return;
    for (int i = 0; i < pl->count; i++)
        if (strcmp(pl->dir[i], dir) == 0)
            return;
    snprintf(pl->dir[pl->count++], PATH_MAX, "%s", dir);
}

/* The folder of the running binary into buf ("." when /proc is not there). */
static const char *binary_dir(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n <= 0)
        return ".";
    buf[n] = '\0';
    return dirname(buf);
}

/* <binary's folder>/../share/mnemo when it exists: an install tree wherever it lies. */
static void places_add_beside_binary(struct places *pl)
{
    char exe[PATH_MAX], data[PATH_MAX + 32];
    snprintf(data, sizeof data, "%s/../share/mnemo", binary_dir(exe, sizeof exe));
    char *real = realpath(data, NULL);
    places_add(pl, real);
    free(real);
}

static void places_add_own(struct places *pl)
{
    places_add_beside_binary(pl);
#ifdef MNEMO_DATA_DIR
    places_add(pl, MNEMO_DATA_DIR);
#endif
#ifdef MNEMO_SOURCE_DIR
    places_add(pl, MNEMO_SOURCE_DIR);
#endif
}

/* The first place holding `path`; the error lists them all. `cwd_first`: place 1 is the
 * working directory, where a path found stays as given. */
static int places_search(const struct places *pl, bool cwd_first, const char *path, char *out,
                         size_t size, struct error *err)
{
    if (cwd_first && access(path, F_OK) == 0) {
        snprintf(out, size, "%s", path);
        return 0;
    }
    char tried[ERROR_MSG_MAX] = "";
    size_t used = 0;
    if (cwd_first) {
        char cwd[PATH_MAX];
        const char *here = getcwd(cwd, sizeof cwd) ? cwd : "(working directory)";
        used += (size_t)snprintf(tried, sizeof tried, "%s%s%s", here,
                                 strcmp(here, "/") == 0 ? "" : "/", path);
    }
    for (int i = 0; i < pl->count; i++) {
        char full[PATH_MAX * 2];
        snprintf(full, sizeof full, "%s/%s", pl->dir[i], path);
        if (access(full, F_OK) == 0) {
            snprintf(out, size, "%s", full);
            return 0;
        }
        if (used < sizeof tried)
            used +=
                (size_t)snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", full);
    }
    return error_set(err,
                     "%s: no such file in any place mnemo looks (tried %s); give an absolute "
                     "path or put it in one of those folders",
                     path, tried[0] ? tried : "nowhere: no data folder is known");
}

int datapath_find(const char *path, char *out, size_t size, struct error *err)
{
    if (!path[0])
        return error_set(err, "no file given (the setting is empty)");
    if (path[0] == '/') {
        snprintf(out, size, "%s", path);
        return 0;
    }
    static _Thread_local struct places pl; /* PLACES_MAX paths: off the stack */
    pl.count = 0;
    places_add(&pl, config_dir);
    places_add_own(&pl);
    return places_search(&pl, true, path, out, size, err);
}

int datapath_find_own(const char *path, char *out, size_t size, struct error *err)
{
    static _Thread_local struct places pl;
    pl.count = 0;
    places_add_own(&pl);
    return places_search(&pl, false, path, out, size, err);
}

const char *datapath_shader_dir(const char *configured, char *buf, size_t size)
{
    struct error err;
    if (configured && configured[0]) {
        if (datapath_find(configured, buf, size, &err))
            snprintf(buf, size, "%s", configured);
        return buf;
    }
    char exe[PATH_MAX];
    const char *bin = binary_dir(exe, sizeof exe);
    const char *beside[] = {"%s/shaders/quad.vert", "%s/../shaders/quad.vert"};
    for (size_t i = 0; i < 2; i++) {
        char path[PATH_MAX + 32], *real;
        snprintf(path, sizeof path, beside[i], bin);
        if (access(path, R_OK) == 0 && (real = realpath(path, NULL))) { /* named plainly */
            snprintf(buf, size, "%s", dirname(real));
            free(real);
            return buf;
        }
    }
    if (datapath_find_own("shaders/quad.vert", buf, size, &err))
        return NULL;
    *strrchr(buf, '/') = '\0'; /* the folder of quad.vert */
    return buf;
}
