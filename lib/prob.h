/* prob.h: softmax at a temperature, and conversions between the three kinds
 * of class scores a kd stream carries (logits, probabilities,
 * log-probabilities).
 *
 * Every kind stands for one distribution P over K classes; its "scores"
 * s are any vector with P = softmax(s): the logits themselves, log p, or the
 * log-probabilities. Softening at T gives softmax(s / T), i.e. p^(1/T)
 * normalised for probabilities. All sums run in double and subtract the
 * maximum first, so logits of 1e38 and T from 1e-6 to 1e6 stay finite. */
#ifndef KD_PROB_H
#define KD_PROB_H

#include <stddef.h>

enum kdp_kind {
	KDP_LOGITS = 0,   /* unnormalised scores z, P = softmax(z) */
	KDP_PROBS = 1,    /* probabilities p, sum 1 */
	KDP_LOGPROBS = 2, /* log-probabilities log p, logsumexp 0; -inf allowed */
	KDP_FEATURES = 3  /* not class scores: the activations of a hidden
	                     layer (kd-teacher -m --layer), finite */
};

/* kdp_kind_name: "logits", "probs", "logprobs" or "features" ("?" for
 * other values). */
const char *kdp_kind_name(int kind);
/* kdp_kind_parse: the kind named s, or -1. */
int kdp_kind_parse(const char *s);

/* kdp_argmax: the index of the largest of K values (K >= 1), the first
 * on ties: a model's prediction. */
size_t kdp_argmax(const float *v, size_t K);

/* kdp_softmax: p = softmax(z / T) over K values; T > 0. */
void kdp_softmax(const float *z, size_t K, double T, float *p);
/* kdp_log_softmax: lp = log softmax(z / T) over K values; T > 0. */
void kdp_log_softmax(const float *z, size_t K, double T, float *lp);

/* kdp_soften: in holds K values of kind `kind`; out gets the distribution
 * softened at T, as probabilities (out_log 0) or log-probabilities
 * (out_log 1). in and out may be the same array. T > 0. */
void kdp_soften(int kind, const float *in, size_t K, double T, int out_log,
                float *out);

/* kdp_smooth: additive smoothing of a distribution: in holds K
 * probabilities (kind KDP_PROBS) or log-probabilities (KDP_LOGPROBS); out
 * gets the probabilities (p + a) / (1 + K a), a >= 0. A model without a
 * softmax (a forest's vote fractions) gives exact zeros that tempering,
 * p^(1/T), cannot lift; with a = 1/n for n trees this is Laplace's
 * smoothing of the votes, one made-up vote per class. in and out may be
 * the same array. */
void kdp_smooth(int kind, const float *in, size_t K, double a, float *out);

/* kdp_check: 0 when v is a valid vector of kind `kind` (logits and
 * features finite;
 * probabilities finite, in [0, 1], summing to 1 within 1e-3 per 1000
 * classes, at least 1e-3; log-probabilities not NaN nor +inf, <= 1e-4,
 * logsumexp within the same tolerance of 0). Otherwise -1, with *bad set
 * to the index of the first offending value (or K when only the sum is off). */
int kdp_check(int kind, const float *v, size_t K, size_t *bad);

#endif
