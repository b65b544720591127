/* graph_passes.c — the load-time rewrites and the memory plan.
 *
 * Owns graph_finalize and the passes it runs, in order: the exporters' LayerNorm chain
 * fused into one LayerNorm node, BatchNorm folded into the
 * preceding Conv/ConvTranspose, activations fused into their producer, residual adds
 * fused into the Conv/InstanceNorm feeding them, nodes whose outputs nobody reads
 * removed, then one arena planned for every run-time value. Also graph_macs and
 * graph_parameter_count.
 *
 * Rules every pass keeps: nodes stay in topological order (a merged node takes the later
 * of the two positions, where all its inputs exist); the graph output value keeps its id;
 * constants that may be shared are never modified in place (folding makes new ones).
 * Nothing here runs a kernel or prints. */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- uses --------------------------------------------------------------------------- */

/* How many times each value is read (as an input or a residual); the graph output counts
 * as one read so that no pass fuses it away. Caller frees. */
static int32_t *uses_count(const struct graph *g, struct error *err)
{
    int32_t *uses = calloc((size_t)(g->n_values > 0 ? g->n_values : 1), sizeof *uses);
    if (!uses) {
        error_set(err, "out of memory counting value uses");
        return NULL;
    }
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *n = &g->nodes[i];
        for (int32_t k = 0; k < n->n_inputs; k++)
            if (n->input[k] >= 0)
                uses[n->input[k]]++;
        if (n->residual >= 0)
            uses[n->residual]++;
    }
    if (g->output >= 0)
        uses[g->output]++;
    return uses;
}

/* The node producing value id, or NULL for inputs, constants and orphans. */
static struct node *producer_of(struct graph *g, int32_t id)
{
    if (id < 0 || g->values[id].kind != VALUE_COMPUTED)
        return NULL;
    int32_t p = g->values[id].producer;
    return p >= 0 ? &g->nodes[p] : NULL;
}

static void node_free_names(struct node *n)
{
    free(n->name);
    free(n->onnx_op);
    n->name = NULL;
    n->onnx_op = NULL;
}

static void producers_refresh(struct graph *g)
{
    for (int32_t v = 0; v < g->n_values; v++)
        g->values[v].producer = -1;
    for (int32_t i = 0; i < g->n_nodes; i++)
        g->values[g->nodes[i].output].producer = i;
}

/* Drops the nodes marked in `dead` (freeing their names), keeps the order, fixes producers. */
static void nodes_compact(struct graph *g, const bool *dead)
{
    int32_t kept = 0;
    for (int32_t i = 0; i < g->n_nodes; i++) {
        if (dead[i]) {
            node_free_names(&g->nodes[i]);
            continue;
        }
        g->nodes[kept++] = g->nodes[i];
    }
    g->n_nodes = kept;
    producers_refresh(g);
}

/* Merges `producer` into the node at `consumer`'s position: the consumer's slot takes the
 * producer's op, inputs and parameters (keeping the consumer's output value), and the
 * producer's slot is marked dead. The later position is where every input already exists.
 * The merged node keeps the producer's name and ONNX op (messages point at the real op). */
static void node_merge_into_consumer(struct graph *g, struct node *producer, struct node *consumer,
                                     bool *dead)
{
    int32_t output = consumer->output;
    struct node merged = *producer;
    merged.output = output;
    free(consumer->name);
    free(consumer->onnx_op);
    *consumer = merged;
    /* The producer's names now belong to the consumer's slot. */
    producer->name = NULL;
    producer->onnx_op = NULL;
    dead[producer - g->nodes] = true;
}

/* Runs a rewrite over every node with a shared `dead` mask, then compacts. */
static int pass_run(struct graph *g,
                    int (*rewrite)(struct graph *, int32_t, const int32_t *, bool *,
                                   struct error *),
                    struct error *err)
{
    if (g->n_nodes == 0)
        return 0;
    int32_t *uses = uses_count(g, err);
    bool *dead = calloc((size_t)g->n_nodes, sizeof *dead);
    if (!uses || !dead) {
        free(uses);
        free(dead);
        return error_set(err, "out of memory in a graph pass");
    }
    int rc = 0;
    for (int32_t i = 0; i < g->n_nodes && rc == 0; i++)
        if (!dead[i])
            rc = rewrite(g, i, uses, dead, err);
    nodes_compact(g, dead);
    free(uses);
    free(dead);
    return rc;
}

/* ---- LayerNorm fusion ---------------------------------------------------------------- */

/* The node making `id` when it is an `op` with no epilogue (an activation node's own act
 * aside) and `id` has exactly `readers` readers; else NULL. */
static struct node *chain_producer(struct graph *g, int32_t id, enum op op, const int32_t *uses,
                                   int32_t readers)
{
    struct node *p = producer_of(g, id);
    if (!p || p->op != op || uses[id] != readers || p->residual >= 0 ||
        (op != OP_ACTIVATION && p->act.kind != ACT_NONE))
        return NULL;
    return p;
}

/* The value of a one-value constant, or NaN. */
static float const_scalar(const struct graph *g, int32_t id)
{
    const struct value *v = &g->values[id];
    return v->kind == VALUE_CONST && shape_count(&v->shape) == 1 && v->data ? v->data[0] : NAN;
}

static bool same_axes(const struct node *a, const struct node *b)
{
    return a->p.reduce.keep_dims && b->p.reduce.keep_dims &&
           a->p.reduce.begin == b->p.reduce.begin && a->p.reduce.end == b->p.reduce.end;
}

/* Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps))) with d = Sub(x, ReduceMean(x)), both means
 * over the same axes keeping them: what torch.onnx writes for nn.LayerNorm before opset 17
 * and for the usual hand-written channel LayerNorm. It becomes one LayerNorm node of x at
 * the Div's place, named after the first ReduceMean; any other shape of chain runs as it
 * is, node by node. */
static int fuse_one_layer_norm(struct graph *g, int32_t i, const int32_t *uses, bool *dead,
                               struct error *err)
{
    (void)err;
    struct node *div = &g->nodes[i];
    if (div->op != OP_BINARY || div->p.binary.kind != BINARY_DIV || div->act.kind != ACT_NONE ||
        div->residual >= 0)
        return 0;
    struct node *root = chain_producer(g, div->input[1], OP_ACTIVATION, uses, 1);
    struct node *add = root && root->act.kind == ACT_SQRT
                           ? chain_producer(g, root->input[0], OP_BINARY, uses, 1)
                           : NULL;
    if (!add || add->p.binary.kind != BINARY_ADD)
        return 0;
    int k = g->values[add->input[1]].kind == VALUE_CONST ? 1 : 0;
    float epsilon = const_scalar(g, add->input[k]);
    struct node *var = chain_producer(g, add->input[1 - k], OP_REDUCE_MEAN, uses, 1);
    struct node *sq = var ? chain_producer(g, var->input[0], OP_ACTIVATION, uses, 1) : NULL;
    struct node *sub = chain_producer(g, div->input[0], OP_BINARY, uses, 2);
    if (!(epsilon >= 0.0f) || !sq || sq->act.kind != ACT_POW || sq->act.alpha != 2.0f ||
        sq->input[0] != div->input[0] || !sub || sub->p.binary.kind != BINARY_SUB)
        return 0;
    struct node *mean = chain_producer(g, sub->input[1], OP_REDUCE_MEAN, uses, 1);
    if (!mean || mean->input[0] != sub->input[0] || !same_axes(mean, var) ||
        !shape_equal(&g->values[sub->input[0]].shape, &g->values[div->output].shape))
        return 0;
    struct node *chain[] = {sub, sq, var, add, root};
    for (size_t j = 0; j < sizeof chain / sizeof chain[0]; j++)
        dead[chain[j] - g->nodes] = true;
    node_merge_into_consumer(g, mean, div, dead);
    div->op = OP_LAYER_NORM;
    div->p.reduce.epsilon = epsilon;
    return 0;
}

int graph_fuse_layer_norm(struct graph *g, struct error *err)
{
    return pass_run(g, fuse_one_layer_norm, err);
}

/* ---- BatchNorm folding --------------------------------------------------------------- */

static bool all_const(const struct graph *g, const struct node *n, int32_t from, int32_t to)
{
    for (int32_t k = from; k < to; k++)
        if (n->input[k] < 0 || g->values[n->input[k]].kind != VALUE_CONST)
            return false;
    return true;
}

/* New weight and bias constants for conv `c` with BatchNorm `bn` applied:
 * w' = w * s[o], b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps). */
static int fold_into_conv(struct graph *g, struct node *c, const struct node *bn, struct error *err)
{
    bool transpose = c->op == OP_CONV_TRANSPOSE;
    const struct value *w = &g->values[c->input[1]];
    struct shape ws = w->shape;
    int64_t cout = transpose ? ws.dim[1] * c->p.conv.group : ws.dim[0];
    int64_t per_out = ws.dim[2] * ws.dim[3]; /* weights sharing one (in, out) channel pair */
    const float *gamma = g->values[bn->input[1]].data, *beta = g->values[bn->input[2]].data;
    const float *mean = g->values[bn->input[3]].data, *var = g->values[bn->input[4]].data;
    const float *bias = c->n_inputs > 2 && c->input[2] >= 0 ? g->values[c->input[2]].data : NULL;
    float *nw = malloc((size_t)shape_count(&ws) * sizeof *nw);
    float *nb = malloc((size_t)cout * sizeof *nb);
    double *scale = malloc((size_t)cout * sizeof *scale);
    int rc = -1;
    if (!nw || !nb || !scale) {
        error_set(err, "out of memory folding BatchNorm '%s' into '%s'", bn->name, c->name);
        goto done;
    }
    for (int64_t o = 0; o < cout; o++) {
        scale[o] = gamma[o] / sqrt((double)var[o] + bn->p.norm.epsilon);
        nb[o] = (float)(((bias ? bias[o] : 0.0) - mean[o]) * scale[o] + beta[o]);
    }
    /* Conv weights are Cout x Cin/g x kh x kw, ConvTranspose weights Cin x Cout/g x kh x kw:
     * there weight (i, o') feeds output channel o' of input channel i's group. */
    int64_t in_group = transpose ? ws.dim[0] / c->p.conv.group : 1;
    for (int64_t k = 0; k < shape_count(&ws); k++) {
        int64_t o = transpose
                        ? k / (per_out * ws.dim[1]) / in_group * ws.dim[1] + k / per_out % ws.dim[1]
                        : k / (per_out * ws.dim[1]);
        nw[k] = (float)(w->data[k] * scale[o]);
    }
    char name[256];
    snprintf(name, sizeof name, "%s.weight+%s", c->name, bn->name);
    int32_t wid = graph_add_const(g, name, &ws, nw, err);
    /* graph_add_const may move g->values; w is not used below. */
    snprintf(name, sizeof name, "%s.bias+%s", c->name, bn->name);
    struct shape bs = {.rank = 1, .dim = {cout}};
    int32_t bid = wid < 0 ? -1 : graph_add_const(g, name, &bs, nb, err);
    if (bid < 0)
        goto done;
    c->input[1] = wid;
    c->input[2] = bid;
    if (c->n_inputs < 3)
        c->n_inputs = 3;
    rc = 0;
done:
    free(nw);
    free(nb);
    free(scale);
    return rc;
}

static int fold_one_batch_norm(struct graph *g, int32_t i, const int32_t *uses, bool *dead,
                               struct error *err)
{
    struct node *bn = &g->nodes[i];
    if (bn->op != OP_BATCH_NORM || !all_const(g, bn, 1, 5))
        return 0;
    struct node *c = producer_of(g, bn->input[0]);
    if (!c || (c->op != OP_CONV && c->op != OP_CONV_TRANSPOSE) || uses[bn->input[0]] != 1 ||
        c->act.kind != ACT_NONE || c->residual >= 0 || !all_const(g, c, 1, 2) ||
        (c->n_inputs > 2 && c->input[2] >= 0 && !all_const(g, c, 2, 3)))
        return 0;
    if (fold_into_conv(g, c, bn, err))
        return -1;
    /* The conv keeps the BatchNorm's epilogue (none unless a pass ran out of order). */
    struct act act = bn->act;
    int32_t residual = bn->residual;
    node_merge_into_consumer(g, c, bn, dead);
    bn->act = act;
    bn->residual = residual;
    return 0;
}

int graph_fold_batch_norm(struct graph *g, struct error *err)
{
    return pass_run(g, fold_one_batch_norm, err);
}

/* ---- activation fusion --------------------------------------------------------------- */

/* Every backend applies these ops' epilogue in the pass that writes their output. Concat is
 * one: the U-Net's Relu after each skip Concat then costs no pass of its own. */
static bool takes_activation(enum op op)
{
    return op == OP_CONV || op == OP_CONV_TRANSPOSE || op == OP_BATCH_NORM ||
           op == OP_INSTANCE_NORM || op == OP_BINARY || op == OP_REDUCE_MEAN ||
           op == OP_LAYER_NORM || op == OP_CONCAT;
}

static int fuse_one_activation(struct graph *g, int32_t i, const int32_t *uses, bool *dead,
                               struct error *err)
{
    struct node *a = &g->nodes[i];
    if (a->op != OP_ACTIVATION || a->residual >= 0)
        return 0;
    struct node *p = producer_of(g, a->input[0]);
    if (!p || !takes_activation(p->op) || p->act.kind != ACT_NONE || uses[a->input[0]] != 1)
        return 0;
    struct act act = a->act;
    node_merge_into_consumer(g, p, a, dead);
    a->act = act;
    return 0;
}

int graph_fuse_activations(struct graph *g, struct error *err)
{
    return pass_run(g, fuse_one_activation, err);
}

/* ---- residual add fusion ------------------------------------------------------------- */

/* Whether operand `x` of `add` can be computed by its producer with `other` added in. */
static bool residual_fits(struct graph *g, const struct node *add, int32_t x, int32_t other,
                          const int32_t *uses)
{
    struct node *p = producer_of(g, x);
    if (!p || (p->op != OP_CONV && p->op != OP_INSTANCE_NORM) || p->act.kind != ACT_NONE ||
        p->residual >= 0 || uses[x] != 1 || x == other)
        return false;
    const struct value *o = &g->values[other];
    /* A constant residual would have to live in the arena; not worth it for now. */
    return o->kind != VALUE_CONST && shape_equal(&o->shape, &g->values[x].shape) &&
           shape_equal(&o->shape, &g->values[add->output].shape);
}

static int fuse_one_residual(struct graph *g, int32_t i, const int32_t *uses, bool *dead,
                             struct error *err)
{
    struct node *add = &g->nodes[i];
    if (add->op != OP_BINARY || add->p.binary.kind != BINARY_ADD || add->residual >= 0)
        return 0;
    for (int k = 0; k < 2; k++) {
        int32_t x = add->input[k], other = add->input[1 - k];
        if (!residual_fits(g, add, x, other, uses))
            continue;
        struct act act = add->act;
        node_merge_into_consumer(g, producer_of(g, x), add, dead);
        add->residual = other;
        add->act = act;
        return 0;
    }
    return 0;
}

int graph_fuse_residual_add(struct graph *g, struct error *err)
{
    return pass_run(g, fuse_one_residual, err);
}

/* ---- dead nodes ---------------------------------------------------------------------- */

/* Removes nodes whose outputs nobody reads (walking backwards so chains go at once), and
 * empties constants no node reads any more (the originals of folded weights). */
static int graph_remove_unused(struct graph *g, struct error *err)
{
    int32_t *uses = uses_count(g, err);
    bool *dead = calloc((size_t)(g->n_nodes > 0 ? g->n_nodes : 1), sizeof *dead);
    if (!uses || !dead) {
        free(uses);
        free(dead);
        return error_set(err, "out of memory removing unused nodes");
    }
    for (int32_t i = g->n_nodes - 1; i >= 0; i--) {
        const struct node *n = &g->nodes[i];
        if (uses[n->output] > 0)
            continue;
        dead[i] = true;
        for (int32_t k = 0; k < n->n_inputs; k++)
            if (n->input[k] >= 0)
                uses[n->input[k]]--;
        if (n->residual >= 0)
            uses[n->residual]--;
    }
    nodes_compact(g, dead);
    for (int32_t v = 0; v < g->n_values; v++) {
        struct value *val = &g->values[v];
        if (val->kind == VALUE_CONST && uses[v] == 0 && val->data) {
            free(val->data);
            val->data = NULL;
            val->shape = (struct shape){.rank = 1, .dim = {0}};
        }
    }
    free(uses);
    free(dead);
    return 0;
}

/* ---- memory plan --------------------------------------------------------------------- */

#define PLAN_ALIGN_FLOATS 16 /* 64 bytes */

/* One run-time value to place: alive from the node that makes it (-1 for the graph input)
 * to the last node that reads it (n_nodes for the graph output). */
struct plan_item {
    int32_t value;
    int32_t first, last;
    int64_t size; /* floats, rounded up to the alignment */
    int64_t offset;
};

static bool plan_alive_together(const struct plan_item *a, const struct plan_item *b)
{
    return a->first <= b->last && b->first <= a->last;
}

/* Largest first; ties by birth so that the plan does not depend on qsort's whims. */
static int plan_item_compare(const void *pa, const void *pb)
{
    const struct plan_item *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return a->first != b->first ? (a->first < b->first ? -1 : 1) : (a->value < b->value ? -1 : 1);
}

static int plan_offset_compare(const void *pa, const void *pb)
{
    const struct plan_item *a = *(const struct plan_item *const *)pa;
    const struct plan_item *b = *(const struct plan_item *const *)pb;
    return a->offset < b->offset ? -1 : (a->offset > b->offset ? 1 : 0);
}

/* Lowest offset where `item` overlaps no placed item alive at the same time. `placed` holds
 * items[0..n_placed); `scratch` has room for n_placed pointers. */
static int64_t plan_lowest_fit(const struct plan_item *item, struct plan_item *placed,
                               int32_t n_placed, struct plan_item **scratch)
{
    int32_t n = 0;
    for (int32_t i = 0; i < n_placed; i++)
        if (plan_alive_together(item, &placed[i]))
            scratch[n++] = &placed[i];
    qsort(scratch, (size_t)n, sizeof *scratch, plan_offset_compare);
    int64_t offset = 0;
    for (int32_t i = 0; i < n; i++) {
        if (scratch[i]->offset >= offset + item->size)
            break; /* the gap before this one is big enough */
        int64_t end = scratch[i]->offset + scratch[i]->size;
        offset = end > offset ? end : offset;
    }
    return offset;
}

/* The values to place with their lifetimes over the node order; a residual read counts. */
static struct plan_item *plan_items_collect(const struct graph *g, int32_t *count,
                                            struct error *err)
{
    int32_t *slot = malloc((size_t)(g->n_values > 0 ? g->n_values : 1) * sizeof *slot);
    struct plan_item *items = malloc((size_t)(g->n_nodes + 1) * sizeof *items);
    if (!slot || !items) {
        free(slot);
        free(items);
        error_set(err, "out of memory planning memory");
        return NULL;
    }
    int32_t n = 0;
    for (int32_t v = 0; v < g->n_values; v++) {
        const struct value *val = &g->values[v];
        bool planned = v == g->input || (val->kind == VALUE_COMPUTED && val->producer >= 0);
        slot[v] = planned ? n : -1;
        if (!planned)
            continue;
        int64_t size = (shape_count(&val->shape) + PLAN_ALIGN_FLOATS - 1) / PLAN_ALIGN_FLOATS *
                       PLAN_ALIGN_FLOATS;
        int32_t first = v == g->input ? -1 : val->producer;
        items[n++] = (struct plan_item){.value = v,
                                        .first = first,
                                        .last = v == g->output ? g->n_nodes : first,
                                        .size = size > 0 ? size : PLAN_ALIGN_FLOATS};
    }
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *nd = &g->nodes[i];
        for (int32_t k = 0; k < nd->n_inputs; k++)
            if (nd->input[k] >= 0 && slot[nd->input[k]] >= 0)
                items[slot[nd->input[k]]].last = i;
        if (nd->residual >= 0 && slot[nd->residual] >= 0)
            items[slot[nd->residual]].last = i;
    }
    free(slot);
    *count = n;
    return items;
}

/* Greedy by size over known lifetimes: the largest values are placed first, each at the
 * lowest offset clear of every placed value alive at the same time. A node's inputs and
 * residual are alive while it runs, so its output never overlaps them. */
int graph_plan_memory(struct graph *g, struct error *err)
{
    int32_t n = 0;
    struct plan_item *items = plan_items_collect(g, &n, err);
    struct plan_item **scratch = malloc((size_t)(n > 0 ? n : 1) * sizeof *scratch);
    if (!items || !scratch) {
        free(items);
        free(scratch);
        return error_set(err, "out of memory planning memory");
    }
    qsort(items, (size_t)n, sizeof *items, plan_item_compare);
    for (int32_t v = 0; v < g->n_values; v++)
        if (g->values[v].kind != VALUE_CONST)
            g->values[v].offset = -1;
    g->arena_floats = 0;
    for (int32_t i = 0; i < n; i++) {
        items[i].offset = plan_lowest_fit(&items[i], items, i, scratch);
        g->values[items[i].value].offset = items[i].offset;
        if (items[i].offset + items[i].size > g->arena_floats)
            g->arena_floats = items[i].offset + items[i].size;
    }
    free(items);
    free(scratch);
    return 0;
}

/* ---- finalize ------------------------------------------------------------------------ */

static int graph_check_ends(const struct graph *g, struct error *err)
{
    if (g->input < 0 || g->input >= g->n_values || g->values[g->input].kind != VALUE_INPUT)
        return error_set(err, "the graph has no input value (the importer must set g->input)");
    if (g->output < 0 || g->output >= g->n_values)
        return error_set(err, "the graph has no output value (the importer must set g->output)");
    const struct value *out = &g->values[g->output];
    if (g->output != g->input && (out->kind != VALUE_COMPUTED || out->producer < 0))
        return error_set(err, "the graph output '%s' is not computed by any node", out->name);
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *n = &g->nodes[i];
        if (n->output < 0 || g->values[n->output].producer != i)
            return error_set(err,
                             "node '%s' (%s) has no inferred output (call "
                             "graph_infer_shape for every node)",
                             n->name, n->onnx_op);
    }
    return 0;
}

int graph_finalize(struct graph *g, struct error *err)
{
    if (graph_check_ends(g, err))
        return -1;
    if (graph_fuse_layer_norm(g, err) || graph_fold_batch_norm(g, err) ||
        graph_fuse_activations(g, err) || graph_fuse_residual_add(g, err) ||
        graph_remove_unused(g, err))
        return error_prefix(err, "optimising the graph");
    return graph_plan_memory(g, err);
}

/* ---- counts -------------------------------------------------------------------------- */

int64_t graph_macs(const struct graph *g)
{
    int64_t macs = 0;
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *n = &g->nodes[i];
        if (n->op != OP_CONV && n->op != OP_CONV_TRANSPOSE)
            continue;
        const struct shape *w = &g->values[n->input[1]].shape;
        /* Conv: every output point reads Cin x kh x kw weights. ConvTranspose: every input
         * point is scattered through Cout x kh x kw weights. Both are count x |W| / C.
         * (W's dim 0 is Cout for Conv and Cin for ConvTranspose.) */
        const struct shape *per =
            n->op == OP_CONV ? &g->values[n->output].shape : &g->values[n->input[0]].shape;
        macs += shape_count(per) / w->dim[0] * shape_count(w);
    }
    return macs;
}

int64_t graph_parameter_count(const struct graph *g)
{
    int64_t count = 0;
    for (int32_t v = 0; v < g->n_values; v++) {
        if (g->values[v].kind != VALUE_CONST)
            continue;
        bool read = false;
        for (int32_t i = 0; i < g->n_nodes && !read; i++) {
            const struct node *n = &g->nodes[i];
            for (int32_t k = 0; k < n->n_inputs; k++)
                read = read || n->input[k] == v;
            read = read || n->residual == v;
        }
        if (read)
            count += shape_count(&g->values[v].shape);
    }
    return count;
}
