/* Every fixture model on every backend against PyTorch's own output (tests/data, made by
 * tools/make-fixtures.py): relative L2 < 1e-4 in fp32, < 1e-2 in bf16, at two sizes. The
 * output buffer is poisoned with NaN before each run so an unwritten output fails.
 * Built a second time as test_parity_models_cuda (PARITY_BACKEND "cuda", label gpu): that
 * one runs cuda only and is skipped, saying why, where no device is. */
#include "backend.h"
#include "check.h"
#include "image.h"
#include "onnx.h"

#include <string.h>

struct fixture {
    const char *model;
    int64_t size; /* for the dynamic exports; 0 = the file's own size */
    const char *input, *expected;
};

static const struct fixture fixtures[] = {
    {"unet_bn_op13.onnx", 0, "unet_bn_in_64.npy", "unet_bn_out_64.npy"},
    {"unet_bn_dynamic.onnx", 128, "unet_bn_in_128.npy", "unet_bn_out_128.npy"},
    {"resnet_in_op11.onnx", 0, "resnet_in_in_64.npy", "resnet_in_out_64.npy"},
    {"resnet_in_op13.onnx", 0, "resnet_in_in_64.npy", "resnet_in_out_64.npy"},
    {"resnet_in_op17.onnx", 0, "resnet_in_in_64.npy", "resnet_in_out_64.npy"},
    {"resnet_in_op13_128.onnx", 0, "resnet_in_in_128.npy", "resnet_in_out_128.npy"},
    {"resnet_in_dynamic.onnx", 128, "resnet_in_in_128.npy", "resnet_in_out_128.npy"},
    {"resize_up.onnx", 0, "resize_up_in_32.npy", "resize_up_out_32.npy"},
    /* Sizes whose ratio is not exact in float32 (issue 15): by `sizes`, and as opsets 9/10
     * write them (float scales). */
    {"resize_size_op13.onnx", 0, "resize_size_in.npy", "resize_size_out.npy"},
    {"resize_size_nearest_op9.onnx", 0, "resize_size_in.npy", "resize_size_nearest_out.npy"},
    {"resize_size_nearest_op10.onnx", 0, "resize_size_in.npy", "resize_size_nearest_out.npy"},
    /* Clip with min > max: max everywhere, as ONNX and PyTorch (issue 15). */
    {"clip_inverted_op13.onnx", 0, "clip_inverted_in.npy", "clip_inverted_out.npy"},
    /* The elementwise layers users add (PReLU, ELU, GELU, Softplus, Mish, Hardsigmoid,
     * Hardswish, neg, reciprocal, sqrt, pow). */
    {"activations_op13.onnx", 0, "activations_in.npy", "activations_out.npy"},
    {"activations_op17.onnx", 0, "activations_in.npy", "activations_out.npy"},
    /* PixelShuffle (DepthToSpace CRD); DCR and SpaceToDepth against numpy's ONNX spec. */
    {"subpixel_op11.onnx", 0, "subpixel_in.npy", "subpixel_out.npy"},
    {"subpixel_op13.onnx", 0, "subpixel_in.npy", "subpixel_out.npy"},
    {"depth_space_dcr.onnx", 0, "depth_space_dcr_in.npy", "depth_space_dcr_out.npy"},
    /* AveragePool (with and without its padding counted), MaxPool, GlobalAveragePool,
     * ceil mode, on an odd size. */
    {"pools_op11.onnx", 0, "pools_in.npy", "pools_out.npy"},
    {"pools_op13.onnx", 0, "pools_in.npy", "pools_out.npy"},
    /* Grouped and depthwise Conv (BatchNorm folded into a depthwise one). */
    {"grouped_op11.onnx", 0, "grouped_in.npy", "grouped_out.npy"},
    {"grouped_op13.onnx", 0, "grouped_in.npy", "grouped_out.npy"},
    /* GroupNorm: Reshape, InstanceNorm, Reshape, Mul, Add. */
    {"groupnorm_op11.onnx", 0, "groupnorm_in.npy", "groupnorm_out.npy"},
    {"groupnorm_op13.onnx", 0, "groupnorm_in.npy", "groupnorm_out.npy"},
    /* LayerNorm: the ReduceMean chain fused at load (13), LayerNormalization (17). */
    {"layernorm_op13.onnx", 0, "layernorm_in.npy", "layernorm_out.npy"},
    {"layernorm_op17.onnx", 0, "layernorm_in.npy", "layernorm_out.npy"},
    /* InstanceNorm with running statistics: Expand and Tile folded, Reshape, BatchNorm. */
    {"instnorm_running_op11.onnx", 0, "instnorm_running_in.npy", "instnorm_running_out.npy"},
    {"instnorm_running_op13.onnx", 0, "instnorm_running_in.npy", "instnorm_running_out.npy"},
    /* spectral_norm (MatMul, Div on weights) and recompute_scale_factor (Floor), folded. */
    {"folded_op11.onnx", 0, "folded_in.npy", "folded_out.npy"},
    {"folded_op13.onnx", 0, "folded_in.npy", "folded_out.npy"},
    /* Grouped and depthwise ConvTranspose (BatchNorm folded into a grouped one). */
    {"grouped_up_op11.onnx", 0, "grouped_up_in.npy", "grouped_up_out.npy"},
    {"grouped_up_op13.onnx", 0, "grouped_up_in.npy", "grouped_up_out.npy"},
    /* Bicubic Resize (cubic_coeff_a -0.75): by scale, and by size with align_corners. */
    {"bicubic_op11.onnx", 0, "bicubic_in.npy", "bicubic_out.npy"},
    {"bicubic_op13.onnx", 0, "bicubic_in.npy", "bicubic_out.npy"},
};

struct backend_case {
    const char *backend;
    enum precision precision;
    double bound;
};

static const struct backend_case cases[] = {
#ifdef PARITY_BACKEND
    {PARITY_BACKEND, PRECISION_FP32, 1e-4},
#else
    {"ref", PRECISION_FP32, 1e-4},
    {"cpu", PRECISION_FP32, 1e-4},
    {"cpu", PRECISION_BF16, 1e-2},
#endif
};

/* MNEMO_TEST_DATA in the environment overrides the build's path: the GPU check runs these
 * binaries from a copy of the tree at another place. */
static const char *data_dir(void)
{
    const char *dir = getenv("MNEMO_TEST_DATA");
    return dir && *dir ? dir : MNEMO_TEST_DATA;
}

static int load_npy(struct tensor *t, const char *name)
{
    char path[512];
    struct error err;
    snprintf(path, sizeof path, "%s/%s", data_dir(), name);
    if (tensor_read_npy(t, path, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Runs one fixture on one backend; returns the relative L2 error or -1 on failure. */
static double run_case(const struct graph *g, const struct backend_case *c, const float *input,
                       const struct tensor *expected)
{
    struct backend_options opt = {.precision = c->precision};
    struct error err;
    struct backend *b = backend_open(g, c->backend, &opt, &err);
    if (!b) {
        fprintf(stderr, "%s: %s\n", c->backend, err.msg);
        return -1;
    }
    int64_t n = shape_count(&expected->shape);
    float *out = malloc((size_t)n * sizeof *out);
    double error = -1;
    /* Twice: the second run must not depend on state the first one left behind. */
    for (int run = 0; run < 2; run++) {
        for (int64_t i = 0; i < n; i++)
            out[i] = NAN;
        if (backend_run(b, input, out, &err)) {
            fprintf(stderr, "%s: run failed: %s\n", c->backend, err.msg);
            error = -1;
            break;
        }
        error = rel_l2(out, expected->data, (long)n);
        if (isnan(error))
            break;
    }
    free(out);
    backend_close(b);
    return error;
}

static void check_fixture(const struct fixture *f)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", data_dir(), f->model);
    struct onnx_options opt = {.height = f->size, .width = f->size};
    struct graph g;
    struct error err;
    if (onnx_load(&g, path, &opt, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    struct tensor in, expected;
    if (load_npy(&in, f->input) || load_npy(&expected, f->expected)) {
        CHECK_MSG(0, "fixture tensors for %s are missing", f->model);
        graph_free(&g);
        return;
    }
    CHECK(shape_equal(&in.shape, &g.values[g.input].shape));
    CHECK(shape_count(&expected.shape) == shape_count(&g.values[g.output].shape));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct backend_case *c = &cases[i];
        const char *why_not = backend_precision_unavailable(c->backend, c->precision);
        if (why_not) {
            printf("  skip %s on %s %s: %s\n", f->model, c->backend, precision_names[c->precision],
                   why_not);
            continue;
        }
        double e = run_case(&g, c, in.data, &expected);
        printf("  %-26s %-4s %-5s rel L2 %.2e\n", f->model, c->backend,
               precision_names[c->precision], e);
        CHECK_MSG(e >= 0 && e < c->bound, "%s on %s %s: rel L2 %g, bound %g", f->model, c->backend,
                  precision_names[c->precision], e, c->bound);
    }
    tensor_free(&in);
    tensor_free(&expected);
    graph_free(&g);
}

static void test_fixtures_match_pytorch(void)
{
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
        check_fixture(&fixtures[i]);
}

int main(void)
{
#ifdef PARITY_BACKEND
    const char *why = backend_find(PARITY_BACKEND)
                          ? backend_precision_unavailable(PARITY_BACKEND, PRECISION_FP32)
                          : "not in this build";
    if (why) {
        printf("skip: backend %s: %s\n", PARITY_BACKEND, why);
        return 77;
    }
#endif
    RUN(test_fixtures_match_pytorch);
    return check_report();
}
