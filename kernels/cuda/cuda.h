/* cuda.h — the CUDA kernels behind the cuda backend (kernels/cuda/backend.c).
 *
 * Tensors are NCHW float32 in device memory at the graph's memory plan (the same layout
 * as ref and cpu), so every kernel takes a struct ref_io whose pointers are device
 * pointers and whose shapes are the graph's (host) shapes. Convolutions and transposed
 * convolutions go to cuDNN (conv.c): descriptors and cuDNN's ranked algorithms at create,
 * the one that runs settled in warm-up, one workspace (sized for any candidate) the
 * backend owns. Every other op is our own kernel (elementwise.cu,
 * norm.cu) with the node's epilogue y = act(y + residual) fused in.
 *
 * Launchers enqueue on `stream` and return cudaGetLastError() (so a bad launch is seen
 * where it happened); they never synchronize, allocate or copy to the host, so the whole
 * node sequence can be captured as one CUDA graph. */
#ifndef MNEMO_CUDA_H
#define MNEMO_CUDA_H

#include <cuda_runtime_api.h>
#include <cudnn.h>

/* backend.h and ref.h are C headers, included below in C linkage. The standard headers they
 * include must not be: in C++ <math.h> declares overloads and templates, which C linkage
 * forbids. Included here first, their guards keep them out of the block below, whatever
 * else includes them or in which order (nvcc's own pre-include of cuda_runtime.h is what
 * made this work so far). */
#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "backend.h"
#include "ref.h"

/* ---- own kernels (elementwise.cu, norm.cu) ------------------------------------------- */

typedef cudaError_t (*cuda_kernel_fn)(const struct node *n, const struct ref_io *io,
                                      cudaStream_t stream);

/* Indexed by enum op; NULL for Conv and ConvTranspose (cuDNN, conv.c) and for
 * InstanceNorm (cuda_instance_norm: it needs its backend's scratch). */
extern const cuda_kernel_fn cuda_kernels[OP_COUNT];

cudaError_t cuda_batch_norm(const struct node *n, const struct ref_io *io, cudaStream_t stream);

/* InstanceNorm's pass 1 writes partial sums and each plane's shift that pass 2 reads: device
 * memory of one backend, not of the module, because two backends of one process may run
 * at once (a live model swap creates and warms up the next model beside the running loop,
 * piece/swap.h). CUDA_NORM_PARTIALS bounds the blocks of one launch. */
#define CUDA_NORM_PARTIALS (1 << 16)
struct cuda_norm_scratch {
    void *partials; /* CUDA_NORM_PARTIALS double2: each block's sums */
    float *shift;   /* CUDA_NORM_PARTIALS floats: each plane's shift */
};
cudaError_t cuda_instance_norm(const struct node *n, const struct ref_io *io,
                               const struct cuda_norm_scratch *scratch, cudaStream_t stream);
cudaError_t cuda_activation(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_binary(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_concat(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_pad(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_resize(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_depth_space(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_pool(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_reshape(const struct node *n, const struct ref_io *io, cudaStream_t stream);
/* ReduceMean and LayerNorm (by n->op) over the columns of n->p.reduce. */
cudaError_t cuda_reduce(const struct node *n, const struct ref_io *io, cudaStream_t stream);

/* y = act(y + bias[c] + residual) in place over an NCHW (or N x C x ...) tensor; bias and
 * residual may be NULL. The epilogue of a convolution. */
cudaError_t cuda_epilogue(float *y, const struct shape *ys, const float *bias,
                          const float *residual, struct act act, cudaStream_t stream);
/* A plane-wise launch: `planes` planes ((sample, channel) of an NCHW tensor) of `spatial`
 * elements, each split into `parts` chunks of `chunk` elements (the last may be shorter,
 * none is empty), one block per chunk: enough blocks to fill the chip (CUDA_PLANE_TARGET)
 * when planes are few, no chunk under half CUDA_PLANE_MIN_CHUNK elements unless its plane
 * is that small, and the block's channel found by one division per block instead of one per
 * element. Pure (launch.c): tested without a GPU. */
struct plane_split {
    int64_t spatial, chunk, parts;
};
#define CUDA_PLANE_TARGET    1024 /* blocks: an H200's 132 SMs several times over */
#define CUDA_PLANE_MIN_CHUNK 4096 /* elements: below, a block's setup outweighs its work */
struct plane_split cuda_plane_split(int64_t planes, int64_t spatial);

/* Pad (or, with negative pads, crop) of x into y by p, then y = act(y + residual). */
cudaError_t cuda_pad_params(const struct pad_params *p, const float *x, const struct shape *xs,
                            float *y, const struct shape *ys, const float *residual, struct act act,
                            cudaStream_t stream);

/* ---- convolutions (conv.c, cuDNN) ----------------------------------------------------- */

/* What cuDNN is asked to compute for one Conv/ConvTranspose node. cuDNN's legacy API pads
 * symmetrically; ONNX pads may differ at the two ends. Then a Conv reads its input
 * zero-padded into the backend's scratch (cuDNN pad 0), and a ConvTranspose writes its
 * uncropped output into scratch (cuDNN pad 0) and is cropped into place after. Pure
 * arithmetic on shapes: tested without a GPU. */
struct cuda_conv_plan {
    bool transposed;
    bool via_scratch;
    struct shape x, y;       /* the shapes cuDNN sees (x = dy, y = dx for transposed) */
    int32_t pad[2];          /* symmetric pad given to cuDNN: h, w */
    struct pad_params edges; /* scratch <- input (Conv) or output <- scratch (transposed) */
};

/* Fills p for node n with input shape xs and output shape ys. Returns -1 (err set) when
 * cuDNN cannot express the node (output_padding >= stride). */
int cuda_conv_plan_make(const struct node *n, const struct shape *xs, const struct shape *ys,
                        struct cuda_conv_plan *p, struct error *err);
/* Floats of scratch the plan needs (0 when it needs none). */
int64_t cuda_conv_plan_scratch(const struct cuda_conv_plan *p);
/* The output size, along one axis, of a cuDNN forward convolution (the arithmetic cuDNN
 * checks a backward-data call against). */
int64_t cuda_conv_forward_size(int64_t in, int32_t kernel, int32_t stride, int32_t pad,
                               int32_t dilation);

/* One of cuDNN's ranked answers for a convolution, forward or backward data alike. */
struct cuda_algo_perf {
    int algo;
    cudnnStatus_t status;
    cudnnDeterminism_t determinism;
    cudnnMathType_t math;
    size_t memory;
};
#define CUDA_CONV_MAX_ALGOS     8 /* CUDNN_CONVOLUTION_FWD_ALGO_COUNT, the larger of the two */
#define CUDA_CONV_WORKSPACE_CAP ((size_t)1 << 30) /* 1 GiB: an algorithm wanting more is out */

/* The candidates worth trying, best first, from cuDNN's ranking (perf, count entries):
 * those that work, use FMA math (TF32 or tensor-op math would miss the 1e-4 parity bound;
 * the descriptor asks for FMA, this holds cuDNN to it) and fit the workspace cap, the
 * deterministic ones (same frames for the same seed) first, each group in cuDNN's order.
 * Writes at most CUDA_CONV_MAX_ALGOS algos; returns how many. Pure: tested without a GPU. */
int cuda_conv_rank(const struct cuda_algo_perf *perf, int count, int *algos);

/* Whether node n's bias is wasted work: a per-channel constant that every consumer's
 * InstanceNorm subtracts again with the mean (n has no activation or residual between, and
 * its output is no graph output). Pure: tested without a GPU. */
bool cuda_conv_bias_cancels(const struct graph *g, const struct node *n);

/* One convolution node, ready to run. */
struct cuda_conv {
    const struct node *node; /* for messages */
    struct cuda_conv_plan plan;
    cudnnTensorDescriptor_t x_desc, y_desc;
    cudnnFilterDescriptor_t w_desc;
    cudnnConvolutionDescriptor_t conv_desc;
    /* cudnnConvolutionFwdAlgo_t, or cudnnConvolutionBwdDataAlgo_t (transposed): the ranked
     * candidates, algos[chosen] the one that runs (warm-up moves on when one fails). */
    int algos[CUDA_CONV_MAX_ALGOS], n_algos, chosen;
    size_t workspace_bytes; /* the most any candidate needs, so that any can run */
    struct ref_io io;       /* device pointers */
    bool bias_skipped;      /* cuda_conv_bias_cancels: the epilogue leaves the bias out */
};

/* Descriptors and ranked algorithm candidates (cuda_conv_rank over cuDNN's heuristics) for
 * node n whose tensors live at io's device pointers. */
int cuda_conv_create(struct cuda_conv *c, cudnnHandle_t cudnn, const struct node *n,
                     const struct ref_io *io, struct error *err);
/* Enqueues the convolution (with algos[chosen]) and its epilogue. scratch holds
 * cuda_conv_plan_scratch floats, workspace at least c->workspace_bytes. */
int cuda_conv_run(const struct cuda_conv *c, cudnnHandle_t cudnn, cudaStream_t stream,
                  float *scratch, void *workspace, size_t workspace_bytes, struct error *err);
/* MNEMO_CUDA_FIND=1: re-ranks c's candidates by cuDNN's own timing of every algorithm on
 * the real buffers (x, y: those cuda_conv_run hands cuDNN; cudnnFind*AlgorithmEx), through
 * the same filter (cuda_conv_rank: deterministic ones first, each group fastest first),
 * with `workspace` of workspace_bytes for the trials; workspace_bytes of c becomes the most
 * the new candidates need. Keeps the heuristic ranking when no timed one is acceptable. */
int cuda_conv_find(struct cuda_conv *c, cudnnHandle_t cudnn, const float *x, float *y,
                   void *workspace, size_t workspace_bytes, struct error *err);
/* Where cuda_conv_run has cuDNN read and write: the input or the padded scratch, the
 * output or the uncropped scratch. */
const float *cuda_conv_source(const struct cuda_conv *c, const float *scratch);
float *cuda_conv_target(const struct cuda_conv *c, float *scratch);
/* Moves to the next candidate after algos[chosen] failed; false when none is left. */
bool cuda_conv_next_algo(struct cuda_conv *c);
/* The fault drill (MNEMO_CUDA_FAULT=algo): algo becomes the first candidate (the last one
 * drops off a full list). CUDA_CONV_BAD_ALGO is one no cuDNN call accepts. */
#define CUDA_CONV_BAD_ALGO CUDA_CONV_MAX_ALGOS
void cuda_conv_prepend_algo(struct cuda_conv *c, int algo);
void cuda_conv_destroy(struct cuda_conv *c);

/* ---- what a failure means (errors.c; pure, tested without a GPU) --------------------- */

/* Whether e leaves the context poisoned: every later call fails, only a new process helps. */
bool cuda_error_sticky(cudaError_t e);
/* The verdict on a failed run: lost when its own error (cudaSuccess for a cuDNN failure,
 * which carries no CUDA code) is sticky, or when the probe after it (a trivial op on the
 * backend's stream, synchronized) failed. An asynchronous fault can surface as an
 * ordinary error at a later call; the probe catches what the first code hid. */
bool cuda_failure_lost(cudaError_t cause, cudaError_t probe);

/* Real device faults for the GPU fault drill, from MNEMO_CUDA_FAULT (read at create):
 *   illegal-address@N  run N of this backend first launches a kernel that writes through
 *                      a bad pointer (a genuine sticky cudaErrorIllegalAddress);
 *   capture            the CUDA graph capture is broken on purpose (a synchronize inside
 *                      it), so create must fall back to running eagerly;
 *   algo               every convolution's first candidate is an algorithm cuDNN refuses,
 *                      so warm-up must fall back to the next. */
enum cuda_fault_kind {
    CUDA_FAULT_NONE,
    CUDA_FAULT_ILLEGAL_ADDRESS,
    CUDA_FAULT_CAPTURE,
    CUDA_FAULT_ALGO,
};
struct cuda_fault {
    enum cuda_fault_kind kind;
    long run; /* illegal-address: the 1-based run number */
};
/* Parses spec (NULL or "" is no fault). Returns -1 (err set) on a malformed spec. */
int cuda_fault_parse(const char *spec, struct cuda_fault *f, struct error *err);
/* Enqueues one thread writing through an address no allocation holds. */
cudaError_t cuda_fault_illegal_address(cudaStream_t stream);

/* "cudaErrorIllegalAddress: an illegal memory access was encountered" style text. */
int cuda_error_set(struct error *err, cudaError_t e, const char *what);
int cudnn_error_set(struct error *err, cudnnStatus_t s, const char *what);

#ifdef __cplusplus
}
#endif

#endif
