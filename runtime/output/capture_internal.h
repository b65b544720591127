/* capture_internal.h — what capture.c (PNG frames, dispatch) and capture_video.c (the
 * ffmpeg child) share. Not for use outside capture*.c, except tests. */
#ifndef MNEMO_CAPTURE_INTERNAL_H
#define MNEMO_CAPTURE_INTERNAL_H

#include "capture.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum capture_kind { CAPTURE_PNG, CAPTURE_VIDEO };

/* libpng's working memory for one frame, reused for every frame so that writing a frame
 * allocates nothing. Requests the arena cannot hold go to malloc and are counted. */
struct png_arena {
    uint8_t *base;
    size_t size, used;
    int64_t heap_allocs;
};

struct capture {
    enum capture_kind kind;
    char *path;
    int32_t width, height;
    int64_t frames;
    int failed;                  /* sticky: a failed capture refuses further frames */
    char failure[ERROR_MSG_MAX]; /* the first failure, repeated by later calls */

    /* PNG sequence */
    char *frame_path, *temp_path; /* per-frame names, built in place */
    size_t name_size;
    struct png_arena arena;
    uint8_t *out_buf; /* file bytes are gathered here and written in big chunks */
    size_t out_size, out_used;
    int fd;
    int io_errno;             /* errno of the failed write, for the message */
    int64_t fault_full_after; /* MNEMO_FAULT_DISK_FULL_AFTER, or -1 */

    /* video */
    pid_t pid;          /* 0 once reaped */
    int pipe_fd;        /* non-blocking: a wait on ffmpeg can see a stop (capture_watch_stop) */
    int log_fd;         /* ffmpeg's stderr, read by us (non-blocking); -1 when none or at its end */
    char log_line[256]; /* the line of it being read */
    size_t log_len;
    char log_last[256];          /* its last non-empty line: with -loglevel error, why it stopped */
    volatile sig_atomic_t *stop; /* may be NULL */
    bool stream;                 /* c->path is a URL for ffmpeg's protocols */
    bool quiet;                  /* ffmpeg's lines kept (log_last), not logged */
    size_t frame_bytes;          /* of one frame into the pipe: 3 a pixel, 4 with gl_rows */
    bool paced;                  /* a headless stream: one frame every 1/fps (capture_video.c) */
    double fps, paced_from;
};

/* mkdir -p, naming the component that could not be made; an error when path ends up being
 * something else than a directory. */
int capture_make_dirs(const char *path, struct error *err);

int capture_png_open(struct capture *c, struct error *err);
int capture_png_write(struct capture *c, const uint8_t *rgb, struct error *err);
int capture_png_close(struct capture *c, struct error *err);

int capture_video_open(struct capture *c, const struct capture_video_options *o, struct error *err);
int capture_video_write(struct capture *c, const uint8_t *rgb, struct error *err);
int capture_video_close(struct capture *c, struct error *err);

/* How many of libpng's requests missed the arena (tests: must stay 0). */
static inline int64_t capture_png_heap_allocs(const struct capture *c)
{
    return c->arena.heap_allocs;
}

#endif
