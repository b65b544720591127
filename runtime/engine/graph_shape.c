/* graph_shape.c — output shapes of every op, checked against its inputs and parameters.
 *
 * Owns graph_infer_shape: it fills the node's output value's shape and records the node as
 * that value's producer. It reads values and parameters and may fill unset conv defaults
 * (kernel from the weight, stride/dilation/group 0 → 1); it never touches data, never
 * allocates and never reorders nodes. Every error names the node and its ONNX op. */
#include "graph.h"

#include <stdarg.h>
#include <stdio.h>

/* Sets "node 'NAME' (OnnxOp): <message>". Returns -1. */
static int node_error(struct error *err, const struct node *n, const char *fmt, ...)
    MNEMO_PRINTF(3, 4);
static int node_error(struct error *err, const struct node *n, const char *fmt, ...)
{
    char msg[ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return error_set(err, "node '%s' (%s): %s", n->name, n->onnx_op, msg);
}

/* Input slot i as a value, or NULL (err set) when absent or out of range. */
static const struct value *input_value(const struct graph *g, const struct node *n, int i,
                                       const char *role, struct error *err)
{
    int32_t id = i < n->n_inputs ? n->input[i] : -1;
    if (id < 0 || id >= g->n_values) {
        node_error(err, n, "the %s (input %d) is missing", role, i);
        return NULL;
    }
    const struct value *v = &g->values[id];
    if (v->kind == VALUE_COMPUTED && v->producer < 0) {
        node_error(err, n,
                   "reads '%s' before any node produces it (nodes must be added in "
                   "topological order)",
                   v->name);
        return NULL;
    }
    return v;
}

static int require_rank(const struct node *n, const struct value *v, const char *role, int32_t rank,
                        struct error *err)
{
    if (v->shape.rank == rank)
        return 0;
    char buf[96];
    return node_error(err, n, "the %s '%s' must have rank %d but has shape %s", role, v->name, rank,
                      shape_str(&v->shape, buf, sizeof buf));
}

/* A per-channel parameter (BatchNorm/InstanceNorm scale, bias, mean, var; conv bias). */
static int require_vector(const struct node *n, const struct value *v, const char *role,
                          int64_t length, struct error *err)
{
    if (v->shape.rank == 1 && v->shape.dim[0] == length)
        return 0;
    char buf[96];
    return node_error(err, n,
                      "the %s '%s' has shape %s but must be a vector of %lld (one per "
                      "channel)",
                      role, v->name, shape_str(&v->shape, buf, sizeof buf), (long long)length);
}

/* Fills parameters a hand-built node may leave at zero, then checks them. */
static int conv_params_check(struct node *n, const struct shape *w, struct error *err)
{
    struct conv_params *p = &n->p.conv;
    for (int i = 0; i < 2; i++) {
        if (p->kernel[i] == 0)
            p->kernel[i] = (int32_t)w->dim[2 + i];
        if (p->stride[i] == 0)
            p->stride[i] = 1;
        if (p->dilation[i] == 0)
            p->dilation[i] = 1;
    }
    if (p->group == 0)
        p->group = 1;
    if (p->group < 1)
        return node_error(err, n, "group %d must be >= 1", p->group);
    if (p->kernel[0] != w->dim[2] || p->kernel[1] != w->dim[3])
        return node_error(err, n, "kernel_shape %dx%d disagrees with the weight's %lldx%lld",
                          p->kernel[0], p->kernel[1], (long long)w->dim[2], (long long)w->dim[3]);
    for (int i = 0; i < 2; i++) {
        if (p->stride[i] < 1 || p->dilation[i] < 1)
            return node_error(err, n, "strides and dilations must be >= 1 (got %d, %d)",
                              p->stride[i], p->dilation[i]);
        if (p->pad[i] < 0 || p->pad[i + 2] < 0)
            return node_error(err, n, "pads must be >= 0");
        if (p->output_padding[i] < 0)
            return node_error(err, n, "output_padding must be >= 0");
    }
    return 0;
}

/* Conv and ConvTranspose: X (N C H W), W, optional bias of length Cout. */
static int infer_conv(const struct graph *g, struct node *n, struct shape *out, struct error *err)
{
    bool transpose = n->op == OP_CONV_TRANSPOSE;
    const struct value *x = input_value(g, n, 0, "input", err);
    const struct value *w = x ? input_value(g, n, 1, "weight", err) : NULL;
    if (!w || require_rank(n, x, "input", 4, err) || require_rank(n, w, "weight", 4, err))
        return -1;
    if (conv_params_check(n, &w->shape, err))
        return -1;
    const struct conv_params *p = &n->p.conv;
    /* A grouped Conv's weight holds Cin / group input channels per output channel; a
     * grouped ConvTranspose's (Cin x Cout/group) Cout / group output channels per input. */
    int64_t w_cin = transpose ? w->shape.dim[0] : w->shape.dim[1] * p->group;
    int64_t cout = transpose ? w->shape.dim[1] * p->group : w->shape.dim[0];
    if (w_cin != x->shape.dim[1])
        return node_error(err, n,
                          "weight has %lld input channels (group %d) but the input has %lld",
                          (long long)w_cin, p->group, (long long)x->shape.dim[1]);
    if (transpose && w_cin % p->group != 0)
        return node_error(err, n, "%lld input channels do not divide into %d groups",
                          (long long)w_cin, p->group);
    if (cout % p->group != 0)
        return node_error(err, n, "%lld output channels do not divide into %d groups",
                          (long long)cout, p->group);
    if (n->n_inputs > 2 && n->input[2] >= 0) {
        const struct value *b = input_value(g, n, 2, "bias", err);
        if (!b || require_vector(n, b, "bias", cout, err))
            return -1;
    }
    *out = shape_make4(x->shape.dim[0], cout, 0, 0);
    for (int i = 0; i < 2; i++) {
        int64_t in = x->shape.dim[2 + i];
        int64_t span = (int64_t)p->dilation[i] * (p->kernel[i] - 1) + 1;
        int64_t pads = (int64_t)p->pad[i] + p->pad[i + 2];
        int64_t size;
        if (transpose) {
            if (p->output_padding[i] >= p->stride[i] && p->output_padding[i] >= p->dilation[i])
                return node_error(err, n,
                                  "output_padding %d must be smaller than the stride "
                                  "%d or the dilation %d",
                                  p->output_padding[i], p->stride[i], p->dilation[i]);
            size = p->stride[i] * (in - 1) + p->output_padding[i] + span - pads;
        } else {
            size = in + pads < span ? 0 : (in + pads - span) / p->stride[i] + 1;
        }
        if (size < 1)
            return node_error(err, n,
                              "the %s output would be empty (input %lld, kernel %d, "
                              "pads %d+%d); the input image is too small",
                              i == 0 ? "height" : "width", (long long)in, p->kernel[i], p->pad[i],
                              p->pad[i + 2]);
        out->dim[2 + i] = size;
    }
    return 0;
}

/* BatchNormalization (X, scale, bias, mean, var) and InstanceNormalization (X, scale,
 * bias): every parameter is one value per channel (dim 1). */
static int infer_norm(const struct graph *g, struct node *n, struct shape *out, struct error *err)
{
    static const char *const roles[] = {"input", "scale", "bias", "mean", "var"};
    int n_params = n->op == OP_BATCH_NORM ? 5 : 3;
    const struct value *x = input_value(g, n, 0, "input", err);
    if (!x)
        return -1;
    int32_t min_rank = n->op == OP_BATCH_NORM ? 2 : 3;
    if (x->shape.rank < min_rank) {
        char buf[96];
        return node_error(err, n, "the input must have rank >= %d (N, C, ...) but has shape %s",
                          min_rank, shape_str(&x->shape, buf, sizeof buf));
    }
    for (int i = 1; i < n_params; i++) {
        const struct value *v = input_value(g, n, i, roles[i], err);
        if (!v || require_vector(n, v, roles[i], x->shape.dim[1], err))
            return -1;
    }
    if (!(n->p.norm.epsilon >= 0.0f))
        return node_error(err, n, "epsilon must be >= 0");
    *out = x->shape;
    return 0;
}

static int infer_same_shape(const struct graph *g, struct node *n, struct shape *out,
                            struct error *err)
{
    const struct value *x = input_value(g, n, 0, "input", err);
    if (!x)
        return -1;
    *out = x->shape;
    return 0;
}

/* Numpy broadcasting: shapes align at the right; each pair of dims is equal or one is 1. */
static int infer_binary(const struct graph *g, struct node *n, struct shape *out, struct error *err)
{
    const struct value *a = input_value(g, n, 0, "first operand", err);
    const struct value *b = a ? input_value(g, n, 1, "second operand", err) : NULL;
    if (!b)
        return -1;
    if ((unsigned)n->p.binary.kind >= BINARY_COUNT)
        return node_error(err, n, "unknown binary kind %d", (int)n->p.binary.kind);
    const struct shape *sa = &a->shape, *sb = &b->shape;
    out->rank = sa->rank > sb->rank ? sa->rank : sb->rank;
    for (int32_t i = 0; i < out->rank; i++) {
        int32_t ia = i - (out->rank - sa->rank), ib = i - (out->rank - sb->rank);
        int64_t da = ia >= 0 ? sa->dim[ia] : 1, db = ib >= 0 ? sb->dim[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char bufa[96], bufb[96];
            return node_error(err, n,
                              "shapes %s ('%s') and %s ('%s') cannot be broadcast "
                              "together",
                              shape_str(sa, bufa, sizeof bufa), a->name,
                              shape_str(sb, bufb, sizeof bufb), b->name);
        }
        out->dim[i] = da == 1 ? db : da;
    }
    return 0;
}

static int infer_concat(const struct graph *g, struct node *n, struct shape *out, struct error *err)
{
    if (n->n_inputs < 1 || n->n_inputs > NODE_MAX_INPUTS)
        return node_error(err, n, "needs 1 to %d inputs, has %d", NODE_MAX_INPUTS, n->n_inputs);
    const struct value *first = input_value(g, n, 0, "input", err);
    if (!first)
        return -1;
    int32_t axis = n->p.concat.axis;
    if (axis < 0 || axis >= first->shape.rank)
        return node_error(err, n, "axis %d is outside the input's rank %d", axis,
                          first->shape.rank);
    *out = first->shape;
    for (int i = 1; i < n->n_inputs; i++) {
        const struct value *v = input_value(g, n, i, "input", err);
        if (!v)
            return -1;
        bool same = v->shape.rank == out->rank;
        for (int32_t d = 0; same && d < out->rank; d++)
            same = d == axis || v->shape.dim[d] == first->shape.dim[d];
        if (!same) {
            char bufa[96], bufb[96];
            return node_error(err, n,
                              "input %d '%s' has shape %s, which does not match %s "
                              "in every dimension but axis %d",
                              i, v->name, shape_str(&v->shape, bufa, sizeof bufa),
                              shape_str(&first->shape, bufb, sizeof bufb), axis);
        }
        out->dim[axis] += v->shape.dim[axis];
    }
    return 0;
}

/* Negative pads crop. Reflect needs pads smaller than the dimension (it mirrors once,
 * excluding the edge); edge needs a non-empty dimension. */
static int infer_pad(const struct graph *g, struct node *n, struct shape *out, struct error *err)
{
    const struct value *x = input_value(g, n, 0, "input", err);
    if (!x)
        return -1;
    const struct pad_params *p = &n->p.pad;
    if ((unsigned)p->mode >= PAD_MODE_COUNT)
        return node_error(err, n, "unknown pad mode %d", (int)p->mode);
    int32_t rank = x->shape.rank;
    *out = x->shape;
    for (int32_t d = 0; d < rank; d++) {
        int64_t begin = p->pads[d], end = p->pads[d + rank], in = x->shape.dim[d];
        out->dim[d] = in + begin + end;
        if (out->dim[d] < 1)
            return node_error(err, n, "pads %lld,%lld crop dimension %d (size %lld) to nothing",
                              (long long)begin, (long long)end, d, (long long)in);
        if (p->mode == PAD_REFLECT && (begin >= in || end >= in))
            return node_error(err, n,
                              "reflect pads %lld,%lld must be smaller than dimension "
                              "%d (size %lld)",
                              (long long)begin, (long long)end, d, (long long)in);
    }
    return 0;
}

/* Output = floor(input * scale) over H and W. When the importer already knows the output
 * size (Resize with `sizes`) it may preset the output shape; that is kept if it agrees
 * with the scale to within one pixel (float scales like 7/3 do not multiply back exactly). */
static int infer_resize(const struct graph *g, struct node *n, const struct shape *preset,
                        struct shape *out, struct error *err)
{
    const struct value *x = input_value(g, n, 0, "input", err);
    if (!x || require_rank(n, x, "input", 4, err))
        return -1;
    const struct resize_params *p = &n->p.resize;
    if ((unsigned)p->mode >= RESIZE_MODE_COUNT || (unsigned)p->coord >= RESIZE_COORD_COUNT ||
        (unsigned)p->nearest >= RESIZE_NEAREST_COUNT)
        return node_error(err, n, "unknown resize mode, coordinate mode or nearest mode");
    bool have_preset = preset->rank == 4 && preset->dim[0] == x->shape.dim[0] &&
                       preset->dim[1] == x->shape.dim[1] && preset->dim[2] > 0 &&
                       preset->dim[3] > 0;
    *out = x->shape;
    for (int i = 0; i < 2; i++) {
        float scale = p->scale[i];
        if (!(scale > 0.0f))
            return node_error(err, n, "scale %g must be > 0", (double)scale);
        double exact = (double)x->shape.dim[2 + i] * scale;
        /* The 1e-4 absorbs float rounding of scales such as 2.0f/3 * 3. */
        out->dim[2 + i] = (int64_t)floor(exact + 1e-4);
        if (have_preset) {
            if (fabs((double)preset->dim[2 + i] - exact) >= 1.0)
                return node_error(err, n,
                                  "output size %lld disagrees with input %lld x scale "
                                  "%g",
                                  (long long)preset->dim[2 + i], (long long)x->shape.dim[2 + i],
                                  (double)scale);
            out->dim[2 + i] = preset->dim[2 + i];
        }
        if (out->dim[2 + i] < 1)
            return node_error(err, n, "scale %g makes an empty output", (double)scale);
    }
    return 0;
}

/* DepthToSpace: C / b^2 channels of b times the sides; SpaceToDepth the other way. */
static int infer_depth_space(const struct graph *g, struct node *n, struct shape *out,
                             struct error *err)
{
    const struct value *x = input_value(g, n, 0, "input", err);
    if (!x || require_rank(n, x, "input", 4, err))
        return -1;
    const struct depth_space_params *p = &n->p.depth_space;
    int64_t b = p->block, c = x->shape.dim[1], h = x->shape.dim[2], w = x->shape.dim[3];
    if (b < 1 || b > 64)
        return node_error(err, n, "blocksize %d must be 1 to 64", p->block);
    if (!p->to_depth && c % (b * b) != 0)
        return node_error(err, n, "%lld channels do not divide by blocksize^2 = %lld", (long long)c,
                          (long long)(b * b));
    if (p->to_depth && (h % b != 0 || w % b != 0))
        return node_error(err, n, "the image %lldx%lld does not divide by blocksize %lld",
                          (long long)h, (long long)w, (long long)b);
    *out = p->to_depth ? shape_make4(x->shape.dim[0], c * b * b, h / b, w / b)
                       : shape_make4(x->shape.dim[0], c / (b * b), h * b, w * b);
    return 0;
}

/* One side of a pool's output: floor (or ceil) of (in + pads - span) / stride + 1; with
 * ceil, a last window that would start in the end padding is dropped (PyTorch, ONNX). */
static int64_t pool_side(const struct pool_params *p, int i, int64_t in)
{
    int64_t span = (int64_t)p->dilation[i] * (p->kernel[i] - 1) + 1;
    int64_t room = in + p->pad[i] + p->pad[i + 2] - span;
    if (room < 0)
        return 0;
    int64_t out = (p->ceil_mode ? room + p->stride[i] - 1 : room) / p->stride[i] + 1;
    if (p->ceil_mode && (out - 1) * p->stride[i] >= in + p->pad[i])
        out--;
    return out;
}

static int infer_pool(const struct graph *g, struct node *n, struct shape *out, struct error *err)
{
    const struct value *x = input_value(g, n, 0, "input", err);
    if (!x || require_rank(n, x, "input", 4, err))
        return -1;
    const struct pool_params *p = &n->p.pool;
    if ((unsigned)p->kind >= POOL_KIND_COUNT)
        return node_error(err, n, "unknown pool kind %d", (int)p->kind);
    *out = x->shape;
    for (int i = 0; i < 2; i++) {
        if (p->kernel[i] < 1 || p->stride[i] < 1 || p->dilation[i] < 1 || p->pad[i] < 0 ||
            p->pad[i + 2] < 0)
            return node_error(err, n, "kernel, strides and dilations must be >= 1, pads >= 0");
        /* Every window must hold an input pixel: pads smaller than the kernel (ONNX). */
        if (p->pad[i] >= p->kernel[i] || p->pad[i + 2] >= p->kernel[i])
            return node_error(err, n, "pads %d,%d must be smaller than the kernel %d", p->pad[i],
                              p->pad[i + 2], p->kernel[i]);
        out->dim[2 + i] = pool_side(p, i, x->shape.dim[2 + i]);
        if (out->dim[2 + i] < 1)
            return node_error(err, n, "the %s output would be empty (input %lld, kernel %d)",
                              i == 0 ? "height" : "width", (long long)x->shape.dim[2 + i],
                              p->kernel[i]);
    }
    return 0;
}

static int infer_reshape(const struct graph *g, struct node *n, struct shape *out,
                         struct error *err)
{
    const struct value *x = input_value(g, n, 0, "input", err);
    if (!x)
        return -1;
    const struct shape *to = &n->p.reshape.to;
    if (to->rank < 1 || to->rank > SHAPE_MAX_RANK)
        return node_error(err, n, "target rank %d must be 1 to %d", to->rank, SHAPE_MAX_RANK);
    for (int32_t d = 0; d < to->rank; d++)
        if (to->dim[d] < 1)
            return node_error(err, n, "target dimension %d is %lld; it must be >= 1", d,
                              (long long)to->dim[d]);
    char a[96], b[96];
    if (shape_count(to) != shape_count(&x->shape))
        return node_error(err, n, "cannot reshape %s into %s", shape_str(&x->shape, a, sizeof a),
                          shape_str(to, b, sizeof b));
    *out = *to;
    return 0;
}

/* ReduceMean keeps the reduced axes as 1s or drops them; LayerNorm keeps X's shape. */
static int infer_reduce(const struct graph *g, struct node *n, struct shape *out, struct error *err)
{
    const struct value *x = input_value(g, n, 0, "input", err);
    if (!x)
        return -1;
    const struct reduce_params *p = &n->p.reduce;
    if (p->begin < 0 || p->begin >= p->end || p->end > x->shape.rank)
        return node_error(err, n, "axes %d to %d are not within rank %d", p->begin, p->end - 1,
                          x->shape.rank);
    if (n->op == OP_LAYER_NORM && !(p->epsilon >= 0.0f))
        return node_error(err, n, "epsilon must be >= 0");
    *out = x->shape;
    if (n->op == OP_LAYER_NORM)
        return 0;
    out->rank = 0;
    for (int32_t d = 0; d < x->shape.rank; d++) {
        bool reduced = d >= p->begin && d < p->end;
        if (!reduced || p->keep_dims)
            out->dim[out->rank++] = reduced ? 1 : x->shape.dim[d];
    }
    return 0;
}

static int infer_by_op(struct graph *g, struct node *n, const struct shape *preset,
                       struct shape *out, struct error *err)
{
    switch (n->op) {
    case OP_CONV:
    case OP_CONV_TRANSPOSE:
        return infer_conv(g, n, out, err);
    case OP_BATCH_NORM:
    case OP_INSTANCE_NORM:
        return infer_norm(g, n, out, err);
    case OP_ACTIVATION:
        if ((unsigned)n->act.kind >= ACT_COUNT)
            return node_error(err, n, "unknown activation %d", (int)n->act.kind);
        return infer_same_shape(g, n, out, err);
    case OP_BINARY:
        return infer_binary(g, n, out, err);
    case OP_CONCAT:
        return infer_concat(g, n, out, err);
    case OP_PAD:
        return infer_pad(g, n, out, err);
    case OP_RESIZE:
        return infer_resize(g, n, preset, out, err);
    case OP_DEPTH_SPACE:
        return infer_depth_space(g, n, out, err);
    case OP_POOL:
        return infer_pool(g, n, out, err);
    case OP_RESHAPE:
        return infer_reshape(g, n, out, err);
    case OP_REDUCE_MEAN:
    case OP_LAYER_NORM:
        return infer_reduce(g, n, out, err);
    case OP_COUNT:
        break;
    }
    return node_error(err, n, "unknown op %d", (int)n->op);
}

int graph_infer_shape(struct graph *g, struct node *n, struct error *err)
{
    if (n < g->nodes || n >= g->nodes + g->n_nodes)
        return error_set(err, "graph_infer_shape: the node is not part of this graph");
    int32_t index = (int32_t)(n - g->nodes);
    if (n->output < 0 || n->output >= g->n_values)
        return node_error(err, n, "has no output value");
    struct value *y = &g->values[n->output];
    if (y->kind != VALUE_COMPUTED)
        return node_error(err, n, "output '%s' is an input or a constant, not a computed value",
                          y->name);
    if (y->producer >= 0 && y->producer != index)
        return node_error(err, n, "output '%s' is already produced by node '%s'", y->name,
                          g->nodes[y->producer].name);
    if (n->n_inputs < 0 || n->n_inputs > NODE_MAX_INPUTS)
        return node_error(err, n, "has %d inputs (at most %d)", n->n_inputs, NODE_MAX_INPUTS);
    for (int i = 0; i < n->n_inputs; i++) {
        if (n->input[i] == n->output)
            return node_error(err, n, "reads its own output '%s'", y->name);
    }
    struct shape out = {0};
    if (infer_by_op(g, n, &y->shape, &out, err))
        return -1;
    y->shape = out;
    y->producer = index;
    return 0;
}
