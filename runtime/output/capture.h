/* capture.h — headless recording: the piece's frames to a PNG sequence or a video file.
 *
 * Owns: writing frames to disk (PNG files, or an ffmpeg child fed over a pipe), turning
 * the model's float output into display-sized 8-bit frames (upscaler, side-by-side
 * layout), and the terminal progress bar of a recording.
 *
 * Frame format everywhere below: RGB24 — 8-bit R,G,B interleaved, rows top to bottom,
 * no padding between rows (stride = 3 * width) unless a stride is passed explicitly.
 *
 * Capture is headless and never on the presenter's hot path, so capture_write may block
 * (on the disk, or on ffmpeg when it encodes slower than we produce). It never drops a
 * frame and never allocates: every buffer is made in capture_open / scaler_open.
 *
 * Fault injection (tests, and e2e tests of the CLI): MNEMO_FAULT_DISK_FULL_AFTER=N in the
 * environment at capture_open makes a PNG capture fail with ENOSPC while writing frame
 * N+1, as a full disk would. For video, point the output at /dev/full through a symlink
 * named *.mkv: ffmpeg then meets the real ENOSPC. */
#ifndef MNEMO_CAPTURE_H
#define MNEMO_CAPTURE_H

#include "error.h"
#include "image.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- capture ------------------------------------------------------------------------- */

struct capture;

/* Defaults for the video parameters of capture_open. */
#define CAPTURE_DEFAULT_CODEC "libx264"
#define CAPTURE_DEFAULT_CRF   18

/* The ffmpeg encoder for a capture.codec value (enum capture_codec, params.h), as both
 * recordings (headless and of the screen) hand it to capture_open. */
const char *capture_codec_name(int32_t codec);

/* Starts a recording of width x height RGB24 frames at `path`:
 *  - path ending in .mp4, .mov or .mkv (any case): a video encoded by an `ffmpeg` child
 *    (found on PATH) with `codec` (NULL: libx264) at constant quality `crf` (lower is
 *    better; < 0: the codec's default), `fps` frames per second, yuv420p — so width and
 *    height must be even. .mp4/.mov are fragmented (a fragment a second) and .mkv
 *    writes a cluster a second, each flushed at once, so a recording cut short (a full
 *    disk, a kill, a power cut) plays up to about a second before the cut. ffmpeg's
 *    messages come through a pipe into mnemo's log (log.h), never into a file beside the
 *    video, which a full disk would swallow; the last one is quoted in the error.
 *  - a stream URL (capture_is_stream): sent in real time, capture_write taking a frame
 *    every 1/fps (it waits for the frame's moment), as capture_open_video describes.
 *  - any other path: a directory (created with its parents when missing) that receives
 *    frame_000001.png, frame_000002.png, ... (fps, codec and crf are ignored). A path
 *    with an extension that is not a video one (out.avi, a.png) is refused unless it is
 *    an existing directory or ends in '/'.
 * Returns NULL with err naming the path (or the ffmpeg command) and what to do. */
struct capture *capture_open(const char *path, int32_t width, int32_t height, double fps,
                             const char *codec, int32_t crf, struct error *err);

/* How a video capture is encoded and where it goes (capture_open_video). */
struct capture_video_options {
    double fps;
    const char *codec; /* NULL: libx264 */
    int32_t crf;       /* < 0: the codec's default */
    /* > 0, for a file: a new file every segment_s seconds (ffmpeg's segment muxer), each
     * finished one whole and playable, named after the path with the local time it started:
     * show.mp4 -> show-20261204-180000.mp4. A restart never writes over an older one. */
    int32_t segment_s;
    /* Frames come in real time (a recording of the screen): a fast encoder preset, a
     * keyframe every 2 s (where a stream's receiver can join), no lookahead on a stream. */
    bool live;
    /* ffmpeg's lines are not logged one by one: the last one is quoted in the error that
     * says the recording stopped, so a failure is one log line. */
    bool quiet;
    /* Frames as glReadPixels reads them fastest, BGRA with the bottom row first, instead of
     * RGB24: ffmpeg turns them over (4 bytes a pixel go to capture_write). */
    bool gl_rows;
};

/* A stream URL (srt://, udp://, rtmp://, tcp://...: anything with "://"), for ffmpeg's own
 * protocols rather than a file. */
bool capture_is_stream(const char *target);

/* A video capture as capture_open's, with o's encoding, to a .mp4/.mov/.mkv file or to a
 * stream URL: MPEG-TS over srt/udp/tcp/rtp, FLV over rtmp(s). A stream is never segmented;
 * ffmpeg opens it at the first frame, so a peer that is not there shows as a failed write. */
struct capture *capture_open_video(const char *target, int32_t width, int32_t height,
                                   const struct capture_video_options *o, struct error *err);

/* Writes exactly one width x height RGB24 frame (BGRA, bottom row first, for a capture
 * opened with gl_rows), the next in order. Blocks until the
 * frame is on disk (PNG: written under a temporary name, then renamed, so frame_N.png is
 * whole or absent) or handed to ffmpeg. After a failure every later call fails too. */
int capture_write(struct capture *c, const uint8_t *rgb, struct error *err);

/* A stop flag (SIGTERM's; NULL: none) that a video capture watches while it waits on
 * ffmpeg. Once it is set, a frame ffmpeg does not take is given up on after 0.25 s (that
 * write fails: the recording is cut, the message names the file), and at close ffmpeg gets
 * 1.5 s to finish the file, then SIGTERM, then SIGKILL 1 s later: the process ends within
 * seconds whatever ffmpeg does. Without a stop, capture_write and capture_close wait for
 * ffmpeg as long as it takes. */
void capture_watch_stop(struct capture *c, volatile sig_atomic_t *stop);

/* Frames written so far (complete PNG files / frames accepted by ffmpeg). */
int64_t capture_frames(const struct capture *c);

/* The ffmpeg child's process id (0 for a PNG capture): for supervision and tests. */
pid_t capture_encoder_pid(const struct capture *c);

/* Finishes and frees the capture (always, even on failure). Video: closes the pipe, waits
 * for ffmpeg and checks how it ended. Returns the number of frames written, or -1 with err
 * set when the recording is incomplete (the message says how many frames were sent and
 * quotes ffmpeg's last message). c may be NULL (returns 0). */
int64_t capture_close(struct capture *c, struct error *err);

/* ---- upscaler ------------------------------------------------------------------------ */

/* How the source's aspect ratio is kept when the output's differs. */
enum scale_fit {
    SCALE_FIT_LETTERBOX, /* whole source visible, black bars fill the rest */
    SCALE_FIT_CROP,      /* output filled, the source's overhang cut off (centered) */
};

/* The resampling kernel. Catmull-Rom (4 taps when enlarging) keeps sketch lines crisp
 * with little ringing; Lanczos-3 (6 taps) is a little sharper on photographic detail. */
enum scale_filter {
    SCALE_FILTER_CATMULL_ROM,
    SCALE_FILTER_LANCZOS3,
};

struct scaler_config {
    int32_t src_width, src_height;
    int32_t src_channels;     /* 1 (gray, expanded to R=G=B) or 3 */
    struct value_range range; /* source value that maps to black (lo) and white (hi) */
    int32_t dst_width, dst_height;
    enum scale_fit fit;
    enum scale_filter filter;
};

struct scaler;

/* Source: a model's output, float planar (C x H x W, i.e. NCHW with N = 1) in `range`
 * (pix2pix: [-1,1]). Destination: RGB24 at dst size. Weights and scratch are made here;
 * scaler_run allocates nothing. Separable: rows first, then columns; the kernel widens
 * when shrinking so a smaller output is antialiased. */
struct scaler *scaler_open(const struct scaler_config *cfg, struct error *err);

/* Resamples src into the dst_width x dst_height rectangle at dst, whose rows are
 * dst_stride bytes apart (>= 3 * dst_width; pass the frame's stride to draw into part of a
 * larger frame). Letterbox bars are written black every time. */
void scaler_run(struct scaler *s, const float *src, uint8_t *dst, size_t dst_stride);

/* Where the source's content lands inside the destination (letterbox: the picture
 * without its bars; crop: the whole destination). */
struct fit_box scaler_content_box(const struct scaler *s);

void scaler_close(struct scaler *s);

/* ---- side by side -------------------------------------------------------------------- */

/* One frame showing the loop's two halves: portrait on the left, sketch on the right,
 * each fitted into its half (left half width/2, right half the rest) with cfg's fit and
 * filter. */
struct side_by_side;

/* portrait: 3-channel source config; sketch: 1- or 3-channel; their dst sizes are
 * ignored (set from frame_width x frame_height). */
struct side_by_side *side_by_side_open(const struct scaler_config *portrait,
                                       const struct scaler_config *sketch, int32_t frame_width,
                                       int32_t frame_height, struct error *err);
/* Draws both into frame (RGB24, frame_width x frame_height, packed). */
void side_by_side_run(struct side_by_side *sbs, const float *portrait, const float *sketch,
                      uint8_t *frame);
void side_by_side_close(struct side_by_side *sbs);

/* ---- progress -------------------------------------------------------------------------- */

/* A one-line progress bar for a recording, redrawn in place with '\r' on a terminal and
 * silent anywhere else (a log file, a pipe: machine-readable progress is --stats). */
struct progress {
    FILE *out;
    int enabled; /* out is a terminal */
    int64_t total;
    double start_s, last_draw_s;
};

void progress_init(struct progress *p, FILE *out, int64_t total);
/* Records that `done` frames are finished; redraws at most 10 times a second (and always
 * for the last frame). */
void progress_update(struct progress *p, int64_t done);
/* Ends the line so later output starts on a fresh one. */
void progress_finish(struct progress *p);
/* The line itself, e.g. "[#####-----]  50/100 frames  24.0 fps  ETA 0:02", into buf.
 * Exposed for tests; elapsed_s is the time since the start. */
void progress_format(char *buf, size_t size, int64_t done, int64_t total, double elapsed_s);

#endif
