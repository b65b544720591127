/* concat.c — reference Concat on any axis. */
#include "ref.h"

#include <string.h>

void ref_concat_extent(const struct node *n, const struct ref_io *io, int64_t *outer,
                       int64_t *inner)
{
    const struct shape *ys = io->out_shape;
    int32_t axis = n->p.concat.axis;
    *outer = *inner = 1;
    for (int32_t d = 0; d < axis; d++)
        *outer *= ys->dim[d];
    for (int32_t d = axis + 1; d < ys->rank; d++)
        *inner *= ys->dim[d];
}

/* Seen around the axis, every tensor is outer x (its dim[axis] x inner): the output takes,
 * for each outer index, each input's block in turn. */
void ref_concat(const struct node *n, const struct ref_io *io)
{
    int32_t axis = n->p.concat.axis;
    int64_t outer, inner;
    ref_concat_extent(n, io, &outer, &inner);
    float *y = io->out;
    for (int64_t o = 0; o < outer; o++)
        for (int32_t k = 0; k < n->n_inputs; k++) {
            int64_t block = io->in_shape[k]->dim[axis] * inner;
            memcpy(y, io->in[k] + o * block, (size_t)block * sizeof *y);
            y += block;
        }
    ref_epilogue(n, io);
}
