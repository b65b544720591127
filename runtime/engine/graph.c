/* graph.c — building the internal graph: values, nodes, names, metadata.
 * Shape inference lives in graph_shape.c, the load-time passes and the memory plan in
 * graph_passes.c. */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const op_names[OP_COUNT] = {
    [OP_CONV] = "Conv",
    [OP_CONV_TRANSPOSE] = "ConvTranspose",
    [OP_BATCH_NORM] = "BatchNormalization",
    [OP_INSTANCE_NORM] = "InstanceNormalization",
    [OP_ACTIVATION] = "Activation",
    [OP_BINARY] = "Binary",
    [OP_CONCAT] = "Concat",
    [OP_PAD] = "Pad",
    [OP_RESIZE] = "Resize",
    [OP_DEPTH_SPACE] = "DepthSpace",
    [OP_POOL] = "Pool",
    [OP_RESHAPE] = "Reshape",
    [OP_REDUCE_MEAN] = "ReduceMean",
    [OP_LAYER_NORM] = "LayerNorm",
};
static_assert(OP_COUNT == 14, "a new op needs a row in op_names and in every backend");

const char *const act_names[ACT_COUNT] = {
    [ACT_NONE] = "none",
    [ACT_RELU] = "Relu",
    [ACT_LEAKY_RELU] = "LeakyRelu",
    [ACT_TANH] = "Tanh",
    [ACT_SIGMOID] = "Sigmoid",
    [ACT_CLIP] = "Clip",
    [ACT_ELU] = "Elu",
    [ACT_SOFTPLUS] = "Softplus",
    [ACT_MISH] = "Mish",
    [ACT_HARD_SIGMOID] = "HardSigmoid",
    [ACT_HARD_SWISH] = "HardSwish",
    [ACT_NEG] = "Neg",
    [ACT_RECIPROCAL] = "Reciprocal",
    [ACT_SQRT] = "Sqrt",
    [ACT_POW] = "Pow",
    [ACT_ERF] = "Erf",
};
static_assert(ACT_COUNT == 16, "a new activation needs a row in act_names");

int64_t shape_count(const struct shape *s)
{
    int64_t n = 1;
    for (int32_t i = 0; i < s->rank; i++)
        n *= s->dim[i];
    return n;
}

bool shape_equal(const struct shape *a, const struct shape *b)
{
    if (a->rank != b->rank)
        return false;
    for (int32_t i = 0; i < a->rank; i++)
        if (a->dim[i] != b->dim[i])
            return false;
    return true;
}

const char *shape_str(const struct shape *s, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    if (s->rank == 0)
        snprintf(buf, size, "scalar");
    for (int32_t i = 0; i < s->rank && used < size; i++) {
        int n = snprintf(buf + used, size - used, i ? "x%lld" : "%lld", (long long)s->dim[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

struct shape shape_make4(int64_t n, int64_t c, int64_t h, int64_t w)
{
    struct shape s = {.rank = 4, .dim = {n, c, h, w}};
    return s;
}

void graph_init(struct graph *g)
{
    memset(g, 0, sizeof *g);
    g->input = -1;
    g->output = -1;
}

void graph_free(struct graph *g)
{
    for (int32_t i = 0; i < g->n_values; i++) {
        free(g->values[i].name);
        free(g->values[i].data);
    }
    for (int32_t i = 0; i < g->n_nodes; i++) {
        free(g->nodes[i].name);
        free(g->nodes[i].onnx_op);
    }
    for (int32_t i = 0; i < g->n_meta; i++) {
        free(g->meta[i].key);
        free(g->meta[i].value);
    }
    for (int32_t i = 0; i < g->n_onnx_ops; i++)
        free(g->onnx_ops[i].onnx_op);
    free(g->values);
    free(g->nodes);
    free(g->meta);
    free(g->onnx_ops);
    free(g->source_path);
    free(g->producer);
    graph_init(g);
}

/* Grows *items (of item_size bytes) so that one more fits. */
static int grow(void **items, int32_t count, int32_t *cap, size_t item_size, struct error *err)
{
    if (count < *cap)
        return 0;
    int32_t new_cap = *cap ? *cap * 2 : 64;
    void *p = realloc(*items, (size_t)new_cap * item_size);
    if (!p)
        return error_set(err, "out of memory growing the graph to %d entries", new_cap);
    *items = p;
    *cap = new_cap;
    return 0;
}

int32_t graph_add_value(struct graph *g, const char *name, enum value_kind kind,
                        const struct shape *shape, struct error *err)
{
    if (grow((void **)&g->values, g->n_values, &g->cap_values, sizeof *g->values, err))
        return -1;
    struct value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = strdup(name ? name : "");
    if (!v->name)
        return error_set(err, "out of memory");
    v->kind = kind;
    if (shape)
        v->shape = *shape;
    v->offset = -1;
    v->producer = -1;
    return g->n_values++;
}

int32_t graph_add_const(struct graph *g, const char *name, const struct shape *shape,
                        const float *data, struct error *err)
{
    int64_t count = shape_count(shape);
    float *copy = malloc((size_t)(count > 0 ? count : 1) * sizeof *copy);
    if (!copy)
        return error_set(err, "out of memory for constant '%s' (%lld floats)", name,
                         (long long)count);
    if (count > 0)
        memcpy(copy, data, (size_t)count * sizeof *copy);
    int32_t id = graph_add_value(g, name, VALUE_CONST, shape, err);
    if (id < 0) {
        free(copy);
        return -1;
    }
    g->values[id].data = copy;
    return id;
}

int32_t graph_find_value(const struct graph *g, const char *name)
{
    for (int32_t i = g->n_values - 1; i >= 0; i--)
        if (strcmp(g->values[i].name, name) == 0)
            return i;
    return -1;
}

struct node *graph_add_node(struct graph *g, enum op op, const char *name, const char *onnx_op,
                            struct error *err)
{
    if (grow((void **)&g->nodes, g->n_nodes, &g->cap_nodes, sizeof *g->nodes, err))
        return NULL;
    struct node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->name = strdup(name ? name : "");
    n->onnx_op = strdup(onnx_op ? onnx_op : op_names[op]);
    if (!n->name || !n->onnx_op) {
        free(n->name);
        free(n->onnx_op);
        error_set(err, "out of memory");
        return NULL;
    }
    for (int i = 0; i < NODE_MAX_INPUTS; i++)
        n->input[i] = -1;
    n->output = -1;
    n->residual = -1;
    n->act.kind = ACT_NONE;
    g->n_nodes++;
    return n;
}

int graph_add_meta(struct graph *g, const char *key, const char *value, struct error *err)
{
    struct graph_meta *m = realloc(g->meta, (size_t)(g->n_meta + 1) * sizeof *m);
    if (!m)
        return error_set(err, "out of memory");
    g->meta = m;
    m[g->n_meta].key = strdup(key);
    m[g->n_meta].value = strdup(value);
    if (!m[g->n_meta].key || !m[g->n_meta].value) {
        free(m[g->n_meta].key);
        free(m[g->n_meta].value);
        return error_set(err, "out of memory");
    }
    g->n_meta++;
    return 0;
}

int graph_count_onnx_op(struct graph *g, const char *onnx_op, bool folded, struct error *err)
{
    int32_t i = 0;
    while (i < g->n_onnx_ops && strcmp(g->onnx_ops[i].onnx_op, onnx_op) != 0)
        i++;
    if (i == g->n_onnx_ops) {
        struct graph_op_count *c = realloc(g->onnx_ops, (size_t)(i + 1) * sizeof *c);
        if (!c)
            return error_set(err, "out of memory");
        g->onnx_ops = c;
        c[i] = (struct graph_op_count){.onnx_op = strdup(onnx_op)};
        if (!c[i].onnx_op)
            return error_set(err, "out of memory");
        g->n_onnx_ops++;
    }
    g->onnx_ops[i].count++;
    if (folded)
        g->onnx_ops[i].folded++;
    return 0;
}
