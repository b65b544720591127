/* elementwise.cu — the memory-bound ops on the device: activation, binary with numpy
 * broadcasting, concat, pad (constant / reflect / edge, negative pads crop), resize
 * (nearest / linear with ONNX's coordinate modes), DepthToSpace / SpaceToDepth, pooling
 * and the convolution epilogue.
 *
 * Grid-stride loops with 64-bit indices (a 1024² tensor of 64 channels is 2^26 elements;
 * batches and bigger sizes pass 2^31). Where the shape allows, no integer division per
 * element: activation, the bias-free epilogue and Binary of two same-shaped operands go
 * four floats at a time (16-byte loads, when the count and every pointer allow), the
 * epilogue with a bias plane by plane (cuda_plane_split). The rest (broadcasting, concat,
 * pad, resize, DepthToSpace, pooling) index per element. Each mirrors its kernels/ref
 * function so that parity is by construction; resize, DepthToSpace, pooling, activations
 * and binary ops take their arithmetic from graph.h's shared functions (resize_source,
 * depth_space_source, pool_point, act_apply, binary_apply), as ref does. */
#include "cuda.h"

#include "cuda_common.cuh"

/* ---- activation and the convolution epilogue ----------------------------------------- */

/* Whether every pointer (NULL included) allows 16-byte loads and stores. */
static bool aligned16(const void *a, const void *b, const void *c, const void *d)
{
    return (((uintptr_t)a | (uintptr_t)b | (uintptr_t)c | (uintptr_t)d) & 15) == 0;
}

static __device__ __forceinline__ float4 act4(struct act act, float4 v, const float4 *residual,
                                              int64_t i)
{
    if (residual) {
        float4 r = residual[i];
        v.x += r.x, v.y += r.y, v.z += r.z, v.w += r.w;
    }
    return make_float4(act_apply(act, v.x), act_apply(act, v.y), act_apply(act, v.z),
                       act_apply(act, v.w));
}

__global__ void activation_kernel(const float *x, float *y, int64_t count, const float *residual,
                                  struct act act)
{
    for (int64_t i = grid_index(); i < count; i += grid_stride())
        y[i] = act_apply(act, x[i] + (residual ? residual[i] : 0.0f));
}

/* The same four elements at a time: count4 = count / 4, every pointer 16-byte aligned. */
__global__ void activation4_kernel(const float4 *x, float4 *y, int64_t count4,
                                   const float4 *residual, struct act act)
{
    for (int64_t i = grid_index(); i < count4; i += grid_stride())
        y[i] = act4(act, x[i], residual, i);
}

/* y = act(x + residual) over count elements, four at a time where count and the pointers
 * allow. */
static cudaError_t activation_launch(const float *x, float *y, int64_t count, const float *residual,
                                     struct act act, cudaStream_t stream)
{
    launch_begin();
    if (count % 4 == 0 && aligned16(x, y, residual, NULL))
        activation4_kernel<<<grid_for(count / 4), BLOCK, 0, stream>>>(
            (const float4 *)x, (float4 *)y, count / 4, (const float4 *)residual, act);
    else
        activation_kernel<<<grid_for(count), BLOCK, 0, stream>>>(x, y, count, residual, act);
    return cudaGetLastError();
}

extern "C" cudaError_t cuda_activation(const struct node *n, const struct ref_io *io,
                                       cudaStream_t stream)
{
    return activation_launch(io->in[0], io->out, shape_count(io->out_shape), io->residual, n->act,
                             stream);
}

/* The epilogue with a bias: plane by plane (cuda_plane_split), the channel once a block. */
__global__ void epilogue_bias_kernel(float *y, struct plane_split ps, int64_t channels,
                                     const float *bias, const float *residual, struct act act)
{
    int64_t plane = blockIdx.x / ps.parts, part = blockIdx.x % ps.parts;
    float b = bias[plane % channels];
    int64_t base = plane * ps.spatial;
    for (int64_t i = plane_begin(ps, part) + threadIdx.x; i < plane_end(ps, part); i += blockDim.x)
        y[base + i] = act_apply(act, y[base + i] + b + (residual ? residual[base + i] : 0.0f));
}

extern "C" cudaError_t cuda_epilogue(float *y, const struct shape *ys, const float *bias,
                                     const float *residual, struct act act, cudaStream_t stream)
{
    int64_t count = shape_count(ys), channels = ys->rank > 1 ? ys->dim[1] : 1;
    if (count == 0)
        return cudaSuccess;
    if (!bias)
        return activation_launch(y, y, count, residual, act, stream);
    int64_t planes = ys->rank > 0 ? ys->dim[0] * channels : 1;
    struct plane_split ps = cuda_plane_split(planes, count / planes);
    launch_begin();
    epilogue_bias_kernel<<<(unsigned)(planes * ps.parts), BLOCK, 0, stream>>>(y, ps, channels, bias,
                                                                              residual, act);
    return cudaGetLastError();
}

/* ---- binary with broadcasting --------------------------------------------------------- */

/* The output's dims and each operand's element strides seen from it (0 where broadcast). */
struct broadcast {
    int32_t rank;
    int64_t dim[SHAPE_MAX_RANK], sa[SHAPE_MAX_RANK], sb[SHAPE_MAX_RANK];
};

/* As ref's broadcast_strides: shapes align at the right; a size-1 dimension has stride 0. */
static void broadcast_strides(const struct shape *s, int32_t rank, int64_t *strides)
{
    int64_t step = 1;
    for (int32_t d = rank - 1; d >= 0; d--) {
        int32_t sd = d - (rank - s->rank);
        int64_t size = sd >= 0 ? s->dim[sd] : 1;
        strides[d] = size == 1 ? 0 : step;
        step *= size;
    }
}

__global__ void binary_kernel(enum binary_kind kind, const float *a, const float *b, float *y,
                              int64_t count, struct broadcast bc, const float *residual,
                              struct act act)
{
    for (int64_t i = grid_index(); i < count; i += grid_stride()) {
        int64_t rest = i, oa = 0, ob = 0;
        for (int32_t d = bc.rank - 1; d >= 0; d--) {
            int64_t index = rest % bc.dim[d];
            rest /= bc.dim[d];
            oa += index * bc.sa[d];
            ob += index * bc.sb[d];
        }
        float v = binary_apply(kind, a[oa], b[ob]);
        y[i] = act_apply(act, v + (residual ? residual[i] : 0.0f));
    }
}

/* Both operands of the output's shape: no index arithmetic, four elements at a time. */
__global__ void binary4_kernel(enum binary_kind kind, const float4 *a, const float4 *b, float4 *y,
                               int64_t count4, const float4 *residual, struct act act)
{
    for (int64_t i = grid_index(); i < count4; i += grid_stride()) {
        float4 u = a[i], v = b[i];
        float4 w = make_float4(binary_apply(kind, u.x, v.x), binary_apply(kind, u.y, v.y),
                               binary_apply(kind, u.z, v.z), binary_apply(kind, u.w, v.w));
        y[i] = act4(act, w, residual, i);
    }
}

extern "C" cudaError_t cuda_binary(const struct node *n, const struct ref_io *io,
                                   cudaStream_t stream)
{
    const struct shape *ys = io->out_shape;
    int64_t count = shape_count(ys);
    if (count % 4 == 0 && shape_equal(io->in_shape[0], ys) && shape_equal(io->in_shape[1], ys) &&
        aligned16(io->in[0], io->in[1], io->out, io->residual)) {
        launch_begin();
        binary4_kernel<<<grid_for(count / 4), BLOCK, 0, stream>>>(
            n->p.binary.kind, (const float4 *)io->in[0], (const float4 *)io->in[1],
            (float4 *)io->out, count / 4, (const float4 *)io->residual, n->act);
        return cudaGetLastError();
    }
    struct broadcast bc;
    bc.rank = ys->rank;
    for (int32_t d = 0; d < ys->rank; d++)
        bc.dim[d] = ys->dim[d];
    broadcast_strides(io->in_shape[0], ys->rank, bc.sa);
    broadcast_strides(io->in_shape[1], ys->rank, bc.sb);
    launch_begin();
    binary_kernel<<<grid_for(count), BLOCK, 0, stream>>>(n->p.binary.kind, io->in[0], io->in[1],
                                                         io->out, count, bc, io->residual, n->act);
    return cudaGetLastError();
}

/* ---- concat --------------------------------------------------------------------------- */

/* One input's blocks into their place: seen around the axis every tensor is outer x block,
 * and input k's block sits at `offset` inside each output block of `y_block`. */
__global__ void concat_kernel(const float *x, int64_t block, float *y, int64_t y_block,
                              int64_t offset, int64_t count)
{
    for (int64_t i = grid_index(); i < count; i += grid_stride())
        y[(i / block) * y_block + offset + i % block] = x[i];
}

extern "C" cudaError_t cuda_concat(const struct node *n, const struct ref_io *io,
                                   cudaStream_t stream)
{
    const struct shape *ys = io->out_shape;
    int32_t axis = n->p.concat.axis;
    int64_t inner = 1;
    for (int32_t d = axis + 1; d < ys->rank; d++)
        inner *= ys->dim[d];
    int64_t y_block = ys->dim[axis] * inner, offset = 0;
    for (int32_t k = 0; k < n->n_inputs; k++) {
        int64_t block = io->in_shape[k]->dim[axis] * inner, count = shape_count(io->in_shape[k]);
        launch_begin();
        if (count > 0)
            concat_kernel<<<grid_for(count), BLOCK, 0, stream>>>(io->in[k], block, io->out, y_block,
                                                                 offset, count);
        cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess)
            return e;
        offset += block;
    }
    if (io->residual || n->act.kind != ACT_NONE)
        return cuda_epilogue(io->out, ys, NULL, io->residual, n->act, stream);
    return cudaSuccess;
}

/* ---- pad ------------------------------------------------------------------------------ */

struct pad_geometry {
    int32_t rank;
    enum pad_mode mode;
    float value;
    int64_t in[SHAPE_MAX_RANK], out[SHAPE_MAX_RANK], begin[SHAPE_MAX_RANK];
};

/* As ref's pad_source: the input coordinate of output coordinate o, -1 when outside in
 * constant mode. Shape inference guarantees reflect pads < size. */
__device__ int64_t pad_source(enum pad_mode mode, int64_t o, int64_t begin, int64_t size)
{
    int64_t i = o - begin;
    if (i >= 0 && i < size)
        return i;
    if (mode == PAD_REFLECT)
        return i < 0 ? -i : 2 * (size - 1) - i;
    if (mode == PAD_EDGE)
        return i < 0 ? 0 : size - 1;
    return -1;
}

__global__ void pad_kernel(struct pad_geometry pg, const float *x, float *y, int64_t count,
                           const float *residual, struct act act)
{
    for (int64_t k = grid_index(); k < count; k += grid_stride()) {
        int64_t rest = k, offset = 0, scale = 1;
        bool outside = false;
        for (int32_t d = pg.rank - 1; d >= 0; d--) {
            int64_t i = pad_source(pg.mode, rest % pg.out[d], pg.begin[d], pg.in[d]);
            rest /= pg.out[d];
            outside = outside || i < 0;
            offset += (i < 0 ? 0 : i) * scale;
            scale *= pg.in[d];
        }
        float v = outside ? pg.value : x[offset];
        y[k] = act_apply(act, v + (residual ? residual[k] : 0.0f));
    }
}

extern "C" cudaError_t cuda_pad_params(const struct pad_params *p, const float *x,
                                       const struct shape *xs, float *y, const struct shape *ys,
                                       const float *residual, struct act act, cudaStream_t stream)
{
    struct pad_geometry pg;
    pg.rank = ys->rank;
    pg.mode = p->mode;
    pg.value = p->value;
    for (int32_t d = 0; d < ys->rank; d++) {
        pg.in[d] = xs->dim[d];
        pg.out[d] = ys->dim[d];
        pg.begin[d] = p->pads[d];
    }
    int64_t count = shape_count(ys);
    launch_begin();
    pad_kernel<<<grid_for(count), BLOCK, 0, stream>>>(pg, x, y, count, residual, act);
    return cudaGetLastError();
}

extern "C" cudaError_t cuda_pad(const struct node *n, const struct ref_io *io, cudaStream_t stream)
{
    return cuda_pad_params(&n->p.pad, io->in[0], io->in_shape[0], io->out, io->out_shape,
                           io->residual, n->act, stream);
}

/* ---- resize --------------------------------------------------------------------------- */

struct resize_geometry {
    struct resize_params p;
    int64_t planes, ih, iw, oh, ow;
};

__device__ int64_t clamp_index(int64_t i, int64_t size)
{
    return i < 0 ? 0 : (i >= size ? size - 1 : i);
}

__device__ int64_t nearest_index(enum resize_nearest mode, double x, int64_t size)
{
    double i;
    if (mode == RESIZE_NEAREST_ROUND_PREFER_CEIL)
        i = floor(x + 0.5);
    else if (mode == RESIZE_NEAREST_FLOOR)
        i = floor(x);
    else if (mode == RESIZE_NEAREST_CEIL)
        i = ceil(x);
    else
        i = ceil(x - 0.5);
    return clamp_index((int64_t)i, size);
}

__device__ float resize_point(const struct resize_geometry *rg, const float *x, int64_t r,
                              int64_t c)
{
    double fy = resize_source(&rg->p, 0, r, rg->ih, rg->oh);
    double fx = resize_source(&rg->p, 1, c, rg->iw, rg->ow);
    if (rg->p.mode == RESIZE_CUBIC)
        return resize_cubic_point(&rg->p, x, rg->ih, rg->iw, fy, fx);
    if (rg->p.mode == RESIZE_NEAREST)
        return x[nearest_index(rg->p.nearest, fy, rg->ih) * rg->iw +
                 nearest_index(rg->p.nearest, fx, rg->iw)];
    double by = floor(fy), bx = floor(fx), ty = fy - by, tx = fx - bx;
    int64_t y0 = clamp_index((int64_t)by, rg->ih), y1 = clamp_index((int64_t)by + 1, rg->ih);
    int64_t x0 = clamp_index((int64_t)bx, rg->iw), x1 = clamp_index((int64_t)bx + 1, rg->iw);
    double top = x[y0 * rg->iw + x0] * (1 - tx) + x[y0 * rg->iw + x1] * tx;
    double bottom = x[y1 * rg->iw + x0] * (1 - tx) + x[y1 * rg->iw + x1] * tx;
    return (float)(top * (1 - ty) + bottom * ty);
}

__global__ void resize_kernel(struct resize_geometry rg, const float *x, float *y, int64_t count,
                              const float *residual, struct act act)
{
    for (int64_t i = grid_index(); i < count; i += grid_stride()) {
        int64_t c = i % rg.ow, r = (i / rg.ow) % rg.oh, plane = i / (rg.ow * rg.oh);
        float v = resize_point(&rg, x + plane * rg.ih * rg.iw, r, c);
        y[i] = act_apply(act, v + (residual ? residual[i] : 0.0f));
    }
}

extern "C" cudaError_t cuda_resize(const struct node *n, const struct ref_io *io,
                                   cudaStream_t stream)
{
    const struct resize_params *p = &n->p.resize;
    const struct shape *xs = io->in_shape[0], *ys = io->out_shape;
    struct resize_geometry rg;
    rg.p = *p;
    rg.planes = ys->dim[0] * ys->dim[1];
    rg.ih = xs->dim[2];
    rg.iw = xs->dim[3];
    rg.oh = ys->dim[2];
    rg.ow = ys->dim[3];
    int64_t count = shape_count(ys);
    launch_begin();
    resize_kernel<<<grid_for(count), BLOCK, 0, stream>>>(rg, io->in[0], io->out, count,
                                                         io->residual, n->act);
    return cudaGetLastError();
}

/* ---- DepthToSpace / SpaceToDepth ---------------------------------------------------- */

/* A gather by graph.h's depth_space_source, as ref does it. */
__global__ void depth_space_kernel(struct depth_space_params p, struct shape xs, struct shape ys,
                                   const float *x, float *y, int64_t count, const float *residual,
                                   struct act act)
{
    int64_t w = ys.dim[3], h = ys.dim[2], c = ys.dim[1], image = xs.dim[1] * xs.dim[2] * xs.dim[3];
    for (int64_t i = grid_index(); i < count; i += grid_stride()) {
        int64_t col = i % w, r = i / w % h, ch = i / (w * h) % c, b = i / (w * h * c);
        float v = x[b * image + depth_space_source(&p, &xs, ch, r, col)];
        y[i] = act_apply(act, v + (residual ? residual[i] : 0.0f));
    }
}

extern "C" cudaError_t cuda_depth_space(const struct node *n, const struct ref_io *io,
                                        cudaStream_t stream)
{
    int64_t count = shape_count(io->out_shape);
    launch_begin();
    depth_space_kernel<<<grid_for(count), BLOCK, 0, stream>>>(n->p.depth_space, *io->in_shape[0],
                                                              *io->out_shape, io->in[0], io->out,
                                                              count, io->residual, n->act);
    return cudaGetLastError();
}

/* ---- AveragePool / MaxPool ---------------------------------------------------------- */

/* One thread per output pixel, by graph.h's pool_point, as ref does it. */
__global__ void pool_kernel(struct pool_params p, const float *x, float *y, int64_t ih, int64_t iw,
                            int64_t oh, int64_t ow, int64_t count, const float *residual,
                            struct act act)
{
    for (int64_t i = grid_index(); i < count; i += grid_stride()) {
        int64_t c = i % ow, r = i / ow % oh, plane = i / (ow * oh);
        float v = pool_point(&p, x + plane * ih * iw, ih, iw, r, c);
        y[i] = act_apply(act, v + (residual ? residual[i] : 0.0f));
    }
}

extern "C" cudaError_t cuda_pool(const struct node *n, const struct ref_io *io, cudaStream_t stream)
{
    const struct shape *xs = io->in_shape[0], *ys = io->out_shape;
    int64_t count = shape_count(ys);
    launch_begin();
    pool_kernel<<<grid_for(count), BLOCK, 0, stream>>>(n->p.pool, io->in[0], io->out, xs->dim[2],
                                                       xs->dim[3], ys->dim[2], ys->dim[3], count,
                                                       io->residual, n->act);
    return cudaGetLastError();
}

/* ---- Reshape ------------------------------------------------------------------------ */

/* The elements in the same order, then the epilogue where a pass gave it one. */
extern "C" cudaError_t cuda_reshape(const struct node *n, const struct ref_io *io,
                                    cudaStream_t stream)
{
    size_t bytes = (size_t)shape_count(io->out_shape) * sizeof(float);
    cudaError_t e = cudaMemcpyAsync(io->out, io->in[0], bytes, cudaMemcpyDeviceToDevice, stream);
    if (e != cudaSuccess || (!io->residual && n->act.kind == ACT_NONE))
        return e;
    return cuda_epilogue(io->out, io->out_shape, NULL, io->residual, n->act, stream);
}

/* ---- the fault drill ------------------------------------------------------------------ */

__global__ void illegal_address_kernel(float *nowhere)
{
    *(volatile float *)nowhere = 1.0f;
}

extern "C" cudaError_t cuda_fault_illegal_address(cudaStream_t stream)
{
    launch_begin();
    /* Page 0 is never mapped on the device: a genuine illegal-address fault. */
    illegal_address_kernel<<<1, 1, 0, stream>>>((float *)(uintptr_t)16);
    return cudaGetLastError();
}
