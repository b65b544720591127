/* graph.h — the one internal graph every backend runs.
 *
 * Owns: values (tensors: the graph input, constant weights, activations computed at run
 * time), nodes in topological order, the load-time passes (BatchNorm folded into the
 * preceding Conv/ConvTranspose, activations fused into their producer, identities
 * dropped) and the memory plan (one arena, each run-time value at a fixed offset).
 *
 * Built once at load by the ONNX importer (runtime/engine/onnx.c) through graph_add_value /
 * graph_add_node / graph_infer_shape, then graph_finalize(). After finalize the graph is
 * read-only: backends keep a const pointer to it and never allocate per inference.
 *
 * Every tensor at run time is float32, NCHW (rank 4) unless its shape says otherwise. */
#ifndef MNEMO_GRAPH_H
#define MNEMO_GRAPH_H

#include "error.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#define SHAPE_MAX_RANK  6
#define NODE_MAX_INPUTS 8

struct shape {
    int32_t rank;
    int64_t dim[SHAPE_MAX_RANK];
};

/* Number of elements (1 for rank 0). */
int64_t shape_count(const struct shape *s);
bool shape_equal(const struct shape *a, const struct shape *b);
/* "1x3x256x256" into buf; returns buf. */
const char *shape_str(const struct shape *s, char *buf, size_t size);
struct shape shape_make4(int64_t n, int64_t c, int64_t h, int64_t w);

/* ---- ops ---------------------------------------------------------------------------
 * The op enum, its name table (graph.c) and every backend's support function stay in
 * step: op_names has a static_assert on OP_COUNT. Adding an op means adding a row to
 * each. */
enum op {
    OP_CONV,           /* in: X, W, [B]; p.conv */
    OP_CONV_TRANSPOSE, /* in: X, W (Cin x Cout x kh x kw), [B]; p.conv */
    OP_BATCH_NORM,     /* in: X, scale, bias, mean, var; p.norm (inference mode) */
    OP_INSTANCE_NORM,  /* in: X, scale, bias; p.norm */
    OP_ACTIVATION,     /* in: X; the activation is node.act */
    OP_BINARY,         /* in: A, B (numpy broadcasting, either may be constant); p.binary */
    OP_CONCAT,         /* in: X0..Xn-1; p.concat */
    OP_PAD,            /* in: X; p.pad */
    OP_RESIZE,         /* in: X; p.resize */
    OP_DEPTH_SPACE,    /* in: X; p.depth_space (DepthToSpace, SpaceToDepth) */
    OP_POOL,           /* in: X; p.pool (AveragePool, MaxPool, their Global forms) */
    OP_RESHAPE,        /* in: X; p.reshape (a copy: the elements keep their order) */
    OP_REDUCE_MEAN,    /* in: X; p.reduce (ReduceMean over contiguous axes) */
    OP_LAYER_NORM,     /* in: X; p.reduce ((x - mean) / sqrt(var + eps) over those axes) */
    OP_COUNT
};
extern const char *const op_names[OP_COUNT];

enum act_kind {
    ACT_NONE,
    ACT_RELU,
    ACT_LEAKY_RELU, /* alpha = negative slope */
    ACT_TANH,
    ACT_SIGMOID,
    ACT_CLIP, /* alpha = min, beta = max */
    ACT_ELU,  /* alpha */
    ACT_SOFTPLUS,
    ACT_MISH,
    ACT_HARD_SIGMOID, /* max(0, min(1, alpha x + beta)) */
    ACT_HARD_SWISH,   /* x * HardSigmoid(x) with alpha 1/6, beta 1/2 */
    ACT_NEG,
    ACT_RECIPROCAL,
    ACT_SQRT,
    ACT_POW, /* x to the constant power alpha */
    ACT_ERF, /* GELU's Erf form exports as Div, Erf, Add, Mul, Mul */
    ACT_COUNT
};
extern const char *const act_names[ACT_COUNT];

struct act {
    enum act_kind kind;
    float alpha;
    float beta;
};

/* The CUDA kernels (kernels/cuda, compiled by nvcc) use the same function on the device. */
#ifdef __CUDACC__
#define MNEMO_HOST_DEVICE __host__ __device__
#else
#define MNEMO_HOST_DEVICE
#endif

/* ln(1 + e^x); above 20 it is x to float precision (PyTorch's threshold too). */
static inline MNEMO_HOST_DEVICE float act_softplus(float x)
{
    return x > 20.0f ? x : log1pf(expf(x));
}

static inline MNEMO_HOST_DEVICE float act_hard_sigmoid(float x, float alpha, float beta)
{
    float y = alpha * x + beta;
    return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
}

/* x^e; the exponents normalisations use exactly (squares, square roots) as such. */
static inline MNEMO_HOST_DEVICE float act_power(float x, float e)
{
    if (e == 2.0f)
        return x * x;
    if (e == 1.0f)
        return x;
    if (e == 0.5f)
        return sqrtf(x);
    return powf(x, e);
}

static inline MNEMO_HOST_DEVICE float act_apply(struct act a, float x)
{
    switch (a.kind) {
    case ACT_NONE:
        return x;
    case ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case ACT_LEAKY_RELU:
        return x >= 0.0f ? x : a.alpha * x;
    case ACT_TANH:
        return tanhf(x);
    case ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case ACT_CLIP: /* min(max(x, lo), hi), as ONNX: hi everywhere when lo > hi */
        x = x < a.alpha ? a.alpha : x;
        return x > a.beta ? a.beta : x;
    case ACT_ELU:
        return x >= 0.0f ? x : a.alpha * expm1f(x);
    case ACT_SOFTPLUS:
        return act_softplus(x);
    case ACT_MISH:
        return x * tanhf(act_softplus(x));
    case ACT_HARD_SIGMOID:
        return act_hard_sigmoid(x, a.alpha, a.beta);
    case ACT_HARD_SWISH:
        return x * act_hard_sigmoid(x, 1.0f / 6.0f, 0.5f);
    case ACT_NEG:
        return -x;
    case ACT_RECIPROCAL:
        return 1.0f / x;
    case ACT_SQRT:
        return sqrtf(x);
    case ACT_POW:
        return act_power(x, a.alpha);
    case ACT_ERF:
        return erff(x);
    case ACT_COUNT:
        break;
    }
    return x;
}

enum binary_kind {
    BINARY_ADD,
    BINARY_SUB,
    BINARY_MUL,
    BINARY_DIV,
    BINARY_PRELU, /* A = x, B = the slope (one, or one per channel, broadcast) */
    BINARY_COUNT
};

/* One function for every backend, as act_apply. */
static inline MNEMO_HOST_DEVICE float binary_apply(enum binary_kind kind, float a, float b)
{
    switch (kind) {
    case BINARY_ADD:
        return a + b;
    case BINARY_SUB:
        return a - b;
    case BINARY_MUL:
        return a * b;
    case BINARY_DIV:
        return a / b;
    case BINARY_PRELU:
        return a >= 0.0f ? a : a * b;
    case BINARY_COUNT:
        break;
    }
    return a;
}
enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_MODE_COUNT };
enum resize_mode { RESIZE_NEAREST, RESIZE_LINEAR, RESIZE_CUBIC, RESIZE_MODE_COUNT };
/* ONNX coordinate_transformation_mode values we run. */
enum resize_coord {
    RESIZE_COORD_HALF_PIXEL,
    RESIZE_COORD_PYTORCH_HALF_PIXEL,
    RESIZE_COORD_ALIGN_CORNERS,
    RESIZE_COORD_ASYMMETRIC,
    RESIZE_COORD_COUNT
};
/* ONNX nearest_mode values we run. */
enum resize_nearest {
    RESIZE_NEAREST_ROUND_PREFER_FLOOR,
    RESIZE_NEAREST_ROUND_PREFER_CEIL,
    RESIZE_NEAREST_FLOOR,
    RESIZE_NEAREST_CEIL,
    RESIZE_NEAREST_COUNT
};

struct conv_params {
    int32_t kernel[2];         /* kh, kw */
    int32_t stride[2];         /* sh, sw */
    int32_t dilation[2];       /* dh, dw */
    int32_t pad[4];            /* top, left, bottom, right (ONNX order: begins then ends) */
    int32_t output_padding[2]; /* ConvTranspose only */
    int32_t group;             /* Conv: any that divides the channels; ConvTranspose: 1 */
};

struct norm_params {
    float epsilon;
};

struct binary_params {
    enum binary_kind kind;
};

struct concat_params {
    int32_t axis; /* non-negative, < rank */
};

struct pad_params {
    enum pad_mode mode;
    int64_t pads[2 * SHAPE_MAX_RANK]; /* ONNX order: x1_begin, x2_begin, ..., x1_end, ... */
    float value;                      /* PAD_CONSTANT */
};

struct resize_params {
    enum resize_mode mode;
    enum resize_coord coord;
    enum resize_nearest nearest;
    float scale[2]; /* output/input for H and W; output size comes from the value's shape */
    /* Per axis: the file gave the output size (Resize `sizes`, or an opset 9/10 scale that
     * is exactly float32(out/in), which is how those opsets write a size). */
    bool sized[2];
    float cubic_a; /* RESIZE_CUBIC: ONNX's cubic_coeff_a (PyTorch's bicubic is -0.75) */
};

/* The input coordinate (in pixels, may be fractional or outside) that output pixel `o`
 * samples along one axis (0 = H, 1 = W), by ONNX's coordinate_transformation_mode. One
 * function for every backend, so that nearest picks the same pixel everywhere.
 * A sized axis maps as PyTorch does for an explicit size: the float32 ratio in/out times
 * the float32 output coordinate. Dividing by the float scale out/in instead picks the
 * neighbouring pixel wherever the exact coordinate is an integer or a half
 * (35 / 1.4583334f = 23.9999993 -> 23, where PyTorch takes 24). A scale the file gave is
 * divided by, as the ONNX spec says, in double. */
static inline MNEMO_HOST_DEVICE double resize_source(const struct resize_params *p, int axis,
                                                     int64_t o, int64_t in, int64_t out)
{
    bool half = p->coord == RESIZE_COORD_HALF_PIXEL || p->coord == RESIZE_COORD_PYTORCH_HALF_PIXEL;
    if (p->coord == RESIZE_COORD_ALIGN_CORNERS)
        return out > 1 ? (double)o * (double)(in - 1) / (double)(out - 1) : 0.0;
    if (p->coord == RESIZE_COORD_PYTORCH_HALF_PIXEL && out <= 1)
        return 0.0;
    if (p->sized[axis]) {
        float ratio = (float)in / (float)out, t = (float)o + (half ? 0.5f : 0.0f);
#ifdef __CUDA_ARCH__
        float s = __fmul_rn(t, ratio); /* no fused multiply-add: round as the host does */
#else
        float s = t * ratio;
#endif
        return half ? (double)s - 0.5 : (double)s;
    }
    double scale = p->scale[axis] > 0.0f ? (double)p->scale[axis] : (double)out / (double)in;
    return half ? (o + 0.5) / scale - 0.5 : o / scale;
}

/* The weights of the four taps floor(x) - 1 .. floor(x) + 2 of a cubic convolution at
 * t = x - floor(x), with coefficient a (Keys' kernel; ONNX and PyTorch alike). */
static inline MNEMO_HOST_DEVICE void resize_cubic_weights(double t, double a, double *w)
{
    double d[4] = {1.0 + t, t, 1.0 - t, 2.0 - t};
    for (int k = 0; k < 4; k++)
        w[k] = d[k] <= 1.0 ? ((a + 2.0) * d[k] - (a + 3.0)) * d[k] * d[k] + 1.0
                           : ((a * d[k] - 5.0 * a) * d[k] + 8.0 * a) * d[k] - 4.0 * a;
}

static inline MNEMO_HOST_DEVICE int64_t resize_clamp(int64_t i, int64_t size)
{
    return i < 0 ? 0 : (i >= size ? size - 1 : i);
}

/* Bicubic sample of one ih x iw plane at (fy, fx): 4 x 4 taps, those outside the input
 * taking the edge pixel (ONNX pads with the edge, PyTorch clamps: the same). One function
 * for every backend. */
static inline MNEMO_HOST_DEVICE float resize_cubic_point(const struct resize_params *p,
                                                         const float *x, int64_t ih, int64_t iw,
                                                         double fy, double fx)
{
    double by = floor(fy), bx = floor(fx), wy[4], wx[4], sum = 0.0;
    resize_cubic_weights(fy - by, p->cubic_a, wy);
    resize_cubic_weights(fx - bx, p->cubic_a, wx);
    for (int i = 0; i < 4; i++) {
        const float *row = x + resize_clamp((int64_t)by - 1 + i, ih) * iw;
        double acc = 0.0;
        for (int j = 0; j < 4; j++)
            acc += wx[j] * row[resize_clamp((int64_t)bx - 1 + j, iw)];
        sum += wy[i] * acc;
    }
    return (float)sum;
}

/* DepthToSpace (PixelShuffle) and SpaceToDepth over NCHW, block x block pixels. */
struct depth_space_params {
    int32_t block;
    bool to_depth; /* SpaceToDepth; else DepthToSpace */
    bool crd;      /* DepthToSpace mode CRD (PyTorch's PixelShuffle); else DCR */
};

/* Where output element (c, h, w) of one image comes from in the input of `xs` (N C H W),
 * as an offset within that image. ONNX: DCR reads channel (i b + j) C' + c, CRD reads
 * c b^2 + i b + j, for the pixel (i, j) of the block; SpaceToDepth is DCR's inverse. One
 * function for every backend. */
static inline MNEMO_HOST_DEVICE int64_t depth_space_source(const struct depth_space_params *p,
                                                           const struct shape *xs, int64_t c,
                                                           int64_t h, int64_t w)
{
    int64_t b = p->block, cin = xs->dim[1], ih = xs->dim[2], iw = xs->dim[3];
    if (p->to_depth) { /* output channel (i b + j) Cin + ci at (h, w) */
        int64_t ci = c % cin, i = c / cin / b, j = c / cin % b;
        return (ci * ih + h * b + i) * iw + w * b + j;
    }
    int64_t i = h % b, j = w % b, cout = cin / (b * b);
    int64_t ci = p->crd ? c * b * b + i * b + j : (i * b + j) * cout + c;
    return (ci * ih + h / b) * iw + w / b;
}

enum pool_kind { POOL_AVERAGE, POOL_MAX, POOL_KIND_COUNT };

struct pool_params {
    enum pool_kind kind;
    int32_t kernel[2], stride[2], dilation[2]; /* dilation: MaxPool only (1 for average) */
    int32_t pad[4];                            /* top, left, bottom, right */
    bool ceil_mode;
    bool count_include_pad; /* AveragePool: divide by the window with its padding */
    bool global;            /* GlobalAveragePool / GlobalMaxPool: the kernel is the image */
};

/* Where a pooling window starts along one axis for output o, and where its padded end is:
 * PyTorch's and ONNX's rule, the window clipped to the padded input. */
static inline MNEMO_HOST_DEVICE void pool_window(const struct pool_params *p, int axis, int64_t o,
                                                 int64_t in, int64_t *start, int64_t *end)
{
    int64_t span = (int64_t)p->dilation[axis] * (p->kernel[axis] - 1) + 1;
    *start = o * p->stride[axis] - p->pad[axis];
    *end = *start + span < in + p->pad[axis + 2] ? *start + span : in + p->pad[axis + 2];
}

/* Output pixel (r, c) of one plane of an ih x iw input. Average: the sum in double over
 * the window's pixels inside the input, divided by the window with its padding
 * (count_include_pad) or by the pixels summed. Max: padding never wins; NaN does. One
 * function for every backend. */
static inline MNEMO_HOST_DEVICE float pool_point(const struct pool_params *p, const float *x,
                                                 int64_t ih, int64_t iw, int64_t r, int64_t c)
{
    int64_t h0, h1, w0, w1;
    pool_window(p, 0, r, ih, &h0, &h1);
    pool_window(p, 1, c, iw, &w0, &w1);
    double padded = (double)(h1 - h0) * (double)(w1 - w0), sum = 0.0, count = 0.0;
    float best = -INFINITY;
    for (int64_t h = h0; h < h1; h += p->dilation[0]) {
        if (h < 0 || h >= ih)
            continue;
        for (int64_t w = w0; w < w1; w += p->dilation[1]) {
            if (w < 0 || w >= iw)
                continue;
            float v = x[h * iw + w];
            sum += v;
            count += 1.0;
            best = (v > best || v != v) ? v : best;
        }
    }
    if (p->kind == POOL_MAX)
        return best;
    return (float)(sum / (p->count_include_pad ? padded : count));
}

/* Reshape of a run-time tensor (GroupNorm exports as Reshape, InstanceNorm, Reshape). */
struct reshape_params {
    struct shape to; /* the output shape, every dimension known */
};

/* ReduceMean and LayerNorm work on the axes [begin, end) of X: X seen as
 * outer x count x inner, every (outer, inner) column reduced over its `count` elements.
 * Axes that are not contiguous are refused at load. */
struct reduce_params {
    int32_t begin, end;
    bool keep_dims; /* ReduceMean: the reduced axes stay as 1s (they do for LayerNorm) */
    float epsilon;  /* LayerNorm only */
};

/* The column view of `x` for p: one function for every backend. */
static inline MNEMO_HOST_DEVICE void reduce_extent(const struct reduce_params *p,
                                                   const struct shape *x, int64_t *outer,
                                                   int64_t *count, int64_t *inner)
{
    *outer = *count = *inner = 1;
    for (int32_t d = 0; d < x->rank; d++)
        *(d < p->begin ? outer : d < p->end ? count : inner) *= x->dim[d];
}

struct node {
    enum op op;
    char *name;    /* ONNX node name, or "<OpType>_<index>" when the file has none */
    char *onnx_op; /* ONNX op type it came from, for messages and inspect */
    int32_t n_inputs;
    int32_t input[NODE_MAX_INPUTS]; /* value ids; -1 marks an absent optional input */
    int32_t output;                 /* value id */
    /* Fused epilogue, applied in this order: y = act(op(...) + residual). */
    int32_t residual; /* value id with the output's shape, or -1 */
    struct act act;
    union {
        struct conv_params conv;
        struct norm_params norm;
        struct binary_params binary;
        struct concat_params concat;
        struct pad_params pad;
        struct resize_params resize;
        struct depth_space_params depth_space;
        struct pool_params pool;
        struct reshape_params reshape;
        struct reduce_params reduce;
    } p;
};

enum value_kind {
    VALUE_INPUT,    /* the graph input, written by the caller before each run */
    VALUE_CONST,    /* weights: data owned by the graph */
    VALUE_COMPUTED, /* produced by a node at run time */
};

struct value {
    char *name;
    enum value_kind kind;
    struct shape shape;
    float *data;      /* VALUE_CONST only */
    int64_t offset;   /* memory plan: float offset into the arena; -1 for constants */
    int32_t producer; /* node index, -1 for inputs and constants */
};

struct graph_meta {
    char *key;
    char *value;
};

/* How many nodes of one ONNX op type the file had, and how many of them were evaluated
 * at load (constant subgraphs) or removed (Identity, Dropout) instead of run. */
struct graph_op_count {
    char *onnx_op;
    int32_t count;
    int32_t folded;
};

struct graph {
    struct value *values;
    int32_t n_values, cap_values;
    struct node *nodes; /* topological order */
    int32_t n_nodes, cap_nodes;
    int32_t input;        /* value id of the one graph input */
    int32_t output;       /* value id of the one graph output */
    int64_t arena_floats; /* size of the memory plan, set by graph_finalize */
    /* From the model file, for inspect: */
    char *source_path;
    int64_t opset;
    char *producer;
    struct graph_meta *meta;
    int32_t n_meta;
    struct graph_op_count *onnx_ops;
    int32_t n_onnx_ops;
};

void graph_init(struct graph *g);
void graph_free(struct graph *g);

/* Adds a value; name is copied. Returns the value id, or -1 (err set) on failure. */
int32_t graph_add_value(struct graph *g, const char *name, enum value_kind kind,
                        const struct shape *shape, struct error *err);
/* Adds a constant and copies `data` (shape_count floats) into it. Returns the id or -1. */
int32_t graph_add_const(struct graph *g, const char *name, const struct shape *shape,
                        const float *data, struct error *err);
/* Value id by name, or -1. */
int32_t graph_find_value(const struct graph *g, const char *name);

/* Appends a node (zeroed, residual = -1, act = none, inputs -1); names are copied.
 * Returns NULL (err set) on failure. The pointer is valid until the next graph_add_node. */
struct node *graph_add_node(struct graph *g, enum op op, const char *name, const char *onnx_op,
                            struct error *err);

/* Computes the output shape of `n` from its inputs and parameters, stores it in its
 * output value and records `n` as that value's producer. Checks ranks, channel counts,
 * kernel sizes; errors name the node. The caller has set n->input[], n->n_inputs,
 * n->output (a VALUE_COMPUTED value) and n->p. */
int graph_infer_shape(struct graph *g, struct node *n, struct error *err);

/* Load-time passes, then the memory plan. After this the graph is read-only. */
int graph_finalize(struct graph *g, struct error *err);

/* Individual passes (graph_finalize runs them all, in this order). Exposed for tests. */
int graph_fuse_layer_norm(struct graph *g, struct error *err);
int graph_fold_batch_norm(struct graph *g, struct error *err);
int graph_fuse_activations(struct graph *g, struct error *err);
int graph_fuse_residual_add(struct graph *g, struct error *err);
int graph_plan_memory(struct graph *g, struct error *err);

/* Multiply-accumulates of one inference and the number of weight floats. */
int64_t graph_macs(const struct graph *g);
int64_t graph_parameter_count(const struct graph *g);

/* Adds a metadata key/value pair (copied). */
int graph_add_meta(struct graph *g, const char *key, const char *value, struct error *err);
/* Counts one ONNX node of type onnx_op for inspect; `folded` when it will not run. */
int graph_count_onnx_op(struct graph *g, const char *onnx_op, bool folded, struct error *err);

#endif
