/* test_backend_cuda.c — what of the cuda backend can be checked without a GPU.
 *
 * - Choosing: "auto" picks cuda only when a device is usable; "cuda" on a machine without
 *   one fails at open with "no CUDA device: ...; use --backend cpu"; in a build without
 *   CUDA, "cuda" is an unknown backend that says what the build has.
 * - What a failure means (kernels/cuda/errors.c): which CUDA errors are sticky, the
 *   verdict after a failed run, the MNEMO_CUDA_FAULT drill's spec.
 * - The convolution plan (kernels/cuda/conv.c): how ONNX's asymmetric pads are mapped onto
 *   cuDNN's symmetric ones. Checked by running the plan with the reference kernels in
 *   cuDNN's place (pad into scratch + conv with symmetric pads; transposed conv with
 *   symmetric pads + crop) and comparing with the reference on the node as it is. */
#include "backend.h"
#include "check.h"
#include "graph_build.h"
#include "ref.h"
#ifdef MNEMO_HAVE_CUDA
#include "cuda/cuda.h"
#endif

/* A one-conv graph, finalized: input 1x3x12x12, Conv 3x3 pad 1. */
static bool small_graph(struct graph *g)
{
    graph_init(g);
    int32_t x = input_add(g, shape_make4(1, 3, 12, 12));
    return conv_add(g, "conv", x, 4, 3, 1, 1, true) >= 0 && graph_finalize(g, &err) == 0;
}

#ifndef MNEMO_HAVE_CUDA
static void test_cuda_not_built(void)
{
    CHECK(backend_find("cuda") == NULL);
    CHECK(backend_find("auto") != NULL && strcmp(backend_find("auto")->name, "cuda") != 0);
    struct graph g;
    CHECK(small_graph(&g));
    CHECK(backend_open(&g, "cuda", NULL, &err) == NULL);
    CHECK(err_has("unknown backend 'cuda'") && err_has("CUDA toolkit"));
    graph_free(&g);
}

int main(void)
{
    RUN(test_cuda_not_built);
    return check_report();
}
#else

static void test_auto_without_device(void)
{
    const char *why = NULL;
    if (backend_cuda_device_count(&why) > 0)
        SKIP("a CUDA device is present; this test is about machines without one");
    printf("  no device: %s\n", why);
    CHECK(backend_find("cuda") == &backend_cuda_ops);
    CHECK(backend_find("auto") != &backend_cuda_ops);
    CHECK(backend_precision_unavailable("cuda", PRECISION_FP32) != NULL);
    struct graph g;
    CHECK(small_graph(&g));
    struct backend *b = backend_open(&g, "auto", NULL, &err);
    CHECK(b != NULL && strcmp(b->ops->name, "cuda") != 0);
    backend_close(b);
    graph_free(&g);
}

static void test_cuda_without_device_is_a_clear_error(void)
{
    if (backend_cuda_device_count(NULL) > 0)
        SKIP("a CUDA device is present; this test is about machines without one");
    struct graph g;
    CHECK(small_graph(&g));
    CHECK(backend_open(&g, "cuda", NULL, &err) == NULL);
    CHECK(err_has("no CUDA device: ") && err_has("use --backend cpu"));
    graph_free(&g);
}

static void test_auto_with_device(void)
{
    if (backend_cuda_device_count(NULL) == 0)
        SKIP("no CUDA device");
    CHECK(backend_find("auto") == &backend_cuda_ops);
}

/* Runs node n (op and params as given, shapes from io) with ref, through the plan. */
static void plan_run(const struct node *n, const struct cuda_conv_plan *p, const struct ref_io *io,
                     float *scratch)
{
    struct node sym = *n;
    sym.p.conv.pad[0] = sym.p.conv.pad[2] = p->pad[0];
    sym.p.conv.pad[1] = sym.p.conv.pad[3] = p->pad[1];
    sym.act.kind = ACT_NONE;
    struct node edges = {.op = OP_PAD, .residual = -1};
    edges.p.pad = p->edges;
    struct ref_io a = *io, c = {.residual = NULL};
    a.residual = NULL;
    if (!p->via_scratch) {
        ref_kernels[n->op](&sym, &a);
        return;
    }
    if (!p->transposed) { /* pad into scratch, then conv from scratch */
        c.in[0] = io->in[0], c.in_shape[0] = io->in_shape[0], c.out = scratch, c.out_shape = &p->x;
        ref_pad(&edges, &c);
        a.in[0] = scratch, a.in_shape[0] = &p->x;
        ref_conv(&sym, &a);
        return;
    }
    a.out = scratch, a.out_shape = &p->y; /* uncropped into scratch, then crop */
    ref_conv_transpose(&sym, &a);
    c.in[0] = scratch, c.in_shape[0] = &p->y, c.out = io->out, c.out_shape = io->out_shape;
    ref_pad(&edges, &c);
}

/* One random conv: the plan's geometry is what cuDNN checks, and running it equals ref. */
static bool plan_case(int index, bool transposed)
{
    struct conv_params p = {.group = 1};
    for (int d = 0; d < 2; d++) {
        p.kernel[d] = 1 + random_int(5);
        p.stride[d] = 1 + random_int(3);
        p.dilation[d] = 1 + random_int(2);
        p.pad[d] = random_int(p.kernel[d]);
        p.pad[d + 2] = random_int(p.kernel[d]);
        p.output_padding[d] = transposed ? random_int(p.stride[d]) : 0;
    }
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1, 2, 6 + random_int(10), 6 + random_int(10)));
    int32_t y = conv_add_params(&g, "conv", x, 3, &p, true, transposed);
    if (y < 0 || graph_finalize(&g, &err)) {
        graph_free(&g);
        return false;
    }
    const struct node *n = &g.nodes[0];
    struct cuda_conv_plan plan;
    CHECK_MSG(cuda_conv_plan_make(n, shape_of(&g, x), shape_of(&g, y), &plan, &err) == 0, "%s",
              err.msg);
    const struct shape *in = transposed ? &plan.y : &plan.x, *out = transposed ? &plan.x : &plan.y;
    for (int d = 0; d < 2; d++)
        CHECK_MSG(cuda_conv_forward_size(in->dim[2 + d], p.kernel[d], p.stride[d], plan.pad[d],
                                         p.dilation[d]) == out->dim[2 + d],
                  "case %d axis %d", index, d);
    float *arena = calloc((size_t)g.arena_floats, sizeof(float));
    float *scratch = malloc((size_t)(cuda_conv_plan_scratch(&plan) + 1) * sizeof(float));
    float *input = random_input(&g);
    int64_t count = shape_count(shape_of(&g, y));
    float *want = malloc((size_t)count * sizeof(float));
    struct ref_io io;
    ref_io_make(&g, arena, n, &io);
    memcpy(arena + g.values[x].offset, input, (size_t)shape_count(shape_of(&g, x)) * sizeof(float));
    ref_kernels[n->op](n, &io);
    memcpy(want, io.out, (size_t)count * sizeof(float));
    for (int64_t i = 0; i < count; i++)
        io.out[i] = NAN;
    plan_run(n, &plan, &io, scratch);
    double e = rel_l2(io.out, want, (long)count);
    CHECK_MSG(e < 1e-12, "%s case %d (pads %d,%d,%d,%d op %d,%d): rel L2 %g",
              transposed ? "ConvTranspose" : "Conv", index, p.pad[0], p.pad[1], p.pad[2], p.pad[3],
              p.output_padding[0], p.output_padding[1], e);
    free(want);
    free(input);
    free(scratch);
    free(arena);
    graph_free(&g);
    return true;
}

static void test_conv_plan(void)
{
    int cases = 0;
    for (int i = 0; i < 80; i++)
        cases += plan_case(i, i % 2 == 1);
    printf("  %d plans\n", cases);
    CHECK(cases >= 50);
}

/* The codes by number, as CUDA 13's driver_types.h gives them: a renumbering or a rename
 * shows up here rather than as a retried fault on the GPU. */
static void test_sticky_errors(void)
{
    static const int sticky[] = {
        46,  /* DevicesUnavailable */
        214, /* ECCUncorrectable */
        220, /* NvlinkUncorrectable */
        226, /* Contained */
        700, /* IllegalAddress */
        702, /* LaunchTimeout */
        710, /* Assert */
        714, /* HardwareStackError */
        715, /* IllegalInstruction */
        716, /* MisalignedAddress */
        717, /* InvalidAddressSpace */
        718, /* InvalidPc */
        719, /* LaunchFailure */
        721, /* TensorMemoryLeak */
        810, /* MpsClientTerminated */
        911, /* ExternalDevice */
        999, /* Unknown */
    };
    static const int transient[] = {
        0,   /* Success */
        1,   /* InvalidValue */
        2,   /* MemoryAllocation */
        600, /* NotReady */
        701, /* LaunchOutOfResources */
        720, /* CooperativeLaunchTooLarge */
        900, /* StreamCaptureUnsupported */
        901, /* StreamCaptureInvalidated */
    };
    CHECK(cudaErrorContained == 226 && cudaErrorTensorMemoryLeak == 721 &&
          cudaErrorMpsClientTerminated == 810 && cudaErrorExternalDevice == 911 &&
          cudaErrorNvlinkUncorrectable == 220 && cudaErrorUnknown == 999);
    for (size_t i = 0; i < sizeof sticky / sizeof *sticky; i++)
        CHECK_MSG(cuda_error_sticky((cudaError_t)sticky[i]), "%d (%s) should be sticky", sticky[i],
                  cudaGetErrorName((cudaError_t)sticky[i]));
    for (size_t i = 0; i < sizeof transient / sizeof *transient; i++)
        CHECK_MSG(!cuda_error_sticky((cudaError_t)transient[i]), "%d (%s) should be transient",
                  transient[i], cudaGetErrorName((cudaError_t)transient[i]));
}

/* After a failed run: its own code decides when it is sticky, else the probe does. */
static void test_failure_verdict(void)
{
    CHECK(!cuda_failure_lost(cudaSuccess, cudaSuccess)); /* cuDNN failed, stream fine */
    CHECK(!cuda_failure_lost(cudaErrorLaunchOutOfResources, cudaSuccess));
    CHECK(cuda_failure_lost(cudaErrorIllegalAddress, cudaSuccess));
    CHECK(cuda_failure_lost(cudaErrorContained, cudaSuccess));
    /* A cuDNN failure, or an ordinary-looking launch error, over a poisoned context. */
    CHECK(cuda_failure_lost(cudaSuccess, cudaErrorIllegalAddress));
    CHECK(cuda_failure_lost(cudaErrorInvalidValue, cudaErrorLaunchFailure));
}

static void test_fault_parse(void)
{
    struct cuda_fault f;
    CHECK(cuda_fault_parse(NULL, &f, &err) == 0 && f.kind == CUDA_FAULT_NONE);
    CHECK(cuda_fault_parse("", &f, &err) == 0 && f.kind == CUDA_FAULT_NONE);
    CHECK(cuda_fault_parse("capture", &f, &err) == 0 && f.kind == CUDA_FAULT_CAPTURE);
    CHECK(cuda_fault_parse("algo", &f, &err) == 0 && f.kind == CUDA_FAULT_ALGO);
    CHECK(cuda_fault_parse("illegal-address@7", &f, &err) == 0 &&
          f.kind == CUDA_FAULT_ILLEGAL_ADDRESS && f.run == 7);
    const char *bad[] = {"illegal-address@", "illegal-address@0", "illegal-address@3x", "sticky@3",
                         "capture@1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_MSG(cuda_fault_parse(bad[i], &f, &err) == -1, "'%s' accepted", bad[i]);
        CHECK(err_has("MNEMO_CUDA_FAULT=") && err_has("illegal-address@N"));
    }
}

/* cuDNN's ranking filtered and ordered: FMA math only, within the cap, deterministic first. */
static void test_conv_rank(void)
{
    const size_t gib = (size_t)1 << 30;
    const struct cuda_algo_perf perf[] = {
        {1, CUDNN_STATUS_SUCCESS, CUDNN_NON_DETERMINISTIC, CUDNN_FMA_MATH, 100},
        {0, CUDNN_STATUS_SUCCESS, CUDNN_DETERMINISTIC, CUDNN_FMA_MATH, 10},
        {6, CUDNN_STATUS_SUCCESS, CUDNN_DETERMINISTIC, CUDNN_DEFAULT_MATH, 0}, /* may be TF32 */
        {7, CUDNN_STATUS_SUCCESS, CUDNN_DETERMINISTIC, CUDNN_TENSOR_OP_MATH, 0},
        {2, CUDNN_STATUS_NOT_SUPPORTED, CUDNN_DETERMINISTIC, CUDNN_FMA_MATH, 0},
        {5, CUDNN_STATUS_SUCCESS, CUDNN_DETERMINISTIC, CUDNN_FMA_MATH, 2 * gib},
        {4, CUDNN_STATUS_SUCCESS, CUDNN_DETERMINISTIC, CUDNN_FMA_MATH, gib},
        {3, CUDNN_STATUS_SUCCESS, CUDNN_NON_DETERMINISTIC, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION,
         0},
    };
    int algos[CUDA_CONV_MAX_ALGOS];
    int n = cuda_conv_rank(perf, 8, algos);
    CHECK_MSG(n == 3, "%d candidates", n);
    CHECK(n >= 3 && algos[0] == 0 && algos[1] == 4 && algos[2] == 1);
    CHECK(cuda_conv_rank(perf + 2, 3, algos) == 0); /* none acceptable */
    CHECK(cuda_conv_rank(perf, 0, algos) == 0);
}

/* Warm-up's walk down the candidates, and the drill's bad first candidate. */
static void test_conv_fallback_order(void)
{
    struct cuda_conv c = {.algos = {0, 4, 1}, .n_algos = 3};
    CHECK(c.algos[c.chosen] == 0);
    CHECK(cuda_conv_next_algo(&c) && c.algos[c.chosen] == 4);
    CHECK(cuda_conv_next_algo(&c) && c.algos[c.chosen] == 1);
    CHECK(!cuda_conv_next_algo(&c) && c.algos[c.chosen] == 1);
    cuda_conv_prepend_algo(&c, CUDA_CONV_BAD_ALGO);
    CHECK(c.n_algos == 4 && c.chosen == 0 && c.algos[0] == CUDA_CONV_BAD_ALGO && c.algos[1] == 0 &&
          c.algos[3] == 1);
    struct cuda_conv full = {.n_algos = CUDA_CONV_MAX_ALGOS};
    for (int i = 0; i < CUDA_CONV_MAX_ALGOS; i++)
        full.algos[i] = i;
    cuda_conv_prepend_algo(&full, CUDA_CONV_BAD_ALGO);
    CHECK(full.n_algos == CUDA_CONV_MAX_ALGOS && full.algos[0] == CUDA_CONV_BAD_ALGO &&
          full.algos[1] == 0 && full.algos[CUDA_CONV_MAX_ALGOS - 1] == CUDA_CONV_MAX_ALGOS - 2);
    CHECK(CUDA_CONV_BAD_ALGO >= CUDNN_CONVOLUTION_FWD_ALGO_COUNT &&
          CUDA_CONV_BAD_ALGO >= CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
}

static const struct node *conv_node(const struct graph *g)
{
    for (int32_t i = 0; i < g->n_nodes; i++)
        if (node_is_conv(&g->nodes[i]))
            return &g->nodes[i];
    return NULL;
}

/* g's output on ref from a fixed random input, or NULL. */
static float *ref_output(const struct graph *g, const float *x)
{
    struct backend *b = backend_open(g, "ref", NULL, &err);
    int64_t count = shape_count(shape_of(g, g->output));
    float *y = malloc((size_t)count * sizeof *y);
    if (!b || backend_run(b, x, y, &err)) {
        free(y);
        y = NULL;
    }
    backend_close(b);
    return y;
}

/* Conv (with bias) -> InstanceNorm: the bias cancels, and dropping it changes nothing. */
static void test_bias_cancels_before_instance_norm(void)
{
    struct graph g;
    graph_init(&g);
    int32_t x = input_add(&g, shape_make4(1, 3, 9, 11));
    instance_norm_add(&g, "in", conv_add(&g, "conv", x, 4, 3, 1, 1, true));
    CHECK(graph_finalize(&g, &err) == 0);
    const struct node *n = conv_node(&g);
    CHECK(n && cuda_conv_bias_cancels(&g, n));
    float *input = random_input(&g);
    float *with = ref_output(&g, input);
    struct value *bias = &g.values[n->input[2]];
    for (int64_t i = 0; i < shape_count(&bias->shape); i++)
        bias->data[i] = 0.0f;
    float *without = ref_output(&g, input);
    CHECK(with && without);
    if (with && without) {
        double e = rel_l2(without, with, (long)shape_count(shape_of(&g, g.output)));
        printf("  rel L2 without the bias: %g\n", e);
        CHECK(e < 1e-6);
    }
    free(with);
    free(without);
    free(input);
    graph_free(&g);
}

/* Every way the bias does not cancel: an activation or a second consumer between, another
 * norm, the conv's output read by the caller, no bias at all. */
static void test_bias_kept(void)
{
    for (int variant = 0; variant < 5; variant++) {
        struct graph g;
        graph_init(&g);
        int32_t x = input_add(&g, shape_make4(1, 3, 8, 8));
        int32_t c = conv_add(&g, "conv", x, 4, 3, 1, 1, variant != 4);
        if (variant == 0)
            instance_norm_add(&g, "in", act_add(&g, "relu", c, ACT_RELU));
        else if (variant == 1)
            binary_add(&g, "add", instance_norm_add(&g, "in", c), c, BINARY_ADD);
        else if (variant == 2)
            batch_norm_add(&g, "bn", c);
        else if (variant == 4)
            instance_norm_add(&g, "in", c);
        CHECK(graph_finalize(&g, &err) == 0);
        const struct node *n = conv_node(&g);
        CHECK_MSG(n && !cuda_conv_bias_cancels(&g, n), "variant %d", variant);
        graph_free(&g);
    }
}

/* The plane split covers every element once, leaves no chunk empty, fills the chip when
 * planes are few and keeps chunks worth a block. */
static void test_plane_split(void)
{
    struct plane_split ps = cuda_plane_split(64, 1024 * 1024); /* InstanceNorm at 1024² */
    CHECK(ps.parts == 16 && ps.chunk == 65536);
    ps = cuda_plane_split(3, 4096 * 2160); /* a 4K frame's planes */
    CHECK(3 * ps.parts >= CUDA_PLANE_TARGET);
    const int64_t planes[] = {1, 2, 3, 7, 64, 100, 1023, 1024, 5000};
    const int64_t spatial[] = {1, 5, 4095, 4096, 4097, 12288, 65537, 1 << 20, 3840 * 2160};
    for (size_t i = 0; i < sizeof planes / sizeof *planes; i++)
        for (size_t k = 0; k < sizeof spatial / sizeof *spatial; k++) {
            ps = cuda_plane_split(planes[i], spatial[k]);
            int64_t s = spatial[k];
            bool covers = ps.spatial == s && ps.parts >= 1 && ps.parts * ps.chunk >= s &&
                          (ps.parts - 1) * ps.chunk < s;
            bool worth = ps.parts == 1 || 2 * ps.chunk >= CUDA_PLANE_MIN_CHUNK;
            bool fills = planes[i] * ps.parts >= CUDA_PLANE_TARGET ||
                         ps.parts >= (s + CUDA_PLANE_MIN_CHUNK - 1) / CUDA_PLANE_MIN_CHUNK;
            CHECK_MSG(covers && worth && fills && ps.parts <= CUDA_PLANE_TARGET,
                      "%lld planes of %lld: %lld parts of %lld", (long long)planes[i], (long long)s,
                      (long long)ps.parts, (long long)ps.chunk);
        }
}

int main(void)
{
    RUN(test_sticky_errors);
    RUN(test_plane_split);
    RUN(test_bias_cancels_before_instance_norm);
    RUN(test_bias_kept);
    RUN(test_conv_rank);
    RUN(test_conv_fallback_order);
    RUN(test_failure_verdict);
    RUN(test_fault_parse);
    RUN(test_auto_without_device);
    RUN(test_cuda_without_device_is_a_clear_error);
    RUN(test_auto_with_device);
    RUN(test_conv_plan);
    return check_report();
}
#endif
