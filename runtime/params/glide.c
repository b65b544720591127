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
    g->target = *target;
    g->last_s = now_s;
    g->end_s = now_s + target->control.glide_ms / 1000.0;
    g->gliding = true;
    g->version++;
}

bool glide_advance(struct glide *g, double now_s)
{
    if (!g->gliding)
        return false;
    /* The share of the distance left that this step covers, so that what is left falls
     * linearly to zero at end_s whatever the step times are. */
    double span = g->end_s - g->last_s;
    double alpha = span <= 0 || now_s >= g->end_s ? 1.0 : (now_s - g->last_s) / span;
    alpha = alpha < 0 ? 0 : alpha;
    g->last_s = now_s;
    params_glide(&g->cur, &g->target, (float)alpha);
    g->gliding = alpha < 1.0;
    return true;
}
