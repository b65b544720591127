/* resize.c — reference Resize over H and W of an NCHW tensor: nearest (every ONNX
 * nearest_mode), linear and cubic (resize_cubic_point, graph.h), with the ONNX coordinate
 * transformation modes we run (their source coordinates: resize_source in graph.h, shared with the
 * cuda kernel). */
#include "ref.h"

static int64_t clamp_index(int64_t i, int64_t size)
{
    return i < 0 ? 0 : (i >= size ? size - 1 : i);
}

static int64_t nearest_index(enum resize_nearest mode, double x, int64_t size)
{
    double i;
    switch (mode) {
    case RESIZE_NEAREST_ROUND_PREFER_CEIL:
        i = floor(x + 0.5);
        break;
    case RESIZE_NEAREST_FLOOR:
        i = floor(x);
        break;
    case RESIZE_NEAREST_CEIL:
        i = ceil(x);
        break;
    case RESIZE_NEAREST_ROUND_PREFER_FLOOR:
    case RESIZE_NEAREST_COUNT:
    default:
        i = ceil(x - 0.5);
        break;
    }
    return clamp_index((int64_t)i, size);
}

/* The two neighbours of coordinate x and the weight of the second; outside the input the
 * edge pixel is repeated (as ONNX and PyTorch do). */
struct lerp {
    int64_t i0, i1;
    double t;
};

static struct lerp linear_taps(double x, int64_t size)
{
    double base = floor(x);
    struct lerp l = {clamp_index((int64_t)base, size), clamp_index((int64_t)base + 1, size),
                     x - base};
    return l;
}

void ref_resize(const struct node *n, const struct ref_io *io)
{
    const struct resize_params *p = &n->p.resize;
    const struct shape *xs = io->in_shape[0], *ys = io->out_shape;
    int64_t ih = xs->dim[2], iw = xs->dim[3], oh = ys->dim[2], ow = ys->dim[3];
    for (int64_t plane = 0; plane < ys->dim[0] * ys->dim[1]; plane++) {
        const float *x = io->in[0] + plane * ih * iw;
        float *y = io->out + plane * oh * ow;
        for (int64_t r = 0; r < oh; r++) {
            double fy = resize_source(p, 0, r, ih, oh);
            for (int64_t c = 0; c < ow; c++) {
                double fx = resize_source(p, 1, c, iw, ow);
                if (p->mode == RESIZE_CUBIC) {
                    y[r * ow + c] = resize_cubic_point(p, x, ih, iw, fy, fx);
                    continue;
                }
                if (p->mode == RESIZE_NEAREST) {
                    y[r * ow + c] = x[nearest_index(p->nearest, fy, ih) * iw +
                                      nearest_index(p->nearest, fx, iw)];
                    continue;
                }
                struct lerp ly = linear_taps(fy, ih), lx = linear_taps(fx, iw);
                double top = x[ly.i0 * iw + lx.i0] * (1 - lx.t) + x[ly.i0 * iw + lx.i1] * lx.t;
                double bottom = x[ly.i1 * iw + lx.i0] * (1 - lx.t) + x[ly.i1 * iw + lx.i1] * lx.t;
                y[r * ow + c] = (float)(top * (1 - ly.t) + bottom * ly.t);
            }
        }
    }
    ref_epilogue(n, io);
}
