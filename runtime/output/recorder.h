/* recorder.h — a recording of the piece: each new portrait (and sketch) becomes
 * capture.frames_per_iteration frames that crossfade from the previous one, upscaled to
 * capture.width x capture.height by capture.h's scaler (or, with capture.renderer = gl,
 * the presenter's shaders offscreen), showing capture.stream, written through capture.h.
 * Handed images and params only; knows nothing of the loop. Everything is allocated at
 * open: advance and write allocate nothing. */
#ifndef MNEMO_RECORDER_H
#define MNEMO_RECORDER_H

#include "error.h"
#include "exit.h"
#include "params.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct recorder;

/* Frames per iteration as configured, with 0 resolved from capture.fps and loop.rate. */
int32_t recorder_frames_per_iteration(const struct params *p);

/* *r: a recording to `out` (a folder for PNGs, or a video file) of size x size images, as
 * p's capture.* say; `stop` (SIGTERM's, may be NULL) bounds every wait on an encoder that
 * stops taking frames (capture_watch_stop). Returns 0; MNEMO_EXIT_OUTPUT_FAILED with err
 * when `out` cannot be written; -1 with err when the frames cannot be made (memory, the GL
 * composer). */
int recorder_open(struct recorder **r, int32_t size, const struct params *p, const char *out,
                  volatile sig_atomic_t *stop, struct error *err);
/* The newest portrait (3 x size x size) and sketch become the crossfade's target, the old
 * target its start (first: both ends are the new images). */
void recorder_advance(struct recorder *r, const float *portrait, const float *sketch, bool first);
/* Composes and writes this iteration's frames, counting them in *written, never past
 * `frames` in all. -1 with err when a frame cannot be written (a full disk: what was
 * written stays valid once closed). */
int recorder_write(struct recorder *r, int64_t *written, int64_t frames, struct error *err);
/* Finalises the file (always: a cut recording stays playable) and frees r. -1 with err
 * when finalising failed. r may be NULL. */
int recorder_close(struct recorder *r, struct error *err);

#endif
