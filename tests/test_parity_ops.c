/* test_parity_ops.c — a fast backend against ref, op by op, on random shapes.
 *
 * Built twice: test_parity_ops (cpu, bound 1e-5) and test_parity_ops_cuda (PARITY_BACKEND
 * "cuda", bound 1e-4, label gpu; skipped with the reason printed where no device is).
 * MNEMO_TEST_SEED=N draws other random cases (the GPU check passes a fresh one each run).
 *
 * The cases are a table indexed by enum op (op_cases, at the end): one row per op naming
 * its case generators, with a static_assert on OP_COUNT and a check at start that no row
 * is empty, so an op cannot be added without parity cases. Each case builds a small graph
 * around its op (plus the Add/activation the passes fuse into it), finalizes it and runs it
 * through backend_open on both backends from the same random input, outputs poisoned with
 * NaN before each run and every case run twice. Shapes are small and odd on purpose: edges,
 * strides that do not divide, asymmetric pads, dilation, output_padding, scales that are not
 * integers. The random stream is fixed so a failure reproduces; its case is printed.
 *
 * Where the cpu backend runs an op with the ref kernel (Binary, Concat, Resize, crops),
 * its cases still go through the cpu backend (its dispatch, arena and the unfused
 * activation after them); the kernels themselves are checked by the cuda build and by
 * test_ref_ops. */
#include "backend.h"
#include "check.h"
#include "graph_build.h"

#ifndef PARITY_BACKEND
#define PARITY_BACKEND "cpu"
#define PARITY_BOUND   1e-5
#endif

static const enum act_kind acts[] = {ACT_NONE, ACT_RELU,    ACT_LEAKY_RELU,
                                     ACT_TANH, ACT_SIGMOID, ACT_CLIP};

/* The largest relative L2 error of the op being run, for its summary line. */
static double op_max_error;

/* Runs g on `name` twice from `x`; the output, or NULL with the reason printed. */
static float *run_on(const struct graph *g, const char *name, const float *x)
{
    struct backend *b = backend_open(g, name, NULL, &err);
    if (!b) {
        fprintf(stderr, "  %s: %s\n", name, err.msg);
        return NULL;
    }
    int64_t count = shape_count(shape_of(g, g->output));
    float *y = malloc((size_t)count * sizeof *y);
    for (int run = 0; run < 2; run++) {
        for (int64_t i = 0; i < count; i++)
            y[i] = NAN;
        if (backend_run(b, x, y, &err)) {
            fprintf(stderr, "  %s: run: %s\n", name, err.msg);
            free(y);
            y = NULL;
            break;
        }
    }
    backend_close(b);
    return y;
}

/* Finalizes g, runs it on ref and the backend under test, compares, frees g. */
static void check_graph(struct graph *g, const char *what)
{
    if (graph_finalize(g, &err) != 0) {
        CHECK_MSG(0, "%s: %s", what, err.msg);
        graph_free(g);
        return;
    }
    float *x = random_input(g);
    float *want = run_on(g, "ref", x), *got = run_on(g, PARITY_BACKEND, x);
    int64_t count = shape_count(shape_of(g, g->output));
    CHECK_MSG(want && got, "%s: a backend failed", what);
    if (want && got) {
        double e = rel_l2(got, want, count);
        CHECK_MSG(e < PARITY_BOUND, "%s: relative L2 error %g", what, e);
        if (!isnan(op_max_error) && !(e <= op_max_error)) /* a NaN stays */
            op_max_error = e;
    }
    free(x);
    free(want);
    free(got);
    graph_free(g);
}

/* The epilogue the passes fuse: optionally + the input (when shapes allow), then an act. */
static void epilogue_add(struct graph *g, int32_t x, int32_t y, bool residual, enum act_kind act)
{
    if (residual && shape_equal(shape_of(g, x), shape_of(g, y)))
        y = binary_add(g, "residual", y, x, BINARY_ADD);
    if (act != ACT_NONE)
        act_add(g, "act", y, act);
}

static const char *shape_text(const struct graph *g, int32_t id, char *buf, size_t size)
{
    return shape_str(shape_of(g, id), buf, size);
}

/* ---- Conv, ConvTranspose --------------------------------------------------------------- */

static struct conv_params conv_random(bool transposed)
{
    static const int kernels[] = {1, 2, 3, 4, 5, 7};
    struct conv_params p = {.group = 1};
    for (int d = 0; d < 2; d++) {
        p.kernel[d] = kernels[random_int(transposed ? 5 : 6)];
        p.stride[d] = 1 + random_int(2);
        p.dilation[d] = 1 + random_int(2) * random_int(2);
        p.pad[d] = random_int(p.kernel[d]);
        p.pad[d + 2] = random_int(p.kernel[d]);
        if (transposed) /* output_padding < stride (ONNX); beyond the end pad on cpu too */
            p.output_padding[d] = random_int(p.stride[d]);
    }
    return p;
}

/* Returns whether the random shape made a case (too small for its kernel: none). */
static bool conv_case(int index, bool transposed)
{
    struct conv_params p = conv_random(transposed);
    int64_t cin = 1 + random_int(7), h = 5 + random_int(19), w = 5 + random_int(19);
    bool same = !transposed && random_int(3) == 0; /* shape-preserving, so a residual fits */
    if (same) {
        p = (struct conv_params){.kernel = {3, 3},
                                 .stride = {1, 1},
                                 .dilation = {1, 1},
                                 .pad = {1, 1, 1, 1},
                                 .group = 1};
    }
    int64_t cout = same ? cin : 1 + random_int(9);
    char what[256];
    snprintf(
        what, sizeof what,
        "%s case %d: %lldx%lldx%lld -> %lld, k %dx%d s %dx%d d %dx%d pads %d,%d,%d,%d op %d,%d",
        transposed ? "ConvTranspose" : "Conv", index, (long long)cin, (long long)h, (long long)w,
        (long long)cout, p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.dilation[0],
        p.dilation[1], p.pad[0], p.pad[1], p.pad[2], p.pad[3], p.output_padding[0],
        p.output_padding[1]);
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1 + random_int(2), cin, h, w));
    int32_t y = conv_add_params(&g, "conv", x, cout, &p, random_int(2) == 0, transposed);
    if (y < 0) {
        graph_free(&g);
        return false;
    }
    epilogue_add(&g, x, y, same, acts[random_int(6)]);
    check_graph(&g, what);
    return true;
}

static bool conv_random_case(int index)
{
    return conv_case(index, false);
}

static bool conv_transpose_random_case(int index)
{
    return conv_case(index, true);
}

/* Grouped Conv (2 to 4 groups of 1 to 3 channels each way) and depthwise (group = input
 * channels, a channel multiplier of 1 or 2), with the random kernels, strides, dilations
 * and pads of the cases above, half of them with a BatchNorm folded in; a too small input
 * makes no case. */
static bool conv_grouped_case(int index)
{
    struct conv_params p = conv_random(false);
    bool depthwise = index % 2 == 1;
    p.group = 2 + random_int(3);
    int64_t cin = p.group * (depthwise ? 1 : 1 + random_int(3));
    int64_t cout = p.group * (depthwise ? 1 + random_int(2) : 1 + random_int(3));
    int64_t h = 5 + random_int(19), w = 5 + random_int(19);
    char what[256];
    snprintf(what, sizeof what,
             "Conv %s case %d: %lldx%lldx%lld -> %lld, group %d, k %dx%d s %dx%d d %dx%d pads "
             "%d,%d,%d,%d",
             depthwise ? "depthwise" : "grouped", index, (long long)cin, (long long)h, (long long)w,
             (long long)cout, p.group, p.kernel[0], p.kernel[1], p.stride[0], p.stride[1],
             p.dilation[0], p.dilation[1], p.pad[0], p.pad[1], p.pad[2], p.pad[3]);
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1 + random_int(2), cin, h, w));
    int32_t y = conv_add_params(&g, "conv", x, cout, &p, random_int(2) == 0, false);
    if (y < 0) {
        graph_free(&g);
        return false;
    }
    if (index % 4 >= 2) /* a BatchNorm the passes fold into the grouped weights */
        y = batch_norm_add(&g, "bn", y);
    epilogue_add(&g, x, y, false, acts[random_int(6)]);
    check_graph(&g, what);
    return true;
}

/* Grouped ConvTranspose (2 to 4 groups of 1 to 3 channels each way, depthwise in odd
 * cases) with the random kernels, strides, dilations, pads and output_padding of the cases
 * above, a BatchNorm folded into the grouped weights in half of them. */
static bool conv_transpose_grouped_case(int index)
{
    struct conv_params p = conv_random(true);
    bool depthwise = index % 2 == 1;
    p.group = 2 + random_int(3);
    int64_t cin = p.group * (depthwise ? 1 : 1 + random_int(3));
    int64_t cout = p.group * (depthwise ? 1 : 1 + random_int(3));
    int64_t h = 3 + random_int(12), w = 3 + random_int(12);
    char what[256];
    snprintf(what, sizeof what,
             "ConvTranspose %s case %d: %lldx%lldx%lld -> %lld, group %d, k %dx%d s %dx%d d %dx%d "
             "pads %d,%d,%d,%d op %d,%d",
             depthwise ? "depthwise" : "grouped", index, (long long)cin, (long long)h, (long long)w,
             (long long)cout, p.group, p.kernel[0], p.kernel[1], p.stride[0], p.stride[1],
             p.dilation[0], p.dilation[1], p.pad[0], p.pad[1], p.pad[2], p.pad[3],
             p.output_padding[0], p.output_padding[1]);
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1 + random_int(2), cin, h, w));
    int32_t y = conv_add_params(&g, "convt", x, cout, &p, random_int(2) == 0, true);
    if (y < 0) {
        graph_free(&g);
        return false;
    }
    if (index % 4 >= 2)
        y = batch_norm_add(&g, "bn", y);
    epilogue_add(&g, x, y, false, acts[random_int(6)]);
    check_graph(&g, what);
    return true;
}

/* The layers of the two generator families, at their own sizes. */
static void generator_layer(int k, int s, int pad, int out_pad, bool transposed, const char *what)
{
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1, 16, 32, 32));
    struct conv_params p = conv_square(k, s, pad, out_pad);
    int32_t y = conv_add_params(&g, "layer", x, 24, &p, true, transposed);
    epilogue_add(&g, x, y, false, ACT_LEAKY_RELU);
    check_graph(&g, what);
}

static bool conv_layer_case(int index)
{
    static const int layers[][3] = {{4, 2, 1}, {7, 1, 3}, {3, 1, 1}, {3, 2, 1}}; /* k, s, pad */
    char what[64];
    snprintf(what, sizeof what, "Conv generator layer %d", index);
    generator_layer(layers[index][0], layers[index][1], layers[index][2], 0, false, what);
    return true;
}

static bool conv_transpose_layer_case(int index)
{
    static const int layers[][4] = {{4, 2, 1, 0}, {3, 2, 1, 1}}; /* k, s, pad, output_padding */
    char what[64];
    snprintf(what, sizeof what, "ConvTranspose generator layer %d", index);
    generator_layer(layers[index][0], layers[index][1], layers[index][2], layers[index][3], true,
                    what);
    return true;
}

/* output_padding past the end pad: oneDNN cannot take the negative end pad, so the cpu
 * backend runs the reachable outputs and fills the rest with the bias (the ONNX node
 * tests test_convtranspose_pad, _kernel_shape and _with_kernel, once refused on cpu). */
static bool output_padding_beyond_pad_case(int index)
{
    (void)index;
    generator_layer(3, 2, 0, 1, true, "ConvTranspose with output_padding past its end pad");
    return true;
}

/* ConvTranspose to 1-4 channels (group 1, no dilation: the cpu backend's own kernel,
 * deconv.c) on rows wide enough for its vector chunks, at odd widths, with the random
 * kernels, strides, pads and output_padding above, and every activation. */
static bool conv_transpose_few_channels_case(int index)
{
    struct conv_params p = conv_random(true);
    p.dilation[0] = p.dilation[1] = 1;
    int64_t cin = 1 + random_int(9), h = 1 + random_int(4), w = 60 + random_int(140);
    int64_t cout = 1 + index % 4;
    char what[256];
    snprintf(what, sizeof what,
             "ConvTranspose to %lld channels, case %d: %lldx%lldx%lld, k %dx%d s %dx%d pads "
             "%d,%d,%d,%d op %d,%d",
             (long long)cout, index, (long long)cin, (long long)h, (long long)w, p.kernel[0],
             p.kernel[1], p.stride[0], p.stride[1], p.pad[0], p.pad[1], p.pad[2], p.pad[3],
             p.output_padding[0], p.output_padding[1]);
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1 + random_int(2), cin, h, w));
    int32_t y = conv_add_params(&g, "deconv", x, cout, &p, random_int(2) == 0, true);
    if (y < 0) {
        graph_free(&g);
        return false;
    }
    epilogue_add(&g, x, y, false, acts[random_int(6)]);
    check_graph(&g, what);
    return true;
}

/* ---- BatchNorm, InstanceNorm ----------------------------------------------------------- */

static void norm_case(int index, bool instance)
{
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1 + random_int(2), 1 + random_int(9), 1 + random_int(40),
                                          1 + random_int(40)));
    int32_t y = instance ? instance_norm_add(&g, "norm", x) : batch_norm_add(&g, "norm", x);
    epilogue_add(&g, x, y, random_int(2) == 0, acts[random_int(6)]);
    char what[64];
    snprintf(what, sizeof what, "%s case %d", instance ? "InstanceNorm" : "BatchNorm", index);
    check_graph(&g, what);
}

static bool batch_norm_case(int index)
{
    norm_case(index, false);
    return true;
}

static bool instance_norm_case(int index)
{
    norm_case(index, true);
    return true;
}

/* ---- Activation ------------------------------------------------------------------------ */

/* Every activation kind has its parameters drawn here and says whether it needs a positive
 * input; a new kind fails this assert until it has both. */
static_assert(ACT_COUNT == 16, "a new activation needs its parameters in act_draw and its "
                               "domain in act_needs_positive");

/* Sqrt, Reciprocal and Pow (fractional and negative exponents) run on positive values, as
 * in the normalisations that use them; the others on any value. */
static bool act_needs_positive(enum act_kind kind)
{
    return kind == ACT_SQRT || kind == ACT_RECIPROCAL || kind == ACT_POW;
}

/* Draws the parameters of the activation of the graph's last node. */
static void act_draw(struct act *a)
{
    static const float exponents[] = {2, 3, 0.5f, 1.5f, -1, -0.5f, 1};
    if (a->kind == ACT_LEAKY_RELU)
        a->alpha = random_float(0.01f, 0.5f);
    if (a->kind == ACT_CLIP) {
        a->alpha = random_float(-1, 0);
        a->beta = random_float(0, 1);
    }
    if (a->kind == ACT_ELU)
        a->alpha = random_float(0.1f, 2);
    if (a->kind == ACT_HARD_SIGMOID) {
        a->alpha = random_float(0.1f, 0.5f);
        a->beta = random_float(0.3f, 0.7f);
    }
    if (a->kind == ACT_POW)
        a->alpha = exponents[random_int(7)];
}

/* x, or Sigmoid(x) in (0, 1) where `kind` needs a positive input. */
static int32_t act_input(struct graph *g, int32_t x, enum act_kind kind, const char *name)
{
    return act_needs_positive(kind) ? act_add(g, name, x, ACT_SIGMOID) : x;
}

/* A standalone Activation (its producer is the graph input, or the Sigmoid that makes it
 * positive: nothing fuses it) of every kind on every rank, sometimes followed by a second
 * one; every tenth case is larger than the cpu backend's chunk of 16,384 floats with an
 * odd tail. Parameters are drawn. */
static bool activation_case(int index)
{
    struct shape s = {.rank = 1 + random_int(4)};
    for (int32_t d = 0; d < s.rank; d++)
        s.dim[d] = 1 + random_int(d == s.rank - 1 ? 41 : 7);
    if (index % 10 == 9)
        s = shape_make4(1, 3, 97, 101);
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, s);
    int chain = 1 + (random_int(3) == 0);
    char what[200], buf[96];
    int len = snprintf(what, sizeof what, "Activation case %d: %s", index,
                       shape_text(&g, x, buf, sizeof buf));
    for (int k = 0; k < chain; k++) {
        enum act_kind kind =
            (enum act_kind)(k == 0 ? 1 + index % (ACT_COUNT - 1) : 1 + random_int(ACT_COUNT - 1));
        x = act_add(&g, k == 0 ? "act" : "act2", act_input(&g, x, kind, k ? "pos2" : "pos"), kind);
        struct act *a = &g.nodes[g.n_nodes - 1].act;
        act_draw(a);
        len += snprintf(what + len, sizeof what - (size_t)len, " %s(%g,%g)", act_names[kind],
                        (double)a->alpha, (double)a->beta);
    }
    check_graph(&g, what);
    return true;
}

/* An activation of every kind fused into a Binary producer, with the input added back
 * (the epilogue); for the positive-only kinds the operands are positive. */
static bool activation_fused_case(int index)
{
    enum act_kind kind = (enum act_kind)(1 + index);
    bool positive = act_needs_positive(kind);
    struct graph g;
    graph_init(&g);
    int32_t x = act_input(&g, input_add(&g, shape_make4(1, 3, 37, 41)), kind, "pos");
    int32_t k = const_add(&g, "k", shape_make4(1, 3, 1, 1), positive ? 0.5f : -2, 2);
    int32_t y = binary_add(&g, "scale", x, k, BINARY_MUL);
    epilogue_add(&g, x, y, true, kind);
    act_draw(&g.nodes[g.n_nodes - 1].act);
    check_graph(&g, act_names[kind]);
    return true;
}

/* An activation of every kind that takes any input, fused into a Conv: on cpu, oneDNN's
 * post-op where it has the activation, our epilogue after the convolution otherwise. */
static bool activation_conv_case(int index)
{
    enum act_kind kind = (enum act_kind)(1 + index);
    if (act_needs_positive(kind))
        return false;
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1, 3, 13, 17));
    act_add(&g, "act", conv_add(&g, "conv", x, 5, 3, 1, 1, true), kind);
    act_draw(&g.nodes[g.n_nodes - 1].act);
    char what[64];
    snprintf(what, sizeof what, "%s fused into a Conv", act_names[kind]);
    check_graph(&g, what);
    return true;
}

/* Tanh over its whole range on the cpu backend's own loop (act.c: a polynomial exp, an
 * odd series below 1/16, 1 past 9): x in [-1, 1] times up to 20 per channel, through a
 * Mul whose fused no-op Clip keeps the Tanh a node of its own. */
static bool tanh_range_case(int index)
{
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1, 5, 31 + index, 33));
    int32_t k = const_add(&g, "k", shape_make4(1, 5, 1, 1), -20, 20);
    int32_t y = act_add(&g, "clip", binary_add(&g, "scale", x, k, BINARY_MUL), ACT_CLIP);
    g.nodes[g.n_nodes - 1].act.alpha = -30.0f;
    g.nodes[g.n_nodes - 1].act.beta = 30.0f;
    act_add(&g, "tanh", y, ACT_TANH);
    char what[64];
    snprintf(what, sizeof what, "Tanh over its range, case %d", index);
    check_graph(&g, what);
    return true;
}

/* What is not a number stays one through Tanh, as in PyTorch and ref (the loop counts
 * non-finite outputs and moves off them: a Tanh that made NaN into 1 would hide them);
 * the infinities give -1 and 1. */
static bool tanh_nonfinite_case(int index)
{
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1, 2, 5, 7 + index));
    act_add(&g, "tanh", x, ACT_TANH);
    CHECK_MSG(graph_finalize(&g, &err) == 0, "%s", err.msg);
    int64_t count = shape_count(shape_of(&g, x));
    float *in = random_input(&g);
    const float special[] = {NAN, INFINITY, -INFINITY, -NAN};
    for (int64_t i = 0; i < count; i += 3)
        in[i] = special[(i / 3) % 4];
    float *out = run_on(&g, "cpu", in);
    int64_t wrong = 0;
    for (int64_t i = 0; out && i < count; i++) {
        float want = tanhf(in[i]);
        wrong += isnan(want) ? !isnan(out[i]) : fabsf(out[i] - want) > 1e-6f;
    }
    CHECK_MSG(out && wrong == 0, "Tanh of NaN and infinities, case %d: %lld wrong of %lld", index,
              (long long)wrong, (long long)count);
    free(in);
    free(out);
    graph_free(&g);
    return true;
}

/* Clip with min above max (torch.clamp(min=0.25, max=-0.25)) is max everywhere, as ONNX
 * defines it: standalone (even cases) and fused into a Conv (odd, which the cpu backend
 * hands to oneDNN). ref itself is checked against that answer, not only the backend. */
static void clip_inverted_graph(struct graph *g, int index)
{
    graph_init(g);
    int32_t x = input_add(g, shape_make4(1, 3, 9 + index, 11));
    int32_t y = index % 2 ? conv_add(g, "conv", x, 4, 3, 1, 1, true) : x;
    act_add(g, "clip", y, ACT_CLIP);
    g->nodes[g->n_nodes - 1].act = (struct act){ACT_CLIP, 0.25f, -0.25f};
}

static bool clip_inverted_case(int index)
{
    struct graph g;
    clip_inverted_graph(&g, index);
    CHECK_MSG(graph_finalize(&g, &err) == 0, "%s", err.msg);
    float *in = random_input(&g), *out = run_on(&g, "ref", in);
    int64_t count = shape_count(shape_of(&g, g.output)), wrong = 0;
    for (int64_t i = 0; out && i < count; i++)
        wrong += out[i] != -0.25f;
    CHECK_MSG(out && wrong == 0, "Clip min > max case %d: ref left %lld of %lld values off max",
              index, (long long)wrong, (long long)count);
    free(in);
    free(out);
    graph_free(&g);
    clip_inverted_graph(&g, index);
    char what[64];
    snprintf(what, sizeof what, "Clip min > max case %d (%s)", index,
             index % 2 ? "fused into a Conv" : "standalone");
    check_graph(&g, what);
    return true;
}

/* ---- Binary ---------------------------------------------------------------------------- */

static const char *const binary_names[BINARY_COUNT] = {"Add", "Sub", "Mul", "Div", "PRelu"};

/* A constant that broadcasts against `full`: rank 0 to 4 (aligned at the right), each
 * dimension full or 1. For a divisor, magnitudes in [0.5, 2] with both signs. */
static int32_t broadcast_const(struct graph *g, const int64_t *full, bool divisor)
{
    struct shape s = {.rank = random_int(5)};
    for (int32_t d = 0; d < s.rank; d++)
        s.dim[d] = random_int(2) ? full[4 - s.rank + d] : 1;
    int32_t c = divisor ? const_add(g, "b", s, 0.5f, 2) : const_add(g, "b", s, -2, 2);
    if (divisor)
        for (int64_t i = 0; i < shape_count(&s); i += 2)
            g->values[c].data[i] = -g->values[c].data[i];
    return c;
}

/* x (some dimensions 1, so it broadcasts too) against a constant of a broadcasting shape,
 * a run-time value of one channel (a 1x1 Conv of x) or of x's shape (Sigmoid of x), in
 * either order; a Div's divisor is always the operand kept away from 0. */
static bool binary_case(int index)
{
    enum binary_kind kind = (enum binary_kind)(index % BINARY_COUNT);
    int64_t full[4] = {1 + random_int(2), 1 + random_int(6), 1 + random_int(23),
                       1 + random_int(23)};
    int64_t xd[4];
    for (int d = 0; d < 4; d++)
        xd[d] = random_int(4) == 0 ? 1 : full[d];
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(xd[0], xd[1], xd[2], xd[3]));
    int form = random_int(3);
    if (kind == BINARY_DIV && form == 1)
        form = 0;
    int32_t b = form == 0   ? broadcast_const(&g, full, kind == BINARY_DIV)
                : form == 1 ? conv_add(&g, "b", x, 1, 1, 1, 0, true)
                            : act_add(&g, "b", x, ACT_SIGMOID);
    bool swap = kind != BINARY_DIV && random_int(2);
    char what[200], xs[96], bs[96];
    snprintf(what, sizeof what, "Binary case %d: %s %s %s (%s)", index,
             shape_text(&g, swap ? b : x, xs, sizeof xs), binary_names[kind],
             shape_text(&g, swap ? x : b, bs, sizeof bs),
             form == 0   ? "constant"
             : form == 1 ? "Conv 1x1"
                         : "Sigmoid");
    int32_t y = binary_add(&g, "binary", swap ? b : x, swap ? x : b, kind);
    if (y < 0) {
        CHECK_MSG(0, "%s: %s", what, err.msg);
        graph_free(&g);
        return false;
    }
    epilogue_add(&g, x, y, random_int(2) == 0, acts[random_int(6)]);
    check_graph(&g, what);
    return true;
}

/* ---- Concat ---------------------------------------------------------------------------- */

/* 2 to 4 inputs on axis 1 mostly (skip connections), sometimes 0, 2 or 3: x itself, a value
 * computed from x with another size along the axis (a 1x1 Conv to other channels, or a
 * Pad of the axis), a constant, or Tanh of x. The first input always reads x. */
static bool concat_case(int index)
{
    static const int axes[] = {1, 1, 1, 2, 3, 0};
    static const char *const forms[] = {"x", "computed", "constant", "Tanh"};
    int axis = axes[random_int(6)], n_inputs = 2 + index % 3;
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1 + random_int(2), 1 + random_int(5), 1 + random_int(19),
                                          1 + random_int(19)));
    int32_t in[4];
    char what[256], buf[96];
    int len = snprintf(what, sizeof what, "Concat case %d: axis %d of %s:", index, axis,
                       shape_text(&g, x, buf, sizeof buf));
    for (int k = 0; k < n_inputs; k++) {
        int form = k == 0 ? random_int(2) : random_int(4);
        char name[16];
        snprintf(name, sizeof name, "in%d", k);
        if (form == 0) {
            in[k] = x;
        } else if (form == 1 && axis == 1) {
            in[k] = conv_add(&g, name, x, 1 + random_int(6), 1, 1, 0, random_int(2));
        } else if (form == 1) {
            in[k] = pad_add_axis(&g, name, x, random_int(2) ? PAD_EDGE : PAD_CONSTANT, axis,
                                 random_int(3), 1 + random_int(3));
        } else if (form == 2) {
            struct shape s = *shape_of(&g, x);
            s.dim[axis] = 1 + random_int(5);
            in[k] = const_add(&g, name, s, -1, 1);
        } else {
            in[k] = act_add(&g, name, x, ACT_TANH);
        }
        len += snprintf(what + len, sizeof what - (size_t)len, " %s %s", forms[form],
                        shape_text(&g, in[k], buf, sizeof buf));
    }
    int32_t y = concat_add_n(&g, "concat", in, n_inputs, axis);
    if (y < 0) {
        CHECK_MSG(0, "%s: %s", what, err.msg);
        graph_free(&g);
        return false;
    }
    epilogue_add(&g, x, y, false, acts[random_int(6)]);
    check_graph(&g, what);
    return true;
}

/* ---- Pad ------------------------------------------------------------------------------- */

/* Spatial pads run the cpu kernel; asymmetric ones and crops too (crops fall back). */
static bool pad_case(int index)
{
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1 + random_int(2), 1 + random_int(4), 4 + random_int(20),
                                          4 + random_int(20)));
    enum pad_mode mode = (enum pad_mode)(index % 3);
    int32_t y = pad_add(&g, "pad", x, mode, 1 + random_int(3));
    struct node *n = &g.nodes[g.n_nodes - 1];
    n->p.pad.value = 0.25f;
    n->p.pad.pads[3] = random_int(4);           /* asymmetric: left */
    n->p.pad.pads[6] = index % 4 == 3 ? -1 : 1; /* a crop at the bottom sometimes */
    CHECK_MSG(graph_infer_shape(&g, n, &err) == 0, "%s", err.msg);
    epilogue_add(&g, x, y, false, acts[random_int(6)]);
    char what[64];
    snprintf(what, sizeof what, "Pad case %d (%s)", index,
             mode == PAD_REFLECT ? "reflect"
             : mode == PAD_EDGE  ? "edge"
                                 : "constant");
    check_graph(&g, what);
    return true;
}

/* ---- Resize ---------------------------------------------------------------------------- */

static const char *const resize_coord_names[RESIZE_COORD_COUNT] = {
    "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"};
static const char *const resize_nearest_names[RESIZE_NEAREST_COUNT] = {
    "round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

/* Nearest, linear and cubic in turn (cubic with PyTorch's a = -0.75 or ONNX's example
 * -0.5), every coordinate and nearest mode drawn. */
static struct resize_params resize_random(int index)
{
    return (struct resize_params){
        .mode = (enum resize_mode)(index % RESIZE_MODE_COUNT),
        .cubic_a = index % 2 ? -0.5f : -0.75f,
        .coord = (enum resize_coord)random_int(RESIZE_COORD_COUNT),
        .nearest = (enum resize_nearest)random_int(RESIZE_NEAREST_COUNT),
    };
}

/* One case from a node's parameters, with `sizes` preset (or NULL); false when the draw
 * made an empty output. */
static bool resize_check(int index, const struct resize_params *p, struct shape xs,
                         const struct shape *sizes)
{
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, xs);
    int32_t y = resize_add_params(&g, "resize", x, p, sizes);
    if (y < 0) {
        graph_free(&g);
        return false;
    }
    char what[256], bx[96], by[96];
    snprintf(what, sizeof what, "Resize case %d: %s -> %s (by %s), scales %g x %g, %s, %s%s%s",
             index, shape_text(&g, x, bx, sizeof bx), shape_text(&g, y, by, sizeof by),
             sizes ? "sizes" : "scales", (double)p->scale[0], (double)p->scale[1],
             p->mode == RESIZE_LINEAR  ? "linear"
             : p->mode == RESIZE_CUBIC ? "cubic"
                                       : "nearest",
             resize_coord_names[p->coord], p->mode == RESIZE_NEAREST ? ", " : "",
             p->mode == RESIZE_NEAREST ? resize_nearest_names[p->nearest] : "");
    epilogue_add(&g, x, y, random_int(2) == 0, acts[random_int(6)]);
    check_graph(&g, what);
    return true;
}

/* By scales, as Resize with `scales` and Upsample give them: up and down, integers and
 * not, H and W apart. Output = floor(input x scale); a too small input makes no case. */
static bool resize_scales_case(int index)
{
    static const float scales[] = {2,    3,     0.5f, 1.5f, 4.0f / 3, 7.0f / 3,
                                   0.6f, 0.75f, 1,    2.5f, 1.25f,    1.0f / 3};
    int count = (int)(sizeof scales / sizeof scales[0]);
    struct resize_params p = resize_random(index);
    p.scale[0] = scales[random_int(count)];
    p.scale[1] = random_int(3) == 0 ? p.scale[0] : scales[random_int(count)];
    struct shape xs =
        shape_make4(1 + random_int(2), 1 + random_int(4), 1 + random_int(23), 1 + random_int(23));
    return resize_check(index, &p, xs, NULL);
}

/* By sizes, as the importer builds Resize with `sizes`: any output size from 1 to three
 * times the input, scale = size / input size, the axes sized, the output shape preset. */
static bool resize_sizes_case(int index)
{
    struct resize_params p = resize_random(index);
    struct shape xs =
        shape_make4(1 + random_int(2), 1 + random_int(4), 1 + random_int(23), 1 + random_int(23));
    struct shape ys = xs;
    for (int i = 0; i < 2; i++) {
        ys.dim[2 + i] = 1 + random_int((int)(3 * xs.dim[2 + i]));
        p.scale[i] = (float)((double)ys.dim[2 + i] / (double)xs.dim[2 + i]);
        p.sized[i] = true;
    }
    return resize_check(index, &p, xs, &ys);
}

/* ---- DepthToSpace / SpaceToDepth ------------------------------------------------------ */

/* Block 1 to 3, DepthToSpace in both modes (even cases DCR, odd CRD) and SpaceToDepth
 * (every third case), channels and sides that divide as each needs. */
static bool depth_space_case(int index)
{
    struct depth_space_params p = {
        .block = 1 + random_int(3), .to_depth = index % 3 == 2, .crd = index % 2 == 1};
    int64_t b = p.block, c = 1 + random_int(4), h = 1 + random_int(9), w = 1 + random_int(9);
    struct shape xs = p.to_depth ? shape_make4(1 + random_int(2), c, h * b, w * b)
                                 : shape_make4(1 + random_int(2), c * b * b, h, w);
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, xs);
    int32_t y = depth_space_add(&g, "depth_space", x, &p);
    if (y < 0) {
        CHECK_MSG(0, "DepthSpace case %d: %s", index, err.msg);
        graph_free(&g);
        return false;
    }
    epilogue_add(&g, x, y, false, acts[random_int(6)]);
    char what[160], bx[96];
    snprintf(what, sizeof what, "%s case %d: %s, block %d%s",
             p.to_depth ? "SpaceToDepth" : "DepthToSpace", index, shape_text(&g, x, bx, sizeof bx),
             p.block, p.to_depth ? "" : (p.crd ? " CRD" : " DCR"));
    check_graph(&g, what);
    return true;
}

/* ---- AveragePool / MaxPool ------------------------------------------------------------ */

/* Average (even cases) and max (odd): kernels 1 to 4, strides 1 to 3, pads below the
 * kernel and asymmetric, ceil mode, count_include_pad, dilation for max; every eighth case
 * global. Too small an input makes no case. */
static bool pool_case(int index)
{
    struct pool_params p = {.kind = index % 2 ? POOL_MAX : POOL_AVERAGE,
                            .ceil_mode = random_int(2),
                            .count_include_pad = random_int(2)};
    int64_t h = 1 + random_int(20), w = 1 + random_int(20);
    for (int d = 0; d < 2; d++) {
        p.kernel[d] = 1 + random_int(4);
        p.stride[d] = 1 + random_int(3);
        p.dilation[d] = p.kind == POOL_MAX ? 1 + random_int(2) : 1;
        p.pad[d] = random_int(p.kernel[d]);
        p.pad[d + 2] = random_int(p.kernel[d]);
    }
    if (index % 8 == 7)
        p = (struct pool_params){.kind = p.kind,
                                 .kernel = {(int32_t)h, (int32_t)w},
                                 .stride = {1, 1},
                                 .dilation = {1, 1},
                                 .global = true};
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1 + random_int(2), 1 + random_int(4), h, w));
    int32_t y = pool_add(&g, "pool", x, &p);
    if (y < 0) {
        graph_free(&g);
        return false;
    }
    epilogue_add(&g, x, y, false, acts[random_int(6)]);
    char what[200], bx[96], by[96];
    snprintf(
        what, sizeof what, "%s case %d: %s -> %s, k %dx%d s %dx%d d %dx%d pads %d,%d,%d,%d%s%s",
        p.kind == POOL_MAX ? "MaxPool" : "AveragePool", index, shape_text(&g, x, bx, sizeof bx),
        shape_text(&g, y, by, sizeof by), p.kernel[0], p.kernel[1], p.stride[0], p.stride[1],
        p.dilation[0], p.dilation[1], p.pad[0], p.pad[1], p.pad[2], p.pad[3],
        p.ceil_mode ? " ceil" : "", p.count_include_pad ? " count_include_pad" : "");
    check_graph(&g, what);
    return true;
}

/* ---- Reshape --------------------------------------------------------------------------- */

/* GroupNorm's round trip: N x C x H x W to N x G x (C/G H W), an InstanceNorm over the
 * groups, and back; odd cases reshape the computed value of a Conv instead of the input. */
static bool reshape_case(int index)
{
    int64_t groups = 1 + random_int(4), per = 1 + random_int(3);
    int64_t n = 1 + random_int(2), h = 1 + random_int(9), w = 2 + random_int(9);
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(n, groups * per, h, w));
    int32_t y = index % 2 ? conv_add(&g, "conv", x, groups * per, 3, 1, 1, true) : x;
    struct shape grouped = {3, {n, groups, per * h * w}};
    y = reshape_add(&g, "to_groups", y, grouped);
    y = instance_norm_add(&g, "norm", y);
    y = reshape_add(&g, "back", y, shape_make4(n, groups * per, h, w));
    if (y < 0) {
        CHECK_MSG(0, "Reshape case %d: %s", index, err.msg);
        graph_free(&g);
        return false;
    }
    epilogue_add(&g, x, y, random_int(2), acts[random_int(6)]);
    char what[96], buf[64];
    snprintf(what, sizeof what, "Reshape case %d: %s in %lld groups", index,
             shape_text(&g, x, buf, sizeof buf), (long long)groups);
    check_graph(&g, what);
    return true;
}

/* ---- ReduceMean, LayerNorm ------------------------------------------------------------- */

/* A random run of axes [begin, end) of a rank-4 shape, and the shape. */
static struct shape reduce_random(int32_t *begin, int32_t *end)
{
    *begin = random_int(4);
    *end = *begin + 1 + random_int(4 - *begin);
    return shape_make4(1 + random_int(2), 1 + random_int(9), 1 + random_int(12),
                       1 + random_int(12));
}

/* Any run of axes, kept or dropped; odd cases reduce a Conv's computed output. */
static bool reduce_mean_case(int index)
{
    int32_t begin, end;
    struct shape xs = reduce_random(&begin, &end);
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, xs);
    int32_t y = index % 2 ? conv_add(&g, "conv", x, xs.dim[1], 3, 1, 1, true) : x;
    y = reduce_add(&g, "mean", OP_REDUCE_MEAN, y, begin, end, random_int(2));
    epilogue_add(&g, x, y, false, acts[random_int(6)]);
    char what[96], buf[64];
    snprintf(what, sizeof what, "ReduceMean case %d: %s over axes %d..%d", index,
             shape_text(&g, x, buf, sizeof buf), begin, end - 1);
    check_graph(&g, what);
    return true;
}

/* Built as one node, or (odd cases) as the exporters' chain the passes fuse; long columns
 * (C x H x W of 9 x 40 x 40) reach the cuda kernel's block-per-column path. */
static bool layer_norm_case(int index)
{
    int32_t begin, end;
    struct shape xs = reduce_random(&begin, &end);
    if (index % 5 == 4) {
        xs = shape_make4(1, 9, 40, 40);
        begin = 1, end = 4;
    }
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, xs);
    int32_t y = index % 2 ? layer_norm_chain_add(&g, x, begin, end)
                          : reduce_add(&g, "ln", OP_LAYER_NORM, x, begin, end, true);
    epilogue_add(&g, x, y, random_int(2), acts[random_int(6)]);
    char what[96], buf[64];
    snprintf(what, sizeof what, "LayerNorm case %d: %s over axes %d..%d%s", index,
             shape_text(&g, x, buf, sizeof buf), begin, end - 1, index % 2 ? ", fused" : "");
    check_graph(&g, what);
    return true;
}

/* ---- large: a convolution layer at 1024², the memory-bound ops at 4K -------------------- */

/* Where a backend splits work by size (the cuda backend's plane split, its four-at-a-time
 * paths) the small cases above never reach: one case per op at 1024² (the convolutions, 8
 * channels) or 3840x2160 (the rest, 4 channels), in builds that define PARITY_LARGE (the
 * cuda one). MNEMO_PARITY_LARGE=0 counts them without running them (compute-sanitizer's
 * run, where they would take minutes). */
#ifndef PARITY_LARGE
#define PARITY_LARGE 0
#endif

static int32_t large_op(struct graph *g, enum op op, int32_t x)
{
    switch (op) {
    case OP_CONV:
        return conv_add(g, "conv", x, 8, 3, 1, 1, true);
    case OP_CONV_TRANSPOSE: /* 512² -> 1024² */
        return conv_transpose_add(g, "convt", x, 8, 4, 2, 1, 0, true);
    case OP_BATCH_NORM:
        return batch_norm_add(g, "bn", x);
    case OP_INSTANCE_NORM:
        return instance_norm_add(g, "in", x);
    case OP_ACTIVATION:
        return act_add(g, "act", x, ACT_LEAKY_RELU);
    case OP_BINARY: /* same shapes, then one channel broadcast */
        return binary_add(
            g, "div", binary_add(g, "add", x, act_add(g, "tanh", x, ACT_TANH), BINARY_ADD),
            const_add(g, "per_channel", (struct shape){4, {1, 4, 1, 1}}, 0.5f, 2), BINARY_DIV);
    case OP_CONCAT:
        return concat_add(g, "cat", x, act_add(g, "tanh", x, ACT_TANH), 1);
    case OP_PAD:
        return pad_add(g, "pad", x, PAD_REFLECT, 3);
    case OP_RESIZE: /* 1920x1080 -> 3840x2160, bilinear */
        return resize_add_params(g, "resize", x,
                                 &(struct resize_params){.mode = RESIZE_LINEAR,
                                                         .coord = RESIZE_COORD_HALF_PIXEL,
                                                         .nearest = RESIZE_NEAREST_FLOOR,
                                                         .scale = {2.0f, 2.0f}},
                                 NULL);
    case OP_DEPTH_SPACE: /* SpaceToDepth, block 2 */
        return depth_space_add(g, "s2d", x,
                               &(struct depth_space_params){.block = 2, .to_depth = true});
    case OP_POOL: /* MaxPool 3x3, stride 2, pad 1 */
        return pool_add(g, "pool", x,
                        &(struct pool_params){.kind = POOL_MAX,
                                              .kernel = {3, 3},
                                              .stride = {2, 2},
                                              .dilation = {1, 1},
                                              .pad = {1, 1, 1, 1}});
    case OP_RESHAPE:
        return reshape_add(g, "flat", x, (struct shape){3, {1, 4, 2160 * 3840}});
    case OP_REDUCE_MEAN: /* over the channels */
        return reduce_add(g, "mean", OP_REDUCE_MEAN, x, 1, 2, true);
    case OP_LAYER_NORM: /* over C, H, W: four long columns' worth in one */
        return reduce_add(g, "ln", OP_LAYER_NORM, x, 1, 4, true);
    case OP_COUNT:
        break;
    }
    return -1;
}

static bool large_case(enum op op)
{
    if (!PARITY_LARGE)
        return false;
    const char *run = getenv("MNEMO_PARITY_LARGE");
    if (run && strcmp(run, "0") == 0) {
        printf("  %s large case not run (MNEMO_PARITY_LARGE=0)\n", op_names[op]);
        return true;
    }
    bool conv = op == OP_CONV || op == OP_CONV_TRANSPOSE;
    struct shape xs =
        conv ? shape_make4(1, 8, op == OP_CONV ? 1024 : 512, op == OP_CONV ? 1024 : 512)
             : shape_make4(1, 4, op == OP_RESIZE ? 1080 : 2160, op == OP_RESIZE ? 1920 : 3840);
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, xs);
    int32_t y = large_op(&g, op, x);
    if (y >= 0 && op != OP_ACTIVATION)
        epilogue_add(&g, x, y, op == OP_CONV || op == OP_INSTANCE_NORM, ACT_RELU);
    char what[96], buf[64];
    snprintf(what, sizeof what, "%s large case: %s", op_names[op],
             shape_text(&g, x, buf, sizeof buf));
    check_graph(&g, what);
    return true;
}

#define LARGE_CASE(name, op)                                                                       \
    static bool large_##name(int index)                                                            \
    {                                                                                              \
        (void)index;                                                                               \
        return large_case(op);                                                                     \
    }
LARGE_CASE(conv, OP_CONV)
LARGE_CASE(conv_transpose, OP_CONV_TRANSPOSE)
LARGE_CASE(batch_norm, OP_BATCH_NORM)
LARGE_CASE(instance_norm, OP_INSTANCE_NORM)
LARGE_CASE(activation, OP_ACTIVATION)
LARGE_CASE(binary, OP_BINARY)
LARGE_CASE(concat, OP_CONCAT)
LARGE_CASE(pad, OP_PAD)
LARGE_CASE(resize, OP_RESIZE)
LARGE_CASE(depth_space, OP_DEPTH_SPACE)
LARGE_CASE(pool, OP_POOL)
LARGE_CASE(reshape, OP_RESHAPE)
LARGE_CASE(reduce_mean, OP_REDUCE_MEAN)
LARGE_CASE(layer_norm, OP_LAYER_NORM)

/* ---- the table ------------------------------------------------------------------------- */

/* A generator builds, runs and checks case `index` of its kind; false when the draw made
 * no case (an input too small for its kernel, an empty output). */
typedef bool (*case_fn)(int index);

struct case_gen {
    const char *name;
    case_fn make;
    int draws;     /* cases tried */
    int min_cases; /* how many of them must make a case */
};

#define GENS_PER_OP 7

/* One row per op; a row's first generator must be set. A new op fails this assert: give
 * it a row here, then update the count. */
static_assert(OP_COUNT == 14, "a new op needs its row of parity cases in op_cases");
#define LARGE(name)                                                                                \
    {                                                                                              \
        "large", large_##name, 1, PARITY_LARGE                                                     \
    }
static const struct case_gen op_cases[OP_COUNT][GENS_PER_OP] = {
    [OP_CONV] = {{"random", conv_random_case, 60, 40},
                 {"generator layer", conv_layer_case, 4, 4},
                 {"grouped and depthwise", conv_grouped_case, 40, 25},
                 LARGE(conv)},
    [OP_CONV_TRANSPOSE] = {{"random", conv_transpose_random_case, 40, 30},
                           {"generator layer", conv_transpose_layer_case, 2, 2},
                           {"output_padding beyond the end pad", output_padding_beyond_pad_case, 1,
                            1},
                           {"grouped and depthwise", conv_transpose_grouped_case, 30, 20},
                           {"to 1-4 channels, wide rows", conv_transpose_few_channels_case, 40, 30},
                           LARGE(conv_transpose)},
    [OP_BATCH_NORM] = {{"random", batch_norm_case, 20, 20}, LARGE(batch_norm)},
    [OP_INSTANCE_NORM] = {{"random", instance_norm_case, 20, 20}, LARGE(instance_norm)},
    [OP_ACTIVATION] = {{"standalone", activation_case, 3 * (ACT_COUNT - 1), 3 * (ACT_COUNT - 1)},
                       {"fused, with a residual", activation_fused_case, ACT_COUNT - 1,
                        ACT_COUNT - 1},
                       {"fused into a Conv", activation_conv_case, ACT_COUNT - 1, ACT_COUNT - 4},
                       {"Clip min > max", clip_inverted_case, 4, 4},
                       {"Tanh over its range", tanh_range_case, 3, 3},
                       {"Tanh of NaN and infinities", tanh_nonfinite_case, 2, 2},
                       LARGE(activation)},
    [OP_BINARY] = {{"broadcasting", binary_case, 50, 50}, LARGE(binary)},
    [OP_CONCAT] = {{"2 to 4 inputs", concat_case, 45, 45}, LARGE(concat)},
    [OP_PAD] = {{"random", pad_case, 24, 24}, LARGE(pad)},
    [OP_RESIZE] = {{"scales", resize_scales_case, 60, 45},
                   {"sizes", resize_sizes_case, 30, 30},
                   LARGE(resize)},
    [OP_DEPTH_SPACE] = {{"both ways, both modes", depth_space_case, 30, 30}, LARGE(depth_space)},
    [OP_POOL] = {{"average and max", pool_case, 60, 40}, LARGE(pool)},
    [OP_RESHAPE] = {{"GroupNorm round trip", reshape_case, 20, 20}, LARGE(reshape)},
    [OP_REDUCE_MEAN] = {{"runs of axes", reduce_mean_case, 30, 30}, LARGE(reduce_mean)},
    [OP_LAYER_NORM] = {{"one node and the fused chain", layer_norm_case, 30, 30},
                       LARGE(layer_norm)},
};

/* Runs every generator of one op's row as one test, with the row's case count and the
 * largest error seen; reported as RUN does (check.h). */
static void run_op(enum op op)
{
    check_failures_in_test = 0;
    op_max_error = 0;
    int total = 0;
    char counts[256];
    int len = 0;
    counts[0] = 0;
    for (int k = 0; k < GENS_PER_OP && op_cases[op][k].make; k++) {
        const struct case_gen *gen = &op_cases[op][k];
        int cases = 0;
        for (int i = 0; i < gen->draws; i++)
            cases += gen->make(i);
        CHECK_MSG(cases >= gen->min_cases, "%s %s: %d cases of %d draws, want %d", op_names[op],
                  gen->name, cases, gen->draws, gen->min_cases);
        total += cases;
        len += snprintf(counts + len, sizeof counts - (size_t)len, "%s%d %s", k ? ", " : "", cases,
                        gen->name);
    }
    printf("  %s: %d cases (%s), max relative L2 %.3g\n", op_names[op], total, counts,
           op_max_error);
    if (check_failures_in_test) {
        printf("FAIL %s\n", op_names[op]);
        check_tests_failed++;
    } else {
        printf("ok   %s\n", op_names[op]);
        check_tests_passed++;
    }
    fflush(stdout);
}

int main(void)
{
    for (int op = 0; op < OP_COUNT; op++) {
        if (!op_cases[op][0].make) {
            fprintf(stderr, "op %s has no parity cases: add its row to op_cases\n", op_names[op]);
            return 1;
        }
    }
    const char *why = backend_find(PARITY_BACKEND)
                          ? backend_precision_unavailable(PARITY_BACKEND, PRECISION_FP32)
                          : "not in this build";
    if (why) {
        printf("skip: backend %s: %s\n", PARITY_BACKEND, why);
        return 77;
    }
    const char *seed = getenv("MNEMO_TEST_SEED");
    if (seed && *seed)
        rng = (uint32_t)strtoul(seed, NULL, 10);
    printf("backend %s, random seed %u, bound %g\n", PARITY_BACKEND, rng, PARITY_BOUND);
    for (int op = 0; op < OP_COUNT; op++)
        run_op((enum op)op);
    return check_report();
}
