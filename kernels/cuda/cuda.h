/* cuda.h — the CUDA kernels behind the cuda backend (kernels/cuda/backend.c).
 *
 * Tensors are NCHW float32 in device memory at the graph's memory plan (the same layout
 * as ref and cpu), so every kernel takes a struct ref_io whose pointers are device
 * pointers and whose shapes are the graph's (host) shapes. Convolutions and transposed
 * convolutions go to cuDNN (conv.c): descriptors and algorithm chosen once at create,
 * one workspace the backend owns. Every other op is our own kernel (elementwise.cu,
 * norm.cu) with the node's epilogue y = act(y + residual) fused in.
 *
 * Launchers enqueue on `stream` and return cudaGetLastError() (so a bad launch is seen
 * where it happened); they never synchronize, allocate or copy to the host, so the whole
 * node sequence can be captured as one CUDA graph. */
#ifndef MNEMO_CUDA_H
#define MNEMO_CUDA_H

#include <cuda_runtime_api.h>
#include <cudnn.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "backend.h"
#include "ref.h"

/* ---- own kernels (elementwise.cu, norm.cu) ------------------------------------------- */

typedef cudaError_t (*cuda_kernel_fn)(const struct node *n, const struct ref_io *io,
                                      cudaStream_t stream);

/* Indexed by enum op; NULL for Conv and ConvTranspose (cuDNN, conv.c). */
extern const cuda_kernel_fn cuda_kernels[OP_COUNT];

cudaError_t cuda_batch_norm(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_instance_norm(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_activation(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_binary(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_concat(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_pad(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_resize(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_depth_space(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_pool(const struct node *n, const struct ref_io *io, cudaStream_t stream);
cudaError_t cuda_reshape(const struct node *n, const struct ref_io *io, cudaStream_t stream);

/* y = act(y + bias[c] + residual) in place over an NCHW (or N x C x ...) tensor; bias and
 * residual may be NULL. The epilogue of a convolution. */
cudaError_t cuda_epilogue(float *y, const struct shape *ys, const float *bias,
                          const float *residual, struct act act, cudaStream_t stream);
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

/* One convolution node, ready to run. */
struct cuda_conv {
    const struct node *node; /* for messages */
    struct cuda_conv_plan plan;
    cudnnTensorDescriptor_t x_desc, y_desc;
    cudnnFilterDescriptor_t w_desc;
    cudnnConvolutionDescriptor_t conv_desc;
    int algo; /* cudnnConvolutionFwdAlgo_t, or cudnnConvolutionBwdDataAlgo_t (transposed) */
    size_t workspace_bytes;
    struct ref_io io; /* device pointers */
};

/* Descriptors and algorithm for node n whose tensors live at io's device pointers.
 * Chooses the algorithm once (cuDNN's heuristics, deterministic, fp32 FMA math: TF32
 * would miss the 1e-4 parity bound). */
int cuda_conv_create(struct cuda_conv *c, cudnnHandle_t cudnn, const struct node *n,
                     const struct ref_io *io, struct error *err);
/* Enqueues the convolution and its epilogue. scratch holds cuda_conv_plan_scratch floats,
 * workspace at least c->workspace_bytes. */
int cuda_conv_run(const struct cuda_conv *c, cudnnHandle_t cudnn, cudaStream_t stream,
                  float *scratch, void *workspace, size_t workspace_bytes, struct error *err);
void cuda_conv_destroy(struct cuda_conv *c);

/* "cudaErrorIllegalAddress: an illegal memory access was encountered" style text. */
int cuda_error_set(struct error *err, cudaError_t e, const char *what);
int cudnn_error_set(struct error *err, cudnnStatus_t s, const char *what);

#ifdef __cplusplus
}
#endif

#endif
