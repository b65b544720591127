/* norm.c — reference BatchNormalization (inference: running statistics) and
 * InstanceNormalization (statistics of each sample's channel over its spatial extent). */
#include "ref.h"

/* Elements per (sample, channel): the product of dims after dim 1. */
static int64_t spatial_count(const struct shape *s)
{
    int64_t count = 1;
    for (int32_t d = 2; d < s->rank; d++)
        count *= s->dim[d];
    return count;
}

/* y = (x - mean) / sqrt(var + eps) * scale + bias, per channel. */
void ref_batch_norm(const struct node *n, const struct ref_io *io)
{
    const struct shape *xs = io->in_shape[0];
    const float *scale = io->in[1], *bias = io->in[2], *mean = io->in[3], *var = io->in[4];
    int64_t spatial = spatial_count(xs);
    for (int64_t b = 0; b < xs->dim[0]; b++)
        for (int64_t c = 0; c < xs->dim[1]; c++) {
            double inv_std = 1.0 / sqrt((double)var[c] + n->p.norm.epsilon);
            int64_t base = (b * xs->dim[1] + c) * spatial;
            for (int64_t i = 0; i < spatial; i++)
                io->out[base + i] =
                    (float)((io->in[0][base + i] - mean[c]) * inv_std * scale[c] + bias[c]);
        }
    ref_epilogue(n, io);
}

/* Mean and biased variance over each (sample, channel), then the same affine map. */
void ref_instance_norm(const struct node *n, const struct ref_io *io)
{
    const struct shape *xs = io->in_shape[0];
    const float *scale = io->in[1], *bias = io->in[2];
    int64_t spatial = spatial_count(xs);
    for (int64_t b = 0; b < xs->dim[0]; b++)
        for (int64_t c = 0; c < xs->dim[1]; c++) {
            const float *x = io->in[0] + (b * xs->dim[1] + c) * spatial;
            float *y = io->out + (b * xs->dim[1] + c) * spatial;
            double sum = 0.0, sum_sq = 0.0;
            for (int64_t i = 0; i < spatial; i++)
                sum += x[i];
            double mean = sum / (double)spatial;
            for (int64_t i = 0; i < spatial; i++)
                sum_sq += (x[i] - mean) * (x[i] - mean);
            double inv_std = 1.0 / sqrt(sum_sq / (double)spatial + n->p.norm.epsilon);
            for (int64_t i = 0; i < spatial; i++)
                y[i] = (float)((x[i] - mean) * inv_std * scale[c] + bias[c]);
        }
    ref_epilogue(n, io);
}
