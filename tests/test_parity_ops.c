/* test_parity_ops.c — a fast backend against ref, op by op, on random shapes.
 *
 * Built twice: test_parity_ops (cpu, bound 1e-5) and test_parity_ops_cuda (PARITY_BACKEND
 * "cuda", bound 1e-4, label gpu; skipped with the reason printed where no device is).
 * MNEMO_TEST_SEED=N draws other random cases (the GPU check passes a fresh one each run).
 *
 * Each case builds a one-op graph (plus the Add/activation the passes fuse into it),
 * finalizes it and runs it on both backends from the same random input, outputs poisoned
 * with NaN before each run and every case run twice. Shapes are small and odd on purpose:
 * edges, strides that do not divide, asymmetric pads, dilation, output_padding. The random
 * stream is fixed so a failure reproduces; its case is printed. */
#include "backend.h"
#include "check.h"
#include "graph_build.h"

#ifndef PARITY_BACKEND
#define PARITY_BACKEND "cpu"
#define PARITY_BOUND   1e-5
#endif

static const enum act_kind acts[] = {ACT_NONE, ACT_RELU,    ACT_LEAKY_RELU,
                                     ACT_TANH, ACT_SIGMOID, ACT_CLIP};

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

/* Finalizes g, runs it on ref and cpu, compares, frees g. */
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
        if (transposed) /* output_padding < stride (ONNX) and <= end pad (oneDNN) */
            p.output_padding[d] = p.pad[d + 2] > 0 ? random_int(p.stride[d]) : 0;
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

static void test_conv_random(void)
{
    int cases = 0;
    for (int i = 0; i < 60; i++)
        cases += conv_case(i, false);
    printf("  %d Conv cases\n", cases);
    CHECK(cases >= 40);
}

static void test_conv_transpose_random(void)
{
    int cases = 0;
    for (int i = 0; i < 40; i++)
        cases += conv_case(i, true);
    printf("  %d ConvTranspose cases\n", cases);
    CHECK(cases >= 30);
}

/* The layers of the two generator families, at their own sizes. */
static void test_conv_generator_layers(void)
{
    struct {
        int k, s, pad, out_pad;
        bool transposed;
    } layers[] = {{4, 2, 1, 0, false}, {4, 2, 1, 0, true},  {7, 1, 3, 0, false},
                  {3, 2, 1, 1, true},  {3, 1, 1, 0, false}, {3, 2, 1, 0, false}};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        struct graph g;
        graph_init(&g);
        int32_t x = input_add(&g, shape_make4(1, 16, 32, 32));
        struct conv_params p =
            conv_square(layers[i].k, layers[i].s, layers[i].pad, layers[i].out_pad);
        int32_t y = conv_add_params(&g, "layer", x, 24, &p, true, layers[i].transposed);
        epilogue_add(&g, x, y, false, ACT_LEAKY_RELU);
        char what[64];
        snprintf(what, sizeof what, "generator layer %zu", i);
        check_graph(&g, what);
    }
}

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

static void test_norms_random(void)
{
    for (int i = 0; i < 20; i++) {
        norm_case(i, true);
        norm_case(i, false);
    }
}

static void test_activations_with_residual(void)
{
    for (int a = 1; a < 6; a++) {
        struct graph g;
        graph_init(&g);
        int32_t x = input_add(&g, shape_make4(1, 3, 37, 41));
        int32_t y = binary_add(&g, "scale", x, const_add(&g, "k", shape_make4(1, 3, 1, 1), -2, 2),
                               BINARY_MUL);
        epilogue_add(&g, x, y, true, acts[a]);
        check_graph(&g, act_names[acts[a]]);
    }
}

/* Spatial pads run the cpu kernel; asymmetric ones and crops too (crops fall back). */
static void test_pads_random(void)
{
    for (int i = 0; i < 24; i++) {
        struct graph g;
        graph_init(&g);
        int32_t x = input_add(&g, shape_make4(1 + random_int(2), 1 + random_int(4),
                                              4 + random_int(20), 4 + random_int(20)));
        enum pad_mode mode = (enum pad_mode)(i % 3);
        int32_t y = pad_add(&g, "pad", x, mode, 1 + random_int(3));
        struct node *n = &g.nodes[g.n_nodes - 1];
        n->p.pad.value = 0.25f;
        n->p.pad.pads[3] = random_int(4);       /* asymmetric: left */
        n->p.pad.pads[6] = i % 4 == 3 ? -1 : 1; /* a crop at the bottom sometimes */
        CHECK_MSG(graph_infer_shape(&g, n, &err) == 0, "%s", err.msg);
        epilogue_add(&g, x, y, false, acts[random_int(6)]);
        char what[64];
        snprintf(what, sizeof what, "Pad case %d (%s)", i,
                 mode == PAD_REFLECT ? "reflect"
                 : mode == PAD_EDGE  ? "edge"
                                     : "constant");
        check_graph(&g, what);
    }
}

/* What oneDNN cannot express is refused at load, naming the node, not run wrong. */
static void test_refuses_output_padding_beyond_pad(void)
{
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1, 2, 8, 8));
    struct conv_params p = conv_square(3, 2, 0, 1);
    conv_add_params(&g, "up", x, 2, &p, false, true);
    CHECK_MSG(graph_finalize(&g, &err) == 0, "%s", err.msg);
    struct backend *b = backend_open(&g, "cpu", NULL, &err);
    CHECK(b == NULL);
    CHECK(err_has("'up'") && err_has("output_padding"));
    backend_close(b);
    /* ref still runs it: the file is fine, this backend is not. */
    b = backend_open(&g, "ref", NULL, &err);
    CHECK(b != NULL);
    backend_close(b);
    graph_free(&g);
}

int main(void)
{
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
    printf("backend %s, random seed %u\n", PARITY_BACKEND, rng);
    RUN(test_conv_random);
    RUN(test_conv_transpose_random);
    RUN(test_conv_generator_layers);
    RUN(test_norms_random);
    RUN(test_activations_with_residual);
    RUN(test_pads_random);
    if (strcmp(PARITY_BACKEND, "cpu") == 0)
        RUN(test_refuses_output_padding_beyond_pad);
    return check_report();
}
