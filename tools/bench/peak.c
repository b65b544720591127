/* peak.c — this CPU's fp32 multiply-add peak, for the "% of peak" column of
 * tools/bench/cpu.sh. Every thread runs independent chains of vector FMAs (enough of
 * them to cover the FMA latency) from registers; prints GFLOP/s (2 FLOP per FMA).
 *   cc -O2 -march=native -ffp-contract=fast -fopenmp peak.c -o peak && ./peak [threads] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

typedef float v8 __attribute__((vector_size(32)));
enum { CHAINS = 12, LANES = 8 };

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

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    long iters = 40000000;
    double best = 0;
    float sink = 0;
    omp_set_num_threads(threads);
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
