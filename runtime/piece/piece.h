/* piece.h — the loop on its own thread, handing finished images to whoever shows them.
 *
 * The loop thread runs loop_step paced by loop.rate and publishes each iteration's
 * portrait and sketch (with the iteration number and the time it finished) through a
 * lock-free triple buffer: the writer never waits for the reader, the reader never waits
 * for the writer, and the reader always gets the newest finished iteration (older ones it
 * did not pick up in time are skipped, which is what a display wants). The presenter
 * keeps the previous frame itself to crossfade from.
 *
 * Parameters: piece_set_params hands a whole new set to the loop thread, which applies it
 * (loop_set_params) between two iterations. A mutex guards only a struct copy, and the
 * loop thread only try-locks it, so neither side ever blocks on the other for long.
 *
 * Stopping: piece_stop sets a flag the thread checks between iterations and in its pacing
 * sleep (every 20 ms at most), so it joins within one iteration's time. */
#ifndef MNEMO_PIECE_H
#define MNEMO_PIECE_H

#include "loop.h"
#include "stats.h"
#include "swap.h"

#include <stdbool.h>
#include <stdint.h>

/* One published iteration. The arrays belong to the piece; valid until the next
 * piece_latest call by the same reader. */
struct piece_frame {
    uint64_t iteration;    /* loop iterations done when this was published (1 = first) */
    double time_s;         /* clock_now() when it was published */
    const float *portrait; /* 3 x size x size, canonical [-1,1] planar */
    const float *sketch;   /* 1 x size x size */
    int32_t size;
};

struct checkpoint;
struct piece;

/* Starts the loop thread on the open loop L (the piece borrows L; it must outlive the
 * piece, and nobody else may touch it until piece_stop). stats (may be NULL) is ticked
 * by the loop thread between iterations; checkpoint (may be NULL) is offered the state
 * after each good one; swap (may be NULL: models stay as opened) is told the models each
 * new parameter set asks for, and swaps a loaded one in between two iterations (swap.h).
 * The first frame is published after the first iteration. */
struct piece *piece_start(struct loop *L, struct stats *stats, struct checkpoint *checkpoint,
                          struct swap *swap, struct error *err);
/* The same, paused from the first moment (closed hours at start: not one iteration runs
 * until piece_set_paused(pc, false)). */
struct piece *piece_start_paused(struct loop *L, struct stats *stats, struct checkpoint *checkpoint,
                                 struct swap *swap, struct error *err);

/* The newest published frame if it is newer than `after_iteration`: returns true and
 * fills *f; false when nothing newer exists yet. Never blocks. One reader only. */
bool piece_latest(struct piece *pc, uint64_t after_iteration, struct piece_frame *f);

/* Hands a new parameter set to the loop thread (live ones take effect between two
 * iterations). Thread-safe; blocks only for a struct copy. */
void piece_set_params(struct piece *pc, const struct params *p);

/* Closed hours (kiosk.hours): while paused the loop thread runs no iteration (no model,
 * the GPU idles); it wakes every 50 ms to take parameters, write --stats lines (iterations
 * standing still) and see a stop, so piece_stop still joins at once. Unpausing continues
 * the same iteration sequence where it stopped. An iteration running when the pause is
 * asked for finishes (and is published) first. Thread-safe. */
void piece_set_paused(struct piece *pc, bool paused);
/* True once the loop thread has taken the pause: no iteration runs, every finished one is
 * published. False while it runs, and between a pause asked for and taken (an iteration
 * still finishing, or a loop thread stuck in one). */
bool piece_paused(const struct piece *pc);

/* A fresh seed sketch at the next iteration (a key, OSC /mnemo/reseed). Thread-safe. */
void piece_request_reseed(struct piece *pc);

/* The last set given to piece_set_params (or the loop's at start); copies into *p. */
void piece_get_params(struct piece *pc, struct params *p);
/* Bumped by every piece_set_params: a reader compares it to know when to re-read. */
uint64_t piece_params_version(struct piece *pc);

/* Where the presenter puts its counters for the loop thread's --stats lines. */
struct stats_display *piece_display(struct piece *pc);

/* The loop's backend name (constant while running) and iterations per second over the
 * last second, for a HUD. */
const char *piece_backend(const struct piece *pc);
double piece_rate(const struct piece *pc);

/* True once the loop thread has stopped on its own (a loop_step error it could not get
 * past); the message is in err of piece_stop. */
bool piece_failed(const struct piece *pc);

/* Stops and joins the loop thread, writes the final stats line, frees the piece (not the
 * loop). Returns 0, or -1 with err set when the loop thread failed. pc may be NULL. */
int piece_stop(struct piece *pc, struct error *err);

#endif
