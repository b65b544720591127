/* backend.h — the seam between the graph and the code that runs it.
 *
 * A backend is a table of functions (ref: plain C, the truth in tests; cpu: oneDNN;
 * cuda: cuDNN + own CUDA kernels). The caller asks `unsupported` for every node before it creates
 * a backend, so an op a backend cannot run is a clear load-time answer, never a crash.
 * `create` does all allocation, weight reordering and warm-up; `run` allocates nothing,
 * does no I/O and may be called forever. */
#ifndef MNEMO_BACKEND_H
#define MNEMO_BACKEND_H

#include "error.h"
#include "graph.h"

enum precision { PRECISION_FP32, PRECISION_BF16, PRECISION_COUNT };
extern const char *const precision_names[PRECISION_COUNT];

struct backend_options {
    enum precision precision;
    int threads; /* 0 = all cores */
};

struct backend;

struct backend_ops {
    const char *name;
    /* NULL when this backend runs the node as it is; otherwise a short reason
     * ("ConvTranspose with group 2"). Must not allocate. */
    const char *(*unsupported)(const struct graph *g, const struct node *n,
                               const struct backend_options *opt);
    /* Everything a run needs, allocated and prepared once. The graph must outlive the
     * backend. Returns NULL with err set. */
    struct backend *(*create)(const struct graph *g, const struct backend_options *opt,
                              struct error *err);
    /* input: the graph input, NCHW float32; output: the graph output, NCHW float32.
     * Neither may alias the backend's memory. No allocation, no I/O. */
    int (*run)(struct backend *b, const float *input, float *output, struct error *err);
    void (*destroy)(struct backend *b);
    /* NULL when this machine can run `precision` on this backend at all, else why not
     * ("bf16 needs an AVX-512 CPU"). May itself be NULL: every precision runs. */
    const char *(*precision_unavailable)(enum precision precision);
};

/* Every backend struct starts with this. */
struct backend {
    const struct backend_ops *ops;
    /* Set (through backend_lose) when the device hit a sticky error (illegal address,
     * launch failure): the context is poisoned, nothing in this process can run on it
     * again. The caller saves what it can and exits with MNEMO_EXIT_DEVICE_LOST (exit.h) so its
     * supervisor restarts it. */
    bool device_lost;
    char lost[ERROR_MSG_MAX]; /* why, repeated by every later backend_run */
};

/* Each backend's table, defined in its own folder (kernels/<name>/backend.c) and built
 * only where its library is: cpu with oneDNN (MNEMO_HAVE_DNNL), cuda with CUDA + cuDNN
 * (MNEMO_HAVE_CUDA). Only the registry (backends.c) names them. */
extern const struct backend_ops backend_ref_ops;
extern const struct backend_ops backend_cpu_ops;
extern const struct backend_ops backend_cuda_ops;
/* CUDA devices usable now (0 without a driver or a GPU); why, when there are none, in
 * `why` (may be NULL). Defined by the cuda backend: in CUDA builds only. */
int backend_cuda_device_count(const char **why);

/* What no backend runs (an op or activation this build does not know, rank above 6), or
 * NULL; every backend's `unsupported` asks this first. */
const char *backend_unsupported_anywhere(const struct graph *g, const struct node *n);
static inline bool node_is_conv(const struct node *n)
{
    return n->op == OP_CONV || n->op == OP_CONV_TRANSPOSE;
}

/* ---- the registry (backends.c, CMake target mnemo_backends: links every backend) ---- */

/* "ref", "cpu" (NULL when built without oneDNN), "cuda" (NULL when built without CUDA),
 * "auto" (cuda when built and a device is usable, else the fastest CPU one built). */
const struct backend_ops *backend_find(const char *name);

/* Creates the named backend for g after checking that it supports every node. The error
 * names the first unsupported node, its ONNX op and the reason. When "auto" chose cuda and
 * cuda cannot start (or run a node), it falls back to the CPU backend with one warning. */
struct backend *backend_open(const struct graph *g, const char *name,
                             const struct backend_options *opt, struct error *err);
/* Why the named backend cannot run `precision` on this machine, or NULL when it can. */
const char *backend_precision_unavailable(const char *name, enum precision precision);

/* ---- the seam (backend.c) ------------------------------------------------------------ */

/* Creates a backend from its table for g (opt NULL: fp32, default threads) after checking
 * that it supports every node (the error names the first it cannot run, its ONNX op and
 * why). Reads the fault seam's MNEMO_FAULT once (below). */
struct backend *backend_create(const struct backend_ops *ops, const struct graph *g,
                               const struct backend_options *opt, struct error *err);
/* Runs b (ops->run) through the checks every backend shares: a lost device fails at once
 * with the message of its loss, and the fault seam below may fail the run. No allocation,
 * no I/O. */
int backend_run(struct backend *b, const float *in, float *out, struct error *err);
void backend_close(struct backend *b);
/* Marks b lost with the message in err (kept for every later run). Returns -1. */
int backend_lose(struct backend *b, struct error *err);
static inline bool backend_device_lost(const struct backend *b)
{
    return b && b->device_lost;
}
/* Fault injection (fault.h), the same for every backend since it sits in backend_run:
 *   MNEMO_FAULT=backend:transient@N  backend run number N of the process fails once, as a
 *                                    recoverable device error does; later runs work
 *   MNEMO_FAULT=backend:sticky@N     run N and every run after it fail, on every backend,
 *                                    each marked lost as a sticky CUDA error marks it
 * Runs are counted over all backends from 1; the loop makes two per iteration (painter,
 * then sketcher), so @21 is the painter of iteration 11, after 10 good iterations.
 * backend_open reads MNEMO_FAULT once per process (a bad entry fails the open with a
 * message); tests arm the seam directly with backend_fault_arm ("transient@N",
 * "sticky@N", or NULL to disarm), which also restarts the count. */
int backend_fault_arm(const char *what, struct error *err);

#endif
