/* capture.c — recording frames: choosing PNG or video from the path, and the PNG
 * sequence writer (see capture.h). The ffmpeg side is in capture_video.c. */
#include "capture_internal.h"
#include "log.h"
#include "params.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Level 3 is several times faster than libpng's default 6 for files ~10% larger: a
 * recording writes thousands of large frames, and the disk is cheaper than the wait. */
#define PNG_LEVEL    3
#define OUT_BUF_SIZE (256 * 1024)
/* zlib's deflate state (~270 KiB at libpng's settings) plus libpng's structs. */
#define ARENA_FIXED (1024 * 1024)

/* ---- choosing the kind of capture ---------------------------------------------------- */

static const char *path_extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    return dot && dot[1] ? dot + 1 : NULL;
}

static int ext_is(const char *ext, const char *want)
{
    for (; *ext && *want; ext++, want++)
        if (tolower((unsigned char)*ext) != *want)
            return 0;
    return *ext == '\0' && *want == '\0';
}

static int path_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool capture_is_stream(const char *target)
{
    return strstr(target, "://") != NULL;
}

static int classify(const char *path, enum capture_kind *kind, struct error *err)
{
    const char *ext = path_extension(path);
    size_t len = strlen(path);
    *kind = CAPTURE_PNG;
    if (capture_is_stream(path)) {
        *kind = CAPTURE_VIDEO;
        return 0;
    }
    if (!ext || path[len - 1] == '/' || path_is_dir(path))
        return 0;
    if (ext_is(ext, "mp4") || ext_is(ext, "mov") || ext_is(ext, "mkv")) {
        *kind = CAPTURE_VIDEO;
        return 0;
    }
    /* out.avi or a.png would otherwise quietly become a directory of PNGs. */
    return error_set(err,
                     "cannot capture to '%s': '.%s' is not a video format mnemo writes; use a "
                     ".mp4, .mov or .mkv file, or a directory for PNG frames (end it with '/')",
                     path, ext);
}

/* ---- open / write / close ------------------------------------------------------------ */

static void capture_free(struct capture *c)
{
    free(c->path);
    free(c->frame_path);
    free(c->temp_path);
    free(c->arena.base);
    free(c->out_buf);
    free(c);
}

/* A capture of the kind `path` asks for, its buffers and encoder not yet made. */
static struct capture *capture_new(const char *path, int32_t width, int32_t height,
                                   struct error *err)
{
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384) {
        error_set(err, "cannot capture %dx%d frames: width and height must be 1..16384", width,
                  height);
        return NULL;
    }
    enum capture_kind kind;
    if (!path || !*path) {
        error_set(err, "no capture path given: name a directory for PNG frames or a .mp4 file");
        return NULL;
    }
    if (classify(path, &kind, err))
        return NULL;
    struct capture *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        error_set(err, "out of memory opening capture '%s'", path);
        return NULL;
    }
    c->kind = kind;
    c->stream = capture_is_stream(path);
    c->width = width;
    c->height = height;
    c->fd = c->pipe_fd = c->log_fd = -1;
    return c;
}

struct capture *capture_open(const char *path, int32_t width, int32_t height, double fps,
                             const char *codec, int32_t crf, struct error *err)
{
    struct capture *c = capture_new(path, width, height, err);
    if (!c)
        return NULL;
    struct capture_video_options o = {.fps = fps, .codec = codec, .crf = crf};
    int rc = c->kind == CAPTURE_PNG ? capture_png_open(c, err) : capture_video_open(c, &o, err);
    if (rc) {
        capture_free(c);
        return NULL;
    }
    return c;
}

struct capture *capture_open_video(const char *target, int32_t width, int32_t height,
                                   const struct capture_video_options *o, struct error *err)
{
    struct capture *c = capture_new(target, width, height, err);
    if (c && c->kind != CAPTURE_VIDEO) {
        error_set(err,
                  "cannot record video to '%s': name a .mp4, .mov or .mkv file or a stream "
                  "URL (srt://, udp://, rtmp://)",
                  target);
        capture_free(c);
        return NULL;
    }
    if (c && capture_video_open(c, o, err)) {
        capture_free(c);
        return NULL;
    }
    return c;
}

int capture_write(struct capture *c, const uint8_t *rgb, struct error *err)
{
    if (c->failed)
        return error_set(err, "%s", c->failure);
    int rc =
        c->kind == CAPTURE_PNG ? capture_png_write(c, rgb, err) : capture_video_write(c, rgb, err);
    if (rc) {
        c->failed = 1;
        snprintf(c->failure, sizeof c->failure, "%s", err ? err->msg : "capture failed");
        return rc;
    }
    c->frames++;
    return 0;
}

void capture_watch_stop(struct capture *c, volatile sig_atomic_t *stop)
{
    c->stop = stop;
}

int64_t capture_frames(const struct capture *c)
{
    return c->frames;
}

pid_t capture_encoder_pid(const struct capture *c)
{
    return c->pid;
}

int64_t capture_close(struct capture *c, struct error *err)
{
    if (!c)
        return 0;
    int rc = c->kind == CAPTURE_PNG ? capture_png_close(c, err) : capture_video_close(c, err);
    int64_t frames = c->frames;
    if (!rc && c->failed)
        rc = error_set(err, "%s", c->failure);
    capture_free(c);
    return rc ? -1 : frames;
}

/* ---- PNG sequence: directory --------------------------------------------------------- */

int capture_make_dirs(const char *path, struct error *err)
{
    char part[4096];
    size_t len = strlen(path);
    if (len >= sizeof part)
        return error_set(err, "capture path '%.64s...' is too long", path);
    memcpy(part, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (part[i] != '/' && part[i] != '\0')
            continue;
        char saved = part[i];
        part[i] = '\0';
        if (mkdir(part, 0777) != 0 && errno != EEXIST)
            return error_set(err,
                             "cannot create capture directory '%s' (at '%s': %s): choose a "
                             "writable place",
                             path, part, strerror(errno));
        part[i] = saved;
    }
    if (!path_is_dir(path))
        return error_set(err, "cannot capture to '%s': it exists and is not a directory", path);
    return 0;
}

/* Proves the directory takes files now rather than at the first frame. Root ignores
 * permission bits, so only an actual file creation is a reliable test. */
static int probe_writable(struct capture *c, struct error *err)
{
    snprintf(c->temp_path, c->name_size, "%s/.mnemo-capture-probe", c->path);
    int fd = open(c->temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return error_set(err,
                         "cannot write into capture directory '%s': %s: choose a writable "
                         "place",
                         c->path, strerror(errno));
    close(fd);
    unlink(c->temp_path);
    return 0;
}

static void set_frame_names(struct capture *c, int64_t number)
{
    snprintf(c->frame_path, c->name_size, "%s/frame_%06lld.png", c->path, (long long)number);
    snprintf(c->temp_path, c->name_size, "%s/.frame_%06lld.png.tmp", c->path, (long long)number);
}

static int64_t fault_from_env(void)
{
    const char *v = getenv("MNEMO_FAULT_DISK_FULL_AFTER");
    if (!v || !*v)
        return -1;
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end == '\0' && n >= 0 ? n : -1;
}

int capture_png_open(struct capture *c, struct error *err)
{
    if (capture_make_dirs(c->path, err))
        return -1;
    size_t row = (size_t)c->width * 3 + 1;
    c->name_size = strlen(c->path) + 64;
    c->frame_path = malloc(c->name_size);
    c->temp_path = malloc(c->name_size);
    /* libpng keeps a few rows (current, previous, filter trials) besides zlib's state. */
    c->arena.size = ARENA_FIXED + 6 * (row + 64);
    c->arena.base = malloc(c->arena.size);
    c->out_size = OUT_BUF_SIZE;
    c->out_buf = malloc(c->out_size);
    if (!c->frame_path || !c->temp_path || !c->arena.base || !c->out_buf)
        return error_set(err, "out of memory opening capture '%s'", c->path);
    if (probe_writable(c, err))
        return -1;
    set_frame_names(c, 1);
    if (access(c->frame_path, F_OK) == 0)
        log_warn("capture directory '%s' already holds frames; they are overwritten one by one",
                 c->path);
    c->fault_full_after = fault_from_env();
    return 0;
}

/* ---- PNG sequence: libpng plumbing --------------------------------------------------- */

static png_voidp arena_malloc(png_structp png, png_alloc_size_t size)
{
    struct png_arena *a = &((struct capture *)png_get_mem_ptr(png))->arena;
    size_t aligned = (size + 15) & ~(size_t)15;
    if (a->used + aligned <= a->size) {
        void *p = a->base + a->used;
        a->used += aligned;
        return p;
    }
    a->heap_allocs++;
    return malloc(size);
}

static void arena_free(png_structp png, png_voidp p)
{
    struct png_arena *a = &((struct capture *)png_get_mem_ptr(png))->arena;
    uint8_t *b = p;
    if (b && (b < a->base || b >= a->base + a->size))
        free(p);
}

/* Writes everything or fails with errno set; the disk-full fault cuts the file short the
 * way a real full disk does. */
static int write_all(struct capture *c, const uint8_t *p, size_t n)
{
    if (c->fault_full_after >= 0 && c->frames >= c->fault_full_after) {
        size_t part = n / 2;
        if (write(c->fd, p, part) < 0)
            return -1;
        errno = ENOSPC;
        return -1;
    }
    while (n > 0) {
        ssize_t w = write(c->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int flush_out(struct capture *c)
{
    int rc = write_all(c, c->out_buf, c->out_used);
    c->out_used = 0;
    return rc;
}

static void on_png_write(png_structp png, png_bytep data, png_size_t n)
{
    struct capture *c = png_get_io_ptr(png);
    while (n > 0) {
        if (c->out_used == c->out_size && flush_out(c)) {
            c->io_errno = errno;
            png_error(png, "write failed");
        }
        size_t room = c->out_size - c->out_used;
        size_t take = n < room ? n : room;
        memcpy(c->out_buf + c->out_used, data, take);
        c->out_used += take;
        data += take;
        n -= take;
    }
}

static void on_png_flush(png_structp png)
{
    (void)png;
}

static void on_png_error(png_structp png, png_const_charp msg)
{
    struct capture *c = png_get_error_ptr(png);
    snprintf(c->failure, sizeof c->failure, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void encode_rows(png_structp png, png_infop info, const struct capture *c,
                        const uint8_t *rgb)
{
    png_set_IHDR(png, info, (png_uint_32)c->width, (png_uint_32)c->height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, PNG_LEVEL);
    png_write_info(png, info);
    for (int32_t y = 0; y < c->height; y++)
        png_write_row(png, rgb + (size_t)y * (size_t)c->width * 3);
    png_write_end(png, info);
}

/* Encodes one frame into c->fd. libpng reports errors by longjmp, so everything touched
 * after setjmp lives in c, not in locals. */
static int png_encode(struct capture *c, const uint8_t *rgb)
{
    c->arena.used = 0;
    c->out_used = 0;
    c->io_errno = 0;
    png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, c, on_png_error,
                                                on_png_warning, c, arena_malloc, arena_free);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(c->failure, sizeof c->failure, "libpng could not start");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, c, on_png_write, on_png_flush);
    encode_rows(png, info, c, rgb);
    png_destroy_write_struct(&png, &info);
    if (flush_out(c)) {
        c->io_errno = errno;
        return -1;
    }
    return 0;
}

static int frame_error(struct capture *c, const char *why, struct error *err)
{
    long long n = (long long)c->frames + 1;
    const char *hint = c->io_errno == ENOSPC ? "free space on the disk or capture elsewhere"
                                             : "check the disk and the directory";
    if (c->frames == 0)
        return error_set(err, "cannot write frame 1 to '%s': %s; no frame was written: %s",
                         c->frame_path, why, hint);
    return error_set(err,
                     "cannot write frame %lld to '%s': %s; frames 1-%lld in '%s' are complete: %s",
                     n, c->frame_path, why, n - 1, c->path, hint);
}

/* The frame goes to a hidden temporary name first and is renamed only when whole, so a
 * crash or a full disk never leaves a truncated frame_N.png behind. */
int capture_png_write(struct capture *c, const uint8_t *rgb, struct error *err)
{
    set_frame_names(c, c->frames + 1);
    c->fd = open(c->temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (c->fd < 0) {
        c->io_errno = errno;
        return frame_error(c, strerror(errno), err);
    }
    int rc = png_encode(c, rgb);
    /* close() can be where a full disk (or NFS quota) finally shows. */
    if (close(c->fd) != 0 && !rc) {
        c->io_errno = errno;
        rc = -1;
    }
    c->fd = -1;
    if (!rc && rename(c->temp_path, c->frame_path) != 0) {
        c->io_errno = errno;
        rc = -1;
    }
    if (rc) {
        unlink(c->temp_path);
        return frame_error(c, c->io_errno ? strerror(c->io_errno) : c->failure, err);
    }
    return 0;
}

int capture_png_close(struct capture *c, struct error *err)
{
    (void)c;
    (void)err;
    return 0;
}

const char *capture_codec_name(int32_t codec)
{
    static const char *const names[] = {
        [CODEC_AUTO] = CAPTURE_DEFAULT_CODEC,
        [CODEC_PNG] = "png",
        [CODEC_H264] = "libx264",
        [CODEC_H265] = "libx265",
        [CODEC_VP9] = "libvpx-vp9",
        [CODEC_FFV1] = "ffv1",
    };
    return names[codec];
}
