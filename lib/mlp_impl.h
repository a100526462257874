/* mlp_impl.h: what mlp.c shares with mlp_train.c (the model's kernels and
 * size checks); not for other modules. */
#ifndef KD_MLP_IMPL_H
#define KD_MLP_IMPL_H

#include <stddef.h>

#include "mlp.h"

/* kdm_mul_ok: *r = a * b; 0 when that overflows size_t */
int kdm_mul_ok(size_t a, size_t b, size_t *r);

/* kdm_max_hidden: the widest hidden layer of m (0 when it has none) */
size_t kdm_max_hidden(const kdm_model *m);

/* kdm_standardize_rows: out = (X - mean) * istd, or a plain copy when m
 * has no standardisation. X and out are (B, D). */
void kdm_standardize_rows(const kdm_model *m, const float *X, size_t B, float *out);

/* kdm_linear: out = in W^T + b, then max(0, .) when relu. in is (B,
 * n_in), W (n_out, n_in), b (n_out), out (B, n_out). */
void kdm_linear(const float *in, const float *W, const float *bias, size_t B,
                size_t n_in, size_t n_out, int relu, float *out);

#endif
