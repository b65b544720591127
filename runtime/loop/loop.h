/* loop.h — the feedback loop: painter and sketcher feeding each other, forever.
 *
 * Owns both models (loop_model.h), every image buffer of an iteration, the loop's random
 * generators and its guard (guard.h). loop_open loads, checks and allocates everything;
 * loop_step runs one iteration and allocates nothing, reads no file, takes no lock:
 *
 *   perturb the sketch -> paint it -> blend with the previous portrait -> sketch the
 *   portrait -> simplify -> anchor to the remembered person (memory.h) -> (blend in a
 *   fresh seed when the guard reseeds) -> measure
 *
 * A model's output that is not a number (NaN, infinities) never enters the images: those
 * pixels keep the values they had, the iteration counts in nonfinite_iterations, the guard
 * reseeds, and the first time for each model one line says so (the model, the share).
 *
 * Images are canonical (loop_ops.h): planar float in [-1,1], -1 black ink, +1 white paper;
 * the sketch one channel, the portrait three, both loop.size x loop.size.
 *
 * Deterministic: the same parameters (loop.seed included) and backend give the same
 * frames, bit for bit, on ref and cpu. Pacing (loop.rate) is the caller's: loop_step runs
 * as soon as it is called. */
#ifndef MNEMO_LOOP_H
#define MNEMO_LOOP_H

#include "guard.h"
#include "loop_model.h"
#include "loop_ops.h"
#include "memory.h"
#include "params.h"
#include "rng.h"

#include <stdint.h>

struct loop {
    struct params p; /* the values this iteration uses; loop_set_params changes live ones */
    const char *backend_name;
    struct backend_options opt; /* as opened; constant, so a loading thread may read it */
    struct loop_model painter, sketcher;
    int32_t size;
    struct planar sketch, painter_in, portrait, prev_portrait, raw_sketch, seed;
    float *scratch;             /* size x size, for simplify */
    float *seed_image;          /* loop.seed_image as a canonical sketch, NULL when not used */
    struct seed_bank bank;      /* loop.seed_bank, read at open when loop.seed_source = bank */
    struct planar draw_scratch; /* one channel, loop.size: a bank draw's resized tile */
    struct memory memory;       /* the person the sketches are anchored to */
    struct rng perturb_rng, seed_rng;
    struct guard guard;
    struct guard_action action; /* what the next iteration does */
    struct lo_metrics metrics;  /* of the last iteration */
    uint64_t iterations;
    uint64_t nonfinite_iterations; /* in which a model gave NaN or infinite values */
    uint64_t swaps;                /* models swapped in live (loop_swap_model) */
    int32_t swap_fade_left;        /* iterations of the last swap's fade still to go */
};

/* Loads loop.painter and loop.sketcher on `backend` ("auto", "cpu", "ref"; NULL: the
 * loop.backend parameter), checks that they chain, allocates every buffer and draws the
 * first sketch from loop.seed_source. Errors name the parameter or the file. */
int loop_open(struct loop *L, const struct params *p, const char *backend, struct error *err);
void loop_close(struct loop *L);

/* One iteration. No allocation, no I/O. On failure (a backend error) the loop is as the
 * last good iteration left it (images, generators, guard), so a retry, or a checkpoint
 * saved after the failure, continues exactly where the piece was. */
int loop_step(struct loop *L, struct error *err);

/* What every driver does when loop_step fails: a transient error is retried up to
 * LOOP_MAX_FAILURES times in a row, LOOP_RETRY_S apart, so a passing fault clears; a lost
 * device (backend.h) is not retried at all, nothing in this process can run on it again:
 * the driver stops, the caller saves the state and exits with MNEMO_EXIT_DEVICE_LOST. */
#define LOOP_MAX_FAILURES 50
#define LOOP_RETRY_S      0.1
enum loop_outcome { LOOP_NEXT, LOOP_RETRY, LOOP_GIVE_UP };
/* After each loop_step (rc its result): LOOP_NEXT after a good iteration, LOOP_RETRY (wait
 * LOOP_RETRY_S, step again) or LOOP_GIVE_UP (err says why) after a failed one. *failures
 * counts failures in a row (start it at 0). Logs the first failure of a row and the
 * iteration that ends it. */
enum loop_outcome loop_after_step(struct loop *L, int rc, int *failures, struct error *err);
/* True when a model's device is lost (backend_device_lost). */
bool loop_device_lost(const struct loop *L);

/* Takes the live parameters of p (restart-only ones stay as they were opened); between
 * two iterations. loop.painter and loop.sketcher are live but stay what runs: a new value
 * is a request that only loop_swap_model fulfils, once the model has loaded. */
void loop_set_params(struct loop *L, const struct params *p);

/* ---- live model swap ------------------------------------------------------------------
 * The loading happens on a thread of the driver's (piece/swap.h); the loop itself knows no
 * thread. loop_model_load prepares a model beside the running loop, loop_swap_model puts
 * it in between two iterations. */
enum loop_role { LOOP_PAINTER, LOOP_SKETCHER };
const char *loop_role_name(enum loop_role role); /* "painter", "sketcher" */

/* Loads `setting` (found by datapath.h's rule) as the next model for `role` into *fresh:
 * import, graph, backend (the one the other model runs on, the precision and loop.size
 * the loop opened with), one warm-up run, and the chain check both ways against the other
 * model. Reads of L only what stays constant while it runs (size, opt) and the other
 * model, so it may run on another thread while L iterates, as long as nobody swaps the
 * other model meanwhile. On failure *fresh is empty and err names the file and why. */
int loop_model_load(const struct loop *L, enum loop_role role, const char *setting,
                    struct loop_model *fresh, struct error *err);

/* Between two iterations, on the loop's thread: *fresh (from loop_model_load) takes role's
 * place and L->p's loop.painter / loop.sketcher becomes `setting`; *fresh then holds the
 * model that ran, for the caller to close away from the loop's thread. No allocation, no
 * I/O. The portrait eases from the old model's to the new one's over loop.swap_fade
 * iterations (a stronger loop.blend that fades out), so the screen crossfades, never cuts.
 * The guard's history is kept: it judges the stream on the screen, which goes on. */
void loop_swap_model(struct loop *L, enum loop_role role, struct loop_model *fresh,
                     const char *setting);

/* The setting of the model that runs for role (L->p's loop.painter or loop.sketcher). */
const char *loop_model_setting(const struct loop *L, enum loop_role role);

/* The name of the backend the models run on ("cpu", "ref"). */
const char *loop_backend(const struct loop *L);

#endif
