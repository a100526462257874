/* loss.c: cross-entropy, soft cross-entropy, distillation and logit MSE
 * losses with their gradients (see loss.h). */
#include "loss.h"

#include "prob.h"

#include <math.h>

/* hard_row: add w * (softmax(z) - onehot(y)) to g (K) and return
 * -log softmax(z)_y, for one row z (K). The log-sum-exp is taken in double
 * after subtracting the maximum, so exp never overflows. */
static double
hard_row(const float *z, int32_t y, size_t K, double w, float *g)
{
	double m = z[0], s = 0.0, lse;
	size_t k;

	for (k = 1; k < K; k++)
		if (z[k] > m)
			m = z[k];
	for (k = 0; k < K; k++)
		s += exp((double)z[k] - m);
	lse = m + log(s);
	for (k = 0; k < K; k++) {
		double p = exp((double)z[k] - lse);
		g[k] += (float)(w * (p - (k == (size_t)y ? 1.0 : 0.0)));
	}
	return lse - (double)z[y];
}

/* soft_row: g (K) = w * T * (softmax(z / T) - q), return
 * -T^2 * sum_k q_k log softmax(z / T)_k for one row z (K), q (K).
 * g is used as scratch for the log-probabilities first. */
static double
soft_row(const float *z, const float *q, size_t K, double T, double w,
         float *g)
{
	double loss = 0.0;

	kdp_log_softmax(z, K, T, g);
	for (size_t k = 0; k < K; k++) {
		double lp = g[k];
		if (q[k] != 0.0f)
			loss -= (double)q[k] * lp;
		g[k] = (float)(w * T * (exp(lp) - (double)q[k]));
	}
	return T * T * loss;
}

static int
labels_ok(const int32_t *labels, size_t B, size_t K)
{
	for (size_t b = 0; b < B; b++)
		if (labels[b] < 0 || (size_t)labels[b] >= K)
			return 0;
	return 1;
}

static int
temperature_ok(double T)
{
	return T > 0.0 && isfinite(T);
}

double
kdl_hard_ce(const float *logits, const int32_t *labels, size_t B, size_t K,
            float *dlogits)
{
	double loss = 0.0;

	if (B == 0)
		return 0.0;
	if (K == 0 || !labels_ok(labels, B, K))
		return NAN;
	for (size_t i = 0; i < B * K; i++)
		dlogits[i] = 0.0f;
	for (size_t b = 0; b < B; b++)
		loss += hard_row(logits + b * K, labels[b], K, 1.0 / (double)B,
		                 dlogits + b * K);
	return loss / (double)B;
}

double
kdl_soft_ce(const float *logits, const float *targets, size_t B, size_t K,
            double T, float *dlogits)
{
	double loss = 0.0;

	if (B == 0)
		return 0.0;
	if (K == 0 || !temperature_ok(T))
		return NAN;
	for (size_t b = 0; b < B; b++)
		loss += soft_row(logits + b * K, targets + b * K, K, T,
		                 1.0 / (double)B, dlogits + b * K);
	return loss / (double)B;
}

double
kdl_distill(const float *logits, const float *targets, const int32_t *labels,
            size_t B, size_t K, double T, double alpha, float *dlogits)
{
	double soft = 0.0, hard = 0.0;
	size_t b;

	if (B == 0)
		return 0.0;
	if (K == 0 || !(alpha >= 0.0 && alpha <= 1.0))
		return NAN;
	if (alpha > 0.0 && (!targets || !temperature_ok(T)))
		return NAN;
	if (alpha < 1.0 && (!labels || !labels_ok(labels, B, K)))
		return NAN;
	if (alpha > 0.0) {
		for (b = 0; b < B; b++)
			soft += soft_row(logits + b * K, targets + b * K, K, T,
			                 alpha / (double)B, dlogits + b * K);
	} else {
		for (b = 0; b < B * K; b++)
			dlogits[b] = 0.0f;
	}
	if (alpha < 1.0)
		for (b = 0; b < B; b++)
			hard += hard_row(logits + b * K, labels[b], K,
			                 (1.0 - alpha) / (double)B, dlogits + b * K);
	return (alpha * soft + (1.0 - alpha) * hard) / (double)B;
}

double
kdl_entropy(const float *targets, size_t B, size_t K)
{
	double h = 0.0;

	if (B == 0)
		return 0.0;
	for (size_t i = 0; i < B * K; i++)
		if (targets[i] > 0.0f)
			h -= (double)targets[i] * log((double)targets[i]);
	return h / (double)B;
}

double
kdl_mse_logits(const float *logits, const float *target_logits, size_t B,
               size_t K, float *dlogits)
{
	double loss = 0.0;

	if (B == 0)
		return 0.0;
	for (size_t i = 0; i < B * K; i++) {
		double d = (double)logits[i] - (double)target_logits[i];
		loss += d * d;
		dlogits[i] = (float)(d / (double)B);
	}
	return 0.5 * loss / (double)B;
}

double
kdl_hint(const float *r, const float *t, size_t B, size_t F, double w, float *dr)
{
	double loss = 0.0, n = (double)B * (double)F;

	if (B == 0 || F == 0)
		return 0.0;
	for (size_t i = 0; i < B * F; i++) {
		double d = (double)r[i] - (double)t[i];
		loss += d * d;
		dr[i] = (float)(2.0 * w * d / n);
	}
	return w * loss / n;
}
