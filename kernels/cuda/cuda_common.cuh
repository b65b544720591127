/* cuda_common.cuh — what every kernel file shares: launch geometry and the activation.
 *
 * Grid-stride loops with a capped grid: enough blocks to fill an H200 (132 SMs) several
 * times over, never a grid dimension past what a launch allows. */
#ifndef MNEMO_CUDA_COMMON_CUH
#define MNEMO_CUDA_COMMON_CUH

#include "graph.h"

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

/* Clears an error left by an earlier call (cudaGetLastError resets it), so that the check
 * after the launch reports this launch's own. A sticky error cannot be cleared: the launch
 * then fails with it, and the backend classifies it where it is seen. */
static inline void launch_begin(void)
{
    (void)cudaGetLastError();
}

#endif
