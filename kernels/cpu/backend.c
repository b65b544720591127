/* kernels/cpu/backend.c — the fast CPU backend: oneDNN convolutions, OpenMP for the rest.
 *
 * Owns one 64-byte aligned arena laid out by the graph's memory plan (as ref does), one
 * oneDNN engine and stream, and a prepared convolution (kernels/cpu/conv.c) for each
 * Conv/ConvTranspose node, except a ConvTranspose to a few channels, which deconv.c computes
 * directly. Normalisations, activations and spatial Pad run
 * kernels/cpu/norm.c; Concat runs its own copy with the epilogue fused (act.c); the remaining ops
 * (Add/Mul/…, Resize) run the reference kernels (single linear passes, small in these models:
 * measured, not guessed). create prepares everything and runs the graph once to warm up; run
 * allocates nothing of ours. */
#include "backend.h"
#include "cpu.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

struct cpu_backend {
    struct backend base;
    const struct graph *g;
    float *arena;
    struct cpu_context ctx;
    struct cpu_conv *convs; /* one per node; only conv nodes' entries are used */
    bool *direct;           /* per node: a ConvTranspose deconv.c runs instead of oneDNN */
};

static const char *cpu_unsupported(const struct graph *g, const struct node *n,
                                   const struct backend_options *opt)
{
    const char *why = backend_unsupported_anywhere(g, n);
    if (why)
        return why;
    if (node_is_conv(n)) {
        if (g->values[n->output].shape.rank != 4)
            return "convolution that is not 2-D";
        return cpu_conv_unsupported(n, opt->precision);
    }
    return NULL;
}

static void cpu_destroy(struct backend *base)
{
    struct cpu_backend *b = (struct cpu_backend *)base;
    if (b->convs)
        for (int32_t i = 0; i < b->g->n_nodes; i++)
            cpu_conv_destroy(&b->convs[i]);
    free(b->convs);
    free(b->direct);
    if (b->ctx.stream)
        dnnl_stream_destroy(b->ctx.stream);
    if (b->ctx.engine)
        dnnl_engine_destroy(b->ctx.engine);
    free(b->arena);
    free(b);
}

static int context_make(struct cpu_backend *b, struct error *err)
{
    if (dnnl_engine_create(&b->ctx.engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&b->ctx.stream, b->ctx.engine, dnnl_stream_default_flags) !=
            dnnl_success)
        return error_set(err, "cpu backend: oneDNN could not create a CPU engine");
    return 0;
}

static int memory_make(struct cpu_backend *b, struct error *err)
{
    size_t bytes = (size_t)(b->g->arena_floats > 0 ? b->g->arena_floats : 1) * sizeof(float);
    bytes = (bytes + 63) / 64 * 64;
    b->arena = aligned_alloc(64, bytes);
    b->convs = calloc((size_t)b->g->n_nodes, sizeof *b->convs);
    b->direct = calloc((size_t)b->g->n_nodes, sizeof *b->direct);
    if (!b->arena || !b->convs || !b->direct)
        return error_set(err, "out of memory for the cpu backend's arena (%zu bytes)", bytes);
    memset(b->arena, 0, bytes);
    return 0;
}

static int convs_make(struct cpu_backend *b, enum precision precision, struct error *err)
{
    for (int32_t i = 0; i < b->g->n_nodes; i++) {
        const struct node *n = &b->g->nodes[i];
        if (!node_is_conv(n))
            continue;
        struct ref_io io;
        ref_io_make(b->g, b->arena, n, &io);
        b->direct[i] = cpu_deconv_small_fits(n, io.in_shape[0], io.out_shape);
        if (b->direct[i])
            continue;
        if (cpu_conv_create(&b->convs[i], &b->ctx, n, &io, precision, err))
            return -1;
    }
    return 0;
}

static int nodes_run(struct cpu_backend *b, struct error *err)
{
    const struct graph *g = b->g;
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *n = &g->nodes[i];
        if (node_is_conv(n) && !b->direct[i]) {
            if (cpu_conv_run(&b->convs[i], &b->ctx, err))
                return -1;
            continue;
        }
        struct ref_io io;
        ref_io_make(g, b->arena, n, &io);
        if (n->op == OP_CONV_TRANSPOSE)
            cpu_deconv_small(n, &io);
        else if (n->op == OP_INSTANCE_NORM)
            cpu_instance_norm(n, &io);
        else if (n->op == OP_BATCH_NORM)
            cpu_batch_norm(n, &io);
        else if (n->op == OP_ACTIVATION)
            cpu_activation(n, &io);
        else if (n->op == OP_CONCAT)
            cpu_concat(n, &io);
        else if (n->op == OP_PAD && cpu_pad_supported(n, io.in_shape[0]))
            cpu_pad(n, &io);
        else
            ref_kernels[n->op](n, &io);
    }
    if (dnnl_stream_wait(b->ctx.stream) != dnnl_success)
        return error_set(err, "cpu backend: waiting for oneDNN failed");
    return 0;
}

static struct backend *cpu_create(const struct graph *g, const struct backend_options *opt,
                                  struct error *err)
{
    struct cpu_backend *b = calloc(1, sizeof *b);
    if (!b) {
        error_set(err, "out of memory creating the cpu backend");
        return NULL;
    }
    b->base.ops = &backend_cpu_ops;
    b->g = g;
    /* OpenMP's thread count is process-wide; oneDNN reads it when it runs. */
    if (opt->threads > 0)
        omp_set_num_threads(opt->threads);
    if (context_make(b, err) || memory_make(b, err) || convs_make(b, opt->precision, err) ||
        nodes_run(b, err)) { /* the warm-up: first-touch pages, JIT caches */
        cpu_destroy(&b->base);
        return NULL;
    }
    return &b->base;
}

static int cpu_run(struct backend *base, const float *input, float *output, struct error *err)
{
    struct cpu_backend *b = (struct cpu_backend *)base;
    const struct graph *g = b->g;
    const struct value *in = &g->values[g->input], *out = &g->values[g->output];
    memcpy(b->arena + in->offset, input, (size_t)shape_count(&in->shape) * sizeof(float));
    if (nodes_run(b, err))
        return -1;
    memcpy(output, b->arena + out->offset, (size_t)shape_count(&out->shape) * sizeof(float));
    return 0;
}

static const char *cpu_precision_unavailable(enum precision precision)
{
    if (precision == PRECISION_BF16 && !cpu_has_bf16())
        return "bf16 convolutions need an AVX-512 CPU and this one has none";
    return NULL;
}

const struct backend_ops backend_cpu_ops = {
    .name = "cpu",
    .unsupported = cpu_unsupported,
    .create = cpu_create,
    .run = cpu_run,
    .destroy = cpu_destroy,
    .precision_unavailable = cpu_precision_unavailable,
};
