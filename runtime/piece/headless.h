/* headless.h — `mnemo --headless --frames N --out PATH`: the piece recorded with no display.
 *
 * Runs the loop as fast as it goes and writes exactly N frames through capture.h, in
 * order, none dropped: each loop iteration gives capture.frames_per_iteration frames that
 * crossfade from the previous portrait to the new one (0 = capture.fps / loop.rate, so a
 * recording moves at the pace the installation would), upscaled to capture.width x
 * capture.height, showing capture.stream (portrait, sketch, or both side by side).
 * Everything is allocated before the first frame. */
#ifndef MNEMO_HEADLESS_H
#define MNEMO_HEADLESS_H

#include "exit.h"
#include "step.h"

#include <signal.h>

/* Records `frames` frames of the open loop s->L to `out`, each iteration a piece_step. `stop` (may
 * be NULL), when set by a signal handler, ends the recording early and cleanly: the frames so far
 * are finalised. Returns 0; MNEMO_EXIT_OUTPUT_FAILED with err when the recording could not be
 * written (a full disk, an unwritable path: what was written is finalised and stays valid); or -1
 * with err naming the step that failed. */
int headless_run(struct step *s, int64_t frames, const char *out, volatile sig_atomic_t *stop,
                 struct error *err);

#endif
