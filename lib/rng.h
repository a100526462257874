/* rng.h: a small, seedable, portable pseudo-random generator (xoshiro256**
 * seeded through splitmix64). Every random choice in kd (initial weights,
 * dropout masks, shuffles, jitter, validation splits) draws from a kdr_rng
 * that the caller owns, so a seed makes a run repeatable. No global state. */
#ifndef KD_RNG_H
#define KD_RNG_H

#include <stdint.h>

typedef struct kdr_rng {
	uint64_t s[4]; /* xoshiro256** state, never all zero */
} kdr_rng;

/* kdr_init: seed r from one 64-bit seed (any value, 0 included). */
void kdr_init(kdr_rng *r, uint64_t seed);
/* kdr_next: the next 64 random bits. */
uint64_t kdr_next(kdr_rng *r);
/* kdr_uniform: a float in [0, 1), 24 random bits. */
float kdr_uniform(kdr_rng *r);
/* kdr_below: an integer in [0, n), n > 0, without modulo bias. */
uint64_t kdr_below(kdr_rng *r, uint64_t n);
/* kdr_normal: a standard normal draw (Box-Muller). */
double kdr_normal(kdr_rng *r);
/* kdr_gamma: a Gamma(a, 1) draw, a > 0 (Marsaglia and Tsang 2000; for
 * a < 1, a Gamma(a + 1) draw times u^(1/a)). */
double kdr_gamma(kdr_rng *r, double a);
/* kdr_beta: a Beta(a, b) draw, a, b > 0: x / (x + y) of two gamma draws,
 * x of shape a first. */
double kdr_beta(kdr_rng *r, double a, double b);
/* kdr_shuffle: a uniform random permutation of idx[0..n-1] in place. */
void kdr_shuffle(kdr_rng *r, uint32_t *idx, uint32_t n);

#endif
