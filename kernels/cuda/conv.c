/* conv.c — Conv and ConvTranspose through cuDNN's legacy API, and the shape arithmetic
 * that maps ONNX's padding onto it.
 *
 * Conv is cudnnConvolutionForward; ConvTranspose is cudnnConvolutionBackwardData (the
 * gradient of a convolution is a transposed one: ONNX's weights Cin x Cout x kh x kw are
 * exactly the filter K x C it expects, dy is our input, dx our output). Bias, residual
 * and activation run after in our own epilogue kernel: cuDNN's fused variant knows only
 * ReLU and forces one algorithm. */
#include "cuda.h"

#include <stdio.h>
#include <string.h>

int cuda_error_set(struct error *err, cudaError_t e, const char *what)
{
    return error_set(err, "%s: %s (%s)", what, cudaGetErrorName(e), cudaGetErrorString(e));
}

int cudnn_error_set(struct error *err, cudnnStatus_t s, const char *what)
{
    return error_set(err, "%s: %s", what, cudnnGetErrorString(s));
}

int64_t cuda_conv_forward_size(int64_t in, int32_t kernel, int32_t stride, int32_t pad,
                               int32_t dilation)
{
    return (in + 2 * (int64_t)pad - (int64_t)dilation * (kernel - 1) - 1) / stride + 1;
}

static bool pads_symmetric(const struct conv_params *p)
{
    return p->pad[0] == p->pad[2] && p->pad[1] == p->pad[3];
}

/* Symmetric pads go to cuDNN as they are; asymmetric ones make the scratch
 * tensor `grown` larger by all four and become H/W pads of the pad kernel, times `sign`
 * (+1 pads the input, -1 crops the output). */
static void plan_pads(const struct conv_params *cp, struct cuda_conv_plan *p, struct shape *grown,
                      int sign)
{
    if (pads_symmetric(cp)) {
        p->pad[0] = cp->pad[0];
        p->pad[1] = cp->pad[1];
        return;
    }
    p->via_scratch = true;
    grown->dim[2] += cp->pad[0] + cp->pad[2];
    grown->dim[3] += cp->pad[1] + cp->pad[3];
    p->edges.pads[2] = sign * cp->pad[0];
    p->edges.pads[3] = sign * cp->pad[1];
    p->edges.pads[6] = sign * cp->pad[2];
    p->edges.pads[7] = sign * cp->pad[3];
}

/* Conv with asymmetric pads: cuDNN reads the input zero-padded by ONNX's four pads. */
static void plan_conv(const struct conv_params *cp, const struct shape *xs,
                      struct cuda_conv_plan *p)
{
    p->x = *xs;
    plan_pads(cp, p, &p->x, +1);
}

/* ConvTranspose with asymmetric pads: cuDNN writes the uncropped output (pad 0), which is
 * then cropped by ONNX's four pads (negative pads of the pad kernel). output_padding
 * needs nothing: its extra rows and columns are at the end in both ONNX and cuDNN. */
static void plan_transposed(const struct conv_params *cp, struct cuda_conv_plan *p)
{
    plan_pads(cp, p, &p->y, -1);
}

int cuda_conv_plan_make(const struct node *n, const struct shape *xs, const struct shape *ys,
                        struct cuda_conv_plan *p, struct error *err)
{
    const struct conv_params *cp = &n->p.conv;
    memset(p, 0, sizeof *p);
    p->edges.mode = PAD_CONSTANT;
    p->x = *xs;
    p->y = *ys;
    p->transposed = n->op == OP_CONV_TRANSPOSE;
    if (!p->transposed) {
        plan_conv(cp, xs, p);
        return 0;
    }
    for (int d = 0; d < 2; d++)
        if (cp->output_padding[d] >= cp->stride[d])
            return error_set(err, "output_padding %d >= stride %d: cuDNN cannot express it",
                             cp->output_padding[d], cp->stride[d]);
    plan_transposed(cp, p);
    return 0;
}

int64_t cuda_conv_plan_scratch(const struct cuda_conv_plan *p)
{
    if (!p->via_scratch)
        return 0;
    /* Conv: the padded input; ConvTranspose: the uncropped output. */
    return shape_count(p->transposed ? &p->y : &p->x);
}

/* ---- cuDNN ---------------------------------------------------------------------------- */

#define CUDNN_TRY(call, what)                                                                      \
    do {                                                                                           \
        cudnnStatus_t status_ = (call);                                                            \
        if (status_ != CUDNN_STATUS_SUCCESS)                                                       \
            return cudnn_error_set(err, status_, what);                                            \
    } while (0)

static int tensor_desc(cudnnTensorDescriptor_t *desc, const struct shape *s, struct error *err)
{
    CUDNN_TRY(cudnnCreateTensorDescriptor(desc), "cudnnCreateTensorDescriptor");
    CUDNN_TRY(cudnnSetTensor4dDescriptor(*desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)s->dim[0],
                                         (int)s->dim[1], (int)s->dim[2], (int)s->dim[3]),
              "cudnnSetTensor4dDescriptor");
    return 0;
}

static int descriptors_make(struct cuda_conv *c, const struct shape *ws, struct error *err)
{
    const struct conv_params *cp = &c->node->p.conv;
    if (tensor_desc(&c->x_desc, &c->plan.x, err) || tensor_desc(&c->y_desc, &c->plan.y, err))
        return -1;
    CUDNN_TRY(cudnnCreateFilterDescriptor(&c->w_desc), "cudnnCreateFilterDescriptor");
    CUDNN_TRY(cudnnSetFilter4dDescriptor(c->w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                         (int)ws->dim[0], (int)ws->dim[1], (int)ws->dim[2],
                                         (int)ws->dim[3]),
              "cudnnSetFilter4dDescriptor");
    CUDNN_TRY(cudnnCreateConvolutionDescriptor(&c->conv_desc), "cudnnCreateConvolutionDescriptor");
    CUDNN_TRY(cudnnSetConvolution2dDescriptor(
                  c->conv_desc, c->plan.pad[0], c->plan.pad[1], cp->stride[0], cp->stride[1],
                  cp->dilation[0], cp->dilation[1], CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
              "cudnnSetConvolution2dDescriptor");
    /* Grouped and depthwise Conv: the filter is Cout x Cin/group, as ONNX stores it. */
    CUDNN_TRY(cudnnSetConvolutionGroupCount(c->conv_desc, cp->group),
              "cudnnSetConvolutionGroupCount");
    /* FMA only: the default lets Ampere and later use TF32 (10-bit mantissa, ~3e-4). */
    CUDNN_TRY(cudnnSetConvolutionMathType(c->conv_desc, CUDNN_FMA_MATH),
              "cudnnSetConvolutionMathType");
    return 0;
}

/* cuDNN checks that the forward convolution of the output-side tensor gives the input-side
 * one; say so here, naming the shapes, rather than as CUDNN_STATUS_BAD_PARAM later. */
static int geometry_check(const struct cuda_conv *c, struct error *err)
{
    const struct conv_params *cp = &c->node->p.conv;
    const struct shape *in = c->plan.transposed ? &c->plan.y : &c->plan.x;
    const struct shape *out = c->plan.transposed ? &c->plan.x : &c->plan.y;
    for (int d = 0; d < 2; d++) {
        int64_t want = cuda_conv_forward_size(in->dim[2 + d], cp->kernel[d], cp->stride[d],
                                              c->plan.pad[d], cp->dilation[d]);
        if (want != out->dim[2 + d])
            return error_set(err, "cuDNN's geometry gives %lld along axis %d, the graph %lld",
                             (long long)want, 2 + d, (long long)out->dim[2 + d]);
    }
    return 0;
}

static bool algo_acceptable(const struct cuda_algo_perf *p, bool deterministic)
{
    return p->status == CUDNN_STATUS_SUCCESS && p->memory <= CUDA_CONV_WORKSPACE_CAP &&
           p->math == CUDNN_FMA_MATH && (p->determinism == CUDNN_DETERMINISTIC) == deterministic;
}

int cuda_conv_rank(const struct cuda_algo_perf *perf, int count, int *algos)
{
    int n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < count && n < CUDA_CONV_MAX_ALGOS; i++)
            if (algo_acceptable(&perf[i], pass == 0))
                algos[n++] = perf[i].algo;
    return n;
}

/* The forward or backward-data answers of cuDNN (ranked or timed) as cuda_algo_perf. */
static void perf_copy(bool transposed, const cudnnConvolutionFwdAlgoPerf_t *fwd,
                      const cudnnConvolutionBwdDataAlgoPerf_t *bwd, int count,
                      struct cuda_algo_perf *out)
{
    for (int i = 0; i < count; i++)
        out[i] = transposed
                     ? (struct cuda_algo_perf){(int)bwd[i].algo, bwd[i].status, bwd[i].determinism,
                                               bwd[i].mathType, bwd[i].memory}
                     : (struct cuda_algo_perf){(int)fwd[i].algo, fwd[i].status, fwd[i].determinism,
                                               fwd[i].mathType, fwd[i].memory};
}

/* cuDNN's ranking for c, as cuda_algo_perf. */
static int algo_ranking(struct cuda_conv *c, cudnnHandle_t cudnn, struct cuda_algo_perf *out,
                        int *count, struct error *err)
{
    cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    cudnnConvolutionBwdDataAlgoPerf_t bwd[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    if (c->plan.transposed) /* backward data: w, dy (our input, plan.x), conv, dx (plan.y) */
        CUDNN_TRY(cudnnGetConvolutionBackwardDataAlgorithm_v7(
                      cudnn, c->w_desc, c->x_desc, c->conv_desc, c->y_desc,
                      CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, count, bwd),
                  "cudnnGetConvolutionBackwardDataAlgorithm_v7");
    else
        CUDNN_TRY(cudnnGetConvolutionForwardAlgorithm_v7(
                      cudnn, c->x_desc, c->w_desc, c->conv_desc, c->y_desc,
                      CUDNN_CONVOLUTION_FWD_ALGO_COUNT, count, fwd),
                  "cudnnGetConvolutionForwardAlgorithm_v7");
    perf_copy(c->plan.transposed, fwd, bwd, *count, out);
    return 0;
}

static cudnnStatus_t algo_workspace(const struct cuda_conv *c, cudnnHandle_t cudnn, int algo,
                                    size_t *bytes)
{
    if (c->plan.transposed)
        return cudnnGetConvolutionBackwardDataWorkspaceSize(
            cudnn, c->w_desc, c->x_desc, c->conv_desc, c->y_desc,
            (cudnnConvolutionBwdDataAlgo_t)algo, bytes);
    return cudnnGetConvolutionForwardWorkspaceSize(cudnn, c->x_desc, c->w_desc, c->conv_desc,
                                                   c->y_desc, (cudnnConvolutionFwdAlgo_t)algo,
                                                   bytes);
}

/* The ranked candidates, and the workspace the hungriest of them needs (one whose size
 * cuDNN cannot say is dropped): warm-up may fall back to any of them. */
static int algos_choose(struct cuda_conv *c, cudnnHandle_t cudnn, struct error *err)
{
    struct cuda_algo_perf perf[CUDA_CONV_MAX_ALGOS];
    int count = 0, ranked[CUDA_CONV_MAX_ALGOS];
    if (algo_ranking(c, cudnn, perf, &count, err))
        return -1;
    int n = cuda_conv_rank(perf, count, ranked);
    for (int i = 0; i < n; i++) {
        size_t bytes = 0;
        if (algo_workspace(c, cudnn, ranked[i], &bytes) != CUDNN_STATUS_SUCCESS ||
            bytes > CUDA_CONV_WORKSPACE_CAP)
            continue;
        c->algos[c->n_algos++] = ranked[i];
        c->workspace_bytes = bytes > c->workspace_bytes ? bytes : c->workspace_bytes;
    }
    if (c->n_algos > 0)
        return 0;
    char offered[640] = "";
    for (int i = 0, used = 0; i < count && used < (int)sizeof offered - 40; i++)
        used += snprintf(offered + used, sizeof offered - (size_t)used,
                         "%s algo %d (%s, math %d, %zu bytes)", i ? "," : "", perf[i].algo,
                         cudnnGetErrorString(perf[i].status), (int)perf[i].math, perf[i].memory);
    return error_set(err,
                     "cuDNN offered no fp32 FMA-math %s algorithm within 1 GiB of workspace; it "
                     "offered:%s",
                     c->plan.transposed ? "backward-data" : "forward", count ? offered : " none");
}

bool cuda_conv_bias_cancels(const struct graph *g, const struct node *n)
{
    if (n->n_inputs < 3 || n->input[2] < 0 || n->act.kind != ACT_NONE || n->residual >= 0 ||
        n->output == g->output)
        return false;
    bool used = false;
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const struct node *m = &g->nodes[i];
        if (m->residual == n->output)
            return false;
        for (int32_t k = 0; k < m->n_inputs; k++) {
            if (m->input[k] != n->output)
                continue;
            if (m->op != OP_INSTANCE_NORM || k != 0)
                return false;
            used = true;
        }
    }
    return used;
}

void cuda_conv_prepend_algo(struct cuda_conv *c, int algo)
{
    int keep = c->n_algos < CUDA_CONV_MAX_ALGOS ? c->n_algos : CUDA_CONV_MAX_ALGOS - 1;
    memmove(c->algos + 1, c->algos, (size_t)keep * sizeof *c->algos);
    c->algos[0] = algo;
    c->n_algos = keep + 1;
    c->chosen = 0;
}

/* cuDNN's timed answers (sorted fastest first) as cuda_algo_perf. */
static int algo_timed(struct cuda_conv *c, cudnnHandle_t cudnn, const float *x, float *y,
                      void *workspace, size_t workspace_bytes, struct cuda_algo_perf *out,
                      int *count, struct error *err)
{
    cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    cudnnConvolutionBwdDataAlgoPerf_t bwd[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    if (c->plan.transposed)
        CUDNN_TRY(cudnnFindConvolutionBackwardDataAlgorithmEx(
                      cudnn, c->w_desc, c->io.in[1], c->x_desc, x, c->conv_desc, c->y_desc, y,
                      CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, count, bwd, workspace,
                      workspace_bytes),
                  "cudnnFindConvolutionBackwardDataAlgorithmEx");
    else
        CUDNN_TRY(cudnnFindConvolutionForwardAlgorithmEx(
                      cudnn, c->x_desc, x, c->w_desc, c->io.in[1], c->conv_desc, c->y_desc, y,
                      CUDNN_CONVOLUTION_FWD_ALGO_COUNT, count, fwd, workspace, workspace_bytes),
                  "cudnnFindConvolutionForwardAlgorithmEx");
    perf_copy(c->plan.transposed, fwd, bwd, *count, out);
    return 0;
}

int cuda_conv_find(struct cuda_conv *c, cudnnHandle_t cudnn, const float *x, float *y,
                   void *workspace, size_t workspace_bytes, struct error *err)
{
    struct cuda_algo_perf perf[CUDA_CONV_MAX_ALGOS];
    int count = 0, ranked[CUDA_CONV_MAX_ALGOS];
    if (algo_timed(c, cudnn, x, y, workspace, workspace_bytes, perf, &count, err))
        return error_prefix(err, "node '%s'", c->node->name);
    int n = cuda_conv_rank(perf, count, ranked);
    if (n == 0)
        return 0;
    c->n_algos = n;
    c->chosen = 0;
    c->workspace_bytes = 0;
    for (int i = 0; i < n; i++) {
        c->algos[i] = ranked[i];
        for (int k = 0; k < count; k++)
            if (perf[k].algo == ranked[i] && perf[k].memory > c->workspace_bytes)
                c->workspace_bytes = perf[k].memory;
    }
    return 0;
}

const float *cuda_conv_source(const struct cuda_conv *c, const float *scratch)
{
    return c->plan.via_scratch && !c->plan.transposed ? scratch : c->io.in[0];
}

float *cuda_conv_target(const struct cuda_conv *c, float *scratch)
{
    return c->plan.via_scratch && c->plan.transposed ? scratch : c->io.out;
}

bool cuda_conv_next_algo(struct cuda_conv *c)
{
    if (c->chosen + 1 >= c->n_algos)
        return false;
    c->chosen++;
    return true;
}

int cuda_conv_create(struct cuda_conv *c, cudnnHandle_t cudnn, const struct node *n,
                     const struct ref_io *io, struct error *err)
{
    memset(c, 0, sizeof *c);
    c->node = n;
    c->io = *io;
    if (cuda_conv_plan_make(n, io->in_shape[0], io->out_shape, &c->plan, err) ||
        descriptors_make(c, io->in_shape[1], err) || geometry_check(c, err) ||
        algos_choose(c, cudnn, err))
        return error_prefix(err, "node '%s' (%s)", n->name, n->onnx_op ? n->onnx_op : "Conv");
    return 0;
}

static int conv_enqueue(const struct cuda_conv *c, cudnnHandle_t cudnn, const float *x, float *y,
                        void *workspace, size_t workspace_bytes, struct error *err)
{
    const float one = 1.0f, zero = 0.0f;
    (void)cudaGetLastError(); /* an earlier call's error is not this convolution's */
    if (c->plan.transposed)
        CUDNN_TRY(cudnnConvolutionBackwardData(cudnn, &one, c->w_desc, c->io.in[1], c->x_desc, x,
                                               c->conv_desc,
                                               (cudnnConvolutionBwdDataAlgo_t)c->algos[c->chosen],
                                               workspace, workspace_bytes, &zero, c->y_desc, y),
                  "cudnnConvolutionBackwardData");
    else
        CUDNN_TRY(cudnnConvolutionForward(cudnn, &one, c->x_desc, x, c->w_desc, c->io.in[1],
                                          c->conv_desc,
                                          (cudnnConvolutionFwdAlgo_t)c->algos[c->chosen], workspace,
                                          workspace_bytes, &zero, c->y_desc, y),
                  "cudnnConvolutionForward");
    return 0;
}

static int launched(cudaError_t e, const char *what, struct error *err)
{
    return e == cudaSuccess ? 0 : cuda_error_set(err, e, what);
}

int cuda_conv_run(const struct cuda_conv *c, cudnnHandle_t cudnn, cudaStream_t stream,
                  float *scratch, void *workspace, size_t workspace_bytes, struct error *err)
{
    const struct ref_io *io = &c->io;
    const struct node *n = c->node;
    const float *x = io->in[0];
    float *y = cuda_conv_target(c, scratch);
    struct act none = {ACT_NONE, 0, 0};
    int rc = 0;
    if (c->plan.via_scratch && !c->plan.transposed) {
        rc = launched(cuda_pad_params(&c->plan.edges, x, io->in_shape[0], scratch, &c->plan.x, NULL,
                                      none, stream),
                      "pad before the convolution", err);
        x = scratch;
    }
    if (!rc)
        rc = conv_enqueue(c, cudnn, x, y, workspace, workspace_bytes, err);
    if (!rc && c->plan.via_scratch && c->plan.transposed)
        rc = launched(cuda_pad_params(&c->plan.edges, scratch, &c->plan.y, io->out, io->out_shape,
                                      NULL, none, stream),
                      "crop after the transposed convolution", err);
    const float *bias = c->bias_skipped ? NULL : io->in[2];
    if (!rc && (bias || io->residual || n->act.kind != ACT_NONE))
        rc = launched(cuda_epilogue(io->out, io->out_shape, bias, io->residual, n->act, stream),
                      "epilogue", err);
    return rc;
}

void cuda_conv_destroy(struct cuda_conv *c)
{
    if (c->x_desc)
        cudnnDestroyTensorDescriptor(c->x_desc);
    if (c->y_desc)
        cudnnDestroyTensorDescriptor(c->y_desc);
    if (c->w_desc)
        cudnnDestroyFilterDescriptor(c->w_desc);
    if (c->conv_desc)
        cudnnDestroyConvolutionDescriptor(c->conv_desc);
    memset(c, 0, sizeof *c);
}
