/* test_loss.c: each loss against an independent double-precision
 * reference, its gradient against central finite differences of that
 * reference, hand-computed values, and large logits at large T. */
#include "loss.h"
#include "prob.h"
#include "rng.h"
#include "kdtest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 64 /* room for B*K in these tests */

enum { HARD, SOFT, DISTILL, MSE };

/* ref_lse: log sum_k exp(z_k / T), in double, max subtracted */
static double
ref_lse(const double *z, size_t K, double T)
{
	double m = z[0], s = 0.0;
	for (size_t k = 1; k < K; k++)
		if (z[k] > m)
			m = z[k];
	for (size_t k = 0; k < K; k++)
		s += exp((z[k] - m) / T);
	return m / T + log(s);
}

/* ref_loss: the loss `which` of the batch z (B,K), in double, written from
 * the definitions in loss.h without sharing any code with loss.c */
static double
ref_loss(int which, const double *z, const float *q, const int32_t *y,
         size_t B, size_t K, double T, double alpha)
{
	double sum = 0.0;

	for (size_t b = 0; b < B; b++) {
		const double *zb = z + b * K;
		double hard = ref_lse(zb, K, 1.0) - zb[y ? y[b] : 0];
		double soft = 0.0, mse = 0.0;
		if (q) {
			double lse = ref_lse(zb, K, T);
			for (size_t k = 0; k < K; k++)
				if (q[b * K + k] != 0.0f)
					soft -= T * T * q[b * K + k] * (zb[k] / T - lse);
		}
		for (size_t k = 0; k < K; k++) {
			double d = zb[k] - (q ? q[b * K + k] : 0.0);
			mse += 0.5 * d * d;
		}
		switch (which) {
		case HARD: sum += hard; break;
		case SOFT: sum += soft; break;
		case DISTILL: sum += alpha * soft + (1.0 - alpha) * hard; break;
		case MSE: sum += mse; break;
		}
	}
	return sum / (double)B;
}

/* lib_loss: the library's version of loss `which` (for MSE, q holds the
 * target logits) */
static double
lib_loss(int which, const float *z, const float *q, const int32_t *y,
         size_t B, size_t K, double T, double alpha, float *g)
{
	switch (which) {
	case HARD: return kdl_hard_ce(z, y, B, K, g);
	case SOFT: return kdl_soft_ce(z, q, B, K, T, g);
	case DISTILL: return kdl_distill(z, q, y, B, K, T, alpha, g);
	default: return kdl_mse_logits(z, q, B, K, g);
	}
}

/* check_loss: the library loss equals the reference, and its gradient the
 * central finite differences of the reference, both within rel */
static void
check_loss(int which, const float *zf, const float *q, const int32_t *y,
           size_t B, size_t K, double T, double alpha, double rel)
{
	double z[MAXN], L, Lref, scale = 0.0;
	float g[MAXN];
	size_t i, n = B * K;

	for (i = 0; i < n; i++) {
		z[i] = zf[i];
		if (fabs(z[i]) > scale)
			scale = fabs(z[i]);
	}
	L = lib_loss(which, zf, q, y, B, K, T, alpha, g);
	Lref = ref_loss(which, z, q, y, B, K, T, alpha);
	KT_NEAR(L, Lref, rel * (1.0 + fabs(Lref)));
	for (i = 0; i < n; i++) {
		/* a step small against the logits and against T */
		double h = 1e-4 * (1.0 + scale / 100.0) * (T < 1.0 ? T : 1.0);
		double zi = z[i], fd, gmax = 0.0;
		z[i] = zi + h;
		fd = ref_loss(which, z, q, y, B, K, T, alpha);
		z[i] = zi - h;
		fd = (fd - ref_loss(which, z, q, y, B, K, T, alpha)) / (2.0 * h);
		z[i] = zi;
		for (size_t j = 0; j < n; j++)
			if (fabs(g[j]) > gmax)
				gmax = fabs(g[j]);
		KT_CHECK(isfinite(g[i]));
		/* the probabilities are floats: T * (p - q) carries an
		 * absolute error of about T * 1e-8 per row */
		KT_NEAR(g[i], fd, rel * (1e-3 + gmax) + 1e-7 * T / (double)B);
	}
}

/* random_case: logits N(0, s^2), targets softmax of other random logits
 * softened at T, labels uniform */
static void
random_case(kdr_rng *r, size_t B, size_t K, double s, double T, float *z,
            float *q, int32_t *y)
{
	float t[MAXN];

	for (size_t i = 0; i < B * K; i++) {
		z[i] = (float)(s * kdr_normal(r));
		t[i] = (float)(s * kdr_normal(r));
	}
	for (size_t b = 0; b < B; b++) {
		kdp_softmax(t + b * K, K, T, q + b * K);
		y[b] = (int32_t)kdr_below(r, K);
	}
}

static void
test_hand_values(void)
{
	float z[3] = {1, 2, 3}, q[3] = {0, 0, 1}, g[3], g2[3];
	int32_t y = 2;
	double L;

	/* softmax(1,2,3) = (0.0900306, 0.2447285, 0.6652410) */
	L = kdl_hard_ce(z, &y, 1, 3, g);
	KT_NEAR(L, 0.40760596, 1e-7);
	KT_NEAR(g[0], 0.0900306, 1e-6);
	KT_NEAR(g[1], 0.2447285, 1e-6);
	KT_NEAR(g[2], 0.6652410 - 1.0, 1e-6);
	/* a one-hot target at T = 1 is the hard loss */
	KT_NEAR(kdl_soft_ce(z, q, 1, 3, 1.0, g2), L, 1e-6);
	for (int k = 0; k < 3; k++)
		KT_NEAR(g2[k], g[k], 1e-6);
	/* at T = 2 with a uniform target: T^2 * (-log softmax(z/2) averaged)
	 * = 4 * (logsumexp(0.5,1,1.5) - 1) = 4.7210787 */
	q[0] = q[1] = q[2] = 1.0f / 3.0f;
	KT_NEAR(kdl_soft_ce(z, q, 1, 3, 2.0, g2), 4.7210787, 1e-5);
	/* MSE: 0.5 * ((1-0)^2 + (2-1)^2 + (3-1)^2) = 3, over 1 row */
	{
		float t[3] = {0, 1, 1};
		KT_NEAR(kdl_mse_logits(z, t, 1, 3, g2), 3.0, 1e-12);
		KT_NEAR(g2[2], 2.0, 1e-7);
	}
	/* the batch mean: two copies of the same row give the same loss
	 * and half the gradient */
	{
		float zz[6] = {1, 2, 3, 1, 2, 3}, gg[6];
		int32_t yy[2] = {2, 2};
		KT_NEAR(kdl_hard_ce(zz, yy, 2, 3, gg), L, 1e-7);
		KT_NEAR(gg[0], g[0] / 2, 1e-7);
		KT_NEAR(gg[5], g[2] / 2, 1e-7);
	}
}

static void
test_gradients(void)
{
	static const double temps[] = {1.0, 2.0, 20.0, 1e3, 0.5};
	float z[MAXN], q[MAXN];
	int32_t y[8];
	kdr_rng r;
	size_t B = 4, K = 5;

	kdr_init(&r, 7);
	for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++) {
		double T = temps[t];
		random_case(&r, B, K, 3.0, T, z, q, y);
		check_loss(HARD, z, NULL, y, B, K, 1.0, 0.0, 1e-5);
		check_loss(SOFT, z, q, y, B, K, T, 1.0, 1e-5);
		check_loss(DISTILL, z, q, y, B, K, T, 0.3, 1e-5);
		check_loss(DISTILL, z, q, NULL, B, K, T, 1.0, 1e-5);
		check_loss(DISTILL, z, NULL, y, B, K, T, 0.0, 1e-5);
		check_loss(MSE, z, q, NULL, B, K, T, 0.0, 1e-5);
	}
}

/* logits of magnitude 1e3 at T = 20 and T = 1e3 (and 1): finite, and equal
 * to the double reference */
static void
test_large_logits(void)
{
	static const double temps[] = {1.0, 20.0, 1e3};
	float z[MAXN], q[MAXN], g[MAXN];
	int32_t y[8];
	kdr_rng r;
	size_t B = 3, K = 6;

	kdr_init(&r, 11);
	for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++) {
		double T = temps[t];
		random_case(&r, B, K, 1e3, T, z, q, y);
		z[0] = 1e3f;
		z[1] = -1e3f;
		KT_CHECK(isfinite(kdl_soft_ce(z, q, B, K, T, g)));
		for (size_t i = 0; i < B * K; i++)
			KT_CHECK(isfinite(g[i]));
		KT_CHECK(isfinite(kdl_hard_ce(z, y, B, K, g)));
		check_loss(SOFT, z, q, y, B, K, T, 1.0, 1e-5);
		check_loss(DISTILL, z, q, y, B, K, T, 0.5, 1e-5);
		check_loss(HARD, z, q, y, B, K, T, 0.0, 1e-5);
	}
	/* extreme: logits 1e38 at T = 1e-6, where log softmax is -inf for
	 * the losing class; a zero target there must not make a NaN */
	{
		float ze[2] = {1e38f, -1e38f}, qe[2] = {1.0f, 0.0f}, ge[2];
		double L = kdl_soft_ce(ze, qe, 1, 2, 1e-6, ge);
		KT_NEAR(L, 0.0, 1e-12);
		KT_NEAR(ge[0], 0.0, 1e-12);
		KT_NEAR(ge[1], 0.0, 1e-12);
	}
}

/* kdl_entropy by hand, and the soft loss less T^2 times it is T^2 KL:
 * q = (0.5, 0.5) and (1, 0): entropies ln 2 and 0, mean 0.346574; z = (1, 0)
 * at T = 2: p = softmax(0.5, 0) = (0.622459, 0.377541), and KL(q || p) =
 * 0.5 ln(0.5/0.622459) + 0.5 ln(0.5/0.377541) = 0.030930 for the first
 * row, ln(1/0.622459) = 0.474077 for the second. */
static void
test_entropy_and_kl(void)
{
	static const float q[4] = { 0.5f, 0.5f, 1.0f, 0.0f }, z[4] = { 1, 0, 1, 0 };
	float dl[4];
	double ce;

	KT_NEAR(kdl_entropy(q, 2, 2), 0.346574, 1e-6);
	KT_NEAR(kdl_entropy(q, 0, 2), 0.0, 0);
	ce = kdl_soft_ce(z, q, 2, 2, 2.0, dl);
	KT_NEAR(ce - 4.0 * kdl_entropy(q, 2, 2), 4.0 * (0.030930 + 0.474077) / 2, 1e-5);
}

static void
test_bad_arguments(void)
{
	float z[3] = {1, 2, 3}, q[3] = {0.2f, 0.3f, 0.5f}, g[3];
	int32_t y = 3, yn = -1, ok = 0;

	KT_CHECK(isnan(kdl_hard_ce(z, &y, 1, 3, g)));
	KT_CHECK(isnan(kdl_hard_ce(z, &yn, 1, 3, g)));
	KT_CHECK(isnan(kdl_soft_ce(z, q, 1, 3, 0.0, g)));
	KT_CHECK(isnan(kdl_soft_ce(z, q, 1, 3, INFINITY, g)));
	KT_CHECK(isnan(kdl_distill(z, q, &ok, 1, 3, 2.0, 1.5, g)));
	KT_CHECK(isnan(kdl_distill(z, q, NULL, 1, 3, 2.0, 0.5, g)));
	KT_CHECK(isnan(kdl_distill(z, NULL, &ok, 1, 3, 2.0, 0.5, g)));
	KT_CHECK(!isnan(kdl_distill(z, NULL, &ok, 1, 3, 2.0, 0.0, g)));
	KT_CHECK(kdl_hard_ce(z, &y, 0, 3, g) == 0.0);
}

int
main(void)
{
	KT_RUN(test_hand_values);
	KT_RUN(test_gradients);
	KT_RUN(test_large_logits);
	KT_RUN(test_entropy_and_kl);
	KT_RUN(test_bad_arguments);
	return kt_done();
}
