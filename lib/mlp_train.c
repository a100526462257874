/* mlp_train.c: training the multilayer perceptron: forward with dropout,
 * backward, SGD with momentum or AdamW and max-norm, and image jitter (see
 * mlp.h; the model and inference are mlp.c). */
#include "mlp.h"
#include "mlp_impl.h"

#include "blas.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* dropout: zero each of the n values of x with probability p and scale
 * the rest by 1/(1-p) (inverted dropout). One 64-bit draw decides two
 * values, each by its 32 bits against p * 2^32. x is (n). */
static void
dropout(float *x, size_t n, float p, kdr_rng *rng)
{
	uint64_t thr = (uint64_t)ldexp((double)p, 32);
	float keep = (float)(1.0 / (1.0 - (double)p));
	size_t i;

	for (i = 0; i + 1 < n; i += 2) {
		uint64_t r = kdr_next(rng);
		x[i] = (r & 0xFFFFFFFFu) < thr ? 0.0f : x[i] * keep;
		x[i + 1] = (r >> 32) < thr ? 0.0f : x[i + 1] * keep;
	}
	if (i < n)
		x[i] = (kdr_next(rng) >> 32) < thr ? 0.0f : x[i] * keep;
}

/* ---- training ---- */

struct kdm_train {
	kdm_model *m;      /* the model trained, updated in place */
	kdm_opts o;        /* current options */
	size_t max_batch;  /* rows the buffers hold */
	size_t B;          /* rows of the last forward, 0 before any */
	int have_grads;    /* grads hold the result of a backward */
	float *act[KDM_MAX_LAYERS]; /* act[l] (max_batch, sizes[l]): input of
	                     * layer l after standardisation, ReLU, dropout */
	float *logits;     /* (max_batch, K) output of the last forward */
	float *d[2];       /* (max_batch, maxw) gradients of hidden
	                    * activations, ping-pong */
	float *grads;      /* (nparams) aligned with m->params */
	float *vel;        /* (nparams) momentum velocities (SGD) or first
	                    * moments (Adam) */
	float *sq;         /* (nparams) Adam's second moments, or NULL */
	uint64_t steps;    /* steps taken (Adam's bias correction) */
	float *buf;        /* the one allocation all of the above point into */
};

static int
opts_ok(const kdm_opts *o, kd_err *e)
{
	if (!(o->input_dropout >= 0.0f && o->input_dropout < 1.0f) ||
	    !(o->dropout >= 0.0f && o->dropout < 1.0f)) {
		kd_err_set(e, KD_EUSAGE, "dropout rates must be in [0, 1)");
		return 0;
	}
	if (!(o->momentum >= 0.0f && o->momentum < 1.0f)) {
		kd_err_set(e, KD_EUSAGE, "momentum must be in [0, 1)");
		return 0;
	}
	if (!(o->maxnorm >= 0.0f) || !isfinite(o->maxnorm)) {
		kd_err_set(e, KD_EUSAGE, "max-norm must be finite and >= 0");
		return 0;
	}
	if (!(o->weight_decay >= 0.0f) || !isfinite(o->weight_decay)) {
		kd_err_set(e, KD_EUSAGE, "weight decay must be finite and >= 0");
		return 0;
	}
	if (o->optimizer != KDM_SGD && o->optimizer != KDM_ADAM) {
		kd_err_set(e, KD_EUSAGE, "unknown optimizer %d", o->optimizer);
		return 0;
	}
	return 1;
}

kdm_train *
kdm_train_new(kdm_model *m, size_t max_batch, const kdm_opts *opts,
              kd_err *e)
{
	static const kdm_opts zero;
	kdm_train *t;
	size_t total = 0, n, off = 0, L = m->n_layers;
	int ok = 1;

	if (!opts)
		opts = &zero;
	if (!opts_ok(opts, e))
		return NULL;
	if (max_batch < 1 || max_batch > INT_MAX) {
		kd_err_set(e, KD_EUSAGE, "batch size %zu is out of range "
		           "(1 to %d)", max_batch, INT_MAX);
		return NULL;
	}
	/* count the floats: activations of every layer input, logits, two
	 * gradient buffers, grads, velocities and (Adam) second moments */
	for (size_t l = 0; l <= L && ok; l++) {
		ok = kdm_mul_ok(max_batch, m->sizes[l], &n) && total <= SIZE_MAX - n;
		total += ok ? n : 0;
	}
	ok = ok && kdm_mul_ok(max_batch, kdm_max_hidden(m), &n) &&
	     n <= (SIZE_MAX - total) / 2;
	if (ok)
		total += 2 * n;
	ok = ok && m->nparams <= (SIZE_MAX - total) / 3;
	if (ok)
		total += (opts->optimizer == KDM_ADAM ? 3 : 2) * m->nparams;
	ok = ok && total <= SIZE_MAX / sizeof(float);
	t = ok ? calloc(1, sizeof *t) : NULL;
	if (t)
		t->buf = calloc(total, sizeof *t->buf);
	if (!t || !t->buf) {
		free(t);
		kd_err_set(e, KD_ENOMEM, "out of memory for training state "
		           "(batch %zu)", max_batch);
		return NULL;
	}
	t->m = m;
	t->o = *opts;
	t->max_batch = max_batch;
	for (size_t l = 0; l < L; l++) {
		t->act[l] = t->buf + off;
		off += max_batch * m->sizes[l];
	}
	t->logits = t->buf + off;
	off += max_batch * m->K;
	t->d[0] = t->buf + off;
	off += max_batch * kdm_max_hidden(m);
	t->d[1] = t->buf + off;
	off += max_batch * kdm_max_hidden(m);
	t->grads = t->buf + off;
	off += m->nparams;
	t->vel = t->buf + off;
	off += m->nparams;
	if (opts->optimizer == KDM_ADAM)
		t->sq = t->buf + off;
	return t;
}

void
kdm_train_free(kdm_train *t)
{
	if (!t)
		return;
	free(t->buf);
	free(t);
}

int
kdm_train_set_opts(kdm_train *t, const kdm_opts *opts, kd_err *e)
{
	if (!opts_ok(opts, e))
		return -1;
	if (opts->optimizer != t->o.optimizer) {
		kd_err_set(e, KD_EUSAGE, "the optimizer cannot change during training");
		return -1;
	}
	t->o = *opts;
	return 0;
}

const float *
kdm_train_forward(kdm_train *t, const float *X, size_t B, kdr_rng *rng)
{
	const kdm_model *m = t->m;
	size_t L = m->n_layers;

	if (B == 0 || B > t->max_batch)
		return NULL;
	if (!rng && (t->o.input_dropout > 0.0f || t->o.dropout > 0.0f))
		return NULL;
	// X is (B,D), act[0] is (B,D)
	kdm_standardize_rows(m, X, B, t->act[0]);
	if (t->o.input_dropout > 0.0f)
		dropout(t->act[0], B * m->D, t->o.input_dropout, rng);
	for (size_t l = 0; l < L; l++) {
		int hidden = l < L - 1;
		float *out = hidden ? t->act[l + 1] : t->logits;
		// act[l] is (B, sizes[l]), W[l] is (sizes[l+1], sizes[l]),
		// out is (B, sizes[l+1])
		kdm_linear(t->act[l], m->W[l], m->b[l], B, m->sizes[l],
		       m->sizes[l + 1], hidden, out);
		if (hidden && t->o.dropout > 0.0f)
			dropout(out, B * m->sizes[l + 1], t->o.dropout, rng);
	}
	t->B = B;
	t->have_grads = 0;
	return t->logits;
}

/* bias_grad: gb (n) = the sum over the B rows of dout (B, n), row by row
 * (restrict: the arrays never overlap, so the adds vectorize without a
 * check each row) */
static void
bias_grad(float *restrict gb, const float *restrict dout, size_t B, size_t n)
{
	memcpy(gb, dout, n * sizeof *gb);
	for (size_t r = 1; r < B; r++) {
		const float *restrict d = dout + r * n;
		for (size_t j = 0; j < n; j++)
			gb[j] += d[j];
	}
}

/* relu_grad: din (n) through dropout and ReLU: in = relu(z) * mask with
 * mask 0 or keep, so in > 0 exactly where the unit was active and kept,
 * and d in/dz is keep there */
static void
relu_grad(float *restrict din, const float *restrict in, size_t n, float keep)
{
	for (size_t i = 0; i < n; i++)
		din[i] = in[i] > 0.0f ? din[i] * keep : 0.0f;
}

void
kdm_train_backward(kdm_train *t, const float *dlogits)
{
	kdm_train_backward_hint(t, dlogits, 0, NULL);
}

const float *
kdm_train_hidden(const kdm_train *t, size_t layer)
{
	if (t->B == 0 || layer < 1 || layer >= t->m->n_layers)
		return NULL;
	return t->act[layer];
}

void
kdm_train_backward_hint(kdm_train *t, const float *dlogits, size_t layer,
                        const float *dh)
{
	kdm_model *m = t->m;
	size_t B = t->B, L = m->n_layers;
	const float *dout = dlogits;
	/* a kept hidden unit was scaled by 1/(1-p), so its gradient is too */
	float keep = (float)(1.0 / (1.0 - (double)t->o.dropout));

	if (B == 0)
		return;
	for (size_t l = L; l-- > 0;) {
		size_t n_in = m->sizes[l], n_out = m->sizes[l + 1];
		float *gW = t->grads + (m->W[l] - m->params);
		float *gb = t->grads + (m->b[l] - m->params);
		const float *in = t->act[l];

		// dout is (B,n_out), in is (B,n_in), gW is (n_out,n_in):
		// gW = dout^T * in
		kdb_sgemm(KDB_T, KDB_N, n_out, n_in, B, 1.0f, dout, n_out, in,
		          n_in, 0.0f, gW, n_in);
		bias_grad(gb, dout, B, n_out);
		if (l == 0)
			break; /* no gradient wanted for the inputs */
		{
			float *din = t->d[l % 2];
			// dout is (B,n_out), W[l] is (n_out,n_in), din is
			// (B,n_in): din = dout * W
			kdb_sgemm(KDB_N, KDB_N, B, n_in, n_out, 1.0f, dout,
			          n_out, m->W[l], n_in, 0.0f, din, n_in);
			// the hint's gradient, dh (B,n_in), joins the
			// logits' at the output of hidden layer l
			if (dh && l == layer)
				for (size_t i = 0; i < B * n_in; i++)
					din[i] += dh[i];
			relu_grad(din, in, B * n_in, keep);
			dout = din;
		}
	}
	t->have_grads = 1;
}

void
kdm_train_zero_grads(kdm_train *t)
{
	memset(t->grads, 0, t->m->nparams * sizeof *t->grads);
	t->have_grads = 1;
}

/* update_row: one step of SGD with momentum on the n incoming weights w
 * of a unit, with gradients g and velocities v (n each):
 * v = mu*v - lr*(g + wd*w), w += v. Returns the squared L2 norm of the
 * new w, summed in 8 independent lanes so the loop is not held up by the
 * latency of one long chain of additions. */
static float
update_row(float *restrict w, const float *restrict g, float *restrict v, size_t n,
           float mu, float lr, float wd)
{
	float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		for (int k = 0; k < 8; k++) {
			float vi = mu * v[i + k] - lr * (g[i + k] + wd * w[i + k]);
			float wi = w[i + k] + vi;
			v[i + k] = vi;
			w[i + k] = wi;
			s[k] += wi * wi;
		}
	}
	for (; i < n; i++) {
		float vi = mu * v[i] - lr * (g[i] + wd * w[i]);
		float wi = w[i] + vi;
		v[i] = vi;
		w[i] = wi;
		s[0] += wi * wi;
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* adam_row: one AdamW step on n parameters w with gradients g, first
 * moments m and second moments v; a = lr/(1-b1^t), c = 1/sqrt(1-b2^t),
 * d = lr*wd (0 for biases). Returns the squared L2 norm of the new w,
 * in 8 lanes as update_row. */
static float
adam_row(float *restrict w, const float *restrict g, float *restrict m,
         float *restrict v, size_t n, float a, float c, float d)
{
	const float b1 = (float)KDM_ADAM_BETA1, b2 = (float)KDM_ADAM_BETA2;
	float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		for (int k = 0; k < 8; k++) {
			float gi = g[i + k];
			float mi = b1 * m[i + k] + (1.0f - b1) * gi;
			float vi = b2 * v[i + k] + (1.0f - b2) * gi * gi;
			float wi = w[i + k] - a * mi / (sqrtf(vi) * c + KDM_ADAM_EPS) - d * w[i + k];
			m[i + k] = mi;
			v[i + k] = vi;
			w[i + k] = wi;
			s[k] += wi * wi;
		}
	}
	for (; i < n; i++) {
		float gi = g[i];
		float mi = b1 * m[i] + (1.0f - b1) * gi;
		float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
		float wi = w[i] - a * mi / (sqrtf(vi) * c + KDM_ADAM_EPS) - d * w[i];
		m[i] = mi;
		v[i] = vi;
		w[i] = wi;
		s[0] += wi * wi;
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* step_layer: the update of n_out units of n_in incoming weights each,
 * starting at params offset ow, then max-norm on each; and of their
 * n_out biases at ob */
static void
step_layer(kdm_train *t, size_t ow, size_t ob, size_t n_out, size_t n_in,
           float lr, float a, float c)
{
	kdm_model *m = t->m;
	float mu = t->o.momentum, wd = t->o.weight_decay, cap = t->o.maxnorm;
	int adam = t->o.optimizer == KDM_ADAM;

	// W[l], its grads and moments are (n_out,n_in): row j holds the
	// incoming weights of unit j, updated and then, when longer than
	// maxnorm, scaled back to length maxnorm while still in cache
	for (size_t j = 0; j < n_out; j++) {
		size_t o = ow + j * n_in;
		float *w = m->params + o, s;
		if (adam)
			s = adam_row(w, t->grads + o, t->vel + o, t->sq + o, n_in, a, c, lr * wd);
		else
			s = update_row(w, t->grads + o, t->vel + o, n_in, mu, lr, wd);
		if (cap > 0.0f && s > cap * cap) {
			float f = cap / sqrtf(s);
			for (size_t i = 0; i < n_in; i++)
				w[i] *= f;
		}
	}
	// the n_out biases: no decay, no max-norm
	if (adam) {
		adam_row(m->params + ob, t->grads + ob, t->vel + ob, t->sq + ob, n_out, a, c, 0.0f);
		return;
	}
	float *bb = m->params + ob, *gb = t->grads + ob, *vb = t->vel + ob;
	for (size_t i = 0; i < n_out; i++) {
		vb[i] = mu * vb[i] - lr * gb[i];
		bb[i] += vb[i];
	}
}

void
kdm_train_step(kdm_train *t, float lr)
{
	kdm_model *m = t->m;
	float a = 0.0f, c = 0.0f;

	if (!t->have_grads)
		return;
	t->steps++;
	if (t->o.optimizer == KDM_ADAM) {
		double st = (double)t->steps;
		a = (float)((double)lr / (1.0 - pow(KDM_ADAM_BETA1, st)));
		c = (float)(1.0 / sqrt(1.0 - pow(KDM_ADAM_BETA2, st)));
	}
	for (size_t l = 0; l < m->n_layers; l++)
		step_layer(t, (size_t)(m->W[l] - m->params), (size_t)(m->b[l] - m->params),
		           m->sizes[l + 1], m->sizes[l], lr, a, c);
}

uint64_t
kdm_train_steps(const kdm_train *t)
{
	return t->steps;
}

void
kdm_train_set_steps(kdm_train *t, uint64_t steps)
{
	t->steps = steps;
}

float *
kdm_train_second_moments(kdm_train *t)
{
	return t->sq;
}

float *
kdm_train_grads(kdm_train *t)
{
	return t->grads;
}

float *
kdm_train_velocity(kdm_train *t)
{
	return t->vel;
}

/* ---- augmentation ---- */

void
kdm_shift(const float *img, float *out, size_t w, size_t h, int dx, int dy)
{
	/* rows y of out with a source row y - dy inside the image, columns
	 * likewise; everything else is 0 */
	for (size_t y = 0; y < h; y++) {
		float *o = out + y * w;
		long sy = (long)y - dy;
		if (sy < 0 || sy >= (long)h) {
			memset(o, 0, w * sizeof *o);
			continue;
		}
		const float *s = img + (size_t)sy * w;
		for (size_t x = 0; x < w; x++) {
			long sx = (long)x - dx;
			o[x] = sx >= 0 && sx < (long)w ? s[sx] : 0.0f;
		}
	}
}

/* mirror one (h,w) image left to right, in place */
static void
mirror_one(float *img, size_t w, size_t h)
{
	for (size_t r = 0; r < h; r++) {
		float *row = img + r * w;
		for (size_t c = 0; c < w / 2; c++) {
			float t = row[c];
			row[c] = row[w - 1 - c];
			row[w - 1 - c] = t;
		}
	}
}

void
kdm_flip(float *X, size_t B, size_t w, size_t h, kdr_rng *rng)
{
	for (size_t b = 0; b < B; b++)
		if (kdr_below(rng, 2) != 0)
			mirror_one(X + b * w * h, w, h);
}

void
kdm_mirror(float *X, size_t B, size_t w, size_t h)
{
	for (size_t b = 0; b < B; b++)
		mirror_one(X + b * w * h, w, h);
}

void
kdm_jitter(const float *X, float *out, size_t B, size_t w, size_t h,
           int maxshift, kdr_rng *rng)
{
	size_t n = w * h;

	if (maxshift <= 0) {
		memcpy(out, X, B * n * sizeof *out);
		return;
	}
	for (size_t b = 0; b < B; b++) {
		uint64_t span = 2 * (uint64_t)maxshift + 1;
		int dx = (int)((long long)kdr_below(rng, span) - maxshift);
		int dy = (int)((long long)kdr_below(rng, span) - maxshift);
		kdm_shift(X + b * n, out + b * n, w, h, dx, dy);
	}
}
