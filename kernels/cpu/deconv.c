/* deconv.c — ConvTranspose to a few output channels (the last layer of a painter or a
 * sketcher: 32 -> 3 or 1 channels at full size), computed directly.
 *
 * oneDNN 2.6 runs such a layer with its channels padded to a block of 16: profiled on the
 * default painter and sketcher (1 thread, 256²), that one layer took ~3.7 ms of ~13, at
 * ~17% of the peak. Here each output row is split by column phase (ow = q * stride + c):
 * within a phase every kernel tap reads a contiguous run of the input row, so 64 columns
 * of every output channel are accumulated in vector registers, one load of the input
 * shared by all the channels. Columns whose taps would read past the input's edges, and
 * rows too narrow for a chunk, take a scalar sum with bounds checks. The bias, the
 * activation and a residual are applied per row as ref's epilogue does. */
#include "cpu.h"

#include <string.h>

enum {
    DECONV_MAX_OUT = 4, /* output channels this path takes */
    LANES = 16,         /* floats per vector */
    CHUNK_VECTORS = 4,  /* vectors per channel in one chunk */
    CHUNK = LANES * CHUNK_VECTORS,
    TAPS_MAX = 16, /* kernel taps of one phase along one axis */
};

typedef float vfloat __attribute__((vector_size(LANES * sizeof(float))));

/* Everything about one ConvTranspose a row needs. */
struct deconv {
    const float *x, *w;
    int64_t in_c, in_h, in_w, out_c, out_h, out_w, k_h, k_w;
    int32_t s_h, s_w, p_h, p_w;
};

bool cpu_deconv_small_fits(const struct node *n, const struct shape *xs, const struct shape *ys)
{
    const struct conv_params *p = &n->p.conv;
    return n->op == OP_CONV_TRANSPOSE && xs->rank == 4 && ys->rank == 4 && p->group == 1 &&
           p->dilation[0] == 1 && p->dilation[1] == 1 && ys->dim[1] <= DECONV_MAX_OUT &&
           p->kernel[0] / p->stride[0] < TAPS_MAX && p->kernel[1] / p->stride[1] < TAPS_MAX;
}

/* The input index that output o reaches through tap k (o = i * s - pad + k), or -1. */
static int64_t source_of(int64_t o, int64_t k, int32_t s, int32_t pad, int64_t size)
{
    int64_t t = o + pad - k;
    if (t < 0 || t % s != 0 || t / s >= size)
        return -1;
    return t / s;
}

/* out[c] = the sum reaching output (oh, ow) of channel c, with every bound checked. */
static void point_sums(const struct deconv *d, int64_t oh, int64_t ow, float *out)
{
    for (int64_t c = 0; c < d->out_c; c++)
        out[c] = 0.0f;
    for (int64_t kh = 0; kh < d->k_h; kh++) {
        int64_t ih = source_of(oh, kh, d->s_h, d->p_h, d->in_h);
        for (int64_t kw = 0; ih >= 0 && kw < d->k_w; kw++) {
            int64_t iw = source_of(ow, kw, d->s_w, d->p_w, d->in_w);
            if (iw < 0)
                continue;
            for (int64_t i = 0; i < d->in_c; i++) {
                float xv = d->x[(i * d->in_h + ih) * d->in_w + iw];
                const float *wp = d->w + (i * d->out_c * d->k_h + kh) * d->k_w + kw;
                for (int64_t c = 0; c < d->out_c; c++)
                    out[c] += xv * wp[c * d->k_h * d->k_w];
            }
        }
    }
}

/* The taps of one row (kh, ih pairs) and of one column phase (kw and the input offset
 * each reads at: iw = q + shift). */
struct taps {
    int n_rows, n_cols;
    int64_t kh[TAPS_MAX], ih[TAPS_MAX], kw[TAPS_MAX], shift[TAPS_MAX];
};

static void row_taps(const struct deconv *d, int64_t oh, struct taps *t)
{
    t->n_rows = 0;
    for (int64_t kh = 0; kh < d->k_h; kh++) {
        int64_t ih = source_of(oh, kh, d->s_h, d->p_h, d->in_h);
        if (ih >= 0 && t->n_rows < TAPS_MAX) {
            t->kh[t->n_rows] = kh;
            t->ih[t->n_rows++] = ih;
        }
    }
}

/* Phase c's taps and the q range [*lo, *hi) where all of them read inside the input. */
static void column_taps(const struct deconv *d, int64_t c, struct taps *t, int64_t *lo, int64_t *hi)
{
    t->n_cols = 0;
    *lo = 0;
    *hi = d->in_w;
    for (int64_t kw = 0; kw < d->k_w; kw++) {
        int64_t v = c + d->p_w - kw;
        if (((v % d->s_w) + d->s_w) % d->s_w != 0)
            continue;
        int64_t shift = v >= 0 ? v / d->s_w : -((-v) / d->s_w);
        t->kw[t->n_cols] = kw;
        t->shift[t->n_cols++] = shift;
        *lo = -shift > *lo ? -shift : *lo;
        *hi = d->in_w - shift < *hi ? d->in_w - shift : *hi;
    }
}

/* CHUNK columns q0.. of phase c of row oh, all out_c (= OUT) channels, into sums[c][j]. */
static inline __attribute__((always_inline)) void chunk_sums(const struct deconv *d,
                                                             const struct taps *t, int64_t q0,
                                                             int OUT,
                                                             float sums[DECONV_MAX_OUT][CHUNK])
{
    vfloat acc[DECONV_MAX_OUT][CHUNK_VECTORS] = {{{0}}};
    int64_t plane = d->k_h * d->k_w;
    for (int r = 0; r < t->n_rows; r++)
        for (int64_t i = 0; i < d->in_c; i++) {
            const float *xrow = d->x + (i * d->in_h + t->ih[r]) * d->in_w + q0;
            const float *wrow = d->w + (i * d->out_c * d->k_h + t->kh[r]) * d->k_w;
            for (int k = 0; k < t->n_cols; k++) {
                vfloat xv[CHUNK_VECTORS];
                for (int v = 0; v < CHUNK_VECTORS; v++) /* memcpy: an unaligned load */
                    memcpy(&xv[v], xrow + t->shift[k] + v * LANES, sizeof xv[v]);
                for (int c = 0; c < OUT; c++) {
                    float wv = wrow[c * plane + t->kw[k]];
                    for (int v = 0; v < CHUNK_VECTORS; v++)
                        acc[c][v] += xv[v] * wv;
                }
            }
        }
    for (int c = 0; c < OUT; c++)
        memcpy(sums[c], acc[c], sizeof sums[c]);
}

/* Columns [q0, q0 + CHUNK) of phase `phase` of output row oh, written into y's rows. */
static void chunk_write(const struct deconv *d, const struct taps *t, int64_t oh, int64_t phase,
                        int64_t q0, float *y)
{
    float sums[DECONV_MAX_OUT][CHUNK];
    switch (d->out_c) { /* constant channel counts: the accumulators stay in registers */
    case 1:
        chunk_sums(d, t, q0, 1, sums);
        break;
    case 2:
        chunk_sums(d, t, q0, 2, sums);
        break;
    case 3:
        chunk_sums(d, t, q0, 3, sums);
        break;
    default:
        chunk_sums(d, t, q0, 4, sums);
        break;
    }
    for (int64_t c = 0; c < d->out_c; c++) {
        float *row = y + (c * d->out_h + oh) * d->out_w + phase;
        for (int64_t j = 0; j < CHUNK; j++)
            row[(q0 + j) * d->s_w] = sums[c][j];
    }
}

static void point_write(const struct deconv *d, int64_t oh, int64_t ow, float *y)
{
    float sums[DECONV_MAX_OUT];
    point_sums(d, oh, ow, sums);
    for (int64_t c = 0; c < d->out_c; c++)
        y[(c * d->out_h + oh) * d->out_w + ow] = sums[c];
}

/* Output row oh of every channel (one image), without the epilogue. */
static void row_write(const struct deconv *d, int64_t oh, float *y)
{
    struct taps t;
    row_taps(d, oh, &t);
    for (int64_t phase = 0; phase < d->s_w && phase < d->out_w; phase++) {
        int64_t columns = (d->out_w - phase + d->s_w - 1) / d->s_w, lo, hi;
        column_taps(d, phase, &t, &lo, &hi);
        hi = hi < columns ? hi : columns;
        if (hi - lo < CHUNK)
            lo = hi = columns; /* too narrow: every column by points */
        for (int64_t q = 0; q < lo; q++)
            point_write(d, oh, q * d->s_w + phase, y);
        for (int64_t q0 = lo; q0 < hi; q0 += CHUNK) /* the last chunk may overlap its neighbour */
            chunk_write(d, &t, oh, phase, q0 + CHUNK <= hi ? q0 : hi - CHUNK, y);
        for (int64_t q = hi; q < columns; q++)
            point_write(d, oh, q * d->s_w + phase, y);
    }
}

void cpu_deconv_small(const struct node *n, const struct ref_io *io)
{
    const struct shape *xs = io->in_shape[0], *ws = io->in_shape[1], *ys = io->out_shape;
    const struct conv_params *p = &n->p.conv;
    int64_t images = ys->dim[0], rows = ys->dim[2];
    int64_t x_image = xs->dim[1] * xs->dim[2] * xs->dim[3];
    int64_t y_image = ys->dim[1] * ys->dim[2] * ys->dim[3];
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t b = 0; b < images; b++)
        for (int64_t oh = 0; oh < rows; oh++) {
            struct deconv d = {
                .x = io->in[0] + b * x_image,
                .w = io->in[1],
                .in_c = xs->dim[1],
                .in_h = xs->dim[2],
                .in_w = xs->dim[3],
                .out_c = ys->dim[1],
                .out_h = ys->dim[2],
                .out_w = ys->dim[3],
                .k_h = ws->dim[2],
                .k_w = ws->dim[3],
                .s_h = p->stride[0],
                .s_w = p->stride[1],
                .p_h = p->pad[0],
                .p_w = p->pad[1],
            };
            float *y = io->out + b * y_image;
            row_write(&d, oh, y);
            for (int64_t c = 0; c < d.out_c; c++) {
                int64_t at = (c * d.out_h + oh) * d.out_w;
                const float *r = io->residual ? io->residual + b * y_image + at : NULL;
                cpu_affine(n->act, y + at, r, y + at, d.out_w, 1.0f,
                           io->in[2] ? io->in[2][c] : 0.0f);
            }
        }
}
