/* conv.c — reference Conv and ConvTranspose (any group: depthwise is group = channels),
 * written as gathers so every output is one double-precision sum. */
#include "ref.h"

/* Index of x[n][c][h][w] in a contiguous NCHW tensor of shape s. */
static int64_t at4(const struct shape *s, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return ((n * s->dim[1] + c) * s->dim[2] + h) * s->dim[3] + w;
}

/* y[n,o,oh,ow] = b[o] + sum_{i,kh,kw} x[n,g*Cg+i,oh*s - pad + kh*d, ...] * w[o,i,kh,kw]
 * over the Cg = Cin / group input channels of o's group g. */
static double conv_point(const struct conv_params *p, const struct ref_io *io, int64_t n, int64_t o,
                         int64_t oh, int64_t ow)
{
    const struct shape *xs = io->in_shape[0], *ws = io->in_shape[1];
    int64_t ih0 = oh * p->stride[0] - p->pad[0], iw0 = ow * p->stride[1] - p->pad[1];
    int64_t group_in = ws->dim[1], first = o / (ws->dim[0] / p->group) * group_in;
    double acc = io->in[2] ? io->in[2][o] : 0.0;
    for (int64_t i = 0; i < group_in; i++)
        for (int64_t kh = 0; kh < ws->dim[2]; kh++) {
            int64_t ih = ih0 + kh * p->dilation[0];
            if (ih < 0 || ih >= xs->dim[2])
                continue;
            const float *x_row = io->in[0] + at4(xs, n, first + i, ih, 0);
            const float *w_row = io->in[1] + at4(ws, o, i, kh, 0);
            for (int64_t kw = 0; kw < ws->dim[3]; kw++) {
                int64_t iw = iw0 + kw * p->dilation[1];
                if (iw >= 0 && iw < xs->dim[3])
                    acc += (double)x_row[iw] * w_row[kw];
            }
        }
    return acc;
}

void ref_conv(const struct node *n, const struct ref_io *io)
{
    const struct shape *ys = io->out_shape;
    for (int64_t b = 0; b < ys->dim[0]; b++)
        for (int64_t o = 0; o < ys->dim[1]; o++)
            for (int64_t oh = 0; oh < ys->dim[2]; oh++)
                for (int64_t ow = 0; ow < ys->dim[3]; ow++)
                    io->out[at4(ys, b, o, oh, ow)] =
                        (float)conv_point(&n->p.conv, io, b, o, oh, ow);
    ref_epilogue(n, io);
}

/* Which input row feeds output row `o` through kernel tap k: ConvTranspose scatters input
 * i to o = i*s - pad + k*d, so i = (o + pad - k*d) / s when that divides exactly. -1 if none. */
static int64_t transpose_source(int64_t o, int64_t k, int32_t stride, int32_t pad, int32_t dilation,
                                int64_t in_size)
{
    int64_t t = o + pad - k * dilation;
    if (t < 0 || t % stride != 0 || t / stride >= in_size)
        return -1;
    return t / stride;
}

/* y[n,o,oh,ow] = b[o] + sum over (i, kh, kw) that reach (oh, ow) of x[n,i,ih,iw] * w[i,o',kh,kw]
 * over the input channels i of o's group, o' = o's place in its group (W: Cin x Cout/g). */
static double conv_transpose_point(const struct conv_params *p, const struct ref_io *io, int64_t n,
                                   int64_t o, int64_t oh, int64_t ow)
{
    const struct shape *xs = io->in_shape[0], *ws = io->in_shape[1];
    int64_t group_out = ws->dim[1], group_in = xs->dim[1] / p->group;
    int64_t first = o / group_out * group_in, oo = o % group_out;
    double acc = io->in[2] ? io->in[2][o] : 0.0;
    for (int64_t kh = 0; kh < ws->dim[2]; kh++) {
        int64_t ih = transpose_source(oh, kh, p->stride[0], p->pad[0], p->dilation[0], xs->dim[2]);
        if (ih < 0)
            continue;
        for (int64_t kw = 0; kw < ws->dim[3]; kw++) {
            int64_t iw =
                transpose_source(ow, kw, p->stride[1], p->pad[1], p->dilation[1], xs->dim[3]);
            if (iw < 0)
                continue;
            for (int64_t i = first; i < first + group_in; i++)
                acc += (double)io->in[0][at4(xs, n, i, ih, iw)] * io->in[1][at4(ws, i, oo, kh, kw)];
        }
    }
    return acc;
}

void ref_conv_transpose(const struct node *n, const struct ref_io *io)
{
    const struct shape *ys = io->out_shape;
    for (int64_t b = 0; b < ys->dim[0]; b++)
        for (int64_t o = 0; o < ys->dim[1]; o++)
            for (int64_t oh = 0; oh < ys->dim[2]; oh++)
                for (int64_t ow = 0; ow < ys->dim[3]; ow++)
                    io->out[at4(ys, b, o, oh, ow)] =
                        (float)conv_transpose_point(&n->p.conv, io, b, o, oh, ow);
    ref_epilogue(n, io);
}
