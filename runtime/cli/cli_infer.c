/* cli_infer.c — `mnemo infer`: one model, one input file, one output file, optionally
 * timed. The way to check a model before it goes into the loop, and the benchmark's
 * entry point. */
#include "backend.h"
#include "cli.h"
#include "image.h"
#include "onnx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct infer_args {
    const char *model, *input, *output;
    const char *backend;
    struct backend_options backend_opt;
    struct onnx_options onnx_opt;
    int32_t bench_runs; /* 0 = no timing */
};

static int infer_parse_value(struct infer_args *a, const char *name, const char *value)
{
    if (strcmp(name, "--model") == 0)
        a->model = value;
    else if (strcmp(name, "--input") == 0)
        a->input = value;
    else if (strcmp(name, "--output") == 0)
        a->output = value;
    else if (strcmp(name, "--backend") == 0)
        a->backend = value;
    else if (strcmp(name, "--precision") == 0) {
        if (strcmp(value, "fp32") == 0)
            a->backend_opt.precision = PRECISION_FP32;
        else if (strcmp(value, "bf16") == 0)
            a->backend_opt.precision = PRECISION_BF16;
        else
            return fprintf(stderr, "mnemo infer: --precision is fp32 or bf16, not '%s'\n", value),
                   -1;
    } else if (strcmp(name, "--threads") == 0) {
        if (cli_parse_count(value, &a->backend_opt.threads))
            return fprintf(stderr, "mnemo infer: --threads wants a positive number\n"), -1;
    } else if (strcmp(name, "--size") == 0) {
        if (cli_parse_size(value, &a->onnx_opt.height, &a->onnx_opt.width))
            return fprintf(stderr, "mnemo infer: --size wants HxW, e.g. 256x256\n"), -1;
    } else if (strcmp(name, "--bench") == 0) {
        if (cli_parse_count(value, &a->bench_runs))
            return fprintf(stderr, "mnemo infer: --bench wants a positive number of runs\n"), -1;
    }
    return 0;
}

static int infer_parse(int argc, char **argv, struct infer_args *a)
{
    static const char *const names[] = {"--model",     "--input",   "--output", "--backend",
                                        "--precision", "--threads", "--size",   "--bench"};
    memset(a, 0, sizeof *a);
    a->backend = "auto";
    for (int i = 0; i < argc; i++) {
        bool bad = false, known = false;
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !known; k++) {
            const char *value = cli_option(argc, argv, &i, names[k], &bad);
            if (bad)
                return -1;
            if (value) {
                known = true;
                if (infer_parse_value(a, names[k], value))
                    return -1;
            }
        }
        if (!known)
            return fprintf(stderr, "mnemo infer: unknown argument '%s'\n", argv[i]), -1;
    }
    if (!a->model || !a->input || !a->output)
        return fprintf(stderr, "mnemo infer: --model, --input and --output are required\n"), -1;
    return 0;
}

/* Fills `input` (the graph input's shape) from a PNG or .npy file. `box` receives where
 * the image content sits, so the output can be cropped back to it. */
static int infer_read_input(const struct graph *g, const char *path, float *input,
                            struct fit_box *box, struct error *err)
{
    const struct shape *want = &g->values[g->input].shape;
    char a[64], b[64];
    if (cli_has_suffix(path, ".npy")) {
        struct tensor t;
        if (tensor_read_npy(&t, path, err))
            return -1;
        int rc = 0;
        if (!shape_equal(&t.shape, want))
            rc = error_set(err, "input '%s' is %s but the model takes %s", path,
                           shape_str(&t.shape, a, sizeof a), shape_str(want, b, sizeof b));
        else
            memcpy(input, t.data, (size_t)shape_count(want) * sizeof *input);
        tensor_free(&t);
        *box = (struct fit_box){0, 0, (int32_t)want->dim[3], (int32_t)want->dim[2]};
        return rc;
    }
    if (!cli_has_suffix(path, ".png"))
        return error_set(err, "input '%s': mnemo reads .png images and .npy tensors", path);
    if (want->dim[1] != 1 && want->dim[1] != 3)
        return error_set(err, "the model takes %s, which is not an image; give a .npy input",
                         shape_str(want, a, sizeof a));
    struct image img;
    if (image_read_png(&img, path, (int32_t)want->dim[1], err))
        return -1;
    *box = image_to_tensor(&img, want, input, graph_value_range(g, "input_range"));
    image_free(&img);
    return 0;
}

static int infer_write_output(const struct graph *g, const char *path, const float *output,
                              struct fit_box box, struct error *err)
{
    const struct shape *shape = &g->values[g->output].shape;
    if (cli_has_suffix(path, ".npy")) {
        struct tensor t = {.shape = *shape, .data = (float *)output};
        return tensor_write_npy(&t, path, err);
    }
    if (!cli_has_suffix(path, ".png"))
        return error_set(err, "output '%s': mnemo writes .png images and .npy tensors", path);
    /* The content box scales with the output when the model changes the size. */
    const struct shape *in = &g->values[g->input].shape;
    double sy = (double)shape->dim[2] / in->dim[2], sx = (double)shape->dim[3] / in->dim[3];
    struct fit_box out_box = {(int32_t)(box.x * sx), (int32_t)(box.y * sy),
                              (int32_t)(box.width * sx), (int32_t)(box.height * sy)};
    struct image img;
    if (image_from_tensor(&img, shape, output, out_box, graph_value_range(g, "output_range"), err))
        return -1;
    int rc = image_write_png(&img, path, err);
    image_free(&img);
    return rc;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times `runs` inferences after warm-up and prints median and min. */
static int infer_bench(struct backend *b, const struct infer_args *a, const float *input,
                       float *output, struct error *err)
{
    double *times = malloc((size_t)a->bench_runs * sizeof *times);
    if (!times)
        return error_set(err, "out of memory");
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++) /* warm-up: caches, page faults, JIT */
        rc = backend_run(b, input, output, err);
    for (int32_t i = 0; i < a->bench_runs && !rc; i++) {
        double start = now_ms();
        rc = backend_run(b, input, output, err);
        times[i] = now_ms() - start;
    }
    if (!rc) {
        qsort(times, (size_t)a->bench_runs, sizeof *times, compare_double);
        printf("bench: %s %s: median %.3f ms, min %.3f ms over %d runs\n", b->ops->name,
               precision_names[a->backend_opt.precision], times[a->bench_runs / 2], times[0],
               a->bench_runs);
    }
    free(times);
    return rc;
}

/* A NaN output is garbage, not a picture: refuse to write it as if it were one. */
static int check_finite(const float *data, int64_t count, const char *model, struct error *err)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < count; i++)
        bad += !isfinite(data[i]);
    if (bad)
        return error_set(err,
                         "'%s' produced %lld NaN/Inf values out of %lld; nothing written. "
                         "Check the model's weights (mnemo inspect warns about NaN/Inf "
                         "initializers)",
                         model, (long long)bad, (long long)count);
    return 0;
}

static int infer_with_graph(const struct graph *g, const struct infer_args *a, struct error *err)
{
    int64_t in_count = shape_count(&g->values[g->input].shape);
    int64_t out_count = shape_count(&g->values[g->output].shape);
    float *input = malloc((size_t)in_count * sizeof *input);
    float *output = malloc((size_t)out_count * sizeof *output);
    struct backend *b = NULL;
    struct fit_box box = {0, 0, 0, 0};
    int rc = (!input || !output) ? error_set(err, "out of memory") : 0;
    if (!rc)
        rc = infer_read_input(g, a->input, input, &box, err);
    if (!rc && !(b = backend_open(g, a->backend, &a->backend_opt, err)))
        rc = error_prefix(err, "%s", a->model);
    if (!rc)
        rc = a->bench_runs ? infer_bench(b, a, input, output, err)
                           : backend_run(b, input, output, err);
    if (rc && backend_device_lost(b))
        rc = MNEMO_EXIT_DEVICE_LOST;
    if (!rc)
        rc = check_finite(output, out_count, a->model, err);
    if (!rc)
        rc = infer_write_output(g, a->output, output, box, err);
    if (b)
        backend_close(b);
    free(input);
    free(output);
    return rc;
}

int cli_infer(int argc, char **argv)
{
    struct infer_args a;
    if (infer_parse(argc, argv, &a))
        return MNEMO_EXIT_USAGE;
    /* A .npy input says the size exactly: use it for models with a dynamic size. */
    if (cli_has_suffix(a.input, ".npy") && !a.onnx_opt.height) {
        struct tensor t;
        struct error ignored;
        if (tensor_read_npy(&t, a.input, &ignored) == 0) {
            if (t.shape.rank == 4) {
                a.onnx_opt.height = t.shape.dim[2];
                a.onnx_opt.width = t.shape.dim[3];
            }
            tensor_free(&t);
        }
    }
    struct graph g;
    struct error err = {{0}};
    if (onnx_load(&g, a.model, &a.onnx_opt, &err)) {
        fprintf(stderr, "mnemo: %s\n", err.msg);
        return MNEMO_EXIT_FAILED;
    }
    int rc = infer_with_graph(&g, &a, &err);
    graph_free(&g);
    if (rc) {
        fprintf(stderr, "mnemo: %s\n", err.msg);
        return rc == MNEMO_EXIT_DEVICE_LOST ? rc : MNEMO_EXIT_FAILED;
    }
    return MNEMO_EXIT_OK;
}
