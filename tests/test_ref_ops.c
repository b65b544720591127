/* test_ref_ops.c — every reference kernel against small answers known in advance.
 *
 * Expected values are worked out by hand (in the comments) or, where marked, computed
 * once with numpy / PyTorch 1.13 (Debian python3-torch) and pasted here as literals. */
#include "check.h"
#include "ref.h"

#include <string.h>

static struct node node_make(enum op op)
{
    struct node n;
    memset(&n, 0, sizeof n);
    n.op = op;
    n.name = "test";
    n.onnx_op = (char *)op_names[op];
    n.residual = -1;
    n.output = -1;
    for (int i = 0; i < NODE_MAX_INPUTS; i++)
        n.input[i] = -1;
    return n;
}

static struct conv_params conv_params_make(int k, int stride, int pad)
{
    struct conv_params p = {.kernel = {k, k},
                            .stride = {stride, stride},
                            .dilation = {1, 1},
                            .pad = {pad, pad, pad, pad},
                            .group = 1};
    return p;
}

static void check_all_near(const float *got, const float *want, int count, double tol)
{
    for (int i = 0; i < count; i++)
        CHECK_MSG(fabs((double)got[i] - want[i]) <= tol, "element %d: got %g, want %g", i,
                  (double)got[i], (double)want[i]);
}

/* x = 1..16 as a 1x1x4x4 image. */
static const float image4[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const struct shape image4_shape = {4, {1, 1, 4, 4}};

static void conv_run(struct node *n, const float *w, const struct shape *ws, const float *bias,
                     const struct shape *ys, float *y)
{
    struct ref_io io = {
        .in = {image4, w, bias}, .in_shape = {&image4_shape, ws}, .out = y, .out_shape = ys};
    ref_conv(n, &io);
}

static void test_conv_3x3_valid(void)
{
    /* Ones kernel, no pad: each output is the sum of a 3x3 window of 1..16.
     * (0,0): 1+2+3+5+6+7+9+10+11 = 54, then +9 per column step, +36 per row step. */
    float w[9], y[4];
    for (int i = 0; i < 9; i++)
        w[i] = 1;
    struct shape ws = {4, {1, 1, 3, 3}}, ys = {4, {1, 1, 2, 2}};
    struct node n = node_make(OP_CONV);
    n.p.conv = conv_params_make(3, 1, 0);
    conv_run(&n, w, &ws, NULL, &ys, y);
    check_all_near(y, (const float[]){54, 63, 90, 99}, 4, 1e-5);
}

static void test_conv_stride_pad_bias_relu(void)
{
    /* Ones kernel, stride 2, pad 1: windows centred on (0,0), (0,2), (2,0), (2,2):
     * 1+2+5+6 = 14; 2+3+4+6+7+8 = 30; 5+6+9+10+13+14 = 57; 6+7+8+10+11+12+14+15+16 = 99.
     * Bias -20 then Relu: 0, 10, 37, 79. */
    float w[9], y[4], bias[1] = {-20};
    for (int i = 0; i < 9; i++)
        w[i] = 1;
    struct shape ws = {4, {1, 1, 3, 3}}, ys = {4, {1, 1, 2, 2}};
    struct node n = node_make(OP_CONV);
    n.p.conv = conv_params_make(3, 2, 1);
    n.act.kind = ACT_RELU;
    conv_run(&n, w, &ws, bias, &ys, y);
    check_all_near(y, (const float[]){0, 10, 37, 79}, 4, 1e-5);
}

static void test_conv_dilation(void)
{
    /* 2x2 ones kernel with dilation 2 reads x[r][c] + x[r][c+2] + x[r+2][c] + x[r+2][c+2]:
     * 1+3+9+11 = 24, 28, 40, 44. */
    float w[4] = {1, 1, 1, 1}, y[4];
    struct shape ws = {4, {1, 1, 2, 2}}, ys = {4, {1, 1, 2, 2}};
    struct node n = node_make(OP_CONV);
    n.p.conv = conv_params_make(2, 1, 0);
    n.p.conv.dilation[0] = n.p.conv.dilation[1] = 2;
    conv_run(&n, w, &ws, NULL, &ys, y);
    check_all_near(y, (const float[]){24, 28, 40, 44}, 4, 1e-5);
}

static void test_conv_asymmetric_pads(void)
{
    /* 1x1 kernel of weight 2, pads top 1, left 0, bottom 0, right 1 on 1..16: a zero row on
     * top, a zero column on the right, everything else doubled (5x5 output). */
    float w[1] = {2}, y[25];
    struct shape ws = {4, {1, 1, 1, 1}}, ys = {4, {1, 1, 5, 5}};
    struct node n = node_make(OP_CONV);
    n.p.conv = conv_params_make(1, 1, 0);
    n.p.conv.pad[0] = 1; /* top */
    n.p.conv.pad[3] = 1; /* right */
    conv_run(&n, w, &ws, NULL, &ys, y);
    const float want[25] = {0,  0, 0,  0,  0,  2,  4, 6,  8,  0,  10, 12, 14,
                            16, 0, 18, 20, 22, 24, 0, 26, 28, 30, 32, 0};
    check_all_near(y, want, 25, 1e-5);
}

static void test_conv_two_channels(void)
{
    /* Two input channels (1..16 and all ones) into two outputs with 1x1 weights:
     * out0 = 1*x + 10*ones, out1 = -1*x + 0*ones. */
    float x[32], y[32], w[4] = {1, 10, -1, 0};
    for (int i = 0; i < 16; i++) {
        x[i] = image4[i];
        x[16 + i] = 1;
    }
    struct shape xs = {4, {1, 2, 4, 4}}, ws = {4, {2, 2, 1, 1}}, ys = {4, {1, 2, 4, 4}};
    struct node n = node_make(OP_CONV);
    n.p.conv = conv_params_make(1, 1, 0);
    struct ref_io io = {.in = {x, w}, .in_shape = {&xs, &ws}, .out = y, .out_shape = &ys};
    ref_conv(&n, &io);
    for (int i = 0; i < 16; i++) {
        CHECK_NEAR(y[i], image4[i] + 10, 1e-5);
        CHECK_NEAR(y[16 + i], -image4[i], 1e-5);
    }
}

static void test_conv_transpose_stride2_output_padding(void)
{
    /* x = [[1,2],[3,4]], w = 1..9 (3x3), stride 2, pad 1, output_padding 1 → 4x4.
     * Expected from torch.nn.functional.conv_transpose2d(x, w, stride=2, padding=1,
     * output_padding=1). By hand: y[0][0] takes x[0][0] through tap (1,1): 1*5 = 5. */
    float x[4] = {1, 2, 3, 4}, w[9], y[16];
    for (int i = 0; i < 9; i++)
        w[i] = (float)(i + 1);
    struct shape xs = {4, {1, 1, 2, 2}}, ws = {4, {1, 1, 3, 3}}, ys = {4, {1, 1, 4, 4}};
    struct node n = node_make(OP_CONV_TRANSPOSE);
    n.p.conv = conv_params_make(3, 2, 1);
    n.p.conv.output_padding[0] = n.p.conv.output_padding[1] = 1;
    struct ref_io io = {.in = {x, w}, .in_shape = {&xs, &ws}, .out = y, .out_shape = &ys};
    ref_conv_transpose(&n, &io);
    const float want[16] = {5, 14, 10, 12, 14, 36, 24, 30, 15, 34, 20, 24, 24, 55, 32, 36};
    check_all_near(y, want, 16, 1e-5);
}

static void test_conv_transpose_channels_bias(void)
{
    /* 1x1 kernel, stride 2, no pad: each input pixel lands on even positions, the odd
     * ones get only the bias. W is Cin x Cout = 2 x 1: y = 1*x0 + 3*x1 + 0.5. */
    float x[2] = {2, 5}, w[2] = {1, 3}, b[1] = {0.5f}, y[4];
    struct shape xs = {4, {1, 2, 1, 1}}, ws = {4, {2, 1, 1, 1}}, ys = {4, {1, 1, 2, 2}};
    struct node n = node_make(OP_CONV_TRANSPOSE);
    n.p.conv = conv_params_make(1, 2, 0);
    n.p.conv.output_padding[0] = n.p.conv.output_padding[1] = 1;
    struct ref_io io = {.in = {x, w, b}, .in_shape = {&xs, &ws}, .out = y, .out_shape = &ys};
    ref_conv_transpose(&n, &io);
    check_all_near(y, (const float[]){17.5f, 0.5f, 0.5f, 0.5f}, 4, 1e-5);
}

static void test_conv_transpose_dilation(void)
{
    /* 2x2 ones kernel, dilation 2, stride 1: input (i, j) lands on (i + 2a, j + 2b) for
     * a, b in {0, 1}, so the 2x2 input tiles a 4x4 output (by hand). */
    float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, 1}, y[16];
    struct shape xs = {4, {1, 1, 2, 2}}, ws = {4, {1, 1, 2, 2}}, ys = {4, {1, 1, 4, 4}};
    struct node n = node_make(OP_CONV_TRANSPOSE);
    n.p.conv = conv_params_make(2, 1, 0);
    n.p.conv.dilation[0] = n.p.conv.dilation[1] = 2;
    struct ref_io io = {.in = {x, w}, .in_shape = {&xs, &ws}, .out = y, .out_shape = &ys};
    ref_conv_transpose(&n, &io);
    const float want[16] = {1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4};
    check_all_near(y, want, 16, 0);
}

static void test_batch_norm(void)
{
    /* Channel 0: (x - 1) / sqrt(4) * 2 + 1 = x; channel 1: (x - 0) / sqrt(1) * 1 - 1. */
    float x[4] = {3, 5, 3, 5}, y[4];
    float scale[2] = {2, 1}, bias[2] = {1, -1}, mean[2] = {1, 0}, var[2] = {4, 1};
    struct shape xs = {4, {1, 2, 1, 2}};
    struct node n = node_make(OP_BATCH_NORM);
    struct ref_io io = {
        .in = {x, scale, bias, mean, var}, .in_shape = {&xs}, .out = y, .out_shape = &xs};
    ref_batch_norm(&n, &io);
    check_all_near(y, (const float[]){3, 5, 2, 4}, 4, 1e-6);
}

static void test_instance_norm(void)
{
    /* [1,2,3,4]: mean 2.5, biased variance 1.25, so (x - 2.5) / sqrt(1.25) =
     * ±1.3416408, ±0.4472136 (torch.nn.functional.instance_norm, eps 0, agrees).
     * Channel 1 is scaled by 2 and shifted by 1; eps 1e-5 moves the 7th digit. */
    float x[8] = {1, 2, 3, 4, 1, 2, 3, 4}, y[8], scale[2] = {1, 2}, bias[2] = {0, 1};
    struct shape xs = {4, {1, 2, 2, 2}};
    struct node n = node_make(OP_INSTANCE_NORM);
    n.p.norm.epsilon = 1e-5f;
    struct ref_io io = {.in = {x, scale, bias}, .in_shape = {&xs}, .out = y, .out_shape = &xs};
    ref_instance_norm(&n, &io);
    const float want[8] = {-1.3416408f, -0.4472136f, 0.4472136f, 1.3416408f,
                           -1.6832816f, 0.1055728f,  1.8944272f, 3.6832816f};
    check_all_near(y, want, 8, 1e-4);
    /* Per sample: a second sample with other statistics must not mix with the first. */
    float x2[8] = {1, 2, 3, 4, 10, 10, 10, 10}, y2[8], one[1] = {1}, zero[1] = {0};
    struct shape xs2 = {4, {2, 1, 2, 2}};
    struct ref_io io2 = {.in = {x2, one, zero}, .in_shape = {&xs2}, .out = y2, .out_shape = &xs2};
    ref_instance_norm(&n, &io2);
    check_all_near(
        y2, (const float[]){-1.3416408f, -0.4472136f, 0.4472136f, 1.3416408f, 0, 0, 0, 0}, 8, 1e-4);
}

static void test_activations(void)
{
    float x[4] = {-2, -0.5f, 0.5f, 3}, y[4];
    struct shape xs = {1, {4}};
    struct node n = node_make(OP_ACTIVATION);
    struct ref_io io = {.in = {x}, .in_shape = {&xs}, .out = y, .out_shape = &xs};
    n.act = (struct act){ACT_RELU, 0, 0};
    ref_activation(&n, &io);
    check_all_near(y, (const float[]){0, 0, 0.5f, 3}, 4, 0);
    n.act = (struct act){ACT_LEAKY_RELU, 0.2f, 0};
    ref_activation(&n, &io);
    check_all_near(y, (const float[]){-0.4f, -0.1f, 0.5f, 3}, 4, 1e-7);
    n.act = (struct act){ACT_CLIP, -1, 1};
    ref_activation(&n, &io);
    check_all_near(y, (const float[]){-1, -0.5f, 0.5f, 1}, 4, 0);
    /* tanh(0.5) = 0.46211716, sigmoid(0.5) = 0.62245933 (math tables). */
    n.act = (struct act){ACT_TANH, 0, 0};
    ref_activation(&n, &io);
    CHECK_NEAR(y[2], 0.46211716, 1e-6);
    CHECK_NEAR(y[1], -0.46211716, 1e-6);
    n.act = (struct act){ACT_SIGMOID, 0, 0};
    ref_activation(&n, &io);
    CHECK_NEAR(y[2], 0.62245933, 1e-6);
    CHECK_NEAR(y[1], 1 - 0.62245933, 1e-6);
}

/* The activations added for issue 15, each against its definition written out in double
 * (ONNX's operator docs): ref is the truth the other backends are held to. */
static double act_definition(struct act a, double x)
{
    double softplus = log(1 + exp(x)), hs = fmin(1, fmax(0, a.alpha * x + a.beta));
    switch (a.kind) {
    case ACT_ELU:
        return x >= 0 ? x : a.alpha * (exp(x) - 1);
    case ACT_SOFTPLUS:
        return softplus;
    case ACT_MISH:
        return x * tanh(softplus);
    case ACT_HARD_SIGMOID:
        return hs;
    case ACT_HARD_SWISH:
        return x * fmin(1, fmax(0, x / 6 + 0.5));
    case ACT_NEG:
        return -x;
    case ACT_RECIPROCAL:
        return 1 / x;
    case ACT_SQRT:
        return sqrt(x);
    case ACT_POW:
        return pow(x, a.alpha);
    case ACT_ERF:
        return erf(x);
    default:
        return NAN;
    }
}

static void test_activations_added(void)
{
    static const float xs_any[] = {-7, -3, -1.25f, -0.5f, -0.01f, 0, 0.3f, 1, 2.5f, 4, 19, 25};
    static const float xs_pos[] = {0.01f, 0.25f, 0.5f, 1, 1.7f, 3, 9, 100};
    const struct act acts_added[] = {
        {ACT_ELU, 0.7f, 0},     {ACT_SOFTPLUS, 0, 0},
        {ACT_MISH, 0, 0},       {ACT_HARD_SIGMOID, 0.2f, 0.5f},
        {ACT_HARD_SWISH, 0, 0}, {ACT_NEG, 0, 0},
        {ACT_ERF, 0, 0},        {ACT_RECIPROCAL, 0, 0},
        {ACT_SQRT, 0, 0},       {ACT_POW, 2, 0},
        {ACT_POW, 3, 0},        {ACT_POW, 0.5f, 0},
        {ACT_POW, -1.5f, 0},
    };
    for (size_t k = 0; k < sizeof acts_added / sizeof acts_added[0]; k++) {
        struct act a = acts_added[k];
        bool positive = a.kind == ACT_RECIPROCAL || a.kind == ACT_SQRT || a.kind == ACT_POW;
        const float *xs = positive ? xs_pos : xs_any;
        size_t count =
            positive ? sizeof xs_pos / sizeof xs_pos[0] : sizeof xs_any / sizeof xs_any[0];
        for (size_t i = 0; i < count; i++) {
            double want = act_definition(a, xs[i]), got = act_apply(a, xs[i]);
            CHECK_MSG(fabs(got - want) <= 2e-6 * fmax(1, fabs(want)),
                      "%s(%g; %g) = %.9g, want %.9g", act_names[a.kind], (double)xs[i],
                      (double)a.alpha, got, want);
        }
    }
}

/* PReLU: x where x >= 0, slope * x below, the slope broadcast per channel. */
static void test_binary_prelu(void)
{
    float x[6] = {-2, 0, 3, -1, -4, 5}, slope[2] = {0.25f, -0.5f}, y[6];
    struct shape xs = {4, {1, 2, 1, 3}}, ss = {3, {2, 1, 1}};
    struct node n = node_make(OP_BINARY);
    n.p.binary.kind = BINARY_PRELU;
    struct ref_io io = {.in = {x, slope}, .in_shape = {&xs, &ss}, .out = y, .out_shape = &xs};
    ref_binary(&n, &io);
    check_all_near(y, (const float[]){-0.5f, 0, 3, 0.5f, 2, 5}, 6, 0);
}

static void test_binary_broadcast(void)
{
    /* A is 2x3 (1..6), B is 3 (10, 20, 30) broadcast over rows; then B as 2x1 (1, 2). */
    float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30}, c[2] = {1, 2}, y[6];
    struct shape as = {2, {2, 3}}, bs = {1, {3}}, cs = {2, {2, 1}};
    struct node n = node_make(OP_BINARY);
    n.p.binary.kind = BINARY_ADD;
    struct ref_io io = {.in = {a, b}, .in_shape = {&as, &bs}, .out = y, .out_shape = &as};
    ref_binary(&n, &io);
    check_all_near(y, (const float[]){11, 22, 33, 14, 25, 36}, 6, 0);
    n.p.binary.kind = BINARY_SUB;
    ref_binary(&n, &io);
    check_all_near(y, (const float[]){-9, -18, -27, -6, -15, -24}, 6, 0);
    n.p.binary.kind = BINARY_DIV;
    io.in[1] = c;
    io.in_shape[1] = &cs;
    ref_binary(&n, &io);
    check_all_near(y, (const float[]){1, 2, 3, 2, 2.5f, 3}, 6, 1e-7);
    /* Both operands broadcast: 2x1 * 1x3 → 2x3 outer product. */
    struct shape rs = {2, {1, 3}};
    float r[3] = {1, 10, 100};
    n.p.binary.kind = BINARY_MUL;
    io.in[0] = c;
    io.in_shape[0] = &cs;
    io.in[1] = r;
    io.in_shape[1] = &rs;
    ref_binary(&n, &io);
    check_all_near(y, (const float[]){1, 10, 100, 2, 20, 200}, 6, 0);
}

static void test_concat_axes(void)
{
    float a[4] = {1, 2, 3, 4}, b[2] = {5, 6}, y[6];
    struct node n = node_make(OP_CONCAT);
    n.n_inputs = 2;
    /* Channels: 1x2x1x2 ++ 1x1x1x2 → 1x3x1x2 = a then b. */
    struct shape as = {4, {1, 2, 1, 2}}, bs = {4, {1, 1, 1, 2}}, ys = {4, {1, 3, 1, 2}};
    n.p.concat.axis = 1;
    struct ref_io io = {.in = {a, b}, .in_shape = {&as, &bs}, .out = y, .out_shape = &ys};
    ref_concat(&n, &io);
    check_all_near(y, (const float[]){1, 2, 3, 4, 5, 6}, 6, 0);
    /* Width: 1x1x2x2 ++ 1x1x2x1 → rows [1,2,5], [3,4,6]. */
    struct shape as3 = {4, {1, 1, 2, 2}}, bs3 = {4, {1, 1, 2, 1}}, ys3 = {4, {1, 1, 2, 3}};
    n.p.concat.axis = 3;
    io.in_shape[0] = &as3;
    io.in_shape[1] = &bs3;
    io.out_shape = &ys3;
    ref_concat(&n, &io);
    check_all_near(y, (const float[]){1, 2, 5, 3, 4, 6}, 6, 0);
}

static const float grid3[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const struct shape grid3_shape = {4, {1, 1, 3, 3}};

static void pad_run(enum pad_mode mode, const int64_t *pads, const struct shape *ys, float *y)
{
    struct node n = node_make(OP_PAD);
    n.p.pad.mode = mode;
    n.p.pad.value = -1;
    memcpy(n.p.pad.pads, pads, 8 * sizeof *pads);
    struct ref_io io = {.in = {grid3}, .in_shape = {&grid3_shape}, .out = y, .out_shape = ys};
    ref_pad(&n, &io);
}

static void test_pad_reflect(void)
{
    /* 3x3 grid 1..9, pads H (2 before, 0 after), W (1 before, 2 after). From
     * numpy.pad(grid, ((2, 0), (1, 2)), mode='reflect'): the edge row/column is not
     * repeated. */
    const int64_t pads[8] = {0, 0, 2, 1, 0, 0, 0, 2};
    struct shape ys = {4, {1, 1, 5, 6}};
    float y[30];
    pad_run(PAD_REFLECT, pads, &ys, y);
    const float want[30] = {8, 7, 8, 9, 8, 7, 5, 4, 5, 6, 5, 4, 2, 1, 2,
                            3, 2, 1, 5, 4, 5, 6, 5, 4, 8, 7, 8, 9, 8, 7};
    check_all_near(y, want, 30, 0);
}

static void test_pad_edge_constant_crop(void)
{
    /* numpy.pad(grid, ((1, 1), (0, 2)), mode='edge'). */
    const int64_t edge_pads[8] = {0, 0, 1, 0, 0, 0, 1, 2};
    struct shape ys = {4, {1, 1, 5, 5}};
    float y[25];
    pad_run(PAD_EDGE, edge_pads, &ys, y);
    const float want[25] = {1, 2, 3, 3, 3, 1, 2, 3, 3, 3, 4, 5, 6,
                            6, 6, 7, 8, 9, 9, 9, 7, 8, 9, 9, 9};
    check_all_near(y, want, 25, 0);
    /* Constant -1 on the left only, and the first row cropped away (negative pad). */
    const int64_t crop_pads[8] = {0, 0, -1, 1, 0, 0, 0, 0};
    struct shape cs = {4, {1, 1, 2, 4}};
    pad_run(PAD_CONSTANT, crop_pads, &cs, y);
    check_all_near(y, (const float[]){-1, 4, 5, 6, -1, 7, 8, 9}, 8, 0);
}

static void resize_run(enum resize_mode mode, enum resize_coord coord, enum resize_nearest nearest,
                       float scale, const float *x, const struct shape *xs, const struct shape *ys,
                       float *y)
{
    struct node n = node_make(OP_RESIZE);
    n.p.resize = (struct resize_params){
        .mode = mode, .coord = coord, .nearest = nearest, .scale = {scale, scale}};
    if (xs->dim[2] == 1)
        n.p.resize.scale[0] = 1;
    struct ref_io io = {.in = {x}, .in_shape = {xs}, .out = y, .out_shape = ys};
    ref_resize(&n, &io);
}

static const float square2[4] = {1, 2, 3, 4};
static const struct shape square2_shape = {4, {1, 1, 2, 2}}, square4_shape = {4, {1, 1, 4, 4}};

static void test_resize_nearest(void)
{
    /* ×2 of [[1,2],[3,4]]: each pixel becomes a 2x2 block (torch F.interpolate nearest;
     * ONNX asymmetric + floor, the Upsample export, and half_pixel + round_prefer_floor
     * agree on ×2). */
    const float want[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    float y[16];
    resize_run(RESIZE_NEAREST, RESIZE_COORD_ASYMMETRIC, RESIZE_NEAREST_FLOOR, 2, square2,
               &square2_shape, &square4_shape, y);
    check_all_near(y, want, 16, 0);
    resize_run(RESIZE_NEAREST, RESIZE_COORD_HALF_PIXEL, RESIZE_NEAREST_ROUND_PREFER_FLOOR, 2,
               square2, &square2_shape, &square4_shape, y);
    check_all_near(y, want, 16, 0);
    /* The nearest modes differ on ties: asymmetric ×2 of [10, 20] samples x = 0, .5, 1, 1.5;
     * prefer_floor → 0,0,1,1; prefer_ceil and ceil → 0,1,1,2 (clamped to 1). */
    const float row[2] = {10, 20};
    struct shape rs = {4, {1, 1, 1, 2}}, ros = {4, {1, 1, 1, 4}};
    resize_run(RESIZE_NEAREST, RESIZE_COORD_ASYMMETRIC, RESIZE_NEAREST_ROUND_PREFER_FLOOR, 2, row,
               &rs, &ros, y);
    check_all_near(y, (const float[]){10, 10, 20, 20}, 4, 0);
    resize_run(RESIZE_NEAREST, RESIZE_COORD_ASYMMETRIC, RESIZE_NEAREST_ROUND_PREFER_CEIL, 2, row,
               &rs, &ros, y);
    check_all_near(y, (const float[]){10, 20, 20, 20}, 4, 0);
    resize_run(RESIZE_NEAREST, RESIZE_COORD_ASYMMETRIC, RESIZE_NEAREST_CEIL, 2, row, &rs, &ros, y);
    check_all_near(y, (const float[]){10, 20, 20, 20}, 4, 0);
}

/* A file that gives sizes 48x48 -> 70x70 (F.interpolate(size=...), asymmetric + floor):
 * output pixel 35 samples exactly 35 * 48 / 70 = 24. Dividing by the float scale
 * 1.4583334f gives 23.9999993, the pixel before (issue 15). For this pair PyTorch's own
 * arithmetic (float32 in/out times o) agrees with the exact integer division below. */
static void test_resize_nearest_sized(void)
{
    static float x[48 * 48], y[70 * 70];
    for (int i = 0; i < 48 * 48; i++)
        x[i] = (float)(i / 48 * 100 + i % 48);
    struct shape xs = {4, {1, 1, 48, 48}}, ys = {4, {1, 1, 70, 70}};
    struct node n = node_make(OP_RESIZE);
    n.p.resize = (struct resize_params){.mode = RESIZE_NEAREST,
                                        .coord = RESIZE_COORD_ASYMMETRIC,
                                        .nearest = RESIZE_NEAREST_FLOOR,
                                        .scale = {70.0f / 48, 70.0f / 48},
                                        .sized = {true, true}};
    struct ref_io io = {.in = {x}, .in_shape = {&xs}, .out = y, .out_shape = &ys};
    ref_resize(&n, &io);
    int wrong = 0;
    for (int r = 0; r < 70; r++)
        for (int c = 0; c < 70; c++)
            wrong += y[r * 70 + c] != (float)(r * 48 / 70 * 100 + c * 48 / 70);
    CHECK_MSG(wrong == 0, "%d of 4900 pixels sample the wrong source pixel", wrong);
    CHECK_MSG(y[35] == 24.0f, "output column 35 took source column %g, want 24", (double)y[35]);
}

static void test_resize_linear(void)
{
    float y[16];
    /* half_pixel ×2 samples x = -0.25, 0.25, 0.75, 1.25 → 1, 1.25, 1.75, 2 per row; from
     * torch F.interpolate(bilinear, align_corners=False). */
    const float half_pixel[16] = {1,    1.25f, 1.75f, 2,    1.5f, 1.75f, 2.25f, 2.5f,
                                  2.5f, 2.75f, 3.25f, 3.5f, 3,    3.25f, 3.75f, 4};
    resize_run(RESIZE_LINEAR, RESIZE_COORD_HALF_PIXEL, RESIZE_NEAREST_FLOOR, 2, square2,
               &square2_shape, &square4_shape, y);
    check_all_near(y, half_pixel, 16, 1e-6);
    resize_run(RESIZE_LINEAR, RESIZE_COORD_PYTORCH_HALF_PIXEL, RESIZE_NEAREST_FLOOR, 2, square2,
               &square2_shape, &square4_shape, y);
    check_all_near(y, half_pixel, 16, 1e-6);
    /* align_corners samples x = 0, 1/3, 2/3, 1 (torch align_corners=True). */
    const float corners[16] = {1,        4 / 3.0f,  5 / 3.0f,  2,        5 / 3.0f, 2,
                               7 / 3.0f, 8 / 3.0f,  7 / 3.0f,  8 / 3.0f, 3,        10 / 3.0f,
                               3,        10 / 3.0f, 11 / 3.0f, 4};
    resize_run(RESIZE_LINEAR, RESIZE_COORD_ALIGN_CORNERS, RESIZE_NEAREST_FLOOR, 2, square2,
               &square2_shape, &square4_shape, y);
    check_all_near(y, corners, 16, 1e-6);
    /* asymmetric samples x = 0, .5, 1, 1.5 (the last clamps to the edge). */
    const float asym[16] = {1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4};
    resize_run(RESIZE_LINEAR, RESIZE_COORD_ASYMMETRIC, RESIZE_NEAREST_FLOOR, 2, square2,
               &square2_shape, &square4_shape, y);
    check_all_near(y, asym, 16, 1e-6);
    /* 3x3 → 4x4 at scale 4/3: torch bilinear size=(4,4), align_corners=False. */
    const float grid_up[16] = {1,      1.625f, 2.375f, 3,      2.875f, 3.5f,   4.25f,  4.875f,
                               5.125f, 5.75f,  6.5f,   7.125f, 7,      7.625f, 8.375f, 9};
    resize_run(RESIZE_LINEAR, RESIZE_COORD_HALF_PIXEL, RESIZE_NEAREST_FLOOR, 4.0f / 3, grid3,
               &grid3_shape, &square4_shape, y);
    check_all_near(y, grid_up, 16, 1e-5);
    /* ONNX scales=1.5 also gives 4x4 (floor 4.5) but keeps 1.5 in the transform: row 0 samples
     * x = -1/6, 0.5, 7/6, 11/6 of [1, 2, 3] → 1, 1.5, 13/6, 17/6 (by hand). */
    resize_run(RESIZE_LINEAR, RESIZE_COORD_HALF_PIXEL, RESIZE_NEAREST_FLOOR, 1.5f, grid3,
               &grid3_shape, &square4_shape, y);
    check_all_near(y, (const float[]){1, 1.5f, 13 / 6.0f, 17 / 6.0f}, 4, 1e-5);
}

static void test_epilogue_residual_then_act(void)
{
    /* y = act(op + residual): a copy of [-3, 1] plus residual [1, 1] through LeakyRelu 0.5
     * gives [-1, 2] (the activation sees the sum, not the op alone). */
    float x[2] = {-3, 1}, r[2] = {1, 1}, y[2];
    struct shape s = {1, {2}};
    struct node n = node_make(OP_ACTIVATION);
    n.act = (struct act){ACT_LEAKY_RELU, 0.5f, 0};
    struct ref_io io = {.in = {x}, .in_shape = {&s}, .residual = r, .out = y, .out_shape = &s};
    ref_activation(&n, &io);
    check_all_near(y, (const float[]){-1, 2}, 2, 0);
}

int main(void)
{
    RUN(test_conv_3x3_valid);
    RUN(test_conv_stride_pad_bias_relu);
    RUN(test_conv_dilation);
    RUN(test_conv_asymmetric_pads);
    RUN(test_conv_two_channels);
    RUN(test_conv_transpose_stride2_output_padding);
    RUN(test_conv_transpose_channels_bias);
    RUN(test_conv_transpose_dilation);
    RUN(test_batch_norm);
    RUN(test_instance_norm);
    RUN(test_activations);
    RUN(test_activations_added);
    RUN(test_binary_prelu);
    RUN(test_binary_broadcast);
    RUN(test_concat_axes);
    RUN(test_pad_reflect);
    RUN(test_pad_edge_constant_crop);
    RUN(test_resize_nearest);
    RUN(test_resize_nearest_sized);
    RUN(test_resize_linear);
    RUN(test_epilogue_residual_then_act);
    return check_report();
}
