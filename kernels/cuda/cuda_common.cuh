/* cuda_common.cuh — what every kernel file shares: launch geometry and the activation.
 *
 * Grid-stride loops with a capped grid: enough blocks to fill an H200 (132 SMs) several
 * times over, never a grid dimension past what a launch allows. */
#ifndef MNEMO_CUDA_COMMON_CUH
#define MNEMO_CUDA_COMMON_CUH

#include "cuda.h"

#define BLOCK 256

static __device__ __forceinline__ int64_t grid_index(void)
{
    return (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
}

static __device__ __forceinline__ int64_t grid_stride(void)
{
    return (int64_t)gridDim.x * blockDim.x;
}

static inline unsigned grid_for(int64_t count)
{
    int64_t blocks = (count + BLOCK - 1) / BLOCK;
    return (unsigned)(blocks < 1 ? 1 : (blocks > 65536 ? 65536 : blocks));
}

/* Chunk `part` of a plane split (cuda_plane_split): elements [begin, end) of its plane. */
static __device__ __forceinline__ int64_t plane_begin(struct plane_split ps, int64_t part)
{
    return part * ps.chunk;
}

static __device__ __forceinline__ int64_t plane_end(struct plane_split ps, int64_t part)
{
    int64_t end = (part + 1) * ps.chunk;
    return end < ps.spatial ? end : ps.spatial;
}

/* Clears an error left by an earlier call (cudaGetLastError resets it), so that the check
 * after the launch reports this launch's own. A sticky error cannot be cleared: the launch
 * then fails with it, and the backend classifies it where it is seen. */
static inline void launch_begin(void)
{
    (void)cudaGetLastError();
}

#endif
