/* norm.c — the memory-bound ops of the cpu backend: normalisations and activations.
 *
 * Each is one pass (two for InstanceNorm's statistics) over NCHW float32 with the node's
 * epilogue y = act(y + residual) folded into the same loop, parallel over channels with
 * OpenMP. Statistics accumulate in double per channel: a 256x256 plane is 65,536 terms,
 * where float sums would drift from the reference by more than the parity bound. */
#include "cpu.h"

#include <string.h>

static int64_t spatial_count(const struct shape *s)
{
    int64_t count = 1;
    for (int32_t d = 2; d < s->rank; d++)
        count *= s->dim[d];
    return count;
}

static void plane_stats(const float *x, int64_t count, double *mean, double *var)
{
    double sum = 0.0, sum_sq = 0.0;
    for (int64_t i = 0; i < count; i++)
        sum += x[i];
    double m = sum / (double)count;
    for (int64_t i = 0; i < count; i++) {
        double d = x[i] - m;
        sum_sq += d * d;
    }
    *mean = m;
    *var = sum_sq / (double)count;
}

void cpu_instance_norm(const struct node *n, const struct ref_io *io)
{
    const struct shape *xs = io->in_shape[0];
    const float *scale = io->in[1], *bias = io->in[2];
    int64_t spatial = spatial_count(xs), channels = xs->dim[1];
    int64_t planes = xs->dim[0] * channels;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        int64_t c = p % channels, base = p * spatial;
        double mean, var;
        plane_stats(io->in[0] + base, spatial, &mean, &var);
        double inv_std = 1.0 / sqrt(var + n->p.norm.epsilon);
        float k = (float)(inv_std * scale[c]);
        float b = (float)(bias[c] - mean * inv_std * scale[c]);
        cpu_affine(n->act, io->in[0] + base, io->residual ? io->residual + base : NULL,
                   io->out + base, spatial, k, b);
    }
}

void cpu_batch_norm(const struct node *n, const struct ref_io *io)
{
    const struct shape *xs = io->in_shape[0];
    const float *scale = io->in[1], *bias = io->in[2], *mean = io->in[3], *var = io->in[4];
    int64_t spatial = spatial_count(xs), channels = xs->dim[1];
    int64_t planes = xs->dim[0] * channels;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        int64_t c = p % channels, base = p * spatial;
        double inv_std = 1.0 / sqrt((double)var[c] + n->p.norm.epsilon);
        float k = (float)(inv_std * scale[c]);
        float b = (float)(bias[c] - mean[c] * inv_std * scale[c]);
        cpu_affine(n->act, io->in[0] + base, io->residual ? io->residual + base : NULL,
                   io->out + base, spatial, k, b);
    }
}

/* Splits a flat range into chunks for the threads. */
#define CPU_CHUNK 16384

void cpu_activation(const struct node *n, const struct ref_io *io)
{
    int64_t count = shape_count(io->out_shape);
    int64_t chunks = (count + CPU_CHUNK - 1) / CPU_CHUNK;
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < chunks; k++) {
        int64_t begin = k * CPU_CHUNK, len = count - begin < CPU_CHUNK ? count - begin : CPU_CHUNK;
        cpu_affine(n->act, io->in[0] + begin, io->residual ? io->residual + begin : NULL,
                   io->out + begin, len, 1.0f, 0.0f);
    }
}

void cpu_bias_epilogue(const struct node *n, const float *bias, const float *residual, float *y,
                       const struct shape *ys)
{
    int64_t spatial = spatial_count(ys), channels = ys->dim[1];
    int64_t planes = ys->dim[0] * channels;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        int64_t base = p * spatial;
        cpu_affine(n->act, y + base, residual ? residual + base : NULL, y + base, spatial, 1.0f,
                   bias ? bias[p % channels] : 0.0f);
    }
}

/* One output row: the input row copied into the middle, the margins by mode. */
static void pad_row(const struct pad_params *p, const float *src, float *dst, int64_t w_in,
                    int64_t w_out)
{
    int64_t left = p->pads[3];
    for (int64_t x = 0; x < w_out; x++) {
        if (x == left && left >= 0 && w_in > 0 && x + w_in <= w_out) {
            memcpy(dst + x, src, (size_t)w_in * sizeof(float));
            x += w_in - 1;
            continue;
        }
        int64_t i = ref_pad_source(p->mode, x, left, w_in);
        dst[x] = i < 0 ? p->value : src[i];
    }
}

bool cpu_pad_supported(const struct node *n, const struct shape *xs)
{
    const int64_t *pads = n->p.pad.pads;
    if (xs->rank != 4)
        return false;
    for (int d = 0; d < 8; d++)
        if ((d % 4 < 2 && pads[d] != 0) || pads[d] < 0)
            return false; /* only H and W grow; crops and N/C pads go to ref */
    return true;
}

void cpu_pad(const struct node *n, const struct ref_io *io)
{
    const struct pad_params *p = &n->p.pad;
    const struct shape *xs = io->in_shape[0], *ys = io->out_shape;
    int64_t h_in = xs->dim[2], w_in = xs->dim[3], h_out = ys->dim[2], w_out = ys->dim[3];
    int64_t planes = ys->dim[0] * ys->dim[1];
#pragma omp parallel for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *src = io->in[0] + pl * h_in * w_in;
        float *dst = io->out + pl * h_out * w_out;
        for (int64_t y = 0; y < h_out; y++) {
            int64_t sy = ref_pad_source(p->mode, y, p->pads[2], h_in);
            if (sy < 0) {
                for (int64_t x = 0; x < w_out; x++)
                    dst[y * w_out + x] = p->value;
            } else {
                pad_row(p, src + sy * w_in, dst + y * w_out, w_in, w_out);
            }
        }
        if (io->residual || n->act.kind != ACT_NONE)
            cpu_affine(n->act, dst, io->residual ? io->residual + pl * h_out * w_out : NULL, dst,
                       h_out * w_out, 1.0f, 0.0f);
    }
}
