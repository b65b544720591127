/* fuzz_onnx.c — the ONNX importer on arbitrary bytes: protobuf parse, tensors, node
 * mapping, constant folding, shape inference, the load-time passes and the memory plan
 * (onnx_load_memory), then what runs on every loaded graph before a backend does: inspect's
 * counts, the chain check, every backend's `unsupported`, and (for small graphs) one
 * inference on the ref backend, so the kernels see whatever shapes the loader accepted.
 *
 * A load may fail (that is the point of most inputs); it must fail with a message and
 * without leaking. A graph it accepts must keep the invariants the backends rely on
 * (graph_check below). */
#include "fuzz.h"

#include "backend.h"
#include "chain.h"
#include "onnx.h"

#include <string.h>

/* The model "lives" beside the importer's test models, so that a tensor with external data
 * can find tests/data/bad/external_data.bin (external data is read from the model's
 * folder, and only from there). */
#define MODEL_NAME MNEMO_SOURCE_DIR "/tests/data/bad/fuzz-input.onnx"

/* Graphs this small also run once on ref; bigger ones would make each input slow. */
#define RUN_MACS_MAX   (1 << 20)
#define RUN_FLOATS_MAX (1 << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}

static bool value_id_ok(const struct graph *g, int32_t id)
{
    return id >= 0 && id < g->n_values;
}

static void value_check(const struct graph *g, int32_t id, int32_t node)
{
    FUZZ_CHECK(value_id_ok(g, id), "node %d reads value %d of %d", node, id, g->n_values);
    const struct value *v = &g->values[id];
    int64_t count = shape_count(&v->shape);
    FUZZ_CHECK(v->shape.rank >= 0 && v->shape.rank <= SHAPE_MAX_RANK && count >= 0,
               "value '%s' has rank %d, %lld elements", v->name, v->shape.rank, (long long)count);
    if (v->kind == VALUE_CONST) {
        FUZZ_CHECK(v->data || count == 0, "constant '%s' has no data", v->name);
        return;
    }
    FUZZ_CHECK(v->offset >= 0 && v->offset + count <= g->arena_floats,
               "value '%s' at %lld + %lld floats lies outside the arena of %lld", v->name,
               (long long)v->offset, (long long)count, (long long)g->arena_floats);
    FUZZ_CHECK(v->kind == VALUE_INPUT || v->producer <= node,
               "node %d reads '%s' before its producer %d runs", node, v->name, v->producer);
}

/* What every backend assumes of a finalised graph: ids in range, nodes in topological
 * order, every run-time value inside the planned arena. */
static void graph_check(const struct graph *g)
{
    FUZZ_CHECK(value_id_ok(g, g->input) && value_id_ok(g, g->output), "input %d, output %d",
               g->input, g->output);
    FUZZ_CHECK(g->n_nodes > 0, "a loaded graph runs at least one node");
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *n = &g->nodes[i];
        FUZZ_CHECK(n->n_inputs >= 0 && n->n_inputs <= NODE_MAX_INPUTS, "node '%s': %d inputs",
                   n->name, n->n_inputs);
        for (int32_t k = 0; k < n->n_inputs; k++)
            if (n->input[k] >= 0)
                value_check(g, n->input[k], i);
        if (n->residual >= 0)
            value_check(g, n->residual, i);
        value_check(g, n->output, i);
        FUZZ_CHECK(g->values[n->output].producer == i, "node '%s' is not its output's producer",
                   n->name);
    }
    value_check(g, g->input, 0);
    value_check(g, g->output, g->n_nodes - 1);
}

/* Every backend built is asked about every node, as backend_open does before it creates
 * one; none may crash on a shape or parameter the loader let through. */
static bool backends_ask(const struct graph *g)
{
    const struct backend_options opt = {.precision = PRECISION_FP32, .threads = 1};
    bool ref_runs_all = true;
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *n = &g->nodes[i];
        (void)backend_unsupported_anywhere(g, n);
        ref_runs_all = ref_runs_all && !backend_ref_ops.unsupported(g, n, &opt);
#ifdef MNEMO_HAVE_DNNL
        (void)backend_cpu_ops.unsupported(g, n, &opt);
#endif
    }
    return ref_runs_all;
}

/* One inference on ref with a deterministic input; the output is not checked (NaN is a
 * fine answer to random weights), only that the kernels stay inside their buffers. */
static void ref_run(const struct graph *g)
{
    const struct backend_options opt = {.precision = PRECISION_FP32, .threads = 1};
    struct error err;
    struct backend *b = backend_open(g, "ref", &opt, &err);
    if (!b)
        return;
    int64_t in_count = shape_count(&g->values[g->input].shape);
    int64_t out_count = shape_count(&g->values[g->output].shape);
    float *in = malloc((size_t)(in_count > 0 ? in_count : 1) * sizeof *in);
    float *out = malloc((size_t)(out_count > 0 ? out_count : 1) * sizeof *out);
    if (in && out) {
        for (int64_t j = 0; j < in_count; j++)
            in[j] = (float)((j * 7919) % 201 - 100) / 100.0f;
        (void)backend_run(b, in, out, &err);
    }
    free(in);
    free(out);
    backend_close(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* As the loop loads its models: a size for dynamic dimensions, fixed ones kept. */
    const struct onnx_options opt = {.height = 32, .width = 32, .size_is_hint = true};
    struct graph g;
    struct error err = {{0}};
    if (onnx_load_memory(&g, data, size, MODEL_NAME, &opt, &err) != 0) {
        FUZZ_CHECK(err.msg[0] != '\0', "a failed load says why");
        FUZZ_CHECK(g.n_nodes == 0 && g.n_values == 0, "a failed load leaves the graph empty");
        return 0;
    }
    graph_check(&g);
    (void)graph_macs(&g);
    (void)graph_parameter_count(&g);
    char plan[256];
    (void)chain_check(&g, "a.onnx", &g, "b.onnx", plan, sizeof plan, &err);
    if (backends_ask(&g) && graph_macs(&g) <= RUN_MACS_MAX && g.arena_floats <= RUN_FLOATS_MAX)
        ref_run(&g);
    graph_free(&g);
    return 0;
}
