/* loss.h: the training losses of kd and their gradients.
 *
 * Each function takes a batch of B rows of K logits (B,K) and returns the
 * mean loss over the batch (as a double); it writes dlogits (B,K), the
 * gradient of that mean with respect to the logits, so the 1/B is already
 * in it. dlogits is required and may not overlap the inputs. Sums run in
 * double; softmaxes go through lib/prob.h, which subtracts the maximum, so
 * large logits and large temperatures stay finite.
 *
 * A bad argument (T <= 0 or not finite, alpha outside [0,1], a label outside
 * [0,K)) makes the function return NaN; callers validate their data first,
 * this only keeps mistakes from passing silently. */
#ifndef KD_LOSS_H
#define KD_LOSS_H

#include <stddef.h>
#include <stdint.h>

/* kdl_hard_ce: cross-entropy with the true labels at T = 1,
 * mean over b of -log softmax(z_b)[labels[b]].
 *   logits (B,K), labels (B) in [0,K), dlogits (B,K) = (softmax(z) - onehot) / B */
double kdl_hard_ce(const float *logits, const int32_t *labels, size_t B,
                   size_t K, float *dlogits);

/* kdl_soft_ce: cross-entropy with soft targets at temperature T, scaled by
 * T^2 so that its gradient keeps the same size whatever T (Hinton et al.
 * 2015): mean over b of -T^2 * sum_k q_bk log softmax(z_b / T)_k.
 *   logits (B,K), targets q (B,K) probabilities (already softened at T),
 *   dlogits (B,K) = T * (softmax(z / T) - q) / B
 * Terms with q == 0 count for nothing, even where log softmax is -inf.
 * The softened probabilities are floats, so each gradient value carries an
 * absolute error of about T * 1e-8 / B, the same as the float targets. */
double kdl_soft_ce(const float *logits, const float *targets, size_t B,
                   size_t K, double T, float *dlogits);

/* kdl_entropy: the mean over the B rows of targets q (B,K) of their
 * entropy -sum_k q_k ln q_k (terms with q == 0 count for nothing): what
 * the soft cross-entropy can never go below. T^2 times it, subtracted from
 * kdl_soft_ce, gives T^2 KL(q || softmax(z/T)), with the same gradient. */
double kdl_entropy(const float *targets, size_t B, size_t K);

/* kdl_distill: alpha * kdl_soft_ce(T) + (1 - alpha) * kdl_hard_ce, the
 * distillation objective; alpha in [0,1]. labels may be NULL when
 * alpha == 1, targets may be NULL when alpha == 0.
 *   logits (B,K), targets (B,K), labels (B), dlogits (B,K) */
double kdl_distill(const float *logits, const float *targets,
                   const int32_t *labels, size_t B, size_t K, double T,
                   double alpha, float *dlogits);

/* kdl_mse_logits: logit matching (Ba & Caruana 2014),
 * 0.5 * mean over b of sum_k (z_bk - t_bk)^2.
 *   logits (B,K), target_logits (B,K), dlogits (B,K) = (z - t) / B */
double kdl_mse_logits(const float *logits, const float *target_logits,
                      size_t B, size_t K, float *dlogits);

/* kdl_hint: a hint (Romero et al. 2015, FitNets): the mean squared error
 * between the regressor's outputs r and the teacher's features t, over
 * the B rows and F features, weighted by w:
 *   w / (B F) * sum_bf (r_bf - t_bf)^2
 *   r (B,F), t (B,F), dr (B,F) = 2 w (r - t) / (B F) */
double kdl_hint(const float *r, const float *t, size_t B, size_t F, double w,
                float *dr);

#endif
