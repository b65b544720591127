#include "rng.h"

#include <math.h>

#define PCG_MULT 6364136223846793005ULL

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
    /* The reference PCG32 initialisation: step once before and after adding the seed so
     * that small seeds (0, 1, 2...) do not give correlated first outputs. */
    r->state = 0;
    r->inc = (stream << 1u) | 1u;
    r->has_spare = false;
    r->spare = 0;
    rng_u32(r);
    r->state += seed;
    rng_u32(r);
}

uint32_t rng_u32(struct rng *r)
{
    uint64_t old = r->state;
    r->state = old * PCG_MULT + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
    if (n == 0)
        return 0;
    /* Rejection of the short top range keeps every value equally likely. */
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t x = rng_u32(r);
        if (x >= threshold)
            return x % n;
    }
}

float rng_uniform(struct rng *r)
{
    return (float)(rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float rng_range(struct rng *r, float lo, float hi)
{
    return lo + (hi - lo) * rng_uniform(r);
}

float rng_normal(struct rng *r)
{
    if (r->has_spare) {
        r->has_spare = false;
        return (float)r->spare;
    }
    /* u1 in (0, 1] so the log is finite; doubles keep the tails honest. */
    double u1 = ((double)rng_u32(r) + 1.0) / 4294967296.0;
    double u2 = (double)rng_u32(r) / 4294967296.0;
    double radius = sqrt(-2.0 * log(u1));
    double angle = 6.283185307179586 * u2;
    r->spare = radius * sin(angle);
    r->has_spare = true;
    return (float)(radius * cos(angle));
}
