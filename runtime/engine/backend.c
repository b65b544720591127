/* backend.c — the seam every backend sits behind: the support check every create does
 * first (an op a backend cannot run is refused at load with the node's name, never met at
 * run time), backend_run with the checks all backends share, a lost device, the fault
 * seam. Knows no backend by name: the registry is backends.c. */
#include "backend.h"
#include "exit.h"

#include "fault.h"
#include "log.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const precision_names[PRECISION_COUNT] = {
    [PRECISION_FP32] = "fp32",
    [PRECISION_BF16] = "bf16",
};
static_assert(PRECISION_COUNT == 2, "a new precision needs a row in precision_names");

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

static int fault_from_env(struct error *err);

struct backend *backend_create(const struct backend_ops *ops, const struct graph *g,
                               const struct backend_options *opt, struct error *err)
{
    struct backend_options defaults = {.precision = PRECISION_FP32, .threads = 0};
    if (!opt)
        opt = &defaults;
    if (fault_from_env(err) || backend_check_support(ops, g, opt, err))
        return NULL;
    return ops->create(g, opt, err);
}

/* ---- the fault seam (backend.h) ------------------------------------------------------ */

enum fault_kind { FAULT_NONE, FAULT_TRANSIENT, FAULT_STICKY };

static struct {
    _Atomic int kind; /* enum fault_kind; read by every run, so the one check is cheap */
    uint64_t at;      /* the run that fails first (1-based) */
    atomic_uint_fast64_t runs;
    bool env_read;
} fault;

/* "kind@N" with N a whole number >= 1 into *at. */
static bool fault_parse(const char *what, const char *kind, uint64_t *at)
{
    size_t len = strlen(kind);
    if (strncmp(what, kind, len) != 0 || what[len] != '@' || what[len + 1] < '0' ||
        what[len + 1] > '9')
        return false;
    char *end;
    unsigned long long n = strtoull(what + len + 1, &end, 10);
    *at = n;
    return *end == '\0' && n > 0;
}

int backend_fault_arm(const char *what, struct error *err)
{
    enum fault_kind kind = FAULT_NONE;
    uint64_t at = 0;
    if (what) {
        if (fault_parse(what, "transient", &at))
            kind = FAULT_TRANSIENT;
        else if (fault_parse(what, "sticky", &at))
            kind = FAULT_STICKY;
        else
            return error_set(err,
                             "MNEMO_FAULT: 'backend:%s' is not a backend fault; use "
                             "backend:transient@N or backend:sticky@N (N >= 1, the backend run "
                             "that fails)",
                             what);
    }
    atomic_store(&fault.kind, FAULT_NONE);
    fault.at = at;
    atomic_store(&fault.runs, 0);
    atomic_store(&fault.kind, kind);
    return 0;
}

/* MNEMO_FAULT's backend entry, once per process (at the first open, before any run). */
static int fault_from_env(struct error *err)
{
    if (fault.env_read)
        return 0;
    char what[64];
    if (backend_fault_arm(fault_entry("backend", what, sizeof what), err))
        return -1;
    fault.env_read = true;
    return 0;
}

/* Counts this run; true (err set) when the armed fault fails it. */
static bool fault_strikes(struct backend *b, struct error *err)
{
    uint64_t run = atomic_fetch_add(&fault.runs, 1) + 1;
    if (run < fault.at)
        return false;
    if (atomic_load(&fault.kind) == FAULT_TRANSIENT) {
        if (run != fault.at)
            return false;
        error_set(err, "%s backend: injected transient fault at run %" PRIu64 " (MNEMO_FAULT)",
                  b->ops->name, run);
        return true;
    }
    error_set(err,
              "%s backend: injected sticky fault at run %" PRIu64 " (MNEMO_FAULT): the "
              "device context is lost and cannot be repaired in this process; restart mnemo "
              "(exit code %d)",
              b->ops->name, fault.at, MNEMO_EXIT_DEVICE_LOST);
    backend_lose(b, err);
    return true;
}

int backend_run(struct backend *b, const float *in, float *out, struct error *err)
{
    if (b->device_lost)
        return error_set(err, "%s", b->lost);
    if (atomic_load_explicit(&fault.kind, memory_order_relaxed) != FAULT_NONE &&
        fault_strikes(b, err))
        return -1;
    return b->ops->run(b, in, out, err);
}

int backend_lose(struct backend *b, struct error *err)
{
    b->device_lost = true;
    snprintf(b->lost, sizeof b->lost, "%s", err->msg);
    return -1;
}

void backend_close(struct backend *b)
{
    if (b)
        b->ops->destroy(b);
}
