/* launch.c — launch geometry of the cuda kernels that is pure arithmetic on shapes, so
 * that it is tested without a GPU (test_backend_cuda). */
#include "cuda.h"

struct plane_split cuda_plane_split(int64_t planes, int64_t spatial)
{
    int64_t parts = planes > 0 ? (CUDA_PLANE_TARGET + planes - 1) / planes : 1;
    int64_t most = (spatial + CUDA_PLANE_MIN_CHUNK - 1) / CUDA_PLANE_MIN_CHUNK;
    parts = parts < most ? parts : most;
    parts = parts < 1 ? 1 : parts;
    int64_t chunk = spatial > 0 ? (spatial + parts - 1) / parts : 1;
    /* Rounding the chunk up can leave the last parts empty: drop them. */
    parts = spatial > 0 ? (spatial + chunk - 1) / chunk : 1;
    return (struct plane_split){.spatial = spatial, .chunk = chunk, .parts = parts};
}
