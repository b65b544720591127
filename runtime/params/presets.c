/* presets.c — see presets.h. */
#include "presets.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

int preset_path(char *buf, size_t size, const char *dir, const char *name, struct error *err)
{
    if (!name_ok(name))
        return error_set(err, "preset '%.80s': names are 1-64 letters, digits, '-' or '_'", name);
    int n = snprintf(buf, size, "%s/%s.cfg", *dir ? dir : ".", name);
    if (n < 0 || (size_t)n >= size)
        return error_set(err, "preset '%s': the path is too long", name);
    return 0;
}

/* The temp file, always a new regular file: a FIFO or a symlink left at its name would
 * block the control thread or write elsewhere. The name is ours, so what is there goes. */
static FILE *tmp_create(const char *tmp)
{
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fd >= 0 && !f) {
        close(fd);
        unlink(tmp);
    }
    return f;
}

int preset_save(const char *dir, const char *name, const struct params *p, struct error *err)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    if (preset_path(path, sizeof path, dir, name, err))
        return -1;
    if (*dir && mkdir(dir, 0777) && errno != EEXIST)
        return error_set(err, "%s: cannot create the presets directory: %s", dir, strerror(errno));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = tmp_create(tmp);
    if (!f)
        return error_set(err, "%s: cannot write: %s", tmp, strerror(errno));
    int rc = params_write_preset(f, p, name, err);
    if (fclose(f) && rc == 0)
        rc = error_set(err, "%s: cannot write: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path))
        rc = error_set(err, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
    if (rc)
        unlink(tmp);
    return rc;
}

int preset_load(const char *dir, const char *name, struct params *p, struct error *err)
{
    char path[PATH_MAX];
    if (preset_path(path, sizeof path, dir, name, err))
        return -1;
    static _Thread_local struct params loaded;
    loaded = *p;
    if (params_load_file(&loaded, path, err))
        return -1;
    /* The look as written: live values, in one step. Restart-only values stay, and so do
     * setup ones, which a preset never holds (a preset file edited by hand, or left by
     * another version, must not change the kiosk's hours or its checkpoints). */
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *def = params_at(i);
        if (!(def->flags & PARAM_SETUP))
            param_glide(def, p, &loaded, 1.0f);
    }
    return 0;
}
