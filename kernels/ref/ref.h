/* ref.h — the reference kernels: one plain function per op, NCHW float32.
 *
 * Owns the obviously-correct arithmetic every fast backend is tested against: naive loops,
 * double accumulation where sums are long, no cleverness. Each kernel computes its op,
 * then the node's fused epilogue y = act(y + residual). Kernels never allocate, never
 * fail (the graph was checked at load) and read nothing but their arguments. */
#ifndef MNEMO_REF_H
#define MNEMO_REF_H

#include "graph.h"

/* Where a node's tensors are for one call. in[k] / in_shape[k] follow node.input[];
 * absent optional inputs are NULL. residual is NULL when the node has none. */
struct ref_io {
    const float *in[NODE_MAX_INPUTS];
    const struct shape *in_shape[NODE_MAX_INPUTS];
    const float *residual;
    float *out;
    const struct shape *out_shape;
};

typedef void (*ref_kernel_fn)(const struct node *n, const struct ref_io *io);

/* Indexed by enum op; every op has a row. */
extern const ref_kernel_fn ref_kernels[OP_COUNT];

void ref_conv(const struct node *n, const struct ref_io *io);
void ref_conv_transpose(const struct node *n, const struct ref_io *io);
void ref_batch_norm(const struct node *n, const struct ref_io *io);
void ref_instance_norm(const struct node *n, const struct ref_io *io);
void ref_activation(const struct node *n, const struct ref_io *io);
void ref_binary(const struct node *n, const struct ref_io *io);
void ref_concat(const struct node *n, const struct ref_io *io);
/* Concat's output seen around its axis: outer x (dim[axis] x inner). */
void ref_concat_extent(const struct node *n, const struct ref_io *io, int64_t *outer,
                       int64_t *inner);
void ref_pad(const struct node *n, const struct ref_io *io);
void ref_resize(const struct node *n, const struct ref_io *io);
void ref_depth_space(const struct node *n, const struct ref_io *io);
void ref_pool(const struct node *n, const struct ref_io *io);
void ref_reshape(const struct node *n, const struct ref_io *io);
void ref_reduce_mean(const struct node *n, const struct ref_io *io);
void ref_layer_norm(const struct node *n, const struct ref_io *io);

/* Pad: the input coordinate for output coordinate `o` along one dimension whose pad
 * before it is `begin`, or -1 when it falls outside and the mode is constant (reflect
 * mirrors without repeating the edge, as ONNX; shape inference keeps reflect pads < size).
 * Shared with the cpu kernel. */
int64_t ref_pad_source(enum pad_mode mode, int64_t o, int64_t begin, int64_t size);

/* y = act(y + residual) over the node's whole output, in place. */
void ref_epilogue(const struct node *n, const struct ref_io *io);

/* Where value `id` lives: its constant data, or its place in `arena` (the memory plan). */
float *ref_value_data(const struct graph *g, float *arena, int32_t id);
/* Fills io with where node n's inputs, residual and output live for a backend whose
 * run-time values sit in `arena`. */
void ref_io_make(const struct graph *g, float *arena, const struct node *n, struct ref_io *io);

#endif
