/* onnx_ops.c — maps each ONNX node onto the graph: a run-time node (Conv, norms,
 * activations, binary ops, Concat, Pad, Resize), an alias (Identity, Dropout), or a
 * load-time evaluation (onnx_fold.c).
 *
 * Owns the table of ONNX ops mnemo reads and their attributes. Must never guess: an op,
 * attribute or mode it does not run is an error naming the node and the op. */
#include "onnx_internal.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No layer of an image model makes a side longer than this; bounding pads and resize
 * factors keeps every later size computation far from overflow. */
#define OUTPUT_DIM_MAX 65536

struct node_ctx {
    const Onnx__NodeProto *n;
    const char *name; /* the node's name, or "<OpType>_<index>" */
};

/* The graph value for input i, copying a known float constant into the graph on first
 * use. */
static int32_t input_value(struct loader *L, const struct node_ctx *c, size_t i, struct error *err)
{
    const char *name = onnx_node_input(c->n, i);
    if (!name)
        return -1;
    int32_t id = onnx_loader_find_value(L, name);
    if (id >= 0)
        return id;
    const struct known *k = onnx_known_find(&L->known, name);
    if (!k)
        return error_set(err,
                         "node '%s' (%s) reads '%s', which no earlier node produces "
                         "(the graph must be in topological order)",
                         c->name, c->n->op_type, name);
    if (k->dtype != DT_FLOAT)
        return error_set(err,
                         "node '%s' (%s) reads the %s constant '%s'; mnemo runs float32 "
                         "tensors only",
                         c->name, c->n->op_type, onnx_dtype_name(k->dtype), name);
    return graph_add_const(L->g, name, &k->shape, k->f, err);
}

/* Adds a graph node of `op` whose first `n_tensors` ONNX inputs are graph values and whose
 * first output is a new computed value. Parameters are the caller's to fill. */
static struct node *node_begin(struct loader *L, const struct node_ctx *c, enum op op,
                               size_t n_tensors, struct error *err)
{
    int32_t inputs[NODE_MAX_INPUTS];
    size_t count = c->n->n_input < n_tensors ? c->n->n_input : n_tensors;
    if (count > NODE_MAX_INPUTS || !onnx_node_input(c->n, 0)) {
        error_set(err, "node '%s' (%s) has %zu inputs; mnemo handles 1 to %d", c->name,
                  c->n->op_type, c->n->n_input, NODE_MAX_INPUTS);
        return NULL;
    }
    for (size_t j = 0; j < count; j++) {
        inputs[j] = input_value(L, c, j, err);
        if (inputs[j] < 0 && onnx_node_input(c->n, j))
            return NULL;
    }
    int32_t out = graph_add_value(L->g, c->n->output[0], VALUE_COMPUTED, NULL, err);
    struct node *node = out < 0 ? NULL : graph_add_node(L->g, op, c->name, c->n->op_type, err);
    if (!node)
        return NULL;
    node->n_inputs = (int32_t)count;
    memcpy(node->input, inputs, count * sizeof inputs[0]);
    node->output = out;
    return node;
}

static const struct shape *input_shape(const struct loader *L, const struct node *node, int i)
{
    return &L->g->values[node->input[i]].shape;
}

/* Inputs from `first` on (weights, norm parameters) must be constants: the backends
 * prepare them once at load. `need` is how many inputs the op requires in all. */
static int inputs_constant(const struct loader *L, const struct node_ctx *c,
                           const struct node *node, int first, int need, struct error *err)
{
    if (node->n_inputs < need)
        return error_set(err, "node '%s' (%s) has %d inputs; it needs %d", c->name, c->n->op_type,
                         node->n_inputs, need);
    for (int j = first; j < node->n_inputs; j++)
        if (node->input[j] >= 0 && L->g->values[node->input[j]].kind != VALUE_CONST)
            return error_set(err,
                             "node '%s' (%s): input '%s' is computed at run time; mnemo needs "
                             "weights and normalisation parameters to be constants",
                             c->name, c->n->op_type, L->g->values[node->input[j]].name);
    return 0;
}

static int ints_to_i32(const Onnx__AttributeProto *a, int32_t *dst, size_t want, int64_t lo,
                       const struct node_ctx *c, struct error *err)
{
    if (!a)
        return 0;
    if (a->n_ints != want)
        return error_set(err, "node '%s' (%s): attribute '%s' has %zu values, expected %zu",
                         c->name, c->n->op_type, a->name, a->n_ints, want);
    for (size_t j = 0; j < want; j++) {
        if (a->ints[j] < lo || a->ints[j] > (1 << 20))
            return error_set(err, "node '%s' (%s): attribute '%s' value %lld is out of range",
                             c->name, c->n->op_type, a->name, (long long)a->ints[j]);
        dst[j] = (int32_t)a->ints[j];
    }
    return 0;
}

/* Splits a total padding between begin and end as ONNX's auto_pad says. */
static void pad_split(int64_t total, bool upper, int32_t *begin, int32_t *end)
{
    *begin = (int32_t)(upper ? total / 2 : total - total / 2);
    *end = (int32_t)(total - *begin);
}

static int conv_common(struct loader *L, const struct node_ctx *c, struct node *node,
                       struct error *err)
{
    struct conv_params *p = &node->p.conv;
    if (inputs_constant(L, c, node, 1, 2, err))
        return -1;
    const struct shape *w = input_shape(L, node, 1);
    if (w->rank != 4)
        return error_set(err, "node '%s' (%s): weights must be a 4-D constant", c->name,
                         c->n->op_type);
    p->kernel[0] = (int32_t)w->dim[2];
    p->kernel[1] = (int32_t)w->dim[3];
    p->stride[0] = p->stride[1] = p->dilation[0] = p->dilation[1] = 1;
    int64_t group = onnx_attr_int(c->n, "group", 1);
    if (group < 1 || group > (1 << 20))
        return error_set(err, "node '%s' (%s): group %lld is out of range", c->name, c->n->op_type,
                         (long long)group);
    p->group = (int32_t)group; /* shape inference checks it against the channels */
    int32_t kernel[2] = {p->kernel[0], p->kernel[1]};
    if (ints_to_i32(onnx_attr_find(c->n, "kernel_shape"), kernel, 2, 1, c, err) ||
        ints_to_i32(onnx_attr_find(c->n, "strides"), p->stride, 2, 1, c, err) ||
        ints_to_i32(onnx_attr_find(c->n, "dilations"), p->dilation, 2, 1, c, err) ||
        ints_to_i32(onnx_attr_find(c->n, "pads"), p->pad, 4, 0, c, err) ||
        ints_to_i32(onnx_attr_find(c->n, "output_padding"), p->output_padding, 2, 0, c, err))
        return -1;
    if (kernel[0] != p->kernel[0] || kernel[1] != p->kernel[1])
        return error_set(err, "node '%s' (%s): kernel_shape %dx%d does not match the weights",
                         c->name, c->n->op_type, kernel[0], kernel[1]);
    return 0;
}

/* auto_pad for Conv: SAME_* keeps ceil(in / stride) outputs. */
static int conv_auto_pad(const struct loader *L, const struct node_ctx *c, struct node *node,
                         struct error *err)
{
    char mode[32];
    onnx_attr_string(c->n, "auto_pad", "NOTSET", mode, sizeof mode);
    struct conv_params *p = &node->p.conv;
    bool same_upper = strcmp(mode, "SAME_UPPER") == 0;
    if (strcmp(mode, "NOTSET") == 0)
        return 0;
    if (strcmp(mode, "VALID") == 0) {
        memset(p->pad, 0, sizeof p->pad);
        return 0;
    }
    if (!same_upper && strcmp(mode, "SAME_LOWER") != 0)
        return error_set(err, "node '%s' (%s): auto_pad '%s' is not an ONNX mode", c->name,
                         c->n->op_type, mode);
    const struct shape *x = input_shape(L, node, 0);
    for (int d = 0; d < 2; d++) {
        int64_t in = x->dim[2 + d], s = p->stride[d];
        int64_t out = node->op == OP_CONV ? (in + s - 1) / s : in * s;
        int64_t span = (int64_t)(p->kernel[d] - 1) * p->dilation[d] + 1;
        int64_t total = node->op == OP_CONV ? (out - 1) * s + span - in
                                            : s * (in - 1) + p->output_padding[d] + span - out;
        pad_split(total > 0 ? total : 0, same_upper, &p->pad[d], &p->pad[2 + d]);
    }
    return 0;
}

/* ConvTranspose output_shape: the pads follow from the wanted spatial size. */
static int conv_transpose_output_shape(const struct loader *L, const struct node_ctx *c,
                                       struct node *node, struct error *err)
{
    const Onnx__AttributeProto *a = onnx_attr_find(c->n, "output_shape");
    if (!a)
        return 0;
    if (a->n_ints != 2 && a->n_ints != 4)
        return error_set(err, "node '%s' (ConvTranspose): output_shape needs 2 values", c->name);
    char mode[32];
    onnx_attr_string(c->n, "auto_pad", "NOTSET", mode, sizeof mode);
    struct conv_params *p = &node->p.conv;
    const struct shape *x = input_shape(L, node, 0);
    for (int d = 0; d < 2; d++) {
        int64_t want = a->ints[a->n_ints - 2 + d];
        int64_t span = (int64_t)(p->kernel[d] - 1) * p->dilation[d] + 1;
        int64_t total = p->stride[d] * (x->dim[2 + d] - 1) + p->output_padding[d] + span - want;
        if (total < 0)
            return error_set(err,
                             "node '%s' (ConvTranspose): output_shape %lld is larger "
                             "than the layer makes; mnemo cannot pad it",
                             c->name, (long long)want);
        pad_split(total, strcmp(mode, "SAME_UPPER") == 0, &p->pad[d], &p->pad[2 + d]);
    }
    return 0;
}

static int node_finish(struct loader *L, struct node *node, struct error *err)
{
    return graph_infer_shape(L->g, node, err);
}

static int build_conv(struct loader *L, const struct node_ctx *c, struct error *err)
{
    bool transpose = strcmp(c->n->op_type, "ConvTranspose") == 0;
    struct node *node = node_begin(L, c, transpose ? OP_CONV_TRANSPOSE : OP_CONV, 3, err);
    if (!node || conv_common(L, c, node, err))
        return -1;
    if (transpose && onnx_attr_find(c->n, "output_shape"))
        return conv_transpose_output_shape(L, c, node, err) || node_finish(L, node, err);
    return conv_auto_pad(L, c, node, err) || node_finish(L, node, err);
}

/* What to change when a training-mode export is refused. */
#define EXPORT_EVAL_HINT                                                                           \
    "export with model.eval() and torch.onnx.export(..., "                                         \
    "training=torch.onnx.TrainingMode.EVAL)"

/* Outputs the file names (an optional output may be present as an empty name). */
static size_t named_outputs(const Onnx__NodeProto *n)
{
    size_t count = 0;
    for (size_t j = 0; j < n->n_output; j++)
        count += n->output[j] && n->output[j][0];
    return count;
}

/* Training mode has two marks: the training_mode attribute (opset 14 on) and, before it,
 * the running-statistics outputs (five in all) that only a training export writes. */
static int build_batch_norm(struct loader *L, const struct node_ctx *c, struct error *err)
{
    size_t outputs = named_outputs(c->n);
    if (onnx_attr_int(c->n, "training_mode", 0) != 0 || outputs > 1)
        return error_set(
            err,
            "node '%s' (BatchNormalization) is in training mode (%s%zu outputs): "
            "it would normalise with each frame's own statistics, which mnemo "
            "does not run; " EXPORT_EVAL_HINT,
            c->name, onnx_attr_int(c->n, "training_mode", 0) ? "training_mode 1, " : "", outputs);
    if (onnx_attr_int(c->n, "spatial", 1) != 1)
        return error_set(err,
                         "node '%s' (BatchNormalization) is not spatial (spatial 0); mnemo "
                         "runs spatial BatchNorm only",
                         c->name);
    struct node *node = node_begin(L, c, OP_BATCH_NORM, 5, err);
    if (!node || inputs_constant(L, c, node, 1, 5, err))
        return -1;
    node->p.norm.epsilon = onnx_attr_float(c->n, "epsilon", 1e-5f);
    return node_finish(L, node, err);
}

static int build_instance_norm(struct loader *L, const struct node_ctx *c, struct error *err)
{
    struct node *node = node_begin(L, c, OP_INSTANCE_NORM, 3, err);
    if (!node || inputs_constant(L, c, node, 1, 3, err))
        return -1;
    node->p.norm.epsilon = onnx_attr_float(c->n, "epsilon", 1e-5f);
    return node_finish(L, node, err);
}

/* A scalar float constant from input i (Clip min/max, Pad constant_value). */
static int scalar_input(struct loader *L, const struct node_ctx *c, size_t i, float *value,
                        struct error *err)
{
    const char *name = onnx_node_input(c->n, i);
    if (!name)
        return 0;
    const struct known *k = onnx_known_find(&L->known, name);
    if (!k || shape_count(&k->shape) != 1)
        return error_set(err,
                         "node '%s' (%s): input '%s' must be a one-value constant; mnemo "
                         "does not compute it at run time",
                         c->name, c->n->op_type, name);
    *value = (float)onnx_known_get_f(k, 0);
    return 0;
}

/* The activations without parameters, by ONNX op type. */
static const struct {
    const char *op_type;
    enum act_kind kind;
} plain_acts[] = {
    {"Relu", ACT_RELU},       {"Tanh", ACT_TANH},
    {"Sigmoid", ACT_SIGMOID}, {"Softplus", ACT_SOFTPLUS},
    {"Mish", ACT_MISH},       {"HardSwish", ACT_HARD_SWISH},
    {"Neg", ACT_NEG},         {"Reciprocal", ACT_RECIPROCAL},
    {"Sqrt", ACT_SQRT},       {"Erf", ACT_ERF},
};

/* Pow runs with a constant one-value exponent (x^2, x^0.5 in normalisations, x^3 in the
 * tanh form of GELU); a computed or per-element exponent is refused by scalar_input. */
static int pow_exponent(struct loader *L, const struct node_ctx *c, struct act *a,
                        struct error *err)
{
    if (!onnx_node_input(c->n, 1))
        return error_set(err, "node '%s' (Pow) has no exponent", c->name);
    *a = (struct act){.kind = ACT_POW};
    return scalar_input(L, c, 1, &a->alpha, err);
}

static int build_activation(struct loader *L, const struct node_ctx *c, struct error *err)
{
    const char *op = c->n->op_type;
    struct act a = {.kind = ACT_RELU};
    for (size_t j = 0; j < sizeof plain_acts / sizeof plain_acts[0]; j++)
        if (strcmp(op, plain_acts[j].op_type) == 0)
            a.kind = plain_acts[j].kind;
    if (strcmp(op, "LeakyRelu") == 0)
        a = (struct act){.kind = ACT_LEAKY_RELU, .alpha = onnx_attr_float(c->n, "alpha", 0.01f)};
    else if (strcmp(op, "Elu") == 0)
        a = (struct act){.kind = ACT_ELU, .alpha = onnx_attr_float(c->n, "alpha", 1.0f)};
    else if (strcmp(op, "HardSigmoid") == 0)
        a = (struct act){.kind = ACT_HARD_SIGMOID,
                         .alpha = onnx_attr_float(c->n, "alpha", 0.2f),
                         .beta = onnx_attr_float(c->n, "beta", 0.5f)};
    else if (strcmp(op, "Pow") == 0 && pow_exponent(L, c, &a, err))
        return -1;
    else if (strcmp(op, "Clip") == 0) {
        a = (struct act){.kind = ACT_CLIP, .alpha = -FLT_MAX, .beta = FLT_MAX};
        if (L->opset < 11) {
            a.alpha = onnx_attr_float(c->n, "min", -FLT_MAX);
            a.beta = onnx_attr_float(c->n, "max", FLT_MAX);
        } else if (scalar_input(L, c, 1, &a.alpha, err) || scalar_input(L, c, 2, &a.beta, err)) {
            return -1;
        }
    }
    struct node *node = node_begin(L, c, OP_ACTIVATION, 1, err);
    if (!node)
        return -1;
    node->act = a;
    return node_finish(L, node, err);
}

static int build_binary(struct loader *L, const struct node_ctx *c, struct error *err)
{
    static const char *const kinds[BINARY_COUNT] = {"Add", "Sub", "Mul", "Div", "PRelu"};
    struct node *node = node_begin(L, c, OP_BINARY, 2, err);
    if (!node)
        return -1;
    for (int k = 0; k < BINARY_COUNT; k++)
        if (strcmp(kinds[k], c->n->op_type) == 0)
            node->p.binary.kind = (enum binary_kind)k;
    return node_finish(L, node, err);
}

static int build_concat(struct loader *L, const struct node_ctx *c, struct error *err)
{
    struct node *node = node_begin(L, c, OP_CONCAT, NODE_MAX_INPUTS, err);
    if (!node)
        return -1;
    if (c->n->n_input > NODE_MAX_INPUTS)
        return error_set(err, "node '%s' (Concat) joins %zu tensors; mnemo handles up to %d",
                         c->name, c->n->n_input, NODE_MAX_INPUTS);
    int32_t rank = input_shape(L, node, 0)->rank;
    int64_t axis = onnx_attr_int(c->n, "axis", 1);
    if (axis < -rank || axis >= rank)
        return error_set(err, "node '%s' (Concat): axis %lld is out of range for rank %d", c->name,
                         (long long)axis, rank);
    node->p.concat.axis = (int32_t)(axis < 0 ? axis + rank : axis);
    return node_finish(L, node, err);
}

static int pad_mode_parse(const struct node_ctx *c, enum pad_mode *mode, struct error *err)
{
    char text[32];
    onnx_attr_string(c->n, "mode", "constant", text, sizeof text);
    static const char *const names[PAD_MODE_COUNT] = {"constant", "reflect", "edge"};
    for (int m = 0; m < PAD_MODE_COUNT; m++)
        if (strcmp(text, names[m]) == 0) {
            *mode = (enum pad_mode)m;
            return 0;
        }
    return error_set(err,
                     "node '%s' (Pad): mode '%s' is not supported (constant, reflect, "
                     "edge)%s",
                     c->name, text,
                     strcmp(text, "wrap") == 0 ? "; wrap is F.pad(mode='circular'): use "
                                                 "'reflect' or 'replicate' padding instead"
                                               : "");
}

/* Pads from the attribute (opset < 11) or from the constant input 1 (with the optional
 * axes input of opset 18), into ONNX order for a tensor of `rank`. */
static int pad_amounts(struct loader *L, const struct node_ctx *c, int32_t rank, int64_t *pads,
                       struct error *err)
{
    const Onnx__AttributeProto *a = L->opset < 11 ? onnx_attr_find(c->n, "pads") : NULL;
    const char *name = L->opset < 11 ? NULL : onnx_node_input(c->n, 1);
    const struct known *k = name ? onnx_known_find(&L->known, name) : NULL;
    if (!a && !k)
        return error_set(err,
                         "node '%s' (Pad): pads%s%s%s is not a constant; mnemo needs pads "
                         "known at load",
                         c->name, name ? " '" : "", name ? name : "", name ? "'" : "");
    int64_t count = a ? (int64_t)a->n_ints : shape_count(&k->shape);
    const char *axes_name = L->opset < 11 ? NULL : onnx_node_input(c->n, 3);
    if (axes_name)
        return error_set(err, "node '%s' (Pad): the 'axes' input is not supported", c->name);
    if (count != 2 * rank || (k && !onnx_dtype_is_integer(k->dtype)))
        return error_set(err,
                         "node '%s' (Pad): pads has %lld values for a rank-%d input "
                         "(expected %d integers)",
                         c->name, (long long)count, rank, 2 * rank);
    for (int64_t j = 0; j < count; j++) {
        pads[j] = a ? a->ints[j] : k->i[j];
        if (pads[j] < 0)
            return error_set(err, "node '%s' (Pad): negative pads (cropping) are not supported",
                             c->name);
        if (pads[j] > OUTPUT_DIM_MAX)
            return error_set(err, "node '%s' (Pad): pad %lld is larger than mnemo accepts", c->name,
                             (long long)pads[j]);
    }
    return 0;
}

static int build_pad(struct loader *L, const struct node_ctx *c, struct error *err)
{
    struct node *node = node_begin(L, c, OP_PAD, 1, err);
    if (!node)
        return -1;
    struct pad_params *p = &node->p.pad;
    if (pad_mode_parse(c, &p->mode, err) ||
        pad_amounts(L, c, input_shape(L, node, 0)->rank, p->pads, err))
        return -1;
    p->value = onnx_attr_float(c->n, "value", 0.0f);
    if (L->opset >= 11 && scalar_input(L, c, 2, &p->value, err))
        return -1;
    return node_finish(L, node, err);
}

/* Resize/Upsample modes; opsets before 11 had only asymmetric coordinates and floor. */
/* Index of `text` in names[count], or -1. */
static int name_index(const char *text, const char *const *names, int count)
{
    for (int j = 0; j < count; j++)
        if (strcmp(text, names[j]) == 0)
            return j;
    return -1;
}

static int resize_modes(const struct loader *L, const struct node_ctx *c, struct resize_params *p,
                        struct error *err)
{
    static const char *const modes[] = {"nearest", "linear", "bilinear", "cubic"};
    static const char *const coords[RESIZE_COORD_COUNT] = {"half_pixel", "pytorch_half_pixel",
                                                           "align_corners", "asymmetric"};
    static const char *const nearest[RESIZE_NEAREST_COUNT] = {"round_prefer_floor",
                                                              "round_prefer_ceil", "floor", "ceil"};
    bool old = L->opset < 11 || strcmp(c->n->op_type, "Upsample") == 0;
    char mode[32], coord[32], near[32], policy[32];
    onnx_attr_string(c->n, "mode", "nearest", mode, sizeof mode);
    onnx_attr_string(c->n, "coordinate_transformation_mode", old ? "asymmetric" : "half_pixel",
                     coord, sizeof coord);
    onnx_attr_string(c->n, "nearest_mode", old ? "floor" : "round_prefer_floor", near, sizeof near);
    onnx_attr_string(c->n, "keep_aspect_ratio_policy", "stretch", policy, sizeof policy);
    int m = name_index(mode, modes, 4), k = name_index(coord, coords, RESIZE_COORD_COUNT);
    int r = name_index(near, nearest, RESIZE_NEAREST_COUNT);
    const char *bad = m < 0                                       ? "mode"
                      : k < 0                                     ? "coordinate_transformation_mode"
                      : r < 0                                     ? "nearest_mode"
                      : onnx_attr_int(c->n, "exclude_outside", 0) ? "exclude_outside"
                      : onnx_attr_int(c->n, "antialias", 0)       ? "antialias"
                      : onnx_attr_find(c->n, "axes")              ? "axes"
                      : strcmp(policy, "stretch") != 0            ? "keep_aspect_ratio_policy"
                                                                  : NULL;
    if (bad)
        return error_set(
            err,
            "node '%s' (%s): this %s is not supported (mode '%s', coordinates "
            "'%s', nearest '%s'); mnemo runs nearest, linear or cubic with half_pixel, "
            "pytorch_half_pixel, align_corners or asymmetric coordinates",
            c->name, c->n->op_type, bad, mode, coord, near);
    p->mode = m == 0 ? RESIZE_NEAREST : m < 3 ? RESIZE_LINEAR : RESIZE_CUBIC;
    p->cubic_a = onnx_attr_float(c->n, "cubic_coeff_a", -0.75f);
    p->coord = (enum resize_coord)k;
    p->nearest = (enum resize_nearest)r;
    return 0;
}

/* Where the scales or sizes are: input index by op and opset, or the Upsample attribute. */
static int resize_factors(struct loader *L, const struct node_ctx *c, double *scale, int64_t *sizes,
                          bool *by_size, struct error *err)
{
    bool upsample = strcmp(c->n->op_type, "Upsample") == 0;
    const Onnx__AttributeProto *a = upsample ? onnx_attr_find(c->n, "scales") : NULL;
    if (a && a->n_floats == 4) {
        for (int d = 0; d < 4; d++)
            scale[d] = a->floats[d];
        return 0;
    }
    size_t scales_at = (upsample || L->opset < 11) ? 1 : 2;
    const char *names[2] = {onnx_node_input(c->n, scales_at),
                            upsample ? NULL : onnx_node_input(c->n, 3)};
    for (int j = 0; j < 2; j++) {
        const struct known *k = names[j] ? onnx_known_find(&L->known, names[j]) : NULL;
        if (names[j] && !k)
            return error_set(err,
                             "node '%s' (%s): %s '%s' is not a constant; mnemo needs it "
                             "known at load",
                             c->name, c->n->op_type, j ? "sizes" : "scales", names[j]);
        if (!k || shape_count(&k->shape) == 0)
            continue; /* an empty tensor stands for "not given" */
        if (shape_count(&k->shape) != 4)
            return error_set(err, "node '%s' (%s): %s needs 4 values (N, C, H, W)", c->name,
                             c->n->op_type, j ? "sizes" : "scales");
        for (int d = 0; d < 4; d++) {
            scale[d] = onnx_known_get_f(k, d);
            sizes[d] = onnx_known_get_i(k, d);
        }
        *by_size = j == 1;
        return 0;
    }
    return error_set(err, "node '%s' (%s) gives neither scales nor sizes", c->name, c->n->op_type);
}

/* An axis is sized when the file gave sizes, or when its scale is exactly float32(out/in):
 * opsets 9 and 10 have no sizes and write F.interpolate(size=...) that way. A scale a user
 * writes (2, 1.5, 0.5) is also such a ratio only where in x scale is a whole number of
 * pixels, and there both mappings agree. */
static void resize_mark_sized(struct resize_params *p, const struct shape *x, const struct shape *y,
                              bool by_size)
{
    for (int i = 0; i < 2; i++) {
        double ratio = (double)y->dim[2 + i] / (double)x->dim[2 + i];
        p->sized[i] = by_size || (float)ratio == p->scale[i];
    }
}

static int build_resize(struct loader *L, const struct node_ctx *c, struct error *err)
{
    struct node *node = node_begin(L, c, OP_RESIZE, 1, err);
    double scale[4] = {1, 1, 1, 1};
    int64_t sizes[4] = {0};
    bool by_size = false;
    if (!node || resize_modes(L, c, &node->p.resize, err) ||
        resize_factors(L, c, scale, sizes, &by_size, err))
        return -1;
    const struct shape *x = input_shape(L, node, 0);
    if (x->rank != 4)
        return error_set(err, "node '%s' (%s): input must be NCHW", c->name, c->n->op_type);
    for (int d = 0; by_size && d < 4; d++)
        scale[d] = x->dim[d] ? (double)sizes[d] / (double)x->dim[d] : 0.0;
    if (scale[0] != 1.0 || scale[1] != 1.0 || !(scale[2] > 0.0) || !(scale[3] > 0.0))
        return error_set(err, "node '%s' (%s): only H and W may be resized (scales %gx%gx%gx%g)",
                         c->name, c->n->op_type, scale[0], scale[1], scale[2], scale[3]);
    if (x->dim[2] * scale[2] > OUTPUT_DIM_MAX || x->dim[3] * scale[3] > OUTPUT_DIM_MAX)
        return error_set(err,
                         "node '%s' (%s): the resized image would be larger than %d pixels "
                         "on a side",
                         c->name, c->n->op_type, OUTPUT_DIM_MAX);
    node->p.resize.scale[0] = (float)scale[2];
    node->p.resize.scale[1] = (float)scale[3];
    if (node_finish(L, node, err))
        return -1;
    /* Sizes are exact; a float scale times the input size may round one pixel short. */
    if (by_size) {
        L->g->values[node->output].shape.dim[2] = sizes[2];
        L->g->values[node->output].shape.dim[3] = sizes[3];
    }
    resize_mark_sized(&node->p.resize, x, &L->g->values[node->output].shape, by_size);
    return 0;
}

/* DepthToSpace (DCR or CRD, the mode PyTorch's PixelShuffle exports) and SpaceToDepth. */
static int build_depth_space(struct loader *L, const struct node_ctx *c, struct error *err)
{
    struct node *node = node_begin(L, c, OP_DEPTH_SPACE, 1, err);
    if (!node)
        return -1;
    struct depth_space_params *p = &node->p.depth_space;
    int64_t block = onnx_attr_int(c->n, "blocksize", 0);
    char mode[16];
    onnx_attr_string(c->n, "mode", "DCR", mode, sizeof mode);
    p->to_depth = strcmp(c->n->op_type, "SpaceToDepth") == 0;
    p->crd = strcmp(mode, "CRD") == 0;
    if (!p->crd && strcmp(mode, "DCR") != 0)
        return error_set(err, "node '%s' (%s): mode '%s' is not DCR or CRD", c->name, c->n->op_type,
                         mode);
    if (block < 1 || block > 64)
        return error_set(err, "node '%s' (%s): blocksize %lld must be 1 to 64", c->name,
                         c->n->op_type, (long long)block);
    p->block = (int32_t)block;
    return node_finish(L, node, err);
}

/* auto_pad for a pool: SAME_* keeps ceil(in / stride) outputs; VALID pads nothing. */
static int pool_auto_pad(const struct node_ctx *c, struct pool_params *p, const struct shape *x,
                         struct error *err)
{
    char mode[32];
    onnx_attr_string(c->n, "auto_pad", "NOTSET", mode, sizeof mode);
    bool upper = strcmp(mode, "SAME_UPPER") == 0;
    if (strcmp(mode, "NOTSET") == 0)
        return 0;
    memset(p->pad, 0, sizeof p->pad);
    if (strcmp(mode, "VALID") == 0)
        return 0;
    if (!upper && strcmp(mode, "SAME_LOWER") != 0)
        return error_set(err, "node '%s' (%s): auto_pad '%s' is not an ONNX mode", c->name,
                         c->n->op_type, mode);
    for (int d = 0; d < 2; d++) {
        int64_t in = x->dim[2 + d], s = p->stride[d], out = (in + s - 1) / s;
        int64_t total = (out - 1) * s + (int64_t)(p->kernel[d] - 1) * p->dilation[d] + 1 - in;
        pad_split(total > 0 ? total : 0, upper, &p->pad[d], &p->pad[2 + d]);
    }
    return 0;
}

/* AveragePool, MaxPool, GlobalAveragePool, GlobalMaxPool over the H and W of NCHW. */
static int build_pool(struct loader *L, const struct node_ctx *c, struct error *err)
{
    const char *op = c->n->op_type;
    if (named_outputs(c->n) > 1)
        return error_set(err,
                         "node '%s' (%s) also outputs the indices of the maxima; mnemo runs "
                         "pooling values only",
                         c->name, op);
    struct node *node = node_begin(L, c, OP_POOL, 1, err);
    if (!node)
        return -1;
    const struct shape *x = input_shape(L, node, 0);
    if (x->rank != 4)
        return error_set(err, "node '%s' (%s): input must be NCHW", c->name, op);
    struct pool_params *p = &node->p.pool;
    p->kind = strstr(op, "Max") ? POOL_MAX : POOL_AVERAGE;
    p->global = strncmp(op, "Global", 6) == 0;
    p->stride[0] = p->stride[1] = p->dilation[0] = p->dilation[1] = 1;
    if (p->global) {
        p->kernel[0] = (int32_t)x->dim[2];
        p->kernel[1] = (int32_t)x->dim[3];
        return node_finish(L, node, err);
    }
    const Onnx__AttributeProto *k = onnx_attr_find(c->n, "kernel_shape");
    if (!k)
        return error_set(err, "node '%s' (%s) has no kernel_shape", c->name, op);
    if (ints_to_i32(k, p->kernel, 2, 1, c, err) ||
        ints_to_i32(onnx_attr_find(c->n, "strides"), p->stride, 2, 1, c, err) ||
        ints_to_i32(onnx_attr_find(c->n, "dilations"), p->dilation, 2, 1, c, err) ||
        ints_to_i32(onnx_attr_find(c->n, "pads"), p->pad, 4, 0, c, err))
        return -1;
    p->ceil_mode = onnx_attr_int(c->n, "ceil_mode", 0) != 0;
    p->count_include_pad = onnx_attr_int(c->n, "count_include_pad", 0) != 0;
    if (onnx_attr_int(c->n, "storage_order", 0) != 0)
        return error_set(err,
                         "node '%s' (%s): storage_order 1 (column-major indices) is not "
                         "supported",
                         c->name, op);
    return pool_auto_pad(c, p, x, err) || node_finish(L, node, err);
}

/* Reshape of a run-time tensor to a constant shape (ONNX's 0 = keep that dimension unless
 * allowzero, -1 = the rest): a copy, since NCHW elements keep their order. GroupNorm
 * exports as Reshape to N x G x -1, InstanceNorm, Reshape back, Mul, Add. */
static int build_reshape(struct loader *L, const struct node_ctx *c, struct error *err)
{
    const char *name = onnx_node_input(c->n, 1);
    const struct known *k = name ? onnx_known_find(&L->known, name) : NULL;
    if (!k || !onnx_dtype_is_integer(k->dtype) || shape_count(&k->shape) < 1 ||
        shape_count(&k->shape) > SHAPE_MAX_RANK)
        return error_set(err,
                         "node '%s' (Reshape): the target shape%s%s%s is not a constant of 1 "
                         "to %d integers; mnemo needs it known at load",
                         c->name, name ? " '" : "", name ? name : "", name ? "'" : "",
                         SHAPE_MAX_RANK);
    struct node *node = node_begin(L, c, OP_RESHAPE, 1, err);
    if (!node)
        return -1;
    const struct shape *x = input_shape(L, node, 0);
    struct shape *to = &node->p.reshape.to;
    bool allow_zero = onnx_attr_int(c->n, "allowzero", 0) != 0;
    int32_t infer_at = -1;
    int64_t known = 1;
    to->rank = (int32_t)shape_count(&k->shape);
    for (int32_t d = 0; d < to->rank; d++) {
        int64_t v = onnx_known_get_i(k, d);
        if (v == 0 && !allow_zero)
            v = d < x->rank ? x->dim[d] : 0;
        if (v == -1 && infer_at < 0)
            infer_at = d;
        else if (v < 1 || v > OUTPUT_DIM_MAX * (int64_t)OUTPUT_DIM_MAX)
            return error_set(err, "node '%s' (Reshape): target dimension %d is %lld", c->name, d,
                             (long long)v);
        else
            known *= v;
        to->dim[d] = v;
    }
    if (infer_at >= 0)
        to->dim[infer_at] = shape_count(x) / known;
    return node_finish(L, node, err);
}

/* The axes of a ReduceMean (the attribute before opset 18, the constant input 1 from it),
 * made non-negative and sorted into `axes`; none given means every axis. */
static int reduce_axes_read(struct loader *L, const struct node_ctx *c, int32_t rank, bool *axes,
                            struct error *err)
{
    const Onnx__AttributeProto *a = onnx_attr_find(c->n, "axes");
    const char *name = onnx_node_input(c->n, 1);
    const struct known *k = name ? onnx_known_find(&L->known, name) : NULL;
    if (name && (!k || !onnx_dtype_is_integer(k->dtype)))
        return error_set(err,
                         "node '%s' (ReduceMean): axes '%s' is not an integer constant; mnemo "
                         "needs the axes known at load",
                         c->name, name);
    int64_t count = a ? (int64_t)a->n_ints : k ? shape_count(&k->shape) : 0;
    for (int32_t d = 0; d < rank; d++)
        axes[d] = count == 0;
    if (count == 0 && onnx_attr_int(c->n, "noop_with_empty_axes", 0) != 0)
        return error_set(err,
                         "node '%s' (ReduceMean): empty axes with noop_with_empty_axes is an "
                         "identity mnemo does not run; remove the node",
                         c->name);
    for (int64_t j = 0; j < count; j++) {
        int64_t axis = a ? a->ints[j] : onnx_known_get_i(k, j);
        if (axis < -rank || axis >= rank)
            return error_set(err, "node '%s' (ReduceMean): axis %lld is out of range for rank %d",
                             c->name, (long long)axis, rank);
        axes[axis < 0 ? axis + rank : axis] = true;
    }
    return 0;
}

/* The reduced axes as one run [begin, end): the only form the kernels take (a mean over
 * channels, over H and W, over C, H and W). */
static int reduce_axes(struct loader *L, const struct node_ctx *c, int32_t rank,
                       struct reduce_params *p, struct error *err)
{
    bool axes[SHAPE_MAX_RANK] = {false};
    if (rank < 1 || rank > SHAPE_MAX_RANK)
        return error_set(err, "node '%s' (ReduceMean): input rank %d is not 1 to %d", c->name, rank,
                         SHAPE_MAX_RANK);
    if (reduce_axes_read(L, c, rank, axes, err))
        return -1;
    p->begin = 0;
    while (p->begin < rank && !axes[p->begin])
        p->begin++;
    p->end = p->begin;
    while (p->end < rank && axes[p->end])
        p->end++;
    for (int32_t d = p->end; d < rank; d++)
        if (axes[d])
            return error_set(err,
                             "node '%s' (ReduceMean): the reduced axes are not contiguous; "
                             "mnemo reduces one run of axes (such as C, or H and W)",
                             c->name);
    return 0;
}

/* ReduceMean runs as its own op; graph_fuse_layer_norm turns the exporters' LayerNorm chain
 * around two of them into one LayerNorm node. */
static int build_reduce_mean(struct loader *L, const struct node_ctx *c, struct error *err)
{
    struct node *node = node_begin(L, c, OP_REDUCE_MEAN, 1, err);
    if (!node || reduce_axes(L, c, input_shape(L, node, 0)->rank, &node->p.reduce, err))
        return -1;
    node->p.reduce.keep_dims = onnx_attr_int(c->n, "keepdims", 1) != 0;
    return node_finish(L, node, err);
}

/* A node the importer adds for the file's one (LayerNormalization's three), named as that
 * one for messages: from value a (and b unless -1) into a new value `out_name`, with the
 * parameters of `proto`. Returns the output id or -1. */
static int32_t node_extra(struct loader *L, const struct node_ctx *c, const struct node *proto,
                          const char *out_name, int32_t a, int32_t b, struct error *err)
{
    int32_t out = graph_add_value(L->g, out_name, VALUE_COMPUTED, NULL, err);
    struct node *node =
        out < 0 ? NULL : graph_add_node(L->g, proto->op, c->name, c->n->op_type, err);
    if (!node)
        return -1;
    node->p = proto->p;
    node->n_inputs = b >= 0 ? 2 : 1;
    node->input[0] = a;
    node->input[1] = b;
    node->output = out;
    return node_finish(L, node, err) ? -1 : out;
}

/* Whether any node of the file reads tensor `name` (an optional output left unread is not
 * computed; mnemo's one graph output is the first output of its node). */
static bool output_read(const struct loader *L, const char *name)
{
    const Onnx__GraphProto *gp = L->model->graph;
    for (size_t j = 0; name && name[0] && j < gp->n_node; j++)
        for (size_t k = 0; k < gp->node[j]->n_input; k++)
            if (strcmp(gp->node[j]->input[k], name) == 0)
                return true;
    return false;
}

static int32_t layer_norm_input(struct loader *L, const struct node_ctx *c, size_t i,
                                struct error *err)
{
    int32_t id = input_value(L, c, i, err);
    if (id < 0 && !onnx_node_input(c->n, i))
        error_set(err, "node '%s' (LayerNormalization) has no %s", c->name, i ? "Scale" : "X");
    return id;
}

/* LayerNormalization (opset 17): the LayerNorm op over axes [axis, rank), then x Scale and
 * + B as broadcasting binary nodes (Scale and B have the shape of the normalised axes). */
static int build_layer_norm(struct loader *L, const struct node_ctx *c, struct error *err)
{
    for (size_t j = 1; j < c->n->n_output; j++)
        if (output_read(L, c->n->output[j]))
            return error_set(err,
                             "node '%s' (LayerNormalization): its %s '%s' is read by another "
                             "node; mnemo computes the normalised output only",
                             c->name, j == 1 ? "mean" : "inverse standard deviation",
                             c->n->output[j]);
    int32_t x = layer_norm_input(L, c, 0, err), scale = x < 0 ? -1 : layer_norm_input(L, c, 1, err);
    bool has_bias = onnx_node_input(c->n, 2) != NULL;
    int32_t bias = scale >= 0 && has_bias ? input_value(L, c, 2, err) : -1;
    if (scale < 0 || (has_bias && bias < 0))
        return -1;
    int32_t rank = L->g->values[x].shape.rank;
    int64_t axis = onnx_attr_int(c->n, "axis", -1);
    if (axis < -rank || axis >= rank)
        return error_set(err,
                         "node '%s' (LayerNormalization): axis %lld is out of range for rank %d",
                         c->name, (long long)axis, rank);
    struct node ln = {.op = OP_LAYER_NORM}, mul = {.op = OP_BINARY}, add = {.op = OP_BINARY};
    ln.p.reduce = (struct reduce_params){.begin = (int32_t)(axis < 0 ? axis + rank : axis),
                                         .end = rank,
                                         .keep_dims = true,
                                         .epsilon = onnx_attr_float(c->n, "epsilon", 1e-5f)};
    mul.p.binary.kind = BINARY_MUL;
    add.p.binary.kind = BINARY_ADD;
    char normalised[512], scaled[512];
    snprintf(normalised, sizeof normalised, "%s/normalised", c->n->output[0]);
    snprintf(scaled, sizeof scaled, "%s/scaled", c->n->output[0]);
    int32_t y = node_extra(L, c, &ln, normalised, x, -1, err);
    y = y < 0 ? -1 : node_extra(L, c, &mul, has_bias ? scaled : c->n->output[0], y, scale, err);
    if (y >= 0 && has_bias)
        y = node_extra(L, c, &add, c->n->output[0], y, bias, err);
    return y < 0 ? -1 : 0;
}

/* Identity and Dropout at run time: the output name stands for the input value. */
static int build_alias(struct loader *L, const struct node_ctx *c, struct error *err)
{
    int32_t id = input_value(L, c, 0, err);
    if (id < 0)
        return -1;
    struct alias *a = realloc(L->aliases, (size_t)(L->n_aliases + 1) * sizeof *a);
    if (!a)
        return error_set(err, "out of memory");
    L->aliases = a;
    a[L->n_aliases].name = strdup(c->n->output[0]);
    a[L->n_aliases].value = id;
    if (!a[L->n_aliases].name)
        return error_set(err, "out of memory");
    L->n_aliases++;
    return 0;
}

/* Dropout at inference is the identity. training_mode true (an input from opset 12 on;
 * is_test 0, the default, before opset 7) would drop at random, which mnemo does not run: refused
 * rather than silently the identity. A training_mode computed at run time cannot be told apart, so
 * it is refused too. */
static int build_dropout(struct loader *L, const struct node_ctx *c, struct error *err)
{
    const char *name = onnx_node_input(c->n, 2);
    const struct known *k = name ? onnx_known_find(&L->known, name) : NULL;
    if (name && (!k || shape_count(&k->shape) != 1))
        return error_set(err,
                         "node '%s' (Dropout): training_mode '%s' is not a one-value constant; "
                         "mnemo runs Dropout only as the inference identity (" EXPORT_EVAL_HINT ")",
                         c->name, name);
    bool old_training = L->opset < 7 && onnx_attr_int(c->n, "is_test", 0) == 0;
    if ((k && onnx_known_get_f(k, 0) != 0.0) || old_training)
        return error_set(err,
                         "node '%s' (Dropout) has training_mode true (before opset 7: "
                         "is_test 0): it would drop values at "
                         "random, which mnemo does not run (the loop's perturbation is its "
                         "seeded noise); " EXPORT_EVAL_HINT,
                         c->name);
    return build_alias(L, c, err);
}

typedef int (*build_fn)(struct loader *L, const struct node_ctx *c, struct error *err);

/* Every op mnemo reads: its attributes (any other is an error, since ignoring it could
 * change the result) and how it runs. build NULL: evaluated at load only. */
static const struct op_entry {
    const char *op_type;
    build_fn build;
    const char *attrs[10];
} op_table[] = {
    {"Conv", build_conv, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}},
    {"ConvTranspose",
     build_conv,
     {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", "output_padding",
      "output_shape"}},
    {"BatchNormalization", build_batch_norm, {"epsilon", "momentum", "spatial", "training_mode"}},
    {"InstanceNormalization", build_instance_norm, {"epsilon"}},
    {"Relu", build_activation, {0}},
    {"LeakyRelu", build_activation, {"alpha"}},
    {"Tanh", build_activation, {0}},
    {"Sigmoid", build_activation, {0}},
    {"Clip", build_activation, {"min", "max"}},
    {"Elu", build_activation, {"alpha"}},
    {"Softplus", build_activation, {0}},
    {"Mish", build_activation, {0}},
    {"HardSigmoid", build_activation, {"alpha", "beta"}},
    {"HardSwish", build_activation, {0}},
    {"Neg", build_activation, {0}},
    {"Reciprocal", build_activation, {0}},
    {"Sqrt", build_activation, {0}},
    {"Pow", build_activation, {0}},
    {"Erf", build_activation, {0}},
    {"PRelu", build_binary, {0}},
    {"Add", build_binary, {0}},
    {"Sub", build_binary, {0}},
    {"Mul", build_binary, {0}},
    {"Div", build_binary, {0}},
    {"Concat", build_concat, {"axis"}},
    {"Pad", build_pad, {"mode", "pads", "value"}},
    {"Resize",
     build_resize,
     {"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
      "extrapolation_value", "antialias", "axes", "keep_aspect_ratio_policy"}},
    {"Upsample", build_resize, {"mode", "scales"}},
    {"DepthToSpace", build_depth_space, {"blocksize", "mode"}},
    {"SpaceToDepth", build_depth_space, {"blocksize"}},
    {"AveragePool",
     build_pool,
     {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"}},
    {"MaxPool",
     build_pool,
     {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}},
    {"GlobalAveragePool", build_pool, {0}},
    {"GlobalMaxPool", build_pool, {0}},
    {"Identity", build_alias, {0}},
    {"Dropout", build_dropout, {"ratio", "seed", "is_test"}},
    {"Constant", NULL, {"value", "value_float", "value_floats", "value_int", "value_ints"}},
    {"ConstantOfShape", NULL, {"value"}},
    {"Shape", NULL, {"start", "end"}},
    {"Gather", NULL, {"axis"}},
    {"Reshape", build_reshape, {"allowzero"}},
    {"ReduceMean", build_reduce_mean, {"axes", "keepdims", "noop_with_empty_axes"}},
    {"LayerNormalization", build_layer_norm, {"axis", "epsilon", "stash_type"}},
    {"Slice", NULL, {"starts", "ends", "axes"}},
    {"Transpose", NULL, {"perm"}},
    {"Cast", NULL, {"to"}},
    {"Unsqueeze", NULL, {"axes"}},
    {"Squeeze", NULL, {"axes"}},
    {"Range", NULL, {0}},
    {"Expand", NULL, {0}},
    {"Tile", NULL, {0}},
    {"Floor", NULL, {0}},
    {"Ceil", NULL, {0}},
    {"MatMul", NULL, {0}},
};

static const struct op_entry *op_entry_find(const Onnx__NodeProto *n)
{
    bool default_domain = !n->domain || !n->domain[0] || strcmp(n->domain, "ai.onnx") == 0;
    for (size_t j = 0; default_domain && j < sizeof op_table / sizeof op_table[0]; j++)
        if (strcmp(op_table[j].op_type, n->op_type) == 0)
            return &op_table[j];
    return NULL;
}

enum onnx_op_claim onnx_op_claimed(const char *op_type)
{
    for (size_t j = 0; op_type && j < sizeof op_table / sizeof op_table[0]; j++) {
        const struct op_entry *e = &op_table[j];
        if (strcmp(e->op_type, op_type) != 0)
            continue;
        if (!e->build)
            return ONNX_OP_LOAD_TIME;
        bool elementwise = e->build == build_activation || e->build == build_binary ||
                           e->build == build_alias || e->build == build_dropout;
        return elementwise ? ONNX_OP_ELEMENTWISE : ONNX_OP_RUNS;
    }
    return ONNX_OP_NOT_CLAIMED;
}

/* The PyTorch layer an op mnemo does not run (or runs only on constants) most likely came
 * from, so that a refusal names something the user wrote rather than an exporter artefact. */
static const struct {
    const char *op_type;
    const char *layer;
} likely_layers[] = {
    {"Slice", "a crop (x[..., a:b]) or F.pad(mode='circular'), which exports as Slice + Concat "
              "(PyTorch 1.13 writes those Slices one row short of the edge: the file would not "
              "match PyTorch on any runtime)"},
    {"MatMul", "nn.Linear or attention (torch.matmul, @)"},
    {"Gemm", "nn.Linear"},
    {"Softmax", "attention (self-attention blocks, SAGAN, transformers)"},
    {"Transpose", "a permute, as attention and nn.Linear over channels use"},
    {"Expand", "x.expand or broadcasting a tensor computed at run time"},
    {"Tile", "x.repeat on a tensor computed at run time"},
    {"Floor", "F.interpolate(recompute_scale_factor=True) of a size known only at run time"},
    {"Ceil", "a size computed with ceil at run time"},
    {"Shape", "x.size() or x.shape used in arithmetic at run time"},
    {"Gather", "indexing with a tensor, or x.size(i)"},
    {"Flatten", "nn.Flatten or x.view(N, -1) before an nn.Linear"},
    {"Split", "torch.chunk or torch.split (GLU, gated convolutions)"},
    {"ReduceSum", "x.sum(dim)"},
    {"ReduceMax", "x.amax(dim) or x.max(dim)"},
    {"Exp", "torch.exp (attention, style modulation)"},
    {"Einsum", "torch.einsum (attention)"},
    {"GridSample", "F.grid_sample (warps, spatial transformers)"},
    {"Where", "torch.where or a mask"},
    {"RandomNormalLike",
     "torch.randn_like (noise injection; the loop's perturbation is mnemo's noise)"},
    {"Unsqueeze", "x.unsqueeze or x[:, None] on a tensor computed at run time"},
    {"Squeeze", "x.squeeze on a tensor computed at run time"},
};

/* "; it most likely comes from ..." for op_type, or "". */
static const char *likely_layer(const char *op_type, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t j = 0; j < sizeof likely_layers / sizeof likely_layers[0]; j++)
        if (strcmp(likely_layers[j].op_type, op_type) == 0)
            snprintf(buf, size, "; in PyTorch it most likely comes from %s",
                     likely_layers[j].layer);
    return buf;
}

static int op_unsupported(const struct node_ctx *c, struct error *err)
{
    char list[900] = "", layer[160];
    size_t used = 0;
    for (size_t j = 0; j < sizeof op_table / sizeof op_table[0] && used < sizeof list; j++) {
        int n =
            snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", op_table[j].op_type);
        used += n > 0 ? (size_t)n : 0;
    }
    bool domain = c->n->domain && c->n->domain[0];
    return error_set(err,
                     "node '%s' uses op '%s%s%s', which mnemo does not support%s "
                     "(supported: %s; the shape ops only on constants). Replace that layer "
                     "with one of these, or export it so that it folds to constants",
                     c->name, domain ? c->n->domain : "", domain ? "." : "", c->n->op_type,
                     likely_layer(c->n->op_type, layer, sizeof layer), list);
}

static int attrs_check(const struct op_entry *e, const struct node_ctx *c, struct error *err)
{
    for (size_t j = 0; j < c->n->n_attribute; j++) {
        const char *name = c->n->attribute[j]->name ? c->n->attribute[j]->name : "";
        bool known = false;
        for (size_t k = 0; k < sizeof e->attrs / sizeof e->attrs[0] && e->attrs[k]; k++)
            known = known || strcmp(e->attrs[k], name) == 0;
        if (!known)
            return error_set(err,
                             "node '%s' (%s) has attribute '%s', which mnemo does not "
                             "implement; refusing rather than computing something else",
                             c->name, c->n->op_type, name);
    }
    return 0;
}

/* Foldable when every present input is a known constant; a Shape needs only a shape. */
static bool inputs_all_known(const struct loader *L, const Onnx__NodeProto *n)
{
    for (size_t j = 0; j < n->n_input; j++) {
        const char *name = onnx_node_input(n, j);
        if (!name || onnx_known_find(&L->known, name))
            continue;
        if (strcmp(n->op_type, "Shape") == 0 && onnx_loader_find_value(L, name) >= 0)
            continue;
        return false;
    }
    return true;
}

static int node_import(struct loader *L, const Onnx__NodeProto *n, size_t index, struct error *err)
{
    char fallback[96];
    snprintf(fallback, sizeof fallback, "%s_%zu", n->op_type ? n->op_type : "node", index);
    struct node_ctx c = {.n = n, .name = n->name && n->name[0] ? n->name : fallback};
    if (!n->op_type || !n->op_type[0] || n->n_output < 1 || !n->output[0][0])
        return error_set(err, "node '%s' has no op type or no output", c.name);
    const struct op_entry *e = op_entry_find(n);
    if (!e)
        return op_unsupported(&c, err);
    if (attrs_check(e, &c, err))
        return -1;
    bool fold = onnx_fold_supports(n->op_type) && inputs_all_known(L, n);
    if (fold && onnx_fold_node(L, n, c.name, err))
        return -1;
    char layer[160];
    if (!fold && !e->build)
        return error_set(err,
                         "node '%s' (%s) works on a tensor computed at run time; mnemo "
                         "evaluates %s only on constants at load%s",
                         c.name, n->op_type, n->op_type,
                         likely_layer(n->op_type, layer, sizeof layer));
    if (!fold && e->build(L, &c, err))
        return -1;
    bool alias = e->build == build_alias || e->build == build_dropout;
    return graph_count_onnx_op(L->g, n->op_type, fold || alias, err);
}

int onnx_nodes_import(struct loader *L, struct error *err)
{
    const Onnx__GraphProto *gp = L->model->graph;
    for (size_t j = 0; j < gp->n_node; j++)
        if (node_import(L, gp->node[j], j, err))
            return -1;
    return 0;
}
