/* kernels/ref/backend.c — the reference backend: the graph run node by node with kernels/ref.
 *
 * Owns one arena of g->arena_floats floats laid out by the graph's memory plan. create
 * allocates it; run copies the input in, runs every node in order and copies the output
 * out, allocating nothing. Slow on purpose: it is the truth the fast backends are
 * measured against. */
#include "backend.h"
#include "ref.h"

#include <stdlib.h>
#include <string.h>

struct ref_backend {
    struct backend base;
    const struct graph *g;
    float *arena;
};

static const char *ref_unsupported(const struct graph *g, const struct node *n,
                                   const struct backend_options *opt)
{
    (void)opt;
    return backend_unsupported_anywhere(g, n);
}

static struct backend *ref_create(const struct graph *g, const struct backend_options *opt,
                                  struct error *err)
{
    struct ref_backend *b = calloc(1, sizeof *b);
    if (!b) {
        error_set(err, "out of memory creating the ref backend");
        return NULL;
    }
    b->base.ops = &backend_ref_ops;
    b->g = g;
    b->arena = malloc((size_t)(g->arena_floats > 0 ? g->arena_floats : 1) * sizeof(float));
    if (!b->arena) {
        free(b);
        error_set(err, "out of memory for the ref backend's arena (%lld floats)",
                  (long long)g->arena_floats);
        return NULL;
    }
    return &b->base;
}

static int ref_run(struct backend *base, const float *input, float *output, struct error *err)
{
    struct ref_backend *b = (struct ref_backend *)base;
    const struct graph *g = b->g;
    const struct value *in = &g->values[g->input], *out = &g->values[g->output];
    memcpy(b->arena + in->offset, input, (size_t)shape_count(&in->shape) * sizeof(float));
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *n = &g->nodes[i];
        struct ref_io io;
        ref_io_make(g, b->arena, n, &io);
        ref_kernels[n->op](n, &io);
    }
    memcpy(output, b->arena + out->offset, (size_t)shape_count(&out->shape) * sizeof(float));
    return 0;
}

static void ref_destroy(struct backend *base)
{
    struct ref_backend *b = (struct ref_backend *)base;
    free(b->arena);
    free(b);
}

const struct backend_ops backend_ref_ops = {
    .name = "ref",
    .unsupported = ref_unsupported,
    .create = ref_create,
    .run = ref_run,
    .destroy = ref_destroy,
};
