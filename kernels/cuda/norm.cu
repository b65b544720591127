/* norm.cu — BatchNormalization (inference), InstanceNormalization, ReduceMean and LayerNorm
 * on the device, with the node's epilogue fused, and the op table of our own kernels.
 *
 * Both work plane by plane ((sample, channel)), each plane split over several blocks
 * (cuda_plane_split, cuda.h) so that few large planes still fill the chip, and the
 * channel is found once per block rather than by a division per element.
 *
 * Instance norm reads each plane twice, not three times: pass 1 (instance_stats_kernel)
 * sums d = x - shift and d² in double over each block's chunk, shift being the plane's
 * first element, so that the sums measure the spread of the data rather than its offset;
 * pass 2 (instance_apply_kernel) adds up its plane's partial sums, takes the mean and the
 * variance S2/n - (S1/n)² (in double over float data, with the shift, this cancels no
 * worse than ref's two-pass form) and writes the affine map and the epilogue. A 1024²
 * plane is 4 MiB; 64 of them are twice the L2, so each pass costs a full read. */
#include "cuda.h"

#include "cuda_common.cuh"

#define NORM_BLOCK 512

__global__ void batch_norm_kernel(const float *x, float *y, struct plane_split ps,
                                  int64_t channels, const float *scale, const float *bias,
                                  const float *mean, const float *var, float epsilon,
                                  const float *residual, struct act act)
{
    int64_t plane = blockIdx.x / ps.parts, part = blockIdx.x % ps.parts, c = plane % channels;
    int64_t base = plane * ps.spatial;
    float inv_std = (float)(1.0 / sqrt((double)var[c] + epsilon));
    float a = scale[c] * inv_std, m = mean[c], b = bias[c];
    for (int64_t i = plane_begin(ps, part) + threadIdx.x; i < plane_end(ps, part); i += blockDim.x) {
        float v = (x[base + i] - m) * a + b;
        y[base + i] = act_apply(act, v + (residual ? residual[base + i] : 0.0f));
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
    int64_t planes = xs->dim[0] * xs->dim[1];
    if (planes == 0 || spatial_count(xs) == 0)
        return cudaSuccess;
    struct plane_split ps = cuda_plane_split(planes, spatial_count(xs));
    launch_begin();
    batch_norm_kernel<<<(unsigned)(planes * ps.parts), BLOCK, 0, stream>>>(
        io->in[0], io->out, ps, xs->dim[1], io->in[1], io->in[2], io->in[3], io->in[4],
        n->p.norm.epsilon, io->residual, n->act);
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

/* Planes [plane0, plane0 + gridDim.x / ps.parts): block b sums chunk b % parts of plane
 * plane0 + b / parts into norm_partials[b], and block 0 of each plane keeps its shift.
 * Both arrays are the backend's (struct cuda_norm_scratch, cuda.h), so that backends
 * running at once never share them; a node's two launches are ordered on its stream.
 * CUDA_NORM_PARTIALS bounds the blocks of one launch; more planes than fit go in several
 * launch pairs. */
__global__ void instance_stats_kernel(const float *x_all, int64_t plane0, struct plane_split ps,
                                      double2 *norm_partials, float *norm_shift)
{
    __shared__ double shared[NORM_BLOCK];
    int64_t local = blockIdx.x / ps.parts, part = blockIdx.x % ps.parts;
    const float *x = x_all + (plane0 + local) * ps.spatial;
    float shift = x[0];
    double s1 = 0.0, s2 = 0.0;
    for (int64_t i = plane_begin(ps, part) + threadIdx.x; i < plane_end(ps, part);
         i += blockDim.x) {
        double d = (double)x[i] - shift;
        s1 += d;
        s2 += d * d;
    }
    s1 = block_sum(s1, shared);
    s2 = block_sum(s2, shared);
    if (threadIdx.x == 0) {
        norm_partials[blockIdx.x] = make_double2(s1, s2);
        if (part == 0)
            norm_shift[local] = shift;
    }
}

__global__ void instance_apply_kernel(const float *x_all, float *y_all, int64_t plane0,
                                      struct plane_split ps, int64_t channels, const float *scale,
                                      const float *bias, float epsilon, const float *residual_all,
                                      struct act act, const double2 *norm_partials,
                                      const float *norm_shift)
{
    __shared__ float affine[2]; /* y = x * affine[0] + affine[1], before the epilogue */
    int64_t local = blockIdx.x / ps.parts, part = blockIdx.x % ps.parts;
    int64_t plane = plane0 + local, c = plane % channels;
    if (threadIdx.x == 0) {
        double s1 = 0.0, s2 = 0.0;
        for (int64_t k = 0; k < ps.parts; k++) {
            double2 p = norm_partials[local * ps.parts + k];
            s1 += p.x;
            s2 += p.y;
        }
        double count = (double)ps.spatial, d_mean = s1 / count;
        double var = s2 / count - d_mean * d_mean;
        double a = scale[c] / sqrt((var > 0.0 ? var : 0.0) + epsilon);
        affine[0] = (float)a;
        affine[1] = (float)(bias[c] - (norm_shift[local] + d_mean) * a);
    }
    __syncthreads();
    const float *x = x_all + plane * ps.spatial;
    float *y = y_all + plane * ps.spatial;
    const float *residual = residual_all ? residual_all + plane * ps.spatial : NULL;
    float a = affine[0], b = affine[1];
    for (int64_t i = plane_begin(ps, part) + threadIdx.x; i < plane_end(ps, part);
         i += blockDim.x)
        y[i] = act_apply(act, fmaf(x[i], a, b) + (residual ? residual[i] : 0.0f));
}

extern "C" cudaError_t cuda_instance_norm(const struct node *n, const struct ref_io *io,
                                          const struct cuda_norm_scratch *scratch,
                                          cudaStream_t stream)
{
    const struct shape *xs = io->in_shape[0];
    int64_t planes = xs->dim[0] * xs->dim[1], spatial = spatial_count(xs);
    if (planes == 0 || spatial == 0)
        return cudaSuccess;
    struct plane_split ps = cuda_plane_split(planes, spatial);
    int64_t per_launch = CUDA_NORM_PARTIALS / ps.parts; /* >= 1: parts <= CUDA_PLANE_TARGET */
    double2 *partials = (double2 *)scratch->partials;
    for (int64_t plane0 = 0; plane0 < planes; plane0 += per_launch) {
        int64_t count = planes - plane0 < per_launch ? planes - plane0 : per_launch;
        unsigned blocks = (unsigned)(count * ps.parts);
        launch_begin();
        instance_stats_kernel<<<blocks, NORM_BLOCK, 0, stream>>>(io->in[0], plane0, ps, partials,
                                                                 scratch->shift);
        cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess)
            return e;
        instance_apply_kernel<<<blocks, NORM_BLOCK, 0, stream>>>(
            io->in[0], io->out, plane0, ps, xs->dim[1], io->in[1], io->in[2], n->p.norm.epsilon,
            io->residual, n->act, partials, scratch->shift);
        if ((e = cudaGetLastError()) != cudaSuccess)
            return e;
    }
    return cudaSuccess;
}

/* ---- ReduceMean, LayerNorm: columns of contiguous axes ----------------------------- */

/* Columns of few elements (a channel LayerNorm: C per pixel) go one per thread, neighbouring
 * threads on neighbouring pixels so that reads coalesce; long columns (a LayerNorm over
 * C x H x W) one per block. Both sum in double, two passes, as ref. */
#define COLUMN_PER_THREAD_MAX 256

struct column_view {
    int64_t outer, count, inner;
};

static __device__ __forceinline__ int64_t column_base(struct column_view v, int64_t col)
{
    return col / v.inner * v.count * v.inner + col % v.inner;
}

/* Writes element `at` of a column: the LayerNorm value, then the epilogue. */
static __device__ __forceinline__ void column_write(const float *x, float *y, int64_t at,
                                                    double mean, double std, const float *residual,
                                                    struct act act)
{
    float v = (float)((x[at] - mean) / std);
    y[at] = act_apply(act, v + (residual ? residual[at] : 0.0f));
}

__global__ void column_thread_kernel(const float *x, float *y, struct column_view v,
                                     bool layer_norm, float epsilon, const float *residual,
                                     struct act act)
{
    int64_t col = grid_index();
    if (col >= v.outer * v.inner)
        return;
    int64_t base = column_base(v, col);
    double sum = 0.0, sum_sq = 0.0;
    for (int64_t k = 0; k < v.count; k++)
        sum += x[base + k * v.inner];
    double mean = sum / (double)v.count;
    if (!layer_norm) {
        y[col] = act_apply(act, (float)mean + (residual ? residual[col] : 0.0f));
        return;
    }
    for (int64_t k = 0; k < v.count; k++) {
        double d = x[base + k * v.inner] - mean;
        sum_sq += d * d;
    }
    double std = sqrt(sum_sq / (double)v.count + epsilon);
    for (int64_t k = 0; k < v.count; k++)
        column_write(x, y, base + k * v.inner, mean, std, residual, act);
}

__global__ void column_block_kernel(const float *x, float *y, struct column_view v, bool layer_norm,
                                    float epsilon, const float *residual, struct act act)
{
    __shared__ double shared[BLOCK];
    int64_t col = blockIdx.x, base = column_base(v, col);
    double sum = 0.0, sum_sq = 0.0;
    for (int64_t k = threadIdx.x; k < v.count; k += blockDim.x)
        sum += x[base + k * v.inner];
    double mean = block_sum(sum, shared) / (double)v.count;
    if (!layer_norm) {
        if (threadIdx.x == 0)
            y[col] = act_apply(act, (float)mean + (residual ? residual[col] : 0.0f));
        return;
    }
    for (int64_t k = threadIdx.x; k < v.count; k += blockDim.x) {
        double d = x[base + k * v.inner] - mean;
        sum_sq += d * d;
    }
    double std = sqrt(block_sum(sum_sq, shared) / (double)v.count + epsilon);
    for (int64_t k = threadIdx.x; k < v.count; k += blockDim.x)
        column_write(x, y, base + k * v.inner, mean, std, residual, act);
}

/* ReduceMean and LayerNorm alike: the node's op says which. */
extern "C" cudaError_t cuda_reduce(const struct node *n, const struct ref_io *io,
                                   cudaStream_t stream)
{
    struct column_view v;
    reduce_extent(&n->p.reduce, io->in_shape[0], &v.outer, &v.count, &v.inner);
    int64_t columns = v.outer * v.inner;
    if (columns == 0 || v.count == 0)
        return cudaSuccess;
    bool layer_norm = n->op == OP_LAYER_NORM;
    launch_begin();
    if (v.count <= COLUMN_PER_THREAD_MAX)
        column_thread_kernel<<<(unsigned)((columns + BLOCK - 1) / BLOCK), BLOCK, 0, stream>>>(
            io->in[0], io->out, v, layer_norm, n->p.reduce.epsilon, io->residual, n->act);
    else
        column_block_kernel<<<(unsigned)columns, BLOCK, 0, stream>>>(
            io->in[0], io->out, v, layer_norm, n->p.reduce.epsilon, io->residual, n->act);
    return cudaGetLastError();
}

extern "C" const cuda_kernel_fn cuda_kernels[OP_COUNT] = {
    NULL,               /* OP_CONV: cuDNN (conv.c) */
    NULL,               /* OP_CONV_TRANSPOSE: cuDNN (conv.c) */
    cuda_batch_norm,    /* OP_BATCH_NORM */
    NULL,               /* OP_INSTANCE_NORM: cuda_instance_norm, with the backend's scratch */
    cuda_activation,    /* OP_ACTIVATION */
    cuda_binary,        /* OP_BINARY */
    cuda_concat,        /* OP_CONCAT */
    cuda_pad,           /* OP_PAD */
    cuda_resize,        /* OP_RESIZE */
    cuda_depth_space,   /* OP_DEPTH_SPACE */
    cuda_pool,          /* OP_POOL */
    cuda_reshape,       /* OP_RESHAPE */
    cuda_reduce,        /* OP_REDUCE_MEAN */
    cuda_reduce,        /* OP_LAYER_NORM */
};
static_assert(OP_COUNT == 14, "a new op needs a cuda kernel in cuda_kernels");
