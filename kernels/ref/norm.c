/* norm.c — reference BatchNormalization (inference: running statistics),
 * InstanceNormalization (statistics of each sample's channel over its spatial extent),
 * ReduceMean and LayerNorm (statistics of each column of contiguous axes). */
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

/* Mean of each column of the reduced axes (reduce_extent, graph.h), in double. */
void ref_reduce_mean(const struct node *n, const struct ref_io *io)
{
    int64_t outer, count, inner;
    reduce_extent(&n->p.reduce, io->in_shape[0], &outer, &count, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *x = io->in[0] + o * count * inner + i;
            double sum = 0.0;
            for (int64_t k = 0; k < count; k++)
                sum += x[k * inner];
            io->out[o * inner + i] = (float)(sum / (double)count);
        }
    ref_epilogue(n, io);
}

/* Each column minus its mean, over the square root of its biased variance plus epsilon:
 * the exporters' ReduceMean, Sub, Pow 2, ReduceMean, Add, Sqrt, Div chain in one pass pair
 * (the affine Mul and Add that follow it stay nodes of their own). */
void ref_layer_norm(const struct node *n, const struct ref_io *io)
{
    int64_t outer, count, inner;
    reduce_extent(&n->p.reduce, io->in_shape[0], &outer, &count, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *x = io->in[0] + o * count * inner + i;
            float *y = io->out + o * count * inner + i;
            double sum = 0.0, sum_sq = 0.0;
            for (int64_t k = 0; k < count; k++)
                sum += x[k * inner];
            double mean = sum / (double)count;
            for (int64_t k = 0; k < count; k++)
                sum_sq += (x[k * inner] - mean) * (x[k * inner] - mean);
            double std = sqrt(sum_sq / (double)count + n->p.reduce.epsilon);
            for (int64_t k = 0; k < count; k++)
                y[k * inner] = (float)((x[k * inner] - mean) / std);
        }
    ref_epilogue(n, io);
}
