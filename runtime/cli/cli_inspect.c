/* cli_inspect.c — `mnemo inspect`: what a model file is and whether mnemo can run it:
 * inputs/outputs, ONNX op histogram, parameters, MACs, the nodes after folding and
 * fusion with each backend's verdict, and (with --chain) whether it feeds another model. */
#include "backend.h"
#include "chain.h"
#include "cli.h"
#include "onnx.h"

#include <stdio.h>
#include <string.h>

struct inspect_args {
    const char *model;
    const char *chain_model;
    struct onnx_options onnx_opt;
};

static int inspect_parse(int argc, char **argv, struct inspect_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        bool bad = false;
        const char *v;
        if ((v = cli_option(argc, argv, &i, "--size", &bad))) {
            if (cli_parse_size(v, &a->onnx_opt.height, &a->onnx_opt.width))
                return fprintf(stderr, "mnemo inspect: --size wants HxW, e.g. 256x256\n"), -1;
        } else if ((v = cli_option(argc, argv, &i, "--chain", &bad))) {
            a->chain_model = v;
        } else if (bad) {
            return -1;
        } else if (argv[i][0] != '-' && !a->model) {
            a->model = argv[i];
        } else {
            return fprintf(stderr, "mnemo inspect: unexpected argument '%s'\n", argv[i]), -1;
        }
    }
    if (!a->model)
        return fprintf(stderr, "mnemo inspect: which model? (mnemo inspect M.onnx)\n"), -1;
    return 0;
}

static void print_header(const struct graph *g)
{
    char in[64], out[64];
    const struct value *vi = &g->values[g->input], *vo = &g->values[g->output];
    printf("model:      %s\n", g->source_path ? g->source_path : "?");
    printf("producer:   %s, opset %lld\n", g->producer ? g->producer : "unknown",
           (long long)g->opset);
    for (int32_t i = 0; i < g->n_meta; i++)
        printf("metadata:   %s = %s\n", g->meta[i].key, g->meta[i].value);
    printf("input:      %s %s\n", vi->name, shape_str(&vi->shape, in, sizeof in));
    printf("output:     %s %s\n", vo->name, shape_str(&vo->shape, out, sizeof out));
    int64_t params = graph_parameter_count(g);
    printf("parameters: %lld (%.2f MiB as fp32)\n", (long long)params,
           params * 4.0 / (1024.0 * 1024.0));
    printf("MACs:       %.3f G per inference\n", graph_macs(g) / 1e9);
    printf("memory:     %.2f MiB of activations (planned once)\n",
           g->arena_floats * 4.0 / (1024.0 * 1024.0));
}

static void print_onnx_ops(const struct graph *g)
{
    printf("ONNX ops in the file:");
    for (int32_t i = 0; i < g->n_onnx_ops; i++) {
        const struct graph_op_count *c = &g->onnx_ops[i];
        printf("%s %s %d", i ? "," : "", c->onnx_op, c->count);
        if (c->folded)
            printf(" (%d evaluated at load)", c->folded);
    }
    printf("\n");
}

/* "Conv+LeakyRelu+residual" for the node's op and its fused epilogue. */
static const char *node_label(const struct node *n, char *buf, size_t size)
{
    /* A fused LayerNorm chain keeps its first ReduceMean's name; say what it became. */
    const char *op = n->op == OP_LAYER_NORM ? op_names[n->op] : n->onnx_op;
    snprintf(buf, size, "%s%s%s%s", n->op == OP_ACTIVATION ? "" : op,
             n->residual >= 0 ? "+Add" : "", n->act.kind && n->op != OP_ACTIVATION ? "+" : "",
             n->act.kind ? act_names[n->act.kind] : "");
    return buf;
}

static void print_support(const struct graph *g, const struct node *n,
                          const struct backend_ops *ops, enum precision precision)
{
    if (!ops) {
        printf("  %-10s", "not built");
        return;
    }
    struct backend_options opt = {.precision = precision};
    const char *why = ops->unsupported(g, n, &opt);
    printf("  %-10s", why ? "no" : "yes");
}

static void print_nodes(const struct graph *g)
{
    printf("\nnodes after folding and fusion: %d\n", g->n_nodes);
    printf("  %-4s %-28s %-30s %-16s  %-10s  %-10s  %-10s\n", "#", "node", "op", "output", "ref",
           "cpu fp32", "cpu bf16");
    const struct backend_ops *ref = backend_find("ref");
    const struct backend_ops *cpu = backend_find("cpu");
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *n = &g->nodes[i];
        char label[96], shape[64];
        printf("  %-4d %-28.28s %-30.30s %-16s", i, n->name, node_label(n, label, sizeof label),
               shape_str(&g->values[n->output].shape, shape, sizeof shape));
        print_support(g, n, ref, PRECISION_FP32);
        print_support(g, n, cpu, PRECISION_FP32);
        print_support(g, n, cpu, PRECISION_BF16);
        printf("\n");
        /* Say why, under the row, for the backends that cannot run it. */
        struct backend_options fp32 = {.precision = PRECISION_FP32};
        struct backend_options bf16 = {.precision = PRECISION_BF16};
        const char *why = cpu ? cpu->unsupported(g, n, &fp32) : NULL;
        if (why)
            printf("       cpu fp32 cannot: %s\n", why);
        why = cpu ? cpu->unsupported(g, n, &bf16) : NULL;
        if (why)
            printf("       cpu bf16 cannot: %s\n", why);
    }
}

static int inspect_chain(const struct graph *g, const struct inspect_args *a)
{
    struct graph other;
    struct error err = {{0}};
    struct onnx_options opt = {0};
    if (onnx_load(&other, a->chain_model, &opt, &err)) {
        fprintf(stderr, "mnemo: %s\n", err.msg);
        return MNEMO_EXIT_FAILED;
    }
    char plan[512];
    int rc = chain_check(g, a->model, &other, a->chain_model, plan, sizeof plan, &err);
    if (rc == 0)
        printf("\nchain: %s feeds %s: %s\n", a->model, a->chain_model, plan);
    else
        fprintf(stderr, "mnemo: %s\n", err.msg);
    graph_free(&other);
    return rc ? MNEMO_EXIT_FAILED : MNEMO_EXIT_OK;
}

int cli_inspect(int argc, char **argv)
{
    struct inspect_args a;
    if (inspect_parse(argc, argv, &a))
        return MNEMO_EXIT_USAGE;
    struct graph g;
    struct error err = {{0}};
    if (onnx_load(&g, a.model, &a.onnx_opt, &err)) {
        fprintf(stderr, "mnemo: %s\n", err.msg);
        return MNEMO_EXIT_FAILED;
    }
    print_header(&g);
    print_onnx_ops(&g);
    print_nodes(&g);
    int rc = a.chain_model ? inspect_chain(&g, &a) : MNEMO_EXIT_OK;
    graph_free(&g);
    return rc;
}
