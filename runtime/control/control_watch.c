/* control_watch.c — the config watcher (control_internal.h). inotify watches directories,
 * not files: an editor that saves by writing a new file and renaming it over the old one
 * (vim, VS Code) replaces the inode a file watch would follow, but the directory sees
 * IN_MOVED_TO with the file's name. A config that is a symlink is watched at its target
 * too. A config deleted or moved away (IN_DELETE, IN_MOVED_FROM) is reported too: the
 * reload fails, says so, and the piece keeps its last good values until the file is back. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "control_internal.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* After the first event of a save, wait until the directory is quiet this long (an editor
 * writes, renames, chmods) but never longer than the cap, so one save is one reload. */
#define QUIET_MS   40
#define SETTLE_CAP 20

int watch_open(struct watch *w, struct error *err)
{
    memset(w, 0, sizeof *w);
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0)
        return error_set(err, "cannot watch the config file (inotify: %s)", strerror(errno));
    return 0;
}

void watch_close(struct watch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

void watch_reset_files(struct watch *w)
{
    w->file_count = 0;
}

static size_t dir_of(struct watch *w, const char *dir)
{
    for (size_t i = 0; i < w->dir_count; i++)
        if (strcmp(w->dirs[i].path, dir) == 0)
            return i;
    if (w->dir_count == WATCH_DIRS)
        return (size_t)-1;
    int wd =
        inotify_add_watch(w->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM);
    if (wd < 0) {
        log_warn("cannot watch %s for config changes: %s", dir, strerror(errno));
        return (size_t)-1;
    }
    for (size_t i = 0; i < w->dir_count; i++)
        if (w->dirs[i].wd == wd)
            return i; /* the same directory by another name (inotify gives its wd again) */
    size_t i = w->dir_count++;
    w->dirs[i].wd = wd;
    snprintf(w->dirs[i].path, sizeof w->dirs[i].path, "%s", dir);
    return i;
}

static void file_watch(struct watch *w, const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    size_t d = dir_of(w, dir);
    if (d == (size_t)-1 || w->file_count == WATCH_FILES)
        return;
    w->files[w->file_count].dir = d;
    snprintf(w->files[w->file_count].name, sizeof w->files[0].name, "%s", slash ? slash + 1 : path);
    w->file_count++;
}

void watch_add(const char *path, void *watch)
{
    struct watch *w = watch;
    file_watch(w, path);
    /* A config that is a symlink (/etc/mnemo/kiosk.cfg -> the artist's copy) is edited at its
     * target, in another directory: watch that too. The link's own directory still sees the
     * link replaced. */
    struct stat st;
    char target[PATH_MAX];
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && realpath(path, target))
        file_watch(w, target);
}

static bool cfg_name(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".cfg") == 0;
}

static bool concerns(const struct watch *w, const struct inotify_event *ev)
{
    if (!ev->len)
        return false;
    for (size_t i = 0; i < w->file_count; i++)
        if (w->dirs[w->files[i].dir].wd == ev->wd && strcmp(w->files[i].name, ev->name) == 0)
            return true;
    return w->broken && cfg_name(ev->name);
}

/* Reads what is pending; true when an event concerns a watched file. */
static bool drain(struct watch *w)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool hit = false;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n <= 0)
            return hit;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            hit = hit || concerns(w, ev);
            p += sizeof *ev + ev->len;
        }
    }
}

bool watch_changed(struct watch *w)
{
    if (!drain(w))
        return false;
    struct pollfd pfd = {.fd = w->fd, .events = POLLIN};
    for (int i = 0; i < SETTLE_CAP && poll(&pfd, 1, QUIET_MS) > 0; i++)
        drain(w);
    return true;
}
