/* cpu.h — the fast CPU kernels behind the cpu backend (kernels/cpu/backend.c).
 *
 * Convolutions and transposed convolutions go to oneDNN (kernels/cpu/conv.c): one
 * primitive per node, created at load with its weights reordered once into the layout
 * oneDNN prefers, the fused epilogue expressed as oneDNN post-ops, and a scratchpad the
 * backend owns, so that running one allocates nothing of ours. Activations stay NCHW
 * float32 in the graph's arena between nodes, so the memory-bound ops (norm.c) are plain
 * OpenMP loops over it. */
#ifndef MNEMO_CPU_H
#define MNEMO_CPU_H

#include "backend.h"
#include "ref.h"

#include <oneapi/dnnl/dnnl.h>

/* One convolution node, ready to run. */
struct cpu_conv {
    const struct node *node; /* for messages */
    dnnl_primitive_t primitive;
    dnnl_memory_t src, weights, bias, dst, scratchpad;
    /* When the primitive's src or dst is not the arena's NCHW float32 (bf16, or a blocked
     * layout), a reorder converts before or after the run; NULL otherwise. */
    dnnl_primitive_t src_convert, dst_convert;
    dnnl_memory_t src_arena, dst_arena;
    /* Our own epilogue after the run (cpu_bias_epilogue): bias_here (ConvTranspose),
     * residual and the activation. Otherwise oneDNN's post-ops did it. */
    bool epilogue_here;
    const float *bias_here, *residual;
    float *dst_data;
    const struct shape *dst_shape;
    /* A ConvTranspose whose output_padding exceeds its end padding (oneDNN cannot take the
     * negative end pad): the primitive makes the narrow_h x narrow_w outputs any input
     * reaches, into `narrow`, and the run widens them into dst_data with zeros (the
     * epilogue adds the bias there as ONNX does). NULL otherwise. */
    float *narrow;
    int64_t narrow_h, narrow_w;
};

/* oneDNN objects one backend shares between its primitives. */
struct cpu_context {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
};

/* Why oneDNN cannot run this conv node with these options, or NULL. No allocation. */
const char *cpu_conv_unsupported(const struct node *n, enum precision precision);
/* True when this CPU has what oneDNN needs for bf16 convolutions (AVX-512 core). */
bool cpu_has_bf16(void);

/* Creates the primitive for node n whose tensors live at io's pointers (fixed for the
 * backend's lifetime), reorders the weights once and allocates the primitive's
 * scratchpad (oneDNN's user mode, so a run allocates none). */
int cpu_conv_create(struct cpu_conv *c, const struct cpu_context *ctx, const struct node *n,
                    const struct ref_io *io, enum precision precision, struct error *err);
int cpu_conv_run(const struct cpu_conv *c, const struct cpu_context *ctx, struct error *err);
void cpu_conv_destroy(struct cpu_conv *c);

/* y[i] = act(x[i] * k + b + residual[i]) (residual may be NULL; y may be x), vectorised
 * per activation (act.c). */
void cpu_affine(struct act a, const float *x, const float *residual, float *y, int64_t count,
                float k, float b);
/* Concat of NCHW float32 tensors with the node's epilogue in the same pass, both threads
 * sharing every block. */
void cpu_concat(const struct node *n, const struct ref_io *io);

/* ConvTranspose to at most 4 output channels (group 1, no dilation), computed directly
 * rather than by oneDNN, which pads the channels to 16 (deconv.c). */
bool cpu_deconv_small_fits(const struct node *n, const struct shape *xs, const struct shape *ys);
void cpu_deconv_small(const struct node *n, const struct ref_io *io);

/* Memory-bound ops, NCHW float32, OpenMP over channels; epilogue as in ref. */
void cpu_instance_norm(const struct node *n, const struct ref_io *io);
void cpu_batch_norm(const struct node *n, const struct ref_io *io);
void cpu_activation(const struct node *n, const struct ref_io *io);
/* y = act(y + bias[c] + residual) in place: the epilogue of a transposed convolution,
 * which oneDNN 2.6 would otherwise run in a scalar reference pass. */
void cpu_bias_epilogue(const struct node *n, const float *bias, const float *residual, float *y,
                       const struct shape *ys);
/* Pad of H and W of an NCHW tensor (no crops, N and C untouched). */
bool cpu_pad_supported(const struct node *n, const struct shape *xs);
void cpu_pad(const struct node *n, const struct ref_io *io);

#endif
