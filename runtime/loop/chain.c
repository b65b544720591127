/* chain.c — see chain.h. */
#include "chain.h"

#include "image.h"

#include <stdio.h>
#include <string.h>

/* An image tensor: 1 x (1 or 3) x H x W. */
static bool is_image_shape(const struct shape *s)
{
    return s->rank == 4 && s->dim[0] == 1 && (s->dim[1] == 1 || s->dim[1] == 3);
}

static void plan_add(char *plan, size_t size, const char *step)
{
    size_t used = strlen(plan);
    snprintf(plan + used, size - used, "%s%s", used ? ", " : "", step);
}

int chain_check(const struct graph *from, const char *from_path, const struct graph *to,
                const char *to_path, char *plan, size_t plan_size, struct error *err)
{
    const struct shape *out = &from->values[from->output].shape;
    const struct shape *in = &to->values[to->input].shape;
    char a[64], b[64], step[160];
    if (!is_image_shape(out) || !is_image_shape(in))
        return error_set(err,
                         "'%s' outputs %s and '%s' takes %s: a painter or sketcher must "
                         "take and give one image (1x1xHxW or 1x3xHxW), so these two "
                         "cannot feed each other",
                         from_path, shape_str(out, a, sizeof a), to_path,
                         shape_str(in, b, sizeof b));
    plan[0] = '\0';
    if (out->dim[1] != in->dim[1])
        plan_add(plan, plan_size, out->dim[1] == 3 ? "RGB to gray" : "gray to RGB");
    if (out->dim[2] != in->dim[2] || out->dim[3] != in->dim[3]) {
        snprintf(step, sizeof step, "resize %lldx%lld to %lldx%lld", (long long)out->dim[2],
                 (long long)out->dim[3], (long long)in->dim[2], (long long)in->dim[3]);
        plan_add(plan, plan_size, step);
    }
    struct value_range r_out = graph_value_range(from, "output_range");
    struct value_range r_in = graph_value_range(to, "input_range");
    if (r_out.lo != r_in.lo || r_out.hi != r_in.hi) {
        snprintf(step, sizeof step, "values [%g,%g] to [%g,%g]", r_out.lo, r_out.hi, r_in.lo,
                 r_in.hi);
        plan_add(plan, plan_size, step);
    }
    if (!plan[0])
        snprintf(plan, plan_size, "as is");
    return 0;
}
