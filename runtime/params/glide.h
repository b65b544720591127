/* glide.h — the one glide: how a parameter set moves to a new target over the target's
 * control.glide_ms, smoothable numbers in even steps, everything else live at once
 * (param_glide). Each parameter arrives glide_ms after its own newest value: a fader that
 * keeps moving drags its parameter along behind it, step by step, while a parameter
 * changed once before goes on gliding on its own time. It owns no thread and no clock: the
 * caller passes the time of each step. It never reads where a target comes from (the
 * control, a key) nor where cur goes.
 *
 *   struct glide g; glide_init(&g, &params);
 *   on a new set:   glide_retarget(&g, &next, clock_now());
 *   each iteration: if (glide_advance(&g, clock_now())) use(&g.cur);
 *
 * Not thread-safe: one glide belongs to one thread. */
#ifndef MNEMO_GLIDE_H
#define MNEMO_GLIDE_H

#include "params.h"

#include <stdbool.h>
#include <stdint.h>

struct glide {
    struct params target;     /* the newest set taken */
    struct params cur;        /* what the loop should use now */
    double last_s;            /* time of the last step */
    double end_s[PARAMS_MAX]; /* per registry row: when it arrives at its target */
    bool gliding;
    uint64_t version; /* targets taken so far (--stats params_version) */
};

/* At rest at `start` (cur = target = start). */
void glide_init(struct glide *g, const struct params *start);
/* A new target at time now_s: every parameter whose target changed glides on from where
 * cur is and arrives after the target's control.glide_ms; the others keep their time. */
void glide_retarget(struct glide *g, const struct params *target, double now_s);
/* Moves cur toward the target for time now_s: the distance left shrinks linearly to zero at
 * the glide's end (monotone per parameter). Returns true when cur changed. */
bool glide_advance(struct glide *g, double now_s);

#endif
