/* prob.c: stable softmax and kind conversions (see prob.h). */
#include "prob.h"

#include <math.h>
#include <string.h>

const char *
kdp_kind_name(int kind)
{
	switch (kind) {
	case KDP_LOGITS: return "logits";
	case KDP_PROBS: return "probs";
	case KDP_LOGPROBS: return "logprobs";
	case KDP_FEATURES: return "features";
	}
	return "?";
}

int
kdp_kind_parse(const char *s)
{
	for (int k = KDP_LOGITS; k <= KDP_FEATURES; k++)
		if (!strcmp(s, kdp_kind_name(k)))
			return k;
	return -1;
}

/* score: the i-th score s_i of a vector of kind `kind`, with P = softmax(s). */
static double
score(int kind, const float *v, size_t i)
{
	if (kind == KDP_PROBS)
		return v[i] > 0 ? log((double)v[i]) : -INFINITY;
	return (double)v[i];
}

/* soften_scores: out = softmax(s / T) or its log, s from (kind, in).
 * The maximum is subtracted before dividing by T, so (s_i - max) / T is
 * at most 0 and exp never overflows; the sum is at least 1. */
static void
soften_scores(int kind, const float *in, size_t K, double T, int out_log,
              float *out)
{
	double m = -INFINITY, sum = 0.0;
	size_t i;

	for (i = 0; i < K; i++) {
		double s = score(kind, in, i);
		if (s > m)
			m = s;
	}
	if (m == -INFINITY) {
		/* no finite score: nothing sensible to normalise; callers
		 * validate first, this only keeps the output defined */
		m = 0.0;
	}
	for (i = 0; i < K; i++)
		sum += exp((score(kind, in, i) - m) / T);
	if (out_log) {
		double lse = log(sum);
		for (i = 0; i < K; i++)
			out[i] = (float)((score(kind, in, i) - m) / T - lse);
	} else {
		for (i = 0; i < K; i++)
			out[i] = (float)(exp((score(kind, in, i) - m) / T) / sum);
	}
}

void
kdp_softmax(const float *z, size_t K, double T, float *p)
{
	soften_scores(KDP_LOGITS, z, K, T, 0, p);
}

void
kdp_log_softmax(const float *z, size_t K, double T, float *lp)
{
	soften_scores(KDP_LOGITS, z, K, T, 1, lp);
}

void
kdp_soften(int kind, const float *in, size_t K, double T, int out_log,
           float *out)
{
	soften_scores(kind, in, K, T, out_log, out);
}

int
kdp_check(int kind, const float *v, size_t K, size_t *bad)
{
	double tol = 1e-3 * (K > 1000 ? (double)K / 1000.0 : 1.0);
	double sum = 0.0, m = -INFINITY;
	size_t i;

	for (i = 0; i < K; i++) {
		float x = v[i];
		switch (kind) {
		case KDP_LOGITS:
		case KDP_FEATURES:
			if (!isfinite(x))
				goto fail;
			break;
		case KDP_PROBS:
			if (!isfinite(x) || x < 0.0f || x > 1.0f + 1e-4f)
				goto fail;
			sum += x;
			break;
		case KDP_LOGPROBS:
			if (isnan(x) || x > 1e-4f)
				goto fail;
			if (x > m)
				m = x;
			break;
		default:
			goto fail;
		}
	}
	if (kind == KDP_LOGPROBS) {
		if (m == -INFINITY) {
			i = K;
			goto fail;
		}
		for (i = 0; i < K; i++)
			sum += exp((double)v[i] - m);
		sum = m + log(sum); /* logsumexp; 0 for a valid vector */
		if (fabs(sum) > tol) {
			i = K;
			goto fail;
		}
	} else if (kind == KDP_PROBS && fabs(sum - 1.0) > tol) {
		i = K;
		goto fail;
	}
	return 0;
fail:
	if (bad)
		*bad = i;
	return -1;
}

size_t
kdp_argmax(const float *v, size_t K)
{
	size_t best = 0;

	for (size_t k = 1; k < K; k++)
		if (v[k] > v[best])
			best = k;
	return best;
}

void
kdp_smooth(int kind, const float *in, size_t K, double a, float *out)
{
	double norm = 1.0 + (double)K * a;

	for (size_t k = 0; k < K; k++) {
		double p = kind == KDP_LOGPROBS ? exp((double)in[k]) : (double)in[k];
		out[k] = (float)((p + a) / norm);
	}
}
