/* rng.h — the loop's one source of randomness.
 *
 * PCG32 (O'Neill, XSH-RR 64/32): small, fast, good statistics, and bit-identical across
 * runs and machines for the same seed, which is what makes a capture reproducible.
 * The state is a plain struct: save it by copying, restore by copying back. Nothing here
 * allocates or locks; one generator belongs to one thread. */
#ifndef MNEMO_RNG_H
#define MNEMO_RNG_H

#include <stdbool.h>
#include <stdint.h>

struct rng {
    uint64_t state;
    uint64_t inc; /* stream selector, always odd */
    double spare; /* Box-Muller's second normal, kept so save/restore is exact */
    bool has_spare;
};

/* Seeds the generator. Different `stream`s with one seed give independent sequences
 * (the loop can give perturbation and seed drawing their own streams). */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);

/* Uniform 32-bit integer. */
uint32_t rng_u32(struct rng *r);
/* Uniform integer in [0, n), unbiased; 0 when n is 0. */
uint32_t rng_below(struct rng *r, uint32_t n);
/* Uniform float in [0, 1) with 24 random bits. */
float rng_uniform(struct rng *r);
/* Uniform float in [lo, hi). */
float rng_range(struct rng *r, float lo, float hi);
/* Standard normal (mean 0, std 1) by Box-Muller; two draws per pair of uniforms. */
float rng_normal(struct rng *r);

#endif
