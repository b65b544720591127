/* act.c — the cpu backend's epilogue loops y = act(x * k + b [+ residual]), vectorised.
 *
 * act_apply switches on the activation per element and calls libm's tanhf, so a loop
 * over it runs scalar: profiled on the default painter (1 thread, 256²), that loop and
 * tanhf took about a third of an inference. Here the switch is hoisted out of the loop,
 * each common activation gets a branch-free loop the compiler vectorises (-O3
 * -march=native), and tanh uses its own polynomial exp (relative error ~1e-7, far inside
 * the parity bound). Relu, LeakyRelu and Clip compute exactly what act_apply does; the
 * rarer activations keep act_apply. */
#include "cpu.h"

#include <omp.h>
#include <string.h>

/* e^y for y in [-18, 0] (Cephes' expf polynomial on y - n ln 2, scaled by 2^n). Written
 * without calls or memory casts (n rounded by the 1.5 * 2^23 trick, 2^n built in a union)
 * so that a loop over it vectorises: with floorf and a memcpy it ran scalar. */
static inline float exp_neg(float y)
{
    const float round = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float n = (y * 1.44269504088896341f + round) - round;
    float r = y - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union {
        int32_t bits;
        float value;
    } scale = {.bits = ((int32_t)n + 127) << 23};
    return p * scale.value;
}

/* tanh: (1 - e^-2a) / (1 + e^-2a) for a = |x| (1 past 9, where tanh is 1 in float);
 * below 1/16 its odd series, where the quotient would lose digits to cancellation. NaN
 * stays NaN, as tanhf keeps it: the clamp to 9 would make it 1 and hide a broken model
 * from the loop's non-finite check. Selects only, no branches: the loop vectorises. */
static inline float tanh_fast(float x)
{
    float a = fabsf(x);
    float e = exp_neg(-2.0f * (a < 9.0f ? a : 9.0f)); /* NaN takes 9 here: no NaN cast */
    float big = (1.0f - e) / (1.0f + e);
    float a2 = a * a;
    float small = a * (1.0f + a2 * (-1.0f / 3.0f + a2 * (2.0f / 15.0f + a2 * (-17.0f / 315.0f))));
    float t = copysignf(a < 0.0625f ? small : big, x);
    return x != x ? x : t; /* NaN */
}

/* One loop body per activation; R is 0 or 1 (with a residual). */
#define AFFINE_LOOP(R, EXPR)                                                                       \
    for (int64_t i = 0; i < count; i++) {                                                          \
        float v = x[i] * k + b;                                                                    \
        if (R)                                                                                     \
            v += residual[i];                                                                      \
        y[i] = (EXPR);                                                                             \
    }

#define AFFINE_ACTS(R)                                                                             \
    switch (a.kind) {                                                                              \
    case ACT_NONE:                                                                                 \
        AFFINE_LOOP(R, v);                                                                         \
        return;                                                                                    \
    case ACT_RELU:                                                                                 \
        AFFINE_LOOP(R, v > 0.0f ? v : 0.0f);                                                       \
        return;                                                                                    \
    case ACT_LEAKY_RELU:                                                                           \
        AFFINE_LOOP(R, v >= 0.0f ? v : a.alpha * v);                                               \
        return;                                                                                    \
    case ACT_CLIP: {                                                                               \
        AFFINE_LOOP(R,                                                                             \
                    (v < a.alpha ? a.alpha : v) > a.beta ? a.beta : (v < a.alpha ? a.alpha : v));  \
        return;                                                                                    \
    }                                                                                              \
    case ACT_TANH:                                                                                 \
        AFFINE_LOOP(R, tanh_fast(v));                                                              \
        return;                                                                                    \
    default:                                                                                       \
        AFFINE_LOOP(R, act_apply(a, v));                                                           \
        return;                                                                                    \
    }

void cpu_affine(struct act a, const float *x, const float *residual, float *y, int64_t count,
                float k, float b)
{
    if (residual)
        AFFINE_ACTS(1)
    else
        AFFINE_ACTS(0)
}

/* ref_concat's blocks (ref_concat_extent), in one parallel region: each thread copies its
 * share of every block, with the epilogue applied on the way (ref copies, then runs a
 * scalar epilogue over the whole output). */
void cpu_concat(const struct node *n, const struct ref_io *io)
{
    int32_t axis = n->p.concat.axis;
    int64_t outer, inner;
    ref_concat_extent(n, io, &outer, &inner);
#pragma omp parallel
    {
        int64_t threads = omp_get_num_threads(), t = omp_get_thread_num(), at = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int32_t k = 0; k < n->n_inputs; k++) {
                int64_t block = io->in_shape[k]->dim[axis] * inner;
                int64_t begin = block * t / threads, end = block * (t + 1) / threads;
                const float *r = io->residual ? io->residual + at + begin : NULL;
                cpu_affine(n->act, io->in[k] + o * block + begin, r, io->out + at + begin,
                           end - begin, 1.0f, 0.0f);
                at += block;
            }
    }
}
