/* glide.c — see glide.h. */
#include "glide.h"

#include <string.h>

void glide_init(struct glide *g, const struct params *start)
{
    memset(g, 0, sizeof *g);
    g->target = *start;
    g->cur = *start;
}

void glide_retarget(struct glide *g, const struct params *target, double now_s)
{
    /* From rest the glide starts now. While gliding, the next step still covers the time
     * since the last one: a target that comes every iteration (a fader being moved) must
     * not turn every step into a step of zero. */
    if (!g->gliding)
        g->last_s = now_s;
    double arrive = now_s + target->control.glide_ms / 1000.0;
    for (size_t i = 0; i < params_count(); i++)
        if (!param_equal(params_at(i), &g->target, target))
            g->end_s[i] = arrive; /* a parameter the new set leaves alone keeps its time */
    g->target = *target;
    g->gliding = true;
    g->version++;
}

/* The share of the distance left that a step from last_s to now_s covers, so that what is
 * left falls linearly to zero at end_s whatever the step times are. */
static float step_share(double last_s, double end_s, double now_s)
{
    double span = end_s - last_s;
    double alpha = span <= 0 || now_s >= end_s ? 1.0 : (now_s - last_s) / span;
    return alpha < 0 ? 0.0f : (float)alpha;
}

bool glide_advance(struct glide *g, double now_s)
{
    if (!g->gliding)
        return false;
    bool moving = false;
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *def = params_at(i);
        param_glide(def, &g->cur, &g->target, step_share(g->last_s, g->end_s[i], now_s));
        moving |= (def->flags & PARAM_LIVE) && !param_equal(def, &g->cur, &g->target);
    }
    g->last_s = now_s;
    g->gliding = moving;
    return true;
}
