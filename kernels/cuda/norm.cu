/* norm.cu — BatchNormalization (inference) and InstanceNormalization on the device, with
 * the node's epilogue fused, and the op table of our own kernels.
 *
 * Instance norm: one block per (sample, channel) plane; mean, then the variance about it
 * (two passes, as ref, rather than E[x²] - mean², which cancels badly on large planes),
 * accumulated in double per thread and reduced in shared memory, then the affine map
 * written in a third pass. A 1024² plane is 4 MiB: the re-reads mostly hit L2.
 * TODO(perf, needs a GPU to measure): few planes (64 at the first layer) leave SMs idle;
 * split each plane over several blocks when planes < 2 x SMs. */
#include "cuda.h"

#include "cuda_common.cuh"

#define NORM_BLOCK 512

__global__ void batch_norm_kernel(const float *x, float *y, int64_t count, int64_t channels,
                                  int64_t spatial, const float *scale, const float *bias,
                                  const float *mean, const float *var, float epsilon,
                                  const float *residual, struct act act)
{
    for (int64_t i = grid_index(); i < count; i += grid_stride()) {
        int64_t c = (i / spatial) % channels;
        double inv_std = 1.0 / sqrt((double)var[c] + epsilon);
        float v = (float)((x[i] - mean[c]) * inv_std * scale[c] + bias[c]);
        y[i] = act_apply(act, v + (residual ? residual[i] : 0.0f));
    }
}

/* Elements per (sample, channel): the product of dims after dim 1. */
static int64_t spatial_count(const struct shape *s)
{
    int64_t count = 1;
    for (int32_t d = 2; d < s->rank; d++)
        count *= s->dim[d];
    return count;
}

extern "C" cudaError_t cuda_batch_norm(const struct node *n, const struct ref_io *io,
                                       cudaStream_t stream)
{
    const struct shape *xs = io->in_shape[0];
    int64_t count = shape_count(xs);
    batch_norm_kernel<<<grid_for(count), BLOCK, 0, stream>>>(
        io->in[0], io->out, count, xs->dim[1], spatial_count(xs), io->in[1], io->in[2], io->in[3],
        io->in[4], n->p.norm.epsilon, io->residual, n->act);
    return cudaGetLastError();
}

/* Sum of v over the block; every thread gets it. */
static __device__ double block_sum(double v, double *shared)
{
    shared[threadIdx.x] = v;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half)
            shared[threadIdx.x] += shared[threadIdx.x + half];
        __syncthreads();
    }
    double total = shared[0];
    __syncthreads(); /* shared is reused by the next call */
    return total;
}

__global__ void instance_norm_kernel(const float *x_all, float *y_all, int64_t channels,
                                     int64_t spatial, const float *scale, const float *bias,
                                     float epsilon, const float *residual_all, struct act act)
{
    __shared__ double shared[NORM_BLOCK];
    int64_t plane = blockIdx.x, c = plane % channels;
    const float *x = x_all + plane * spatial;
    float *y = y_all + plane * spatial;
    const float *residual = residual_all ? residual_all + plane * spatial : NULL;
    double sum = 0.0;
    for (int64_t i = threadIdx.x; i < spatial; i += blockDim.x)
        sum += x[i];
    double mean = block_sum(sum, shared) / (double)spatial;
    double sum_sq = 0.0;
    for (int64_t i = threadIdx.x; i < spatial; i += blockDim.x)
        sum_sq += (x[i] - mean) * (x[i] - mean);
    double inv_std = 1.0 / sqrt(block_sum(sum_sq, shared) / (double)spatial + epsilon);
    for (int64_t i = threadIdx.x; i < spatial; i += blockDim.x) {
        float v = (float)((x[i] - mean) * inv_std * scale[c] + bias[c]);
        y[i] = act_apply(act, v + (residual ? residual[i] : 0.0f));
    }
}

extern "C" cudaError_t cuda_instance_norm(const struct node *n, const struct ref_io *io,
                                          cudaStream_t stream)
{
    const struct shape *xs = io->in_shape[0];
    int64_t planes = xs->dim[0] * xs->dim[1];
    if (planes == 0)
        return cudaSuccess;
    instance_norm_kernel<<<(unsigned)planes, NORM_BLOCK, 0, stream>>>(
        io->in[0], io->out, xs->dim[1], spatial_count(xs), io->in[1], io->in[2], n->p.norm.epsilon,
        io->residual, n->act);
    return cudaGetLastError();
}

extern "C" const cuda_kernel_fn cuda_kernels[OP_COUNT] = {
    NULL,               /* OP_CONV: cuDNN (conv.c) */
    NULL,               /* OP_CONV_TRANSPOSE: cuDNN (conv.c) */
    cuda_batch_norm,    /* OP_BATCH_NORM */
    cuda_instance_norm, /* OP_INSTANCE_NORM */
    cuda_activation,    /* OP_ACTIVATION */
    cuda_binary,        /* OP_BINARY */
    cuda_concat,        /* OP_CONCAT */
    cuda_pad,           /* OP_PAD */
    cuda_resize,        /* OP_RESIZE */
    cuda_depth_space,   /* OP_DEPTH_SPACE */
    cuda_pool,          /* OP_POOL */
    cuda_reshape,       /* OP_RESHAPE */
};
static_assert(OP_COUNT == 12, "a new op needs a cuda kernel in cuda_kernels");
