/* backend.c — choosing and opening a backend by name.
 *
 * Owns the name → backend table and the support check every open does first, so an op a
 * backend cannot run is refused at load with the node's name, never met at run time.
 * Knows nothing of how any backend computes. */
#include "backend.h"

#include <string.h>

const char *const precision_names[PRECISION_COUNT] = {
    [PRECISION_FP32] = "fp32",
    [PRECISION_BF16] = "bf16",
};
static_assert(PRECISION_COUNT == 2, "a new precision needs a row in precision_names");

const struct backend_ops *backend_find(const char *name)
{
    if (!name)
        return NULL;
    if (strcmp(name, "ref") == 0)
        return &backend_ref_ops;
#ifdef MNEMO_HAVE_CUDA
    if (strcmp(name, "cuda") == 0 ||
        (strcmp(name, "auto") == 0 && backend_cuda_device_count(NULL) > 0))
        return &backend_cuda_ops;
#endif
#ifdef MNEMO_HAVE_DNNL
    if (strcmp(name, "cpu") == 0 || strcmp(name, "auto") == 0)
        return &backend_cpu_ops;
#else
    if (strcmp(name, "auto") == 0)
        return &backend_ref_ops;
#endif
    return NULL;
}

const char *backend_unsupported_anywhere(const struct graph *g, const struct node *n)
{
    if ((unsigned)n->op >= OP_COUNT)
        return "unknown op";
    if ((unsigned)n->act.kind >= ACT_COUNT)
        return "unknown activation";
    if (g->values[n->output].shape.rank > SHAPE_MAX_RANK)
        return "rank above 6";
    return NULL;
}

/* Names the first node `ops` cannot run. */
static int backend_check_support(const struct backend_ops *ops, const struct graph *g,
                                 const struct backend_options *opt, struct error *err)
{
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *n = &g->nodes[i];
        const char *why = ops->unsupported(g, n, opt);
        if (why)
            return error_set(err, "backend '%s' cannot run node '%s' (%s): %s", ops->name, n->name,
                             n->onnx_op, why);
    }
    return 0;
}

/* The backends this build has, for messages. */
static const char *backends_built(void)
{
#if defined(MNEMO_HAVE_CUDA) && defined(MNEMO_HAVE_DNNL)
    return "auto, cuda, cpu, ref";
#elif defined(MNEMO_HAVE_CUDA)
    return "auto, cuda, ref; 'cpu' needs oneDNN: install libdnnl-dev and rebuild";
#elif defined(MNEMO_HAVE_DNNL)
    return "auto, cpu, ref; 'cuda' needs the CUDA toolkit and cuDNN at build time";
#else
    return "auto, ref; 'cpu' needs oneDNN: install libdnnl-dev and rebuild";
#endif
}

static struct backend *backend_open_ops(const struct backend_ops *ops, const struct graph *g,
                                        const struct backend_options *opt, struct error *err)
{
    if (backend_check_support(ops, g, opt, err))
        return NULL;
    return ops->create(g, opt, err);
}

struct backend *backend_open(const struct graph *g, const char *name,
                             const struct backend_options *opt, struct error *err)
{
    const struct backend_ops *ops = backend_find(name);
    if (!ops) {
        error_set(err, "unknown backend '%s' (this build has: %s)", name ? name : "(null)",
                  backends_built());
        return NULL;
    }
    struct backend_options defaults = {.precision = PRECISION_FP32, .threads = 0};
    if (!opt)
        opt = &defaults;
    struct backend *b = backend_open_ops(ops, g, opt, err);
#ifdef MNEMO_HAVE_CUDA
    /* auto promised a working backend: a GPU that fails at start is not the user's doing. */
    if (!b && ops == &backend_cuda_ops && strcmp(name, "auto") == 0) {
#ifdef MNEMO_HAVE_DNNL
        const struct backend_ops *fallback = &backend_cpu_ops;
#else
        const struct backend_ops *fallback = &backend_ref_ops;
#endif
        warn("the cuda backend could not start (%s); running on %s instead", err->msg,
             fallback->name);
        b = backend_open_ops(fallback, g, opt, err);
    }
#endif
    return b;
}

void backend_close(struct backend *b)
{
    if (b)
        b->ops->destroy(b);
}

const char *backend_precision_unavailable(const char *name, enum precision precision)
{
    const struct backend_ops *ops = backend_find(name);
    if (!ops)
        return "backend not built";
    return ops->precision_unavailable ? ops->precision_unavailable(precision) : NULL;
}
