/* kernels/cuda/backend.c — the GPU backend: cuDNN convolutions, our own CUDA kernels for the rest,
 * the node sequence replayed as one CUDA graph.
 *
 * Owns, all allocated at create and nothing after: one CUDA stream, one cuDNN handle, the
 * device arena laid out by the graph's memory plan (as ref and cpu), the weights uploaded
 * once, a prepared convolution per Conv/ConvTranspose node (kernels/cuda/conv.c), one
 * cuDNN workspace and one scratch buffer (asymmetric pads) shared by all nodes, since they
 * run one after another on the one stream. create runs the graph once eagerly (so a bad
 * launch is reported naming its node), then captures the node sequence as a CUDA graph
 * (a capture that fails is warned about once and the backend runs eagerly); run copies the
 * input in, replays the graph (or launches node by node), copies the output out and waits.
 * MNEMO_CUDA_EAGER=1 in the environment skips the capture and launches node by node (for
 * debugging and compute-sanitizer); MNEMO_CUDA_FIND=1 ranks each convolution's algorithms
 * by cuDNN's timing of them on the real buffers at create, instead of its heuristics.
 * Every failed run is classified (errors.c): a sticky CUDA error, or a stream that fails a
 * trivial probe after the failure, marks the backend lost (backend_lose: exit 75, restart
 * and resume); anything else is transient and the loop retries. MNEMO_FAULT=backend:
 * sticky@N or backend:transient@N (backend.h) injects the same verdicts through
 * backend_run, so that drill needs no broken GPU; MNEMO_CUDA_FAULT (cuda.h) breaks the real
 * device on purpose, for the drill on a GPU.
 *
 * fp32 only so far: the fp16 / NHWC tensor-core path is the next step (issue 6). */
#include "backend.h"
#include "exit.h"
#include "log.h"
#include "cuda/cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cuda_backend {
    struct backend base;
    const struct graph *g;
    cudaStream_t stream;
    cudnnHandle_t cudnn;
    float *arena, *weights, *scratch;
    void *workspace;
    size_t workspace_bytes;
    float **value;                 /* device pointer of each value id; NULL for unused ones */
    struct cuda_conv *convs;       /* one per node; only conv nodes' entries are used */
    float *probe;                  /* one float: the target of the probe after a failed run */
    struct cuda_norm_scratch norm; /* InstanceNorm's partial sums; unset without one */
    cudaGraph_t graph;
    cudaGraphExec_t exec; /* NULL when running eagerly */
    struct cuda_fault fault;
    long runs; /* runs so far, for the fault drill */
};

#define CUDA_TRY(call, what)                                                                       \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess)                                                                     \
            return cuda_error_set(err, e_, "cuda backend: " what);                                 \
    } while (0)

int backend_cuda_device_count(const char **why)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count <= 0) {
        if (why) /* cudaErrorNoDevice, cudaErrorInsufficientDriver, ... */
            *why = e != cudaSuccess ? cudaGetErrorName(e) : "cudaGetDeviceCount returned 0";
        return 0;
    }
    return count;
}

/* Must not allocate: it is asked about every node before create. No device is needed to
 * answer, so `inspect` can say what cuda would run on a machine without one. */
static const char *cuda_unsupported(const struct graph *g, const struct node *n,
                                    const struct backend_options *opt)
{
    const char *why = backend_unsupported_anywhere(g, n);
    if (why)
        return why;
    if (opt->precision != PRECISION_FP32)
        return "the cuda backend runs fp32 only so far";
    if (node_is_conv(n)) {
        const struct conv_params *p = &n->p.conv;
        if (g->values[n->output].shape.rank != 4)
            return "convolution that is not 2-D";
        if (n->op == OP_CONV_TRANSPOSE &&
            (p->output_padding[0] >= p->stride[0] || p->output_padding[1] >= p->stride[1]))
            return "ConvTranspose with output_padding >= stride";
    }
    if (n->op == OP_RESIZE && g->values[n->output].shape.rank != 4)
        return "Resize of a tensor that is not NCHW";
    return NULL;
}

/* Whether the stream still runs work: a trivial op, waited for. Also clears a non-sticky
 * error, so the next run starts clean. */
static cudaError_t stream_probe(struct cuda_backend *b)
{
    cudaError_t e = cudaMemsetAsync(b->probe, 0, sizeof *b->probe, b->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(b->stream);
    (void)cudaGetLastError();
    return e;
}

/* A run failed with err set (cause: its CUDA error, cudaSuccess for a cuDNN failure). A
 * transient failure is returned as it is; a lost context also marks the backend lost,
 * exactly as the fault seam's injected sticky fault does (backend_lose, backend.c), so the
 * loop, the exit code and the tests that run on the CPU see one behaviour. */
static int run_failed(struct cuda_backend *b, cudaError_t cause, struct error *err)
{
    cudaError_t probe = stream_probe(b);
    if (!cuda_failure_lost(cause, probe))
        return -1;
    char what[ERROR_MSG_MAX], probed[256] = "";
    snprintf(what, sizeof what, "%s", err->msg);
    if (!cuda_error_sticky(cause))
        snprintf(probed, sizeof probed, "; the stream probe after it failed: %s (%s)",
                 cudaGetErrorName(probe), cudaGetErrorString(probe));
    error_set(err,
              "%s%s: a sticky CUDA error: the device context is lost and cannot be repaired in "
              "this process; restart mnemo (exit code %d)",
              what, probed, MNEMO_EXIT_DEVICE_LOST);
    return backend_lose(&b->base, err);
}

/* A failed CUDA call of run, named by what. */
static int run_error(struct cuda_backend *b, cudaError_t e, const char *what, struct error *err)
{
    cuda_error_set(err, e, what);
    error_prefix(err, "cuda backend");
    return run_failed(b, e, err);
}

static void cuda_destroy(struct backend *base)
{
    struct cuda_backend *b = (struct cuda_backend *)base;
    if (b->exec)
        cudaGraphExecDestroy(b->exec);
    if (b->graph)
        cudaGraphDestroy(b->graph);
    if (b->convs)
        for (int32_t i = 0; i < b->g->n_nodes; i++)
            cuda_conv_destroy(&b->convs[i]);
    free(b->convs);
    free(b->value);
    cudaFree(b->probe);
    cudaFree(b->norm.partials);
    cudaFree(b->norm.shift);
    cudaFree(b->workspace);
    cudaFree(b->scratch);
    cudaFree(b->weights);
    cudaFree(b->arena);
    if (b->cudnn)
        cudnnDestroy(b->cudnn);
    if (b->stream)
        cudaStreamDestroy(b->stream);
    free(b);
}

static int context_make(struct cuda_backend *b, struct error *err)
{
    const char *why = NULL;
    if (backend_cuda_device_count(&why) == 0)
        return error_set(err, "no CUDA device: %s; use --backend cpu", why);
    CUDA_TRY(cudaStreamCreateWithFlags(&b->stream, cudaStreamNonBlocking), "creating a stream");
    cudnnStatus_t s = cudnnCreate(&b->cudnn);
    if (s == CUDNN_STATUS_SUCCESS)
        s = cudnnSetStream(b->cudnn, b->stream);
    if (s != CUDNN_STATUS_SUCCESS)
        return cudnn_error_set(err, s, "cuda backend: creating the cuDNN handle");
    return 0;
}

static bool norm_scratch_needed(const struct graph *g)
{
    for (int32_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == OP_INSTANCE_NORM)
            return true;
    return false;
}

/* The arena, every constant uploaded once into one buffer, InstanceNorm's scratch. */
static int memory_make(struct cuda_backend *b, struct error *err)
{
    const struct graph *g = b->g;
    int64_t weight_floats = 0;
    for (int32_t i = 0; i < g->n_values; i++)
        if (g->values[i].kind == VALUE_CONST && g->values[i].data)
            weight_floats += shape_count(&g->values[i].shape);
    b->value = calloc((size_t)g->n_values, sizeof *b->value);
    b->convs = calloc((size_t)g->n_nodes, sizeof *b->convs);
    if (!b->value || !b->convs)
        return error_set(err, "out of memory creating the cuda backend");
    size_t arena_bytes = (size_t)(g->arena_floats > 0 ? g->arena_floats : 1) * sizeof(float);
    CUDA_TRY(cudaMalloc((void **)&b->arena, arena_bytes), "allocating the arena");
    CUDA_TRY(cudaMalloc((void **)&b->probe, sizeof *b->probe), "allocating the probe");
    if (norm_scratch_needed(g)) {
        CUDA_TRY(cudaMalloc(&b->norm.partials, (size_t)CUDA_NORM_PARTIALS * 2 * sizeof(double)),
                 "allocating InstanceNorm's partial sums");
        CUDA_TRY(cudaMalloc((void **)&b->norm.shift, (size_t)CUDA_NORM_PARTIALS * sizeof(float)),
                 "allocating InstanceNorm's shifts");
    }
    /* On the backend's stream, not the legacy one, which does not order against a
     * non-blocking stream: the first kernels could otherwise read a half-cleared arena or
     * half-uploaded weights. create waits once, at its end. */
    CUDA_TRY(cudaMemsetAsync(b->arena, 0, arena_bytes, b->stream), "clearing the arena");
    CUDA_TRY(cudaMalloc((void **)&b->weights,
                        (size_t)(weight_floats > 0 ? weight_floats : 1) * sizeof(float)),
             "allocating the weights");
    float *next = b->weights;
    for (int32_t i = 0; i < g->n_values; i++) {
        const struct value *v = &g->values[i];
        if (v->kind != VALUE_CONST) {
            b->value[i] = v->offset >= 0 ? b->arena + v->offset : NULL;
            continue;
        }
        if (!v->data)
            continue;
        size_t bytes = (size_t)shape_count(&v->shape) * sizeof(float);
        CUDA_TRY(cudaMemcpyAsync(next, v->data, bytes, cudaMemcpyHostToDevice, b->stream),
                 "uploading weights");
        b->value[i] = next;
        next += shape_count(&v->shape);
    }
    return 0;
}

/* As ref_io_make, with device pointers. */
static void io_make(const struct cuda_backend *b, const struct node *n, struct ref_io *io)
{
    const struct graph *g = b->g;
    *io = (struct ref_io){.residual = NULL};
    for (int32_t k = 0; k < n->n_inputs; k++) {
        if (n->input[k] < 0)
            continue;
        io->in[k] = b->value[n->input[k]];
        io->in_shape[k] = &g->values[n->input[k]].shape;
    }
    if (n->residual >= 0)
        io->residual = b->value[n->residual];
    io->out = b->value[n->output];
    io->out_shape = &g->values[n->output].shape;
}

static bool env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* MNEMO_CUDA_FIND=1: every convolution timed by cuDNN on the real buffers (a trial
 * workspace of up to the cap, halved until it fits), then the shared workspace grown for
 * the new candidates where they need more. */
static int convs_find(struct cuda_backend *b, struct error *err)
{
    size_t trial = CUDA_CONV_WORKSPACE_CAP, most = b->workspace_bytes;
    void *ws = NULL;
    while (trial >= ((size_t)1 << 20) && cudaMalloc(&ws, trial) != cudaSuccess) {
        (void)cudaGetLastError();
        ws = NULL;
        trial /= 2;
    }
    if (!ws)
        return error_set(err, "cuda backend: no device memory for the algorithm search");
    int rc = 0;
    for (int32_t i = 0; i < b->g->n_nodes && !rc; i++) {
        struct cuda_conv *c = &b->convs[i];
        if (!node_is_conv(&b->g->nodes[i]))
            continue;
        rc = cuda_conv_find(c, b->cudnn, cuda_conv_source(c, b->scratch),
                            cuda_conv_target(c, b->scratch), ws, trial, err);
        most = c->workspace_bytes > most ? c->workspace_bytes : most;
    }
    cudaFree(ws);
    if (rc)
        return error_prefix(err, "cuda backend: the algorithm search");
    if (most > b->workspace_bytes) {
        cudaFree(b->workspace);
        b->workspace = NULL;
        CUDA_TRY(cudaMalloc(&b->workspace, most), "allocating the cuDNN workspace");
        b->workspace_bytes = most;
    }
    return 0;
}

/* Every convolution prepared, then the largest workspace and scratch any of them needs. */
static int convs_make(struct cuda_backend *b, struct error *err)
{
    int64_t scratch_floats = 0;
    for (int32_t i = 0; i < b->g->n_nodes; i++) {
        const struct node *n = &b->g->nodes[i];
        if (!node_is_conv(n))
            continue;
        struct ref_io io;
        io_make(b, n, &io);
        if (cuda_conv_create(&b->convs[i], b->cudnn, n, &io, err))
            return error_prefix(err, "cuda backend");
        b->convs[i].bias_skipped = cuda_conv_bias_cancels(b->g, n);
        if (b->convs[i].workspace_bytes > b->workspace_bytes)
            b->workspace_bytes = b->convs[i].workspace_bytes;
        int64_t s = cuda_conv_plan_scratch(&b->convs[i].plan);
        scratch_floats = s > scratch_floats ? s : scratch_floats;
    }
    if (b->workspace_bytes)
        CUDA_TRY(cudaMalloc(&b->workspace, b->workspace_bytes), "allocating the cuDNN workspace");
    if (scratch_floats)
        CUDA_TRY(cudaMalloc((void **)&b->scratch, (size_t)scratch_floats * sizeof(float)),
                 "allocating the scratch buffer");
    return env_flag("MNEMO_CUDA_FIND") ? convs_find(b, err) : 0;
}

static const char *node_op(const struct node *n)
{
    return n->onnx_op ? n->onnx_op : op_names[n->op];
}

/* Enqueues node i; *cause is a failed launch's CUDA error (cudaSuccess when cuDNN failed:
 * its status carries none). */
static int node_enqueue(struct cuda_backend *b, int32_t i, cudaError_t *cause, struct error *err)
{
    const struct node *n = &b->g->nodes[i];
    if (node_is_conv(n))
        return cuda_conv_run(&b->convs[i], b->cudnn, b->stream, b->scratch, b->workspace,
                             b->workspace_bytes, err);
    struct ref_io io;
    io_make(b, n, &io);
    cudaError_t e = n->op == OP_INSTANCE_NORM ? cuda_instance_norm(n, &io, &b->norm, b->stream)
                                              : cuda_kernels[n->op](n, &io, b->stream);
    if (e == cudaSuccess)
        return 0;
    *cause = e;
    return cuda_error_set(err, e, "launch");
}

/* Enqueues every node on the stream; errors name the node (cause: as node_enqueue). */
static int nodes_enqueue(struct cuda_backend *b, cudaError_t *cause, struct error *err)
{
    *cause = cudaSuccess;
    for (int32_t i = 0; i < b->g->n_nodes; i++)
        if (node_enqueue(b, i, cause, err))
            return error_prefix(err, "node '%s' (%s)", b->g->nodes[i].name,
                                node_op(&b->g->nodes[i]));
    return 0;
}

/* Records the node sequence into b->graph and instantiates it; on failure err says where
 * (the node, the end of the capture, or the instantiation). */
static int graph_record(struct cuda_backend *b, struct error *err)
{
    CUDA_TRY(cudaStreamBeginCapture(b->stream, cudaStreamCaptureModeThreadLocal),
             "beginning the capture");
    if (b->fault.kind == CUDA_FAULT_CAPTURE) /* not capturable: invalidates the capture */
        (void)cudaStreamSynchronize(b->stream);
    cudaError_t cause;
    int rc = nodes_enqueue(b, &cause, err);
    cudaError_t e = cudaStreamEndCapture(b->stream, &b->graph);
    if (rc)
        return rc;
    if (e != cudaSuccess)
        return cuda_error_set(err, e, "the end of the capture");
    CUDA_TRY(cudaGraphInstantiate(&b->exec, b->graph, 0), "instantiation");
    return 0;
}

/* Undoes a failed graph_record: the capture ended (a failed launch leaves it open or
 * invalidated), the partial graph gone, the error cleared. */
static void graph_abandon(struct cuda_backend *b)
{
    enum cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(b->stream, &status) == cudaSuccess &&
        status != cudaStreamCaptureStatusNone) {
        cudaGraph_t partial = NULL;
        if (cudaStreamEndCapture(b->stream, &partial) == cudaSuccess && partial)
            cudaGraphDestroy(partial);
    }
    if (b->exec)
        cudaGraphExecDestroy(b->exec);
    if (b->graph)
        cudaGraphDestroy(b->graph);
    b->exec = NULL;
    b->graph = NULL;
    (void)cudaGetLastError();
}

/* The node sequence as one CUDA graph: one launch per run instead of one per node. cuDNN's
 * legacy API documents no stream-capture support, so a failure to capture is no failure
 * to run: the backend runs eagerly (warned once per process), unless the stream itself no
 * longer works. */
static int graph_capture(struct cuda_backend *b, struct error *err)
{
    static bool warned;
    struct error why;
    if (graph_record(b, &why) == 0)
        return 0;
    graph_abandon(b);
    cudaError_t probe = stream_probe(b);
    if (probe != cudaSuccess)
        return cuda_error_set(err, probe, "cuda backend: the stream after a failed graph capture");
    if (!warned)
        log_warn("cuda backend: CUDA graph capture failed at %s; running eagerly", why.msg);
    warned = true;
    return 0;
}

/* Enqueues conv node i until one of its ranked candidates is accepted: heuristics rank,
 * they do not run, so a candidate may fail only here (cuDNN says NOT_SUPPORTED or
 * EXECUTION_FAILED when it launches). A failed one is dropped (its error cleared, a warning
 * naming both algorithms) and the next one tried; a sticky error or the last candidate's
 * failure fails create. No wait here: a fault inside a kernel is sticky, and create's one
 * wait at its end reports it. */
static int conv_warm_up(struct cuda_backend *b, int32_t i, struct error *err)
{
    struct cuda_conv *c = &b->convs[i];
    for (;;) {
        cudaError_t cause = cudaSuccess;
        if (node_enqueue(b, i, &cause, err) == 0)
            return 0;
        (void)cudaGetLastError();
        if (cuda_error_sticky(cause))
            return -1;
        int failed = c->algos[c->chosen];
        if (!cuda_conv_next_algo(c))
            return error_prefix(err,
                                "every one of cuDNN's %d candidate algorithms failed, the "
                                "last (algo %d)",
                                c->n_algos, failed);
        log_warn("cuda backend: node '%s' (%s): cuDNN algorithm %d failed (%s); trying %d",
                 c->node->name, node_op(c->node), failed, err->msg, c->algos[c->chosen]);
    }
}

/* The warm-up, node by node: module loading and cuDNN's lazy setup happen here, not in the
 * first run, and each convolution settles on a candidate that runs. */
static int warm_up(struct cuda_backend *b, struct error *err)
{
    for (int32_t i = 0; i < b->g->n_nodes; i++) {
        const struct node *n = &b->g->nodes[i];
        if (b->fault.kind == CUDA_FAULT_ALGO && node_is_conv(n))
            cuda_conv_prepend_algo(&b->convs[i], CUDA_CONV_BAD_ALGO);
        cudaError_t cause = cudaSuccess;
        int rc = node_is_conv(n) ? conv_warm_up(b, i, err) : node_enqueue(b, i, &cause, err);
        if (rc)
            return error_prefix(err, "cuda backend: node '%s' (%s)", n->name, node_op(n));
    }
    return 0;
}

/* The one wait at the end of create: every upload, clear and warm-up launch done. */
static int create_finish(struct cuda_backend *b, struct error *err)
{
    CUDA_TRY(cudaStreamSynchronize(b->stream), "the warm-up run");
    return 0;
}

static struct backend *cuda_create(const struct graph *g, const struct backend_options *opt,
                                   struct error *err)
{
    struct cuda_backend *b = calloc(1, sizeof *b);
    if (!b) {
        error_set(err, "out of memory creating the cuda backend");
        return NULL;
    }
    b->base.ops = &backend_cuda_ops;
    b->g = g;
    if (cuda_fault_parse(getenv("MNEMO_CUDA_FAULT"), &b->fault, err) || context_make(b, err) ||
        memory_make(b, err) || convs_make(b, err) || warm_up(b, err) ||
        (!env_flag("MNEMO_CUDA_EAGER") && graph_capture(b, err)) || create_finish(b, err)) {
        cuda_destroy(&b->base);
        return NULL;
    }
    return &b->base;
}

static int cuda_run(struct backend *base, const float *input, float *output, struct error *err)
{
    struct cuda_backend *b = (struct cuda_backend *)base; /* not lost: backend_run checked */
    const struct graph *g = b->g;
    const struct value *in = &g->values[g->input], *out = &g->values[g->output];
    cudaError_t cause;
    if (++b->runs == b->fault.run && b->fault.kind == CUDA_FAULT_ILLEGAL_ADDRESS)
        (void)cuda_fault_illegal_address(b->stream); /* seen by the calls after it */
    cudaError_t e =
        cudaMemcpyAsync(b->value[g->input], input, (size_t)shape_count(&in->shape) * sizeof(float),
                        cudaMemcpyHostToDevice, b->stream);
    if (e != cudaSuccess)
        return run_error(b, e, "copying the input to the device", err);
    if (b->exec) {
        if ((e = cudaGraphLaunch(b->exec, b->stream)) != cudaSuccess)
            return run_error(b, e, "launching the CUDA graph", err);
    } else if (nodes_enqueue(b, &cause, err)) {
        error_prefix(err, "cuda backend");
        return run_failed(b, cause, err);
    }
    e = cudaMemcpyAsync(output, b->value[g->output],
                        (size_t)shape_count(&out->shape) * sizeof(float), cudaMemcpyDeviceToHost,
                        b->stream);
    if (e != cudaSuccess)
        return run_error(b, e, "copying the output to the host", err);
    if ((e = cudaStreamSynchronize(b->stream)) != cudaSuccess)
        return run_error(b, e, "running the graph", err);
    return 0;
}

static const char *cuda_precision_unavailable(enum precision precision)
{
    static const char *why_none;
    static char message[160];
    if (precision != PRECISION_FP32)
        return "the cuda backend runs fp32 only so far (fp16 tensor cores are the next step)";
    if (backend_cuda_device_count(&why_none) == 0) {
        snprintf(message, sizeof message, "no CUDA device: %s", why_none);
        return message;
    }
    return NULL;
}

const struct backend_ops backend_cuda_ops = {
    .name = "cuda",
    .unsupported = cuda_unsupported,
    .create = cuda_create,
    .run = cuda_run,
    .destroy = cuda_destroy,
    .precision_unavailable = cuda_precision_unavailable,
};
