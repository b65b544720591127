/* conv.c — Conv and ConvTranspose through oneDNN.
 *
 * Between nodes, activations are plain NCHW float32 (the graph's arena) so that every
 * other op reads them directly. Each convolution runs in the layout oneDNN prefers for it
 * (format `any`: nChw8c with its jit:avx2 kernels on this CPU, plain NCHW where gemm is
 * better), with a reorder from and to the arena around it when that layout differs:
 * measured on the 256x256 generators, the reorders cost a few percent and the direct
 * kernels save 20-35% against gemm on NCHW (tools/bench, bench/RESULTS.md). Weights are
 * reordered once at load.
 *
 * The epilogue y = act(conv + bias + residual): bias and activation as oneDNN post-ops
 * for Conv; the residual (in NCHW in the arena) added by our own pass after the output is
 * back in the arena. ConvTranspose runs bare and our pass does all of it: oneDNN 2.6 runs
 * deconvolution bias and post-ops in a slow scalar loop (FACTS.md).
 *
 * Scratchpad mode is "user" with a buffer allocated here at load, so a run allocates no
 * scratch. In bf16 the weights and the input are bf16, accumulation and output float32. */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

static int dnnl_failed(struct error *err, const struct node *n, const char *what,
                       dnnl_status_t status)
{
    const char *why = status == dnnl_unimplemented   ? "no oneDNN implementation for it on this CPU"
                      : status == dnnl_out_of_memory ? "out of memory"
                                                     : "oneDNN error";
    return error_set(err, "cpu backend: node '%s' (%s): %s failed: %s (status %d)", n->name,
                     n->onnx_op, what, why, (int)status);
}

#define DNNL_CHECK(call, what)                                                                     \
    do {                                                                                           \
        dnnl_status_t status_ = (call);                                                            \
        if (status_ != dnnl_success)                                                               \
            return dnnl_failed(err, n, what, status_);                                             \
    } while (0)

bool cpu_has_bf16(void)
{
    /* oneDNN 2.6 runs bf16 convolutions from avx512_core up (emulating the bf16 dot
     * product where the CPU lacks it); below that it has none. */
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

const char *cpu_conv_unsupported(const struct node *n, enum precision precision)
{
    (void)n;
    if (precision == PRECISION_BF16 && !cpu_has_bf16())
        return "bf16 convolution needs an AVX-512 CPU (oneDNN has no bf16 kernels below "
               "it); use --precision fp32";
    return NULL;
}

static void dims4(dnnl_dims_t d, const struct shape *s)
{
    for (int i = 0; i < 4; i++)
        d[i] = s->dim[i];
}

/* oneDNN takes output_padding as a smaller end padding (dimension d: 0 height, 1 width),
 * which it cannot take below zero; what is left over is the rows or columns past every
 * input's reach, which only the bias fills (conv_widen). */
static int64_t end_pad(const struct node *n, int d)
{
    const struct conv_params *p = &n->p.conv;
    int64_t pad = p->pad[d + 2];
    if (n->op == OP_CONV_TRANSPOSE)
        pad -= p->output_padding[d];
    return pad > 0 ? pad : 0;
}

static int64_t out_unreached(const struct node *n, int d)
{
    const struct conv_params *p = &n->p.conv;
    int64_t left = n->op == OP_CONV_TRANSPOSE ? p->output_padding[d] - p->pad[d + 2] : 0;
    return left > 0 ? left : 0;
}

/* The activations oneDNN runs as a post-op; the others (0 here) run in our own epilogue
 * after the convolution, with act_apply, so that they agree with ref by construction. */
static const dnnl_alg_kind_t post_op_alg[ACT_COUNT] = {
    [ACT_RELU] = dnnl_eltwise_relu, [ACT_LEAKY_RELU] = dnnl_eltwise_relu,
    [ACT_TANH] = dnnl_eltwise_tanh, [ACT_SIGMOID] = dnnl_eltwise_logistic,
    [ACT_CLIP] = dnnl_eltwise_clip,
};

/* The activation as a post-op. */
static int post_ops_make(dnnl_primitive_attr_t attr, const struct node *n, struct error *err)
{
    const dnnl_alg_kind_t *alg = post_op_alg;
    dnnl_post_ops_t ops;
    DNNL_CHECK(dnnl_post_ops_create(&ops), "post-ops");
    dnnl_status_t status = dnnl_success;
    if (n->act.kind != ACT_NONE) {
        float alpha = n->act.kind == ACT_RELU ? 0.0f : n->act.alpha;
        /* A Clip whose min is above its max gives max everywhere (ONNX); oneDNN's clip
         * does so when both bounds are max. */
        if (n->act.kind == ACT_CLIP && alpha > n->act.beta)
            alpha = n->act.beta;
        status = dnnl_post_ops_append_eltwise(ops, 1.0f, alg[n->act.kind], alpha, n->act.beta);
    }
    if (status == dnnl_success)
        status = dnnl_primitive_attr_set_post_ops(attr, ops);
    dnnl_post_ops_destroy(ops);
    DNNL_CHECK(status, "post-ops");
    return 0;
}

struct conv_descs {
    dnnl_memory_desc_t src, weights_any, weights_user, bias, dst, src_arena, dst_arena;
};

/* src, dst and weights in the layout oneDNN prefers (`any`); the arena's NCHW beside. */
static void conv_descs_make(struct conv_descs *d, const struct node *n, const struct ref_io *io,
                            dnnl_data_type_t act_type)
{
    dnnl_format_tag_t layout = dnnl_format_tag_any;
    bool transposed = n->op == OP_CONV_TRANSPOSE;
    int64_t group = n->p.conv.group;
    dnnl_dims_t src, dst, weights;
    dims4(src, io->in_shape[0]);
    dims4(dst, io->out_shape);
    dst[2] -= out_unreached(n, 0);
    dst[3] -= out_unreached(n, 1);
    dims4(weights, io->in_shape[1]);
    if (transposed) { /* ONNX stores Cin x Cout x kh x kw: oneDNN's "iohw" */
        weights[0] = io->in_shape[1]->dim[1];
        weights[1] = io->in_shape[1]->dim[0];
    }
    int weight_dims = 4;
    dnnl_format_tag_t weight_tag = transposed ? dnnl_iohw : dnnl_oihw;
    if (group > 1 && transposed) { /* ONNX's Cin x Cout/g x kh x kw: g, Cin/g, Cout/g */
        const struct shape *ws = io->in_shape[1];
        dnnl_dims_t grouped = {group, ws->dim[1], ws->dim[0] / group, ws->dim[2], ws->dim[3]};
        memcpy(weights, grouped, sizeof grouped);
        weight_dims = 5;
        weight_tag = dnnl_giohw;
    } else if (group > 1) { /* ONNX's Cout x Cin/g x kh x kw: oneDNN's goihw */
        dnnl_dims_t grouped = {group, weights[0] / group, weights[1], weights[2], weights[3]};
        memcpy(weights, grouped, sizeof grouped);
        weight_dims = 5;
        weight_tag = dnnl_goihw;
    }
    dnnl_memory_desc_init_by_tag(&d->src, 4, src, act_type, layout);
    dnnl_memory_desc_init_by_tag(&d->dst, 4, dst, dnnl_f32, layout);
    dnnl_memory_desc_init_by_tag(&d->src_arena, 4, src, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&d->dst_arena, 4, dst, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&d->weights_any, weight_dims, weights, act_type,
                                 dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&d->weights_user, weight_dims, weights, dnnl_f32, weight_tag);
    dnnl_dims_t channels = {io->out_shape->dim[1]};
    dnnl_memory_desc_init_by_tag(&d->bias, 1, channels, dnnl_f32, dnnl_x);
}

static int primitive_desc_make(dnnl_primitive_desc_t *pd, const struct cpu_context *ctx,
                               const struct node *n, const struct conv_descs *d, bool has_bias,
                               dnnl_primitive_attr_t attr, struct error *err)
{
    const struct conv_params *p = &n->p.conv;
    dnnl_dims_t strides = {p->stride[0], p->stride[1]};
    dnnl_dims_t dilates = {p->dilation[0] - 1, p->dilation[1] - 1}; /* oneDNN counts gaps */
    dnnl_dims_t pad_l = {p->pad[0], p->pad[1]}, pad_r = {end_pad(n, 0), end_pad(n, 1)};
    const dnnl_memory_desc_t *bias = has_bias ? &d->bias : NULL;
    union {
        dnnl_convolution_desc_t conv;
        dnnl_deconvolution_desc_t deconv;
    } op;
    if (n->op == OP_CONV_TRANSPOSE) {
        DNNL_CHECK(dnnl_dilated_deconvolution_forward_desc_init(
                       &op.deconv, dnnl_forward_inference, dnnl_deconvolution_direct, &d->src,
                       &d->weights_any, bias, &d->dst, strides, dilates, pad_l, pad_r),
                   "transposed convolution descriptor");
    } else {
        DNNL_CHECK(dnnl_dilated_convolution_forward_desc_init(
                       &op.conv, dnnl_forward_inference, dnnl_convolution_direct, &d->src,
                       &d->weights_any, bias, &d->dst, strides, dilates, pad_l, pad_r),
                   "convolution descriptor");
    }
    DNNL_CHECK(dnnl_primitive_desc_create(pd, &op, attr, ctx->engine, NULL),
               "convolution primitive");
    return 0;
}

/* Runs one reorder from `from` to `to` now (load time only). */
static int reorder_now(const struct cpu_context *ctx, const struct node *n, dnnl_memory_t from,
                       dnnl_memory_t to, struct error *err)
{
    const dnnl_memory_desc_t *from_md, *to_md;
    dnnl_memory_get_memory_desc(from, &from_md);
    dnnl_memory_get_memory_desc(to, &to_md);
    dnnl_primitive_desc_t pd;
    DNNL_CHECK(
        dnnl_reorder_primitive_desc_create(&pd, from_md, ctx->engine, to_md, ctx->engine, NULL),
        "weight reorder");
    dnnl_primitive_t reorder;
    dnnl_status_t status = dnnl_primitive_create(&reorder, pd);
    dnnl_primitive_desc_destroy(pd);
    DNNL_CHECK(status, "weight reorder");
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    status = dnnl_primitive_execute(reorder, ctx->stream, 2, args);
    if (status == dnnl_success)
        status = dnnl_stream_wait(ctx->stream);
    dnnl_primitive_destroy(reorder);
    DNNL_CHECK(status, "weight reorder");
    return 0;
}

/* The weights in the layout the primitive wants, converted once. */
static int weights_make(struct cpu_conv *c, const struct cpu_context *ctx, const struct node *n,
                        const struct conv_descs *d, dnnl_primitive_desc_t pd, const float *weights,
                        struct error *err)
{
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    DNNL_CHECK(dnnl_memory_create(&c->weights, want, ctx->engine, DNNL_MEMORY_ALLOCATE),
               "weight memory");
    dnnl_memory_t user;
    DNNL_CHECK(dnnl_memory_create(&user, &d->weights_user, ctx->engine, (void *)weights),
               "weight memory");
    int rc = reorder_now(ctx, n, user, c->weights, err);
    dnnl_memory_destroy(user);
    return rc;
}

/* A reorder primitive between two memories (created now, run on every run). */
static int convert_make(dnnl_primitive_t *convert, const struct cpu_context *ctx,
                        const struct node *n, const dnnl_memory_desc_t *from,
                        const dnnl_memory_desc_t *to, struct error *err)
{
    dnnl_primitive_desc_t pd;
    DNNL_CHECK(dnnl_reorder_primitive_desc_create(&pd, from, ctx->engine, to, ctx->engine, NULL),
               "layout conversion");
    dnnl_status_t status = dnnl_primitive_create(convert, pd);
    dnnl_primitive_desc_destroy(pd);
    DNNL_CHECK(status, "layout conversion");
    return 0;
}

/* The primitive's src and dst: the arena itself when their layout is the arena's, else
 * buffers of their own with conversions from and to the arena. */
static int io_memories_make(struct cpu_conv *c, const struct cpu_context *ctx, const struct node *n,
                            const struct conv_descs *d, dnnl_primitive_desc_t pd,
                            const struct ref_io *io, struct error *err)
{
    const dnnl_memory_desc_t *src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    float *dst_plain = c->narrow ? c->narrow : io->out;
    if (dnnl_memory_desc_equal(src, &d->src_arena)) {
        DNNL_CHECK(dnnl_memory_create(&c->src, src, ctx->engine, (void *)io->in[0]), "input");
    } else {
        DNNL_CHECK(dnnl_memory_create(&c->src, src, ctx->engine, DNNL_MEMORY_ALLOCATE), "input");
        DNNL_CHECK(dnnl_memory_create(&c->src_arena, &d->src_arena, ctx->engine, (void *)io->in[0]),
                   "input");
        if (convert_make(&c->src_convert, ctx, n, &d->src_arena, src, err))
            return -1;
    }
    if (dnnl_memory_desc_equal(dst, &d->dst_arena)) {
        DNNL_CHECK(dnnl_memory_create(&c->dst, dst, ctx->engine, dst_plain), "output");
        return 0;
    }
    DNNL_CHECK(dnnl_memory_create(&c->dst, dst, ctx->engine, DNNL_MEMORY_ALLOCATE), "output");
    DNNL_CHECK(dnnl_memory_create(&c->dst_arena, &d->dst_arena, ctx->engine, dst_plain), "output");
    return convert_make(&c->dst_convert, ctx, n, dst, &d->dst_arena, err);
}

/* Memories bound to the arena, the constants and a scratchpad of our own. */
static int memories_make(struct cpu_conv *c, const struct cpu_context *ctx, const struct node *n,
                         const struct conv_descs *d, dnnl_primitive_desc_t pd,
                         const struct ref_io *io, struct error *err)
{
    if (io_memories_make(c, ctx, n, d, pd, io, err) ||
        weights_make(c, ctx, n, d, pd, io->in[1], err))
        return -1;
    if (io->in[2] && !c->bias_here)
        DNNL_CHECK(dnnl_memory_create(&c->bias, &d->bias, ctx->engine, (void *)io->in[2]),
                   "bias memory");
    const dnnl_memory_desc_t *scratch =
        dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    DNNL_CHECK(dnnl_memory_create(&c->scratchpad, scratch, ctx->engine, DNNL_MEMORY_ALLOCATE),
               "scratchpad memory");
    return 0;
}

static int attr_make(dnnl_primitive_attr_t *attr, const struct cpu_conv *c, const struct node *n,
                     struct error *err)
{
    DNNL_CHECK(dnnl_primitive_attr_create(attr), "attributes");
    dnnl_status_t status =
        dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (status != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        return dnnl_failed(err, n, "scratchpad mode", status);
    }
    if (!c->epilogue_here && post_ops_make(*attr, n, err)) {
        dnnl_primitive_attr_destroy(*attr);
        return -1;
    }
    return 0;
}

/* Where the epilogue y = act(conv + bias + residual) happens: in oneDNN's post-ops for a
 * Conv without a residual whose activation oneDNN has, in our own pass after the run
 * otherwise. */
static void epilogue_plan(struct cpu_conv *c, const struct node *n, const struct ref_io *io)
{
    bool transposed = n->op == OP_CONV_TRANSPOSE;
    c->node = n;
    c->residual = io->residual;
    bool act_here = n->act.kind != ACT_NONE && post_op_alg[n->act.kind] == 0;
    c->epilogue_here = transposed || io->residual != NULL || act_here;
    c->bias_here = transposed ? io->in[2] : NULL;
    c->dst_data = io->out;
    c->dst_shape = io->out_shape;
}

/* The narrow buffer when some outputs are past every input's reach (end_pad). */
static int narrow_make(struct cpu_conv *c, const struct node *n, const struct ref_io *io,
                       struct error *err)
{
    if (!out_unreached(n, 0) && !out_unreached(n, 1))
        return 0;
    const struct shape *s = io->out_shape;
    c->narrow_h = s->dim[2] - out_unreached(n, 0);
    c->narrow_w = s->dim[3] - out_unreached(n, 1);
    c->narrow = malloc((size_t)(s->dim[0] * s->dim[1] * c->narrow_h * c->narrow_w) * sizeof(float));
    if (!c->narrow)
        return error_set(err, "cpu backend: node '%s' (%s): out of memory", n->name, n->onnx_op);
    return 0;
}

/* The narrow outputs into the arena's full NCHW rows, zeros past their end. */
static void conv_widen(const struct cpu_conv *c)
{
    const struct shape *s = c->dst_shape;
    int64_t planes = s->dim[0] * s->dim[1], h = s->dim[2], w = s->dim[3];
    for (int64_t p = 0; p < planes; p++)
        for (int64_t y = 0; y < h; y++) {
            float *row = c->dst_data + (p * h + y) * w;
            int64_t have = y < c->narrow_h ? c->narrow_w : 0;
            if (have)
                memcpy(row, c->narrow + (p * c->narrow_h + y) * c->narrow_w,
                       (size_t)have * sizeof *row);
            memset(row + have, 0, (size_t)(w - have) * sizeof *row);
        }
}

static int conv_build(struct cpu_conv *c, const struct cpu_context *ctx, const struct node *n,
                      const struct ref_io *io, enum precision precision, struct error *err)
{
    memset(c, 0, sizeof *c);
    epilogue_plan(c, n, io);
    if (narrow_make(c, n, io, err))
        return -1;
    struct conv_descs d;
    conv_descs_make(&d, n, io, precision == PRECISION_BF16 ? dnnl_bf16 : dnnl_f32);
    dnnl_primitive_attr_t attr;
    if (attr_make(&attr, c, n, err)) {
        cpu_conv_destroy(c);
        return -1;
    }
    dnnl_primitive_desc_t pd;
    int rc = primitive_desc_make(&pd, ctx, n, &d, io->in[2] && !c->bias_here, attr, err);
    dnnl_primitive_attr_destroy(attr);
    if (rc) {
        cpu_conv_destroy(c);
        return -1;
    }
    rc = memories_make(c, ctx, n, &d, pd, io, err);
    if (rc == 0) {
        dnnl_status_t status = dnnl_primitive_create(&c->primitive, pd);
        if (status != dnnl_success)
            rc = dnnl_failed(err, n, "convolution primitive", status);
    }
    dnnl_primitive_desc_destroy(pd);
    if (rc)
        cpu_conv_destroy(c);
    return rc;
}

int cpu_conv_create(struct cpu_conv *c, const struct cpu_context *ctx, const struct node *n,
                    const struct ref_io *io, enum precision precision, struct error *err)
{
    return conv_build(c, ctx, n, io, precision, err);
}

static int execute(dnnl_primitive_t p, const struct cpu_context *ctx, int nargs,
                   const dnnl_exec_arg_t *args, const struct node *n, const char *what,
                   struct error *err)
{
    if (dnnl_primitive_execute(p, ctx->stream, nargs, args) != dnnl_success)
        return error_set(err, "cpu backend: node '%s' (%s): %s failed", n->name, n->onnx_op, what);
    return 0;
}

int cpu_conv_run(const struct cpu_conv *c, const struct cpu_context *ctx, struct error *err)
{
    const struct node *n = c->node;
    dnnl_exec_arg_t src_args[] = {{DNNL_ARG_FROM, c->src_arena}, {DNNL_ARG_TO, c->src}};
    if (c->src_convert && execute(c->src_convert, ctx, 2, src_args, n, "input conversion", err))
        return -1;
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, c->src},
                               {DNNL_ARG_WEIGHTS, c->weights},
                               {DNNL_ARG_DST, c->dst},
                               {DNNL_ARG_SCRATCHPAD, c->scratchpad},
                               {DNNL_ARG_BIAS, c->bias}};
    if (execute(c->primitive, ctx, c->bias ? 5 : 4, args, n, "the convolution", err))
        return -1;
    dnnl_exec_arg_t dst_args[] = {{DNNL_ARG_FROM, c->dst}, {DNNL_ARG_TO, c->dst_arena}};
    if (c->dst_convert && execute(c->dst_convert, ctx, 2, dst_args, n, "output conversion", err))
        return -1;
    if (c->narrow)
        conv_widen(c);
    if (c->epilogue_here && (c->bias_here || c->residual || n->act.kind != ACT_NONE))
        cpu_bias_epilogue(n, c->bias_here, c->residual, c->dst_data, c->dst_shape);
    return 0;
}

void cpu_conv_destroy(struct cpu_conv *c)
{
    dnnl_primitive_destroy(c->primitive);
    dnnl_primitive_destroy(c->src_convert);
    dnnl_primitive_destroy(c->dst_convert);
    dnnl_memory_t memories[] = {c->src,        c->weights,   c->bias,     c->dst,
                                c->scratchpad, c->src_arena, c->dst_arena};
    for (size_t i = 0; i < sizeof memories / sizeof memories[0]; i++)
        dnnl_memory_destroy(memories[i]);
    free(c->narrow);
    memset(c, 0, sizeof *c);
}
