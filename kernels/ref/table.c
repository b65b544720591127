/* table.c — the ref backend's op table and the shared epilogue. */
#include "ref.h"

const ref_kernel_fn ref_kernels[OP_COUNT] = {
    [OP_CONV] = ref_conv,
    [OP_CONV_TRANSPOSE] = ref_conv_transpose,
    [OP_BATCH_NORM] = ref_batch_norm,
    [OP_INSTANCE_NORM] = ref_instance_norm,
    [OP_ACTIVATION] = ref_activation,
    [OP_BINARY] = ref_binary,
    [OP_CONCAT] = ref_concat,
    [OP_PAD] = ref_pad,
    [OP_RESIZE] = ref_resize,
    [OP_DEPTH_SPACE] = ref_depth_space,
    [OP_POOL] = ref_pool,
    [OP_RESHAPE] = ref_reshape,
    [OP_REDUCE_MEAN] = ref_reduce_mean,
    [OP_LAYER_NORM] = ref_layer_norm,
};
static_assert(OP_COUNT == 14, "a new op needs a ref kernel in ref_kernels");

void ref_epilogue(const struct node *n, const struct ref_io *io)
{
    int64_t count = shape_count(io->out_shape);
    for (int64_t i = 0; i < count; i++) {
        float y = io->out[i];
        if (io->residual)
            y += io->residual[i];
        io->out[i] = act_apply(n->act, y);
    }
}

float *ref_value_data(const struct graph *g, float *arena, int32_t id)
{
    const struct value *v = &g->values[id];
    return v->kind == VALUE_CONST ? v->data : arena + v->offset;
}

void ref_io_make(const struct graph *g, float *arena, const struct node *n, struct ref_io *io)
{
    *io = (struct ref_io){.residual = NULL};
    for (int32_t k = 0; k < n->n_inputs; k++) {
        if (n->input[k] < 0)
            continue;
        io->in[k] = ref_value_data(g, arena, n->input[k]);
        io->in_shape[k] = &g->values[n->input[k]].shape;
    }
    if (n->residual >= 0)
        io->residual = ref_value_data(g, arena, n->residual);
    io->out = ref_value_data(g, arena, n->output);
    io->out_shape = &g->values[n->output].shape;
}
