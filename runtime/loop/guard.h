/* guard.h — keeps the loop from dying: watches every iteration's metrics and says what to
 * do about a stream that stalls, repeats, flattens, saturates or explodes.
 *
 * A feedback loop of two networks tends to a fixed point (the same portrait forever, a
 * flat field, a blank sketch) or to noise (docs: FACTS.md, "How a painter <-> sketcher
 * loop dies"). Each iteration the loop measures (lo_measure) and calls guard_step, which
 * returns the remedy for the next iteration:
 *   - mild trouble (stall, repeat): boost the perturbation, ramping gently up to
 *     guard.boost over guard.ramp iterations, and back down once the stream moves again;
 *   - boosting that has not helped after guard.turn_after iterations: an early turn of the
 *     memory to the next person (memory.h), a gentle remedy over memory.fade iterations;
 *   - boosting that has not helped guard.reseed_after iterations after that (or after the
 *     episode began, with turns off), or severe trouble
 *     (flat field, explosion, saturation, a sketch losing its ink, where more
 *     perturbation cannot help): reseed, a fresh seed sketch blended into the sketch over
 *     guard.reseed_iterations iterations, so the picture turns, never cuts;
 *   - after a reseed, a grace of guard.stall_window iterations with events counted but
 *     not acted on, while the new picture settles.
 * guard_step is cheap (a scan of the hash ring) and allocates nothing; the ring is
 * allocated once by guard_init.
 *
 * One iteration as runtime/loop/loop.c is meant to run it (a = the previous guard_action,
 * rngs seeded once from loop.seed: rng_seed(&perturb_rng, seed, 1), (&seed_rng, seed, 2)):
 *   ps = lo_perturb_strength(&p, a.boost);
 *   lo_perturb(&sketch, &painter_in, &ps, &perturb_rng);
 *   painter -> fresh portrait (lo_map_range to [-1, 1], lo_resize to the portrait size)
 *   lo_blend(fresh, portrait, p.loop.blend, portrait)               (temporal smoothing)
 *   lo_rgb_to_gray / lo_resize -> sketcher -> raw sketch; lo_simplify(&raw, &so, scratch)
 *   if (a.reseed_start) lo_seed_face(&seed, &seed_rng)     (or noise / the seed image)
 *   sketch = a.reseed_mix > 0 ? lo_blend(seed, raw, 1 - a.reseed_mix, sketch) : raw
 *   lo_measure(&portrait, &prev_portrait, &sketch, &m); a = guard_step(&guard, &m);
 * Measure the portrait the viewer sees (after blending): that is what must not stand
 * still. */
#ifndef MNEMO_GUARD_H
#define MNEMO_GUARD_H

#include "error.h"
#include "loop_ops.h"
#include "params.h"

#include <stdbool.h>
#include <stdint.h>

enum guard_event {
    GUARD_STALL,     /* change below stall_threshold for stall_window iterations */
    GUARD_FLAT,      /* portrait variance below flat_variance */
    GUARD_EXPLODE,   /* portrait hf_ratio above explode_level */
    GUARD_SATURATE,  /* portrait lo_saturation above saturate_level */
    GUARD_REPEAT,    /* hash within repeat_bits of one older than repeat_skip iterations */
    GUARD_INKLESS,   /* sketch ink below ink_min */
    GUARD_SHAPELESS, /* sketch ink gathered in a strip or a knot: ink spread below
                        spread_min, or one axis's spread below shape_min of the other's */
    GUARD_EVENT_COUNT
};

enum guard_remedy { GUARD_NONE, GUARD_BOOST, GUARD_TURN, GUARD_RESEED };

struct guard_config {
    bool enabled; /* false: events are counted, remedies never applied */
    float stall_threshold;
    int32_t stall_window;
    float flat_variance, explode_level, saturate_level, ink_min, spread_min, shape_min;
    int32_t repeat_bits, repeat_skip, history;
    float boost;
    int32_t ramp, turn_after, reseed_after, reseed_iterations;
};
struct guard_config guard_config_from_params(const struct params *p);

/* What the loop does in the next iteration. */
struct guard_action {
    enum guard_remedy remedy;
    float boost;       /* multiply the perturbation strength by this (1 = as configured) */
    bool turn;         /* turn the memory to the next person now (GUARD_TURN) */
    bool reseed_start; /* draw a fresh seed sketch now (first iteration of a reseed) */
    float reseed_mix;  /* sketch = (1 - mix) * sketch + mix * seed; 0 when not reseeding */
    unsigned events;   /* bit (1u << enum guard_event) for each event seen this iteration */
};

/* Counters for --stats. */
struct guard_stats {
    uint64_t iterations;
    uint64_t onsets[GUARD_EVENT_COUNT]; /* times each event began */
    uint64_t active[GUARD_EVENT_COUNT]; /* iterations each event was seen */
    uint64_t boosts;                    /* boost episodes begun */
    uint64_t turns;                     /* early memory turns */
    uint64_t reseeds;                   /* reseeds begun */
    int32_t novelty; /* last iteration: bits to the nearest older hash (64 = none) */
    float boost_now; /* last action's boost */
};

struct guard {
    struct guard_config cfg;
    uint64_t *ring; /* the last `capacity` portrait hashes, newest at head - 1 */
    int32_t capacity, count, head;
    int32_t still_run;   /* consecutive still iterations */
    float level;         /* boost ramp, 0..1 */
    int32_t episode_age; /* iterations since the current boost episode began (or turned) */
    bool turned;         /* the current episode has had its turn */
    int32_t reseed_step; /* 0, or k of reseed_iterations while reseeding */
    int32_t grace;       /* iterations left with remedies held back */
    bool reseed_requested;
    unsigned last_events;
    struct guard_stats stats;
};

/* Sizes the hash ring from cfg->history (the only allocation). */
int guard_init(struct guard *g, const struct guard_config *cfg, struct error *err);
void guard_free(struct guard *g);
/* Live parameter change: takes every field but history (the ring keeps its size). */
void guard_configure(struct guard *g, const struct guard_config *cfg);
/* Feeds one iteration's metrics; returns what to do next. */
struct guard_action guard_step(struct guard *g, const struct lo_metrics *m);
/* A reseed at the next step whatever the metrics (a keyboard or OSC command). */
void guard_request_reseed(struct guard *g);

const char *guard_event_name(enum guard_event e);
const char *guard_remedy_name(enum guard_remedy r);

#endif
