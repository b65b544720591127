/* kernels/cuda/backend.c — the GPU backend: cuDNN convolutions, our own CUDA kernels for the rest,
 * the node sequence replayed as one CUDA graph.
 *
 * Owns, all allocated at create and nothing after: one CUDA stream, one cuDNN handle, the
 * device arena laid out by the graph's memory plan (as ref and cpu), the weights uploaded
 * once, a prepared convolution per Conv/ConvTranspose node (kernels/cuda/conv.c), one
 * cuDNN workspace and one scratch buffer (asymmetric pads) shared by all nodes, since they
 * run one after another on the one stream. create runs the graph once eagerly (so a bad
 * launch is reported naming its node), then captures the node sequence as a CUDA graph;
 * run copies the input in, replays the graph, copies the output out and waits.
 * MNEMO_CUDA_EAGER=1 in the environment skips the capture and launches node by node (for
 * debugging and compute-sanitizer).
 * A sticky CUDA error marks the backend lost (backend_lose); MNEMO_FAULT=backend:sticky@N
 * or backend:transient@N (backend.h) injects the same failures through backend_run, so a
 * GPU fault drill needs no broken GPU.
 *
 * fp32 only so far: the fp16 / NHWC tensor-core path is the next step (issue 6). */
#include "backend.h"
#include "exit.h"
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
    float **value;           /* device pointer of each value id; NULL for unused ones */
    struct cuda_conv *convs; /* one per node; only conv nodes' entries are used */
    cudaGraph_t graph;
    cudaGraphExec_t exec; /* NULL when running eagerly */
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

/* Sticky errors poison the context: every later call fails the same way. */
static bool error_sticky(cudaError_t e)
{
    switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorECCUncorrectable:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorDevicesUnavailable:
        return true;
    default:
        return false;
    }
}

/* Reports a failed CUDA call of run; a sticky one also marks the backend lost, exactly as
 * the fault seam's injected sticky fault does (backend_lose, backend.c), so the loop, the
 * exit code and the tests that run on the CPU see one behaviour. */
static int run_error(struct cuda_backend *b, cudaError_t e, const char *what, struct error *err)
{
    if (!error_sticky(e))
        return cuda_error_set(err, e, what);
    error_set(err,
              "cuda backend: sticky CUDA error in %s: %s (%s): the device context is lost "
              "and cannot be repaired in this process; restart mnemo (exit code %d)",
              what, cudaGetErrorName(e), cudaGetErrorString(e), MNEMO_EXIT_DEVICE_LOST);
    return backend_lose(&b->base, err);
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

/* The arena, and every constant uploaded once into one buffer. */
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
    CUDA_TRY(cudaMemset(b->arena, 0, arena_bytes), "clearing the arena");
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
        CUDA_TRY(cudaMemcpy(next, v->data, bytes, cudaMemcpyHostToDevice), "uploading weights");
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
    return 0;
}

/* Enqueues every node on the stream; errors name the node. */
static int nodes_enqueue(struct cuda_backend *b, struct error *err)
{
    const struct graph *g = b->g;
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *n = &g->nodes[i];
        int rc = 0;
        if (node_is_conv(n)) {
            rc = cuda_conv_run(&b->convs[i], b->cudnn, b->stream, b->scratch, b->workspace,
                               b->workspace_bytes, err);
        } else {
            struct ref_io io;
            io_make(b, n, &io);
            cudaError_t e = cuda_kernels[n->op](n, &io, b->stream);
            if (e != cudaSuccess)
                rc = cuda_error_set(err, e, "launch");
        }
        if (rc)
            return error_prefix(err, "cuda backend: node '%s' (%s)", n->name,
                                n->onnx_op ? n->onnx_op : op_names[n->op]);
    }
    return 0;
}

/* The node sequence as one CUDA graph: one launch per run instead of one per node. */
static int graph_capture(struct cuda_backend *b, struct error *err)
{
    CUDA_TRY(cudaStreamBeginCapture(b->stream, cudaStreamCaptureModeThreadLocal),
             "beginning the graph capture");
    int rc = nodes_enqueue(b, err);
    cudaError_t e = cudaStreamEndCapture(b->stream, &b->graph);
    if (rc)
        return rc;
    if (e != cudaSuccess)
        return cuda_error_set(err, e, "cuda backend: capturing the node sequence");
    CUDA_TRY(cudaGraphInstantiate(&b->exec, b->graph, 0), "instantiating the CUDA graph");
    return 0;
}

static bool eager_wanted(void)
{
    const char *v = getenv("MNEMO_CUDA_EAGER");
    return v && *v && strcmp(v, "0") != 0;
}

/* The warm-up: module loading and cuDNN's lazy setup happen here, not in the first run. */
static int warm_up(struct cuda_backend *b, struct error *err)
{
    if (nodes_enqueue(b, err))
        return -1;
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
    if (context_make(b, err) || memory_make(b, err) || convs_make(b, err) || warm_up(b, err) ||
        (!eager_wanted() && graph_capture(b, err))) {
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
    cudaError_t e =
        cudaMemcpyAsync(b->value[g->input], input, (size_t)shape_count(&in->shape) * sizeof(float),
                        cudaMemcpyHostToDevice, b->stream);
    if (e != cudaSuccess)
        return run_error(b, e, "copying the input to the device", err);
    if (b->exec) {
        if ((e = cudaGraphLaunch(b->exec, b->stream)) != cudaSuccess)
            return run_error(b, e, "launching the CUDA graph", err);
    } else if (nodes_enqueue(b, err)) {
        return -1;
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
