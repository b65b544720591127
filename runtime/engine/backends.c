/* backends.c — the registry: which backends this build has, choosing one by name, and
 * "auto". The one table below is the only place that names a backend; backend.c is the
 * seam they all sit behind and knows none of them (ggml's backend / backend-reg split). */
#include "backend.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

static bool cuda_usable(void)
{
#ifdef MNEMO_HAVE_CUDA
    return backend_cuda_device_count(NULL) > 0;
#else
    return false;
#endif
}

/* In the order "auto" prefers them. A row without ops is not in this build; `missing`
 * says what it needs. */
static const struct registry_row {
    const char *name;
    const struct backend_ops *ops;
    bool (*usable)(void); /* NULL: always, once built */
    const char *missing;
} registry[] = {
#ifdef MNEMO_HAVE_CUDA
    {"cuda", &backend_cuda_ops, cuda_usable, NULL},
#else
    {"cuda", NULL, cuda_usable, "'cuda' needs the CUDA toolkit and cuDNN at build time"},
#endif
#ifdef MNEMO_HAVE_DNNL
    {"cpu", &backend_cpu_ops, NULL, NULL},
#else
    {"cpu", NULL, NULL, "'cpu' needs oneDNN: install libdnnl-dev and rebuild"},
#endif
    {"ref", &backend_ref_ops, NULL, NULL},
};
#define REGISTRY_ROWS (sizeof registry / sizeof *registry)

/* The row auto takes from `from` on: the first built and usable one. */
static const struct registry_row *auto_row(size_t from)
{
    for (size_t i = from; i < REGISTRY_ROWS; i++)
        if (registry[i].ops && (!registry[i].usable || registry[i].usable()))
            return &registry[i];
    return NULL;
}

static const struct registry_row *row_named(const char *name)
{
    if (!name)
        return NULL;
    if (strcmp(name, "auto") == 0)
        return auto_row(0);
    for (size_t i = 0; i < REGISTRY_ROWS; i++)
        if (registry[i].ops && strcmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

const struct backend_ops *backend_find(const char *name)
{
    const struct registry_row *r = row_named(name);
    return r ? r->ops : NULL;
}

/* "auto, cuda, cpu, ref", then what the missing ones need, for messages. */
static const char *backends_built(char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "auto");
    for (size_t i = 0; i < REGISTRY_ROWS && n < size; i++)
        if (registry[i].ops)
            n += (size_t)snprintf(buf + n, size - n, ", %s", registry[i].name);
    for (size_t i = 0; i < REGISTRY_ROWS && n < size; i++)
        if (!registry[i].ops)
            n += (size_t)snprintf(buf + n, size - n, "; %s", registry[i].missing);
    return buf;
}

struct backend *backend_open(const struct graph *g, const char *name,
                             const struct backend_options *opt, struct error *err)
{
    const struct registry_row *r = row_named(name);
    if (!r) {
        char built[512];
        error_set(err, "unknown backend '%s' (this build has: %s)", name ? name : "(null)",
                  backends_built(built, sizeof built));
        return NULL;
    }
    struct backend *b = backend_create(r->ops, g, opt, err);
    /* auto promised a working backend: a GPU that fails at start is not the user's doing. */
    const struct registry_row *next = r->usable ? auto_row((size_t)(r - registry) + 1) : NULL;
    if (!b && next && strcmp(name, "auto") == 0) {
        log_warn("the %s backend could not start (%s); running on %s instead", r->name, err->msg,
                 next->name);
        b = backend_create(next->ops, g, opt, err);
    }
    return b;
}

const char *backend_precision_unavailable(const char *name, enum precision precision)
{
    const struct backend_ops *ops = backend_find(name);
    if (!ops)
        return "backend not built";
    return ops->precision_unavailable ? ops->precision_unavailable(precision) : NULL;
}
