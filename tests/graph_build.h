/* graph_build.h — building small graphs by hand in tests: random constants, one helper
 * per op, and random inputs. Each helper adds a node whose output becomes the graph
 * output and returns that value id (-1 with `err` set on failure). Header-only, static:
 * every test binary gets its own copy and its own deterministic random stream. */
#ifndef MNEMO_TEST_GRAPH_BUILD_H
#define MNEMO_TEST_GRAPH_BUILD_H

#include "check.h"
#include "graph.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct error err;

/* ---- building graphs ----------------------------------------------------------------- */

static uint32_t rng = 12345u;

static CHECK_UNUSED float random_float(float lo, float hi)
{
    rng = rng * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(rng >> 8) / (float)(1u << 24);
}

static CHECK_UNUSED int random_int(int n)
{
    rng = rng * 1664525u + 1013904223u;
    return (int)((rng >> 8) % (uint32_t)n);
}

static CHECK_UNUSED int32_t input_add(struct graph *g, struct shape s)
{
    g->input = graph_add_value(g, "input", VALUE_INPUT, &s, &err);
    return g->input;
}

static CHECK_UNUSED int32_t const_add(struct graph *g, const char *name, struct shape s, float lo,
                                      float hi)
{
    int64_t count = shape_count(&s);
    float *data = malloc((size_t)count * sizeof *data);
    for (int64_t i = 0; i < count; i++)
        data[i] = random_float(lo, hi);
    int32_t id = graph_add_const(g, name, &s, data, &err);
    free(data);
    return id;
}

/* Adds a node like `proto` (op, inputs, act, params) with a fresh output value, infers its
 * shape and makes it the graph output. Returns the output id, or -1 with err set. `preset`
 * (or NULL) is the output shape the importer would have known beforehand (Resize with
 * sizes), which shape inference checks and keeps. */
static CHECK_UNUSED int32_t node_add_preset(struct graph *g, const char *name,
                                            const struct node *proto, const struct shape *preset)
{
    char out_name[128];
    snprintf(out_name, sizeof out_name, "%s_out", name);
    int32_t out = graph_add_value(g, out_name, VALUE_COMPUTED, preset, &err);
    struct node *n = graph_add_node(g, proto->op, name, NULL, &err);
    n->n_inputs = proto->n_inputs;
    memcpy(n->input, proto->input, sizeof n->input);
    n->act = proto->act;
    n->p = proto->p;
    n->output = out;
    g->output = out;
    return graph_infer_shape(g, n, &err) ? -1 : out;
}

static CHECK_UNUSED int32_t node_add(struct graph *g, const char *name, const struct node *proto)
{
    return node_add_preset(g, name, proto, NULL);
}

static CHECK_UNUSED struct node proto_make(enum op op, int n_inputs, int32_t a, int32_t b,
                                           int32_t c)
{
    struct node n;
    memset(&n, 0, sizeof n);
    n.op = op;
    n.n_inputs = n_inputs;
    for (int i = 0; i < NODE_MAX_INPUTS; i++)
        n.input[i] = -1;
    n.input[0] = a;
    n.input[1] = b;
    n.input[2] = c;
    n.residual = -1;
    return n;
}

/* Adds a Conv (or ConvTranspose when `transposed`) with random weights and parameters p. */
static CHECK_UNUSED int32_t conv_add_params(struct graph *g, const char *name, int32_t x,
                                            int64_t cout, const struct conv_params *params,
                                            bool bias, bool transposed)
{
    char wname[128];
    int64_t cin = g->values[x].shape.dim[1];
    int kh = params->kernel[0], kw = params->kernel[1];
    snprintf(wname, sizeof wname, "%s.w", name);
    int64_t group = params->group > 0 ? params->group : 1;
    struct shape ws = transposed ? shape_make4(cin, cout / group, kh, kw)
                                 : shape_make4(cout, cin / group, kh, kw);
    int32_t w = const_add(g, wname, ws, -0.5f, 0.5f);
    snprintf(wname, sizeof wname, "%s.b", name);
    int32_t b = bias ? const_add(g, wname, (struct shape){1, {cout}}, -0.5f, 0.5f) : -1;
    struct node p = proto_make(transposed ? OP_CONV_TRANSPOSE : OP_CONV, bias ? 3 : 2, x, w, b);
    p.p.conv = *params;
    return node_add(g, name, &p);
}

static CHECK_UNUSED struct conv_params conv_square(int k, int stride, int pad, int out_pad)
{
    return (struct conv_params){.kernel = {k, k},
                                .stride = {stride, stride},
                                .dilation = {1, 1},
                                .pad = {pad, pad, pad, pad},
                                .output_padding = {out_pad, out_pad},
                                .group = 1};
}

static CHECK_UNUSED int32_t conv_add(struct graph *g, const char *name, int32_t x, int64_t cout,
                                     int k, int stride, int pad, bool bias)
{
    struct conv_params p = conv_square(k, stride, pad, 0);
    return conv_add_params(g, name, x, cout, &p, bias, false);
}

static CHECK_UNUSED int32_t conv_transpose_add(struct graph *g, const char *name, int32_t x,
                                               int64_t cout, int k, int stride, int pad,
                                               int out_pad, bool bias)
{
    struct conv_params p = conv_square(k, stride, pad, out_pad);
    return conv_add_params(g, name, x, cout, &p, bias, true);
}

static CHECK_UNUSED int32_t batch_norm_add(struct graph *g, const char *name, int32_t x)
{
    struct shape c = {1, {g->values[x].shape.dim[1]}};
    struct node p = proto_make(OP_BATCH_NORM, 5, x, const_add(g, "bn.scale", c, 0.5f, 2),
                               const_add(g, "bn.bias", c, -1, 1));
    p.input[3] = const_add(g, "bn.mean", c, -1, 1);
    p.input[4] = const_add(g, "bn.var", c, 0.2f, 3);
    p.p.norm.epsilon = 1e-5f;
    return node_add(g, name, &p);
}

static CHECK_UNUSED int32_t instance_norm_add(struct graph *g, const char *name, int32_t x)
{
    struct shape c = {1, {g->values[x].shape.dim[1]}};
    struct node p = proto_make(OP_INSTANCE_NORM, 3, x, const_add(g, "in.scale", c, 0.5f, 2),
                               const_add(g, "in.bias", c, -1, 1));
    p.p.norm.epsilon = 1e-5f;
    return node_add(g, name, &p);
}

static CHECK_UNUSED int32_t act_add(struct graph *g, const char *name, int32_t x,
                                    enum act_kind kind)
{
    struct node p = proto_make(OP_ACTIVATION, 1, x, -1, -1);
    /* LeakyRelu slope 0.2; Clip to [-0.5, 0.5] (alpha = min, beta = max). */
    p.act = kind == ACT_CLIP ? (struct act){kind, -0.5f, 0.5f} : (struct act){kind, 0.2f, 0};
    return node_add(g, name, &p);
}

static CHECK_UNUSED int32_t binary_add(struct graph *g, const char *name, int32_t a, int32_t b,
                                       enum binary_kind kind)
{
    struct node p = proto_make(OP_BINARY, 2, a, b, -1);
    p.p.binary.kind = kind;
    return node_add(g, name, &p);
}

static CHECK_UNUSED int32_t concat_add(struct graph *g, const char *name, int32_t a, int32_t b,
                                       int axis)
{
    struct node p = proto_make(OP_CONCAT, 2, a, b, -1);
    p.p.concat.axis = axis;
    return node_add(g, name, &p);
}

/* Concat of n_inputs (1 to NODE_MAX_INPUTS) values along axis. */
static CHECK_UNUSED int32_t concat_add_n(struct graph *g, const char *name, const int32_t *inputs,
                                         int n_inputs, int axis)
{
    struct node p = proto_make(OP_CONCAT, n_inputs, -1, -1, -1);
    for (int i = 0; i < n_inputs; i++)
        p.input[i] = inputs[i];
    p.p.concat.axis = axis;
    return node_add(g, name, &p);
}

/* Pads one axis of a value by `begin` before and `end` after (negative crops). */
static CHECK_UNUSED int32_t pad_add_axis(struct graph *g, const char *name, int32_t x,
                                         enum pad_mode mode, int axis, int64_t begin, int64_t end)
{
    struct node p = proto_make(OP_PAD, 1, x, -1, -1);
    p.p.pad.mode = mode;
    p.p.pad.pads[axis] = begin;
    p.p.pad.pads[axis + g->values[x].shape.rank] = end;
    return node_add(g, name, &p);
}

/* Pads H and W of a rank-4 value by `amount` on every side. */
static CHECK_UNUSED int32_t pad_add(struct graph *g, const char *name, int32_t x,
                                    enum pad_mode mode, int amount)
{
    struct node p = proto_make(OP_PAD, 1, x, -1, -1);
    p.p.pad.mode = mode;
    p.p.pad.pads[2] = p.p.pad.pads[3] = p.p.pad.pads[6] = p.p.pad.pads[7] = amount;
    return node_add(g, name, &p);
}

static CHECK_UNUSED int32_t resize_add(struct graph *g, const char *name, int32_t x, float scale)
{
    struct node p = proto_make(OP_RESIZE, 1, x, -1, -1);
    p.p.resize = (struct resize_params){.mode = RESIZE_NEAREST,
                                        .coord = RESIZE_COORD_ASYMMETRIC,
                                        .nearest = RESIZE_NEAREST_FLOOR,
                                        .scale = {scale, scale}};
    return node_add(g, name, &p);
}

/* Resize with every parameter given; `sizes` (or NULL) is the output shape of a Resize
 * that gave sizes rather than scales (the importer then sets scale = size / input size). */
static CHECK_UNUSED int32_t resize_add_params(struct graph *g, const char *name, int32_t x,
                                              const struct resize_params *params,
                                              const struct shape *sizes)
{
    struct node p = proto_make(OP_RESIZE, 1, x, -1, -1);
    p.p.resize = *params;
    return node_add_preset(g, name, &p, sizes);
}

static CHECK_UNUSED int32_t depth_space_add(struct graph *g, const char *name, int32_t x,
                                            const struct depth_space_params *params)
{
    struct node p = proto_make(OP_DEPTH_SPACE, 1, x, -1, -1);
    p.p.depth_space = *params;
    return node_add(g, name, &p);
}

static CHECK_UNUSED int32_t pool_add(struct graph *g, const char *name, int32_t x,
                                     const struct pool_params *params)
{
    struct node p = proto_make(OP_POOL, 1, x, -1, -1);
    p.p.pool = *params;
    return node_add(g, name, &p);
}

static CHECK_UNUSED int32_t reshape_add(struct graph *g, const char *name, int32_t x,
                                        struct shape to)
{
    struct node p = proto_make(OP_RESHAPE, 1, x, -1, -1);
    p.p.reshape.to = to;
    return node_add(g, name, &p);
}

/* ReduceMean (keep_dims as given) or LayerNorm (epsilon 1e-5) over axes [begin, end). */
static CHECK_UNUSED int32_t reduce_add(struct graph *g, const char *name, enum op op, int32_t x,
                                       int32_t begin, int32_t end, bool keep_dims)
{
    struct node p = proto_make(op, 1, x, -1, -1);
    p.p.reduce = (struct reduce_params){begin, end, keep_dims || op == OP_LAYER_NORM, 1e-5f};
    return node_add(g, name, &p);
}

/* LayerNorm over axes [begin, end) as torch.onnx writes it before opset 17: ReduceMean, Sub,
 * Pow 2, ReduceMean, Add eps, Sqrt, Div. */
static CHECK_UNUSED int32_t layer_norm_chain_add(struct graph *g, int32_t x, int32_t begin,
                                                 int32_t end)
{
    int32_t mean = reduce_add(g, "ln.mean", OP_REDUCE_MEAN, x, begin, end, true);
    int32_t d = binary_add(g, "ln.sub", x, mean, BINARY_SUB);
    struct node pow2 = proto_make(OP_ACTIVATION, 1, d, -1, -1);
    pow2.act = (struct act){ACT_POW, 2.0f, 0.0f};
    int32_t sq = node_add(g, "ln.pow", &pow2);
    int32_t var = reduce_add(g, "ln.var", OP_REDUCE_MEAN, sq, begin, end, true);
    int32_t eps = const_add(g, "ln.eps", (struct shape){0, {0}}, 1e-5f, 1e-5f);
    int32_t root = act_add(g, "ln.sqrt", binary_add(g, "ln.add", var, eps, BINARY_ADD), ACT_SQRT);
    return binary_add(g, "ln.div", d, root, BINARY_DIV);
}

static CHECK_UNUSED const struct shape *shape_of(const struct graph *g, int32_t id)
{
    return &g->values[id].shape;
}

static CHECK_UNUSED bool shape_is4(const struct shape *s, int64_t n, int64_t c, int64_t h,
                                   int64_t w)
{
    struct shape want = shape_make4(n, c, h, w);
    return shape_equal(s, &want);
}

static CHECK_UNUSED bool err_has(const char *part)
{
    bool found = strstr(err.msg, part) != NULL;
    if (!found)
        fprintf(stderr, "  message was: %s\n", err.msg);
    return found;
}

static CHECK_UNUSED float *random_input(const struct graph *g)
{
    int64_t count = shape_count(shape_of(g, g->input));
    float *x = malloc((size_t)count * sizeof *x);
    for (int64_t i = 0; i < count; i++)
        x[i] = random_float(-1, 1);
    return x;
}

#endif
