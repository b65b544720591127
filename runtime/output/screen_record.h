/* screen_record.h — recording what the screen shows, while it shows it (capture.out, or
 * `--record PATH`): to a .mp4/.mov/.mkv file, segmented every capture.segment_s seconds,
 * or to a stream through ffmpeg's own protocols (srt://, udp://, rtmp://...).
 *
 * The presented frame is read back from the window's back buffer through pixel buffer
 * objects, a frame or more later, so the GPU is never waited for; it goes into a bounded
 * queue that an encoder thread empties into ffmpeg (capture.h). The presenter never waits
 * for the encoder: when the queue is full, or a readback is not back yet, the frame is
 * dropped from the recording (counted), never from the screen.
 *
 * Time: the recording has capture.fps frames a second of the wall clock. A presented frame
 * stands for the ticks of that clock since the last one taken, so a screen slower than
 * capture.fps gives repeated frames and a dropped frame is made up by its successor: the
 * recording keeps the piece's pace either way. A stall of the presenter (a display that
 * comes back) is not made up beyond one second.
 *
 * Failures: ffmpeg exiting or crashing, a full disk, a peer that goes away, and an encoder
 * that takes no frame for RECORD_STALL_S while frames wait (a stream whose peer hangs) all
 * stop the recording with one log line, never the piece. A stopped recording stays stopped
 * until the piece restarts.
 *
 * What is recorded: the first window, before the HUD is drawn (the HUD is an artist's tool,
 * not part of the piece), at its drawable size when the recording starts or at
 * capture.live_height rows (a window recreated at another size is scaled to that); black
 * while the screen is (closed hours), which costs an encoder next to nothing. Memory: seven
 * frames of the recording's size, BGRA (1080p: 58 MB), half of them the driver's.
 *
 * Threads: screen_record_gl_*, screen_record_frame and screen_record_close on the
 * presenter's thread (the GL ones with its context current); screen_record_counts on any. */
#ifndef MNEMO_SCREEN_RECORD_H
#define MNEMO_SCREEN_RECORD_H

#include "error.h"
#include "params.h"

#include <stdbool.h>
#include <stdint.h>

/* Seconds an encoder may take no frame while frames wait before the recording is stopped. */
#define RECORD_STALL_S 10.0

struct screen_record;

struct screen_record_counts {
    uint64_t frames;  /* frames of video handed to ffmpeg, repeats included */
    uint64_t dropped; /* of the recording's frames, those that show an older screen frame
                         because theirs was dropped (queue full, readback not back) */
    bool failed;      /* the recording stopped on an error */
};

/* The size of the recording of a screen_w x screen_h screen: its own, or live_height (> 0)
 * rows with its aspect ratio; both even, as yuv420p needs. */
void screen_record_size(int32_t screen_w, int32_t screen_h, int32_t live_height, int32_t *width,
                        int32_t *height);

/* Starts ffmpeg on p->capture.out for width x height frames at p->capture.fps (codec and
 * quality from capture.*, segments from capture.segment_s) and the encoder thread. NULL
 * with err naming the target and what to do. Needs no GL: screen_record_gl_open does that
 * part. */
struct screen_record *screen_record_open(const struct params *p, int32_t width, int32_t height,
                                         struct error *err);

/* The readback buffers in the current GL context; closed before the context goes and
 * opened again in the new one (the frames still in flight in the old one are counted as
 * dropped). */
int screen_record_gl_open(struct screen_record *r, struct error *err);
void screen_record_gl_close(struct screen_record *r);

/* The frame just drawn into the default framebuffer (screen_w x screen_h), before the swap:
 * read back when a tick of the recording's clock is due, and the readbacks that are back
 * handed to the encoder. `now`: clock_now() at the frame's start. Leaves framebuffer 0
 * bound. Allocates nothing, never waits. r may be NULL. */
void screen_record_frame(struct screen_record *r, int32_t screen_w, int32_t screen_h, double now);

void screen_record_counts(struct screen_record *r, struct screen_record_counts *c);

/* Ends the recording, with the GL context current (or after screen_record_gl_close): the
 * frames still on the GPU and in the queue go to ffmpeg (0.5 s at most), which then
 * finishes the file (1.5 s, then SIGTERM, then SIGKILL: capture_watch_stop's bounds); one
 * log line says how it ended. The counts at the end into *last (may be NULL). r may be
 * NULL. */
void screen_record_close(struct screen_record *r, struct screen_record_counts *last);

#endif
