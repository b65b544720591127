/* norm.c — the memory-bound ops of the cpu backend: normalisations and activations.
 *
 * Each is one pass (two for InstanceNorm's statistics) over NCHW float32 with the node's
 * epilogue y = act(y + residual) folded into the same loop, parallel over channels with
 * OpenMP. Statistics accumulate in double per channel: a 256x256 plane is 65,536 terms,
 * where float sums would drift from the reference by more than the parity bound. */
#include "cpu.h"

static int64_t spatial_count(const struct shape *s)
{
    int64_t count = 1;
    for (int32_t d = 2; d < s->rank; d++)
        count *= s->dim[d];
    return count;
}

/* y[i] = act(x[i] * k + b + residual[i]) over one plane. */
static void affine_plane(const struct node *n, const float *x, const float *residual, float *y,
                         int64_t count, float k, float b)
{
    struct act a = n->act;
    if (residual) {
        for (int64_t i = 0; i < count; i++)
            y[i] = act_apply(a, x[i] * k + b + residual[i]);
    } else {
        for (int64_t i = 0; i < count; i++)
            y[i] = act_apply(a, x[i] * k + b);
    }
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
        affine_plane(n, io->in[0] + base, io->residual ? io->residual + base : NULL, io->out + base,
                     spatial, k, b);
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
        affine_plane(n, io->in[0] + base, io->residual ? io->residual + base : NULL, io->out + base,
                     spatial, k, b);
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
        affine_plane(n, io->in[0] + begin, io->residual ? io->residual + begin : NULL,
                     io->out + begin, len, 1.0f, 0.0f);
    }
}
