/* capture_video.c — recording to a video file through an ffmpeg child process that reads
 * raw RGB24 frames from a pipe (see capture.h). No shell is involved: the path and codec
 * go to ffmpeg as plain arguments. */
#include "capture_internal.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define NOT_FOUND_HINT                                                                             \
    "ffmpeg not found: install it (apt install ffmpeg) or capture to a directory of PNGs"

/* Once a stop is asked for (capture_watch_stop): how long a frame may still take to go into
 * the pipe; how long ffmpeg then gets to finish the file on its own, after SIGTERM, and
 * after SIGKILL. 3.25 s in all: under --supervise's 5 s grace and systemd's
 * TimeoutStopSec=10s, with time left to save the loop's state. */
#define STOP_WRITE_S  0.25
#define STOP_FINISH_S 1.5
#define STOP_TERM_S   1.0
#define STOP_KILL_S   0.5
#define WAIT_SLICE_MS 50

/* True once a stop was asked for and `grace` seconds have passed since *since, the moment
 * it was first seen here (0 until then). */
static bool stop_overdue(const struct capture *c, double *since, double grace)
{
    if (!c->stop || !*c->stop)
        return false;
    double now = clock_now();
    if (*since == 0)
        *since = now;
    return now - *since >= grace;
}

/* ---- ffmpeg's log -------------------------------------------------------------------- */

/* ffmpeg's stderr comes to us through a pipe, not into a file beside the video: a full
 * output disk would swallow the very line that says so. Each line goes into mnemo's log
 * (with -loglevel error, only failures) and the last one is kept for the message that
 * reports the end. Read between frames and while waiting on ffmpeg, into the capture's
 * own buffers: no allocation. */
static void log_line_end(struct capture *c)
{
    size_t n = c->log_len;
    while (n > 0 && c->log_line[n - 1] == ' ')
        n--;
    c->log_line[n] = '\0';
    c->log_len = 0;
    if (!n)
        return;
    if (!c->quiet)
        log_warn("ffmpeg, recording '%s': %s", c->path, c->log_line);
    memcpy(c->log_last, c->log_line, n + 1);
}

static void log_take(struct capture *c, const char *text, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n' || text[i] == '\r')
            log_line_end(c);
        else if (c->log_len < sizeof c->log_line - 1) /* a long line loses its tail */
            c->log_line[c->log_len++] = text[i];
    }
}

/* Takes what ffmpeg has written to its stderr so far; at its end, closes our side. */
static void log_drain(struct capture *c)
{
    char buf[512];
    while (c->log_fd >= 0) {
        ssize_t n = read(c->log_fd, buf, sizeof buf);
        if (n > 0) {
            log_take(c, buf, (size_t)n);
        } else if (n == 0 || errno != EINTR) {
            if (n < 0 && errno == EAGAIN)
                return;      /* nothing more for now */
            log_line_end(c); /* its end (or a read error): the last line as it is */
            close(c->log_fd);
            c->log_fd = -1;
        }
    }
}

/* "exit status 1" / "killed by signal 9", and ffmpeg's last line when there is one. */
static void describe_end(const struct capture *c, int status, char *buf, size_t size)
{
    int used;
    if (WIFSIGNALED(status))
        used = snprintf(buf, size, "ffmpeg was killed by signal %d", WTERMSIG(status));
    else
        used = snprintf(buf, size, "ffmpeg exited with status %d", WEXITSTATUS(status));
    if (c->log_last[0] && used > 0 && (size_t)used < size)
        snprintf(buf + used, size - (size_t)used, " (\"%s\")", c->log_last);
}

/* ---- starting ffmpeg ----------------------------------------------------------------- */

static int has_suffix_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

struct ffmpeg_args {
    char size[32], rate[32], crf[16], gop[16], keys[64], segment[16];
    char *target;
    const char *argv[64];
    int n;
};

static void arg(struct ffmpeg_args *a, const char *text)
{
    a->argv[a->n++] = text;
}

static void arg_pair(struct ffmpeg_args *a, const char *option, const char *value)
{
    arg(a, option);
    arg(a, value);
}

static bool is_x26x(const char *codec)
{
    return strcmp(codec, "libx264") == 0 || strcmp(codec, "libx265") == 0;
}

/* Raw RGB24 frames from stdin, then the codec. In real time (a recording of the screen, or
 * any stream): the encoder must keep up (veryfast), a keyframe every 2 s is where a segment
 * may start and a stream's receiver can join, and a stream has no lookahead to wait for
 * (zerolatency). */
static void args_encoder(struct ffmpeg_args *a, const struct capture *c,
                         const struct capture_video_options *o, const char *codec)
{
    snprintf(a->size, sizeof a->size, "%dx%d", c->width, c->height);
    snprintf(a->rate, sizeof a->rate, "%.6g", o->fps);
    snprintf(a->crf, sizeof a->crf, "%d", o->crf);
    const char *head[] = {"ffmpeg",   "-hide_banner", "-loglevel",
                          "error",    "-y",           "-f",
                          "rawvideo", "-pix_fmt",     o->gl_rows ? "bgra" : "rgb24",
                          "-s",       a->size,        "-r",
                          a->rate};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        arg(a, head[i]);
    arg_pair(a, "-i", "-");
    arg(a, "-an");
    arg_pair(a, "-c:v", codec);
    if (o->gl_rows)
        arg_pair(a, "-vf", "vflip");
    if (o->crf >= 0)
        arg_pair(a, "-crf", a->crf);
    arg_pair(a, "-pix_fmt", "yuv420p");
    if (!o->live && !c->stream)
        return;
    snprintf(a->gop, sizeof a->gop, "%d", (int)lround(2 * o->fps));
    arg_pair(a, "-g", a->gop);
    if (is_x26x(codec))
        arg_pair(a, "-preset", "veryfast");
    if (c->stream && strcmp(codec, "libx264") == 0)
        arg_pair(a, "-tune", "zerolatency");
}

/* Fragmented: an empty index at the front and a fragment at every keyframe or second,
 * each one playable as soon as it is written. A recording cut by a full disk, a power cut
 * or a kill plays up to its last fragment; +faststart needed the file's end (the index is
 * written last, then moved) and left nothing that plays. Matroska (.mkv) writes its
 * clusters as it goes and plays up to a cut as it is. */
#define MP4_FLAGS "+frag_keyframe+empty_moov+default_base_moof"

static void args_file(struct ffmpeg_args *a, const struct capture *c)
{
    if (has_suffix_ci(c->path, ".mp4") || has_suffix_ci(c->path, ".mov")) {
        arg_pair(a, "-movflags", MP4_FLAGS);
        arg_pair(a, "-frag_duration", "1000000"); /* microseconds */
    } else if (has_suffix_ci(c->path, ".mkv")) {
        arg_pair(a, "-cluster_time_limit", "1000"); /* ms: a cluster a second, not 5 s */
    }
}

/* A new file at the first keyframe after every segment_s seconds, and a keyframe forced
 * there, so segments are segment_s long; each file's timestamps start at 0, and its name
 * comes from the local time it starts (-strftime). */
static void args_segments(struct ffmpeg_args *a, const struct capture *c, int32_t segment_s)
{
    bool mkv = has_suffix_ci(c->path, ".mkv");
    snprintf(a->segment, sizeof a->segment, "%d", segment_s);
    snprintf(a->keys, sizeof a->keys, "expr:gte(t,n_forced*%d)", segment_s);
    arg_pair(a, "-force_key_frames", a->keys);
    arg_pair(a, "-f", "segment");
    arg_pair(a, "-segment_time", a->segment);
    arg_pair(a, "-segment_format",
             mkv                              ? "matroska"
             : has_suffix_ci(c->path, ".mov") ? "mov"
                                              : "mp4");
    arg_pair(a, "-segment_format_options",
             mkv ? "cluster_time_limit=1000" : "movflags=" MP4_FLAGS ":frag_duration=1000000");
    arg_pair(a, "-reset_timestamps", "1");
    arg_pair(a, "-strftime", "1");
}

/* MPEG-TS carries H.264 over srt, udp, tcp and rtp; rtmp wants FLV. */
static void args_stream(struct ffmpeg_args *a, const struct capture *c)
{
    bool rtmp = strncasecmp(c->path, "rtmp", 4) == 0;
    arg_pair(a, "-f", rtmp ? "flv" : "mpegts");
}

/* -loglevel error keeps the log to the reasons for failure; a file goes through the file:
 * protocol so a path starting with '-' or holding ':' is never read as an option or a
 * protocol. Each fragment or cluster goes to the file (or the peer) as soon as it is
 * muxed, not held in ffmpeg's output buffer, which a kill loses. */
static void build_args(struct ffmpeg_args *a, const struct capture *c,
                       const struct capture_video_options *o)
{
    a->n = 0;
    args_encoder(a, c, o, o->codec ? o->codec : CAPTURE_DEFAULT_CODEC);
    if (c->stream)
        args_stream(a, c);
    else if (o->segment_s > 0)
        args_segments(a, c, o->segment_s);
    else
        args_file(a, c);
    arg_pair(a, "-flush_packets", "1");
    arg(a, a->target);
    a->argv[a->n] = NULL;
}

/* What ffmpeg writes to: the URL as it is; "file:" + the path; for segments "file:" + the
 * path with -%Y%m%d-%H%M%S before its extension and any '%' of its own doubled, so that
 * strftime leaves it alone. Allocated: free it. */
static char *target_make(const struct capture *c, int32_t segment_s)
{
    size_t len = strlen(c->path);
    char *t = malloc(2 * len + sizeof "file:-%Y%m%d-%H%M%S");
    if (!t || c->stream)
        return t ? strcpy(t, c->path) : NULL;
    if (segment_s <= 0) {
        sprintf(t, "file:%s", c->path);
        return t;
    }
    const char *dot = strrchr(c->path, '.'); /* a video path has its extension */
    char *w = t + sprintf(t, "file:");
    for (const char *p = c->path; p < dot; p++) {
        if (*p == '%')
            *w++ = '%';
        *w++ = *p;
    }
    sprintf(w, "-%%Y%%m%%d-%%H%%M%%S%s", dot);
    return t;
}

/* The child gets a clean signal state and its own process group: a Ctrl-C on the
 * terminal reaches mnemo only, which then closes the pipe so ffmpeg finishes the file
 * properly instead of dying with it. */
static int spawn_ffmpeg(struct capture *c, const struct ffmpeg_args *a, int read_fd, int log_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, read_fd, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    int rc = posix_spawnp(&c->pid, "ffmpeg", &fa, &attr, (char *const *)a->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc)
        c->pid = 0;
    return rc;
}

/* Creates the output (or proves an existing one writable) so a bad path is reported
 * with the path, not as an ffmpeg failure. Sets *created when the file is new. */
static int check_output(const struct capture *c, int *created, struct error *err)
{
    int fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    *created = fd >= 0;
    if (fd < 0 && errno == EEXIST)
        fd = open(c->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, "cannot write video '%s': %s: choose a writable place", c->path,
                         strerror(errno));
    close(fd);
    return 0;
}

/* Segments go beside the path under other names: its folder is made when missing (an
 * archive folder in the state directory of a fresh kiosk), then proved to take files. */
static int check_folder(const struct capture *c, struct error *err)
{
    const char *slash = strrchr(c->path, '/');
    char probe[4096];
    if (slash && slash > c->path) {
        snprintf(probe, sizeof probe, "%.*s", (int)(slash - c->path), c->path);
        if (capture_make_dirs(probe, err))
            return -1;
    }
    if (slash)
        snprintf(probe, sizeof probe, "%.*s/.mnemo-record-probe", (int)(slash - c->path), c->path);
    else
        snprintf(probe, sizeof probe, ".mnemo-record-probe");
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return error_set(err,
                         "cannot write video segments beside '%s': %s: choose a writable "
                         "place",
                         c->path, strerror(errno));
    close(fd);
    unlink(probe);
    return 0;
}

/* Two pipes, every end close-on-exec (posix_spawn's dup2 gives the child its own copies
 * as stdin and stderr): only the child may hold the frames' read end, or ffmpeg would never
 * see the end of the stream. Our ends are non-blocking: a write that would wait returns,
 * so a stop is seen however long ffmpeg takes no frame, and reading its log never waits. */
static int pipes_open(int frames[2], int log[2])
{
    if (pipe(frames) != 0)
        return -1;
    if (pipe(log) != 0) {
        close(frames[0]);
        close(frames[1]);
        return -1;
    }
    int ends[] = {frames[0], frames[1], log[0], log[1]};
    for (size_t i = 0; i < 4; i++)
        fcntl(ends[i], F_SETFD, FD_CLOEXEC);
    fcntl(frames[1], F_SETFL, O_NONBLOCK);
    fcntl(log[0], F_SETFL, O_NONBLOCK);
    return 0;
}

static int start_ffmpeg(struct capture *c, const struct ffmpeg_args *a, struct error *err)
{
    int fds[2], log[2];
    if (pipes_open(fds, log) != 0)
        return error_set(err, "cannot start ffmpeg for '%s': pipe: %s", c->path, strerror(errno));
    int rc = spawn_ffmpeg(c, a, fds[0], log[1]);
    close(fds[0]);
    close(log[1]);
    if (rc) {
        close(fds[1]);
        close(log[0]);
        if (rc == ENOENT)
            return error_set(err, "cannot record '%s': " NOT_FOUND_HINT, c->path);
        return error_set(err, "cannot start ffmpeg for '%s': %s", c->path, strerror(rc));
    }
    c->pipe_fd = fds[1];
    c->log_fd = log[0];
    return 0;
}

static int check_target(const struct capture *c, int32_t segment_s, int *created, struct error *err)
{
    *created = 0;
    if (c->stream)
        return 0; /* ffmpeg opens it at the first frame */
    return segment_s > 0 ? check_folder(c, err) : check_output(c, created, err);
}

int capture_video_open(struct capture *c, const struct capture_video_options *o, struct error *err)
{
    if (c->width % 2 || c->height % 2)
        return error_set(err,
                         "cannot record %dx%d video to '%s': yuv420p video needs an even width "
                         "and height",
                         c->width, c->height, c->path);
    if (!(o->fps > 0 && o->fps <= 1000))
        return error_set(err, "cannot record '%s' at %g fps: use 0 < fps <= 1000", c->path, o->fps);
    int created;
    if (check_target(c, o->segment_s, &created, err))
        return -1;
    c->quiet = o->quiet;
    c->paced = c->stream && !o->live;
    c->fps = o->fps;
    c->frame_bytes = (size_t)c->width * (size_t)c->height * (o->gl_rows ? 4 : 3);
    struct ffmpeg_args a;
    int rc = (a.target = target_make(c, o->segment_s))
                 ? 0
                 : error_set(err, "out of memory opening capture '%s'", c->path);
    if (!rc) {
        build_args(&a, c, o);
        rc = start_ffmpeg(c, &a, err);
    }
    free(a.target);
    if (rc && created)
        unlink(c->path);
    return rc;
}

/* ---- feeding frames ------------------------------------------------------------------ */

/* Everything into the (non-blocking) pipe, waiting in slices while it is full; given up
 * with ECANCELED once a stop is overdue (STOP_WRITE_S). */
static int pipe_send(struct capture *c, const uint8_t *p, size_t n)
{
    double since = 0;
    log_drain(c);
    while (n > 0) {
        ssize_t w = write(c->pipe_fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EINTR && errno != EAGAIN)
            return -1;
        if (stop_overdue(c, &since, STOP_WRITE_S)) {
            errno = ECANCELED;
            return -1;
        }
        struct pollfd pfd[] = {{.fd = c->pipe_fd, .events = POLLOUT},
                               {.fd = c->log_fd, .events = POLLIN}};
        if (w < 0 && errno == EAGAIN)
            poll(pfd, 2, WAIT_SLICE_MS);
        log_drain(c);
    }
    return 0;
}

/* A write to a pipe whose reader died raises SIGPIPE, which would kill mnemo. The signal
 * is blocked around the write (in this thread only: nothing process-wide changes) and a
 * SIGPIPE this write caused is taken off the pending set, so the death shows as EPIPE. */
static int pipe_write_all(struct capture *c, const uint8_t *p, size_t n)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    int rc = pipe_send(c, p, n);
    int saved = errno;
    if (rc && saved == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return rc;
}

/* One step up once a stop is overdue: SIGTERM, SIGKILL, then giving up. */
static bool escalate(struct capture *c, double *since, int *sent)
{
    static const double after[] = {STOP_FINISH_S, STOP_FINISH_S + STOP_TERM_S,
                                   STOP_FINISH_S + STOP_TERM_S + STOP_KILL_S};
    if (!stop_overdue(c, since, after[*sent]))
        return false;
    if (*sent == 0)
        log_warn("ffmpeg has not finished '%s' %.1f s after the stop: SIGTERM, SIGKILL %.1f s "
                 "later",
                 c->path, STOP_FINISH_S, STOP_TERM_S);
    if (*sent < 2)
        kill(c->pid, *sent == 0 ? SIGTERM : SIGKILL);
    return (*sent)++ == 2;
}

/* Waits for ffmpeg: as long as it takes until a stop is asked for, then STOP_FINISH_S to
 * end on its own, then SIGTERM, then SIGKILL. 0 with *status; -1 when it could not be
 * reaped (errno; ETIMEDOUT: it outlived SIGKILL, stuck in the kernel). */
static int reap(struct capture *c, int *status)
{
    double since = 0;
    int sent = 0;
    for (;;) {
        log_drain(c);
        pid_t r = waitpid(c->pid, status, WNOHANG);
        if (r == c->pid) {
            c->pid = 0;
            log_drain(c); /* what it wrote last, then its end */
            return 0;
        }
        if (r < 0 && errno != EINTR)
            return -1;
        if (escalate(c, &since, &sent)) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd pfd = {.fd = c->log_fd, .events = POLLIN};
        poll(&pfd, 1, WAIT_SLICE_MS);
    }
}

static int cut_error(struct capture *c, int status, struct error *err)
{
    char end[512];
    describe_end(c, status, end, sizeof end);
    return error_set(err,
                     "%s after %lld frames: the video '%s' is cut short (what was written plays, "
                     "up to a second or so before the cut)",
                     end, (long long)c->frames, c->path);
}

/* A headless stream is made faster than real time: each frame waits for its moment at
 * `fps` since the first, so a receiver gets the piece at the pace it would be shown (SRT's
 * live mode drops what comes in a burst). ffmpeg's -re would not do: its clock starts with
 * ffmpeg, and frames that come late after a slow first iteration then go out in a burst. */
static void pace(struct capture *c)
{
    if (!c->paced)
        return;
    double now = clock_now();
    if (c->frames == 0)
        c->paced_from = now;
    double due = c->paced_from + (double)c->frames / c->fps;
    if (due > now && !(c->stop && *c->stop))
        clock_sleep_until(due);
}

int capture_video_write(struct capture *c, const uint8_t *rgb, struct error *err)
{
    pace(c);
    if (pipe_write_all(c, rgb, c->frame_bytes) == 0)
        return 0;
    int saved = errno;
    close(c->pipe_fd);
    c->pipe_fd = -1;
    if (saved == ECANCELED) /* capture_video_close reaps it, bounded by the same stop */
        return error_set(err,
                         "stopped while ffmpeg was taking no frames: the video '%s' is cut "
                         "after %lld frames (what was written plays, up to a second or so "
                         "before the cut)",
                         c->path, (long long)c->frames);
    int status = 0;
    if (saved != EPIPE || reap(c, &status))
        return error_set(err, "cannot send frame %lld to ffmpeg for '%s': %s",
                         (long long)c->frames + 1, c->path, strerror(saved));
    return cut_error(c, status, err);
}

int capture_video_close(struct capture *c, struct error *err)
{
    if (c->pipe_fd >= 0) {
        close(c->pipe_fd);
        c->pipe_fd = -1;
    }
    bool reaped = c->pid == 0; /* by a failed write, which reported it */
    int status = 0;
    int rc = reaped ? 0 : reap(c, &status);
    if (c->log_fd >= 0) { /* at its end, or left behind by a failed wait */
        close(c->log_fd);
        c->log_fd = -1;
    }
    if (reaped)
        return 0;
    if (rc)
        return error_set(err, "cannot wait for ffmpeg writing '%s': %s", c->path, strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !c->log_last[0])
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        /* ffmpeg 5 exits 0 even when writing the trailer failed (a full disk): at
         * -loglevel error, any line it wrote is a failure. */
        return error_set(err,
                         "ffmpeg could not finish '%s' (\"%s\") after %lld frames: the video is "
                         "incomplete (what was written plays)",
                         c->path, c->log_last, (long long)c->frames);
    return cut_error(c, status, err);
}
