/* input_file.c — see input_file.h. */
#include "input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *input_file_size_text(int64_t bytes, char *buf, size_t size)
{
    if (bytes >= (1 << 20) && bytes % (1 << 20) == 0)
        snprintf(buf, size, "%lld MiB", (long long)(bytes >> 20));
    else if (bytes >= (1 << 10) && bytes % (1 << 10) == 0)
        snprintf(buf, size, "%lld KiB", (long long)(bytes >> 10));
    else
        snprintf(buf, size, "%lld bytes", (long long)bytes);
    return buf;
}

static const char *kind_name(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a plain file";
}

/* Whether the open file may be read: regular and within the cap. */
static int fd_check(int fd, const char *path, int64_t max_bytes, struct error *err)
{
    struct stat st;
    if (fstat(fd, &st))
        return error_set(err, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) {
        error_set(err, "%s: is %s, not a regular file", path, kind_name(st.st_mode));
        errno = EINVAL;
        return -1;
    }
    if (st.st_size > max_bytes) {
        char size[32], cap[32];
        error_set(err, "%s: is %s, over the %s such a file may be; nothing of it was read", path,
                  input_file_size_text(st.st_size, size, sizeof size),
                  input_file_size_text(max_bytes, cap, sizeof cap));
        errno = EFBIG;
        return -1;
    }
    return 0;
}

int input_file_open(const char *path, int64_t max_bytes, struct error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int saved = errno; /* callers tell "not there yet" (ENOENT) from the rest */
        error_set(err, "%s: cannot open: %s", path, strerror(saved));
        errno = saved;
        return -1;
    }
    if (fd_check(fd, path, max_bytes, err)) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    /* A regular file never blocks anyway; readers expect a plain descriptor. */
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

FILE *input_file_fopen(const char *path, int64_t max_bytes, struct error *err)
{
    int fd = input_file_open(path, max_bytes, err);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        error_set(err, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

/* Reads until EOF or `cap` bytes; the count read, or -1. */
static ssize_t read_upto(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int input_file_read(const char *path, int64_t max_bytes, char **data, size_t *len,
                    struct error *err)
{
    *data = NULL;
    *len = 0;
    int fd = input_file_open(path, max_bytes, err);
    if (fd < 0)
        return -1;
    struct stat st;
    size_t size = fstat(fd, &st) == 0 ? (size_t)st.st_size : 0;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return error_set(err, "%s: out of memory reading it", path);
    }
    ssize_t got = read_upto(fd, buf, size);
    int saved = errno;
    close(fd);
    if (got < 0) {
        free(buf);
        error_set(err, "%s: cannot read: %s", path, strerror(saved));
        errno = saved;
        return -1;
    }
    buf[got] = '\0'; /* a file that grew meanwhile is read as it was when opened */
    *data = buf;
    *len = (size_t)got;
    return 0;
}
