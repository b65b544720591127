/* step.h — one iteration of the piece, as every driver runs it (the presenter's loop
 * thread, the headless recorder, the loop alone for --iterations): live changes in,
 * loop_step with the loop's retry policy, signs of life for the kiosk, a checkpoint offer.
 * Between two iterations only; never allocates. */
#ifndef MNEMO_STEP_H
#define MNEMO_STEP_H

#include "control.h"
#include "loop.h"
#include "stats.h"
#include "swap.h"

#include <signal.h>

struct checkpoint;

struct step {
    struct loop *L;
    struct stats *stats;           /* may be NULL; its params_version is kept current */
    struct control *ctl;           /* may be NULL: no live changes from outside */
    struct checkpoint *checkpoint; /* may be NULL: no state on disk */
    struct swap *swap;             /* may be NULL: the models stay as opened */
    struct glide follow;           /* the glide of ctl's changes into L */
};

void step_init(struct step *s, struct loop *L, struct stats *stats, struct control *ctl,
               struct checkpoint *checkpoint, struct swap *swap);

/* Follows the control into the loop (loop_set_params, with control.glide_ms), tells the
 * swap which models it asks for and takes one that is ready (swap.h), and passes a reseed
 * request on to the guard. Returns true when the loop's parameters changed. */
bool step_follow_control(struct step *s);

/* loop_step with the loop's retry policy (loop_after_step) for a driver on one thread:
 * sleeps LOOP_RETRY_S between tries; `stop` (may be NULL) set by a signal ends the
 * retries. Returns 0, or -1 with err. */
int step_retrying(struct loop *L, volatile sig_atomic_t *stop, struct error *err);

/* One whole iteration for a single-threaded driver: step_follow_control (with its swap),
 * step_retrying, kiosk_count / kiosk_ready / kiosk_freeze_point, checkpoint_offer. Returns 0, or -1
 * with err (the loop gave up or `stop` came during retries). */
int piece_step(struct step *s, volatile sig_atomic_t *stop, struct error *err);

#endif
