/* peak.c — this CPU's fp32 multiply-add peak and its bf16 dot-product peak, for the
 * "% of peak" columns of tools/bench/cpu.sh. Every thread runs independent chains of
 * vector FMAs (enough of them to cover the latency) from registers; prints GFLOP/s.
 * fp32: 2 FLOP per lane per FMA. bf16: vdpbf16ps on 512 bits, 32 bf16 pairs multiplied
 * and added into 16 fp32 lanes, 64 FLOP per instruction (needs avx512_bf16: without it
 * the build has no bf16 loop and `bf16` prints "n/a" and fails).
 *   cc -O2 -march=native -ffp-contract=fast -fopenmp peak.c -o peak && ./peak [threads] [fp32|bf16]
 */
#include <omp.h>
#include <string.h>
#ifdef __AVX512BF16__
#include <immintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>

/* 512-bit vectors where the CPU has AVX-512 (an AVX2 loop would measure half an Intel
 * AVX-512 core's FMA rate), 256-bit otherwise. */
#ifdef __AVX512F__
enum { CHAINS = 12, LANES = 16 };
#else
enum { CHAINS = 12, LANES = 8 };
#endif
typedef float v8 __attribute__((vector_size(LANES * 4)));

static float chains(long iters, float seed)
{
    v8 acc[CHAINS];
    v8 mul = {0}, add = {0};
    for (int l = 0; l < LANES; l++) {
        mul[l] = 0.999999f;
        add[l] = 1e-7f * seed;
    }
    for (int c = 0; c < CHAINS; c++)
        for (int l = 0; l < LANES; l++)
            acc[c][l] = seed + (float)(c * LANES + l);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
        for (int c = 0; c < CHAINS; c++)
            acc[c] = acc[c] * mul + add;
    }
    float sum = 0;
    for (int c = 0; c < CHAINS; c++)
        for (int l = 0; l < LANES; l++)
            sum += acc[c][l];
    return sum;
}

#ifdef __AVX512BF16__
/* CHAINS independent vdpbf16ps accumulators; returns their sum so nothing is dropped. */
static float chains_bf16(long iters, float seed)
{
    __m512 acc[CHAINS];
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm512_set1_ps(seed + (float)c);
    __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.999f), _mm512_set1_ps(1e-3f));
    __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-4f), _mm512_set1_ps(-1e-4f));
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
        for (int c = 0; c < CHAINS; c++)
            acc[c] = _mm512_dpbf16_ps(acc[c], a, b);
    }
    __m512 sum = acc[0];
    for (int c = 1; c < CHAINS; c++)
        sum = _mm512_add_ps(sum, acc[c]);
    return _mm512_reduce_add_ps(sum);
}
#endif

static int peak_bf16(int threads)
{
#ifdef __AVX512BF16__
    long iters = 20000000;
    double best = 0;
    float sink = 0;
    for (int rep = 0; rep < 10; rep++) {
        double t0 = omp_get_wtime();
#pragma omp parallel reduction(+ : sink)
        sink += chains_bf16(iters, (float)omp_get_thread_num());
        double s = omp_get_wtime() - t0;
        double gflops = 64.0 * CHAINS * (double)iters * threads / s / 1e9;
        if (gflops > best)
            best = gflops;
    }
    printf("%.1f\n", best);
    return sink == 12345.0f;
#else
    (void)threads;
    printf("n/a\n");
    return 1;
#endif
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    long iters = 40000000;
    omp_set_num_threads(threads);
    if (argc > 2 && strcmp(argv[2], "bf16") == 0)
        return peak_bf16(threads);
    double best = 0;
    float sink = 0;
    for (int rep = 0; rep < 10; rep++) {
        double t0 = omp_get_wtime();
#pragma omp parallel reduction(+ : sink)
        sink += chains(iters, (float)omp_get_thread_num());
        double s = omp_get_wtime() - t0;
        double gflops = 2.0 * CHAINS * LANES * (double)iters * threads / s / 1e9;
        if (gflops > best)
            best = gflops;
    }
    printf("%.1f\n", best);
    return sink == 12345.0f; /* keeps the work */
}
