/* pool.c — reference AveragePool / MaxPool over H and W of NCHW: each output pixel by
 * pool_point (graph.h), shared with the cuda kernel. */
#include "ref.h"

void ref_pool(const struct node *n, const struct ref_io *io)
{
    const struct shape *xs = io->in_shape[0], *ys = io->out_shape;
    int64_t ih = xs->dim[2], iw = xs->dim[3], oh = ys->dim[2], ow = ys->dim[3];
    for (int64_t plane = 0; plane < ys->dim[0] * ys->dim[1]; plane++) {
        const float *x = io->in[0] + plane * ih * iw;
        float *y = io->out + plane * oh * ow;
        for (int64_t r = 0; r < oh; r++)
            for (int64_t c = 0; c < ow; c++)
                y[r * ow + c] = pool_point(&n->p.pool, x, ih, iw, r, c);
    }
    ref_epilogue(n, io);
}
