/* depth_space.c — reference DepthToSpace (PixelShuffle) and SpaceToDepth: a gather whose
 * index comes from depth_space_source (graph.h), shared with the cuda kernel. */
#include "ref.h"

void ref_depth_space(const struct node *n, const struct ref_io *io)
{
    const struct shape *xs = io->in_shape[0], *ys = io->out_shape;
    int64_t channels = ys->dim[1], h = ys->dim[2], w = ys->dim[3];
    int64_t image = shape_count(xs) / xs->dim[0];
    float *y = io->out;
    for (int64_t b = 0; b < ys->dim[0]; b++)
        for (int64_t c = 0; c < channels; c++)
            for (int64_t r = 0; r < h; r++)
                for (int64_t col = 0; col < w; col++)
                    *y++ =
                        io->in[0][b * image + depth_space_source(&n->p.depth_space, xs, c, r, col)];
    ref_epilogue(n, io);
}
