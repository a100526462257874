/* rng.c: xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
#include "rng.h"

#include <math.h>

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
kdr_init(kdr_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t
kdr_next(kdr_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

float
kdr_uniform(kdr_rng *r)
{
	return (float)(kdr_next(r) >> 40) * (1.0f / 16777216.0f);
}

uint64_t
kdr_below(kdr_rng *r, uint64_t n)
{
	/* reject the top partial block so every residue is equally likely */
	uint64_t lim = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = kdr_next(r);
	while (x >= lim);
	return x % n;
}

/* open0: a double in (0, 1], 53 random bits: never 0, so that its log
 * and its powers are finite */
static double
open0(kdr_rng *r)
{
	return ((double)(kdr_next(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

double
kdr_normal(kdr_rng *r)
{
	double u1 = open0(r);
	double u2 = (double)(kdr_next(r) >> 11) * (1.0 / 9007199254740992.0);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

double
kdr_gamma(kdr_rng *r, double a)
{
	double d, c;

	if (a < 1.0) {
		/* Gamma(a) = Gamma(a + 1) * u^(1/a) */
		double u = open0(r);
		return kdr_gamma(r, a + 1.0) * pow(u, 1.0 / a);
	}
	d = a - 1.0 / 3.0;
	c = 1.0 / sqrt(9.0 * d);
	for (;;) {
		double x, v, u;
		do {
			x = kdr_normal(r);
			v = 1.0 + c * x;
		} while (v <= 0.0);
		v = v * v * v;
		u = open0(r);
		if (u < 1.0 - 0.0331 * (x * x) * (x * x) ||
		    log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
			return d * v;
	}
}

double
kdr_beta(kdr_rng *r, double a, double b)
{
	double x = kdr_gamma(r, a), y = kdr_gamma(r, b);
	/* both underflow to 0 only for tiny shapes, where Beta(a, b) is all
	 * but a coin that gives 1 with probability a / (a + b) */
	if (x + y == 0.0)
		return (double)kdr_uniform(r) < a / (a + b) ? 1.0 : 0.0;
	return x / (x + y);
}

void
kdr_shuffle(kdr_rng *r, uint32_t *idx, uint32_t n)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = (uint32_t)kdr_below(r, i);
		uint32_t t = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}
