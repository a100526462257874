/* mlp.c: the multilayer perceptron: construction, forward and backward
 * passes, SGD with momentum and max-norm, and image jitter (see mlp.h). */
#include "mlp.h"
#include "text.h"

#include "blas.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- sizes ---- */

/* mul_ok: *r = a * b unless it overflows a size_t */
static int
mul_ok(size_t a, size_t b, size_t *r)
{
	if (b && a > SIZE_MAX / b)
		return 0;
	*r = a * b;
	return 1;
}

int
kdm_check_sizes(const size_t *sizes, size_t n_layers, uint64_t *nparams,
                kd_err *e)
{
	uint64_t n = 0;

	if (n_layers < 1 || n_layers > KDM_MAX_LAYERS) {
		kd_err_set(e, KD_ERANGE,
		           "%zu weight layers is out of range (1 to %d)",
		           n_layers, KDM_MAX_LAYERS);
		return -1;
	}
	if (sizes[0] < 1 || sizes[0] > KDM_MAX_D) {
		kd_err_set(e, KD_ERANGE,
		           "input dimension %zu is out of range (1 to %zu)",
		           sizes[0], KDM_MAX_D);
		return -1;
	}
	for (size_t l = 1; l <= n_layers; l++) {
		if (sizes[l] < 1 || sizes[l] > KDM_MAX_WIDTH) {
			kd_err_set(e, KD_ERANGE,
			           "%s width %zu is out of range (1 to %zu)",
			           l == n_layers ? "output" : "layer", sizes[l],
			           KDM_MAX_WIDTH);
			return -1;
		}
	}
	/* each term is at most 2^20 * 2^24 + 2^20 and there are at most 64:
	 * no overflow in 64 bits */
	for (size_t l = 0; l < n_layers; l++)
		n += (uint64_t)sizes[l + 1] * sizes[l] + sizes[l + 1];
	if (n > KDM_MAX_PARAMS) {
		kd_err_set(e, KD_ERANGE,
		           "%llu parameters is too many (at most %llu)",
		           (unsigned long long)n,
		           (unsigned long long)KDM_MAX_PARAMS);
		return -1;
	}
	if (nparams)
		*nparams = n;
	return 0;
}

/* max_hidden: the widest hidden layer of m, 0 when there is none */
static size_t
max_hidden(const kdm_model *m)
{
	size_t w = 0;
	for (size_t l = 1; l < m->n_layers; l++)
		if (m->sizes[l] > w)
			w = m->sizes[l];
	return w;
}

/* ---- construction ---- */

kdm_model *
kdm_alloc(const size_t *sizes, size_t n_layers, kd_err *e)
{
	kdm_model *m;
	uint64_t np;
	size_t nfloat, off = 0;

	if (kdm_check_sizes(sizes, n_layers, &np, e) < 0)
		return NULL;
	m = calloc(1, sizeof *m);
	/* parameters, then mean, std and istd (D each), in one allocation */
	nfloat = (size_t)np + 3 * sizes[0];
	if (m)
		m->params = calloc(nfloat, sizeof *m->params);
	if (!m || !m->params) {
		free(m);
		kd_err_set(e, KD_ENOMEM, "out of memory for a model of %llu "
		           "parameters", (unsigned long long)np);
		return NULL;
	}
	m->n_layers = n_layers;
	memcpy(m->sizes, sizes, (n_layers + 1) * sizeof *sizes);
	m->D = sizes[0];
	m->K = sizes[n_layers];
	m->nparams = (size_t)np;
	for (size_t l = 0; l < n_layers; l++) {
		m->W[l] = m->params + off;
		off += sizes[l + 1] * sizes[l];
		m->b[l] = m->params + off;
		off += sizes[l + 1];
	}
	m->mean = m->params + off;
	m->std = m->mean + m->D;
	m->istd = m->std + m->D;
	for (size_t i = 0; i < m->D; i++)
		m->std[i] = m->istd[i] = 1.0f;
	return m;
}

kdm_model *
kdm_new(size_t D, const size_t *hidden, size_t n_hidden, size_t K,
        uint64_t seed, kd_err *e)
{
	size_t sizes[KDM_MAX_LAYERS + 1];
	kdm_model *m;
	kdr_rng rng;

	if (n_hidden >= KDM_MAX_LAYERS) {
		kd_err_set(e, KD_ERANGE, "%zu hidden layers is too many "
		           "(at most %d)", n_hidden, KDM_MAX_LAYERS - 1);
		return NULL;
	}
	sizes[0] = D;
	for (size_t l = 0; l < n_hidden; l++)
		sizes[l + 1] = hidden[l];
	sizes[n_hidden + 1] = K;
	m = kdm_alloc(sizes, n_hidden + 1, e);
	if (!m)
		return NULL;
	/* He initialisation: N(0, 2/fan_in) keeps the activation variance
	 * steady through ReLU layers; biases stay 0 */
	kdr_init(&rng, seed);
	for (size_t l = 0; l < m->n_layers; l++) {
		size_t n = m->sizes[l + 1] * m->sizes[l];
		double sd = sqrt(2.0 / (double)m->sizes[l]);
		for (size_t i = 0; i < n; i++)
			m->W[l][i] = (float)(sd * kdr_normal(&rng));
	}
	return m;
}

void
kdm_free(kdm_model *m)
{
	if (!m)
		return;
	free(m->params);
	free(m->names);
	free(m->name_off);
	free(m);
}

int
kdm_set_standardize(kdm_model *m, const float *mean, const float *std,
                    kd_err *e)
{
	size_t i;

	if (!mean || !std) {
		m->standardize = 0;
		for (i = 0; i < m->D; i++) {
			m->mean[i] = 0.0f;
			m->std[i] = m->istd[i] = 1.0f;
		}
		return 0;
	}
	for (i = 0; i < m->D; i++) {
		if (!isfinite(mean[i])) {
			kd_err_set(e, KD_EFORMAT, "feature %zu: mean %g is not "
			           "finite", i + 1, (double)mean[i]);
			return -1;
		}
		if (!isfinite(std[i]) || std[i] < 0.0f) {
			kd_err_set(e, KD_EFORMAT, "feature %zu: standard "
			           "deviation %g is not a finite value >= 0",
			           i + 1, (double)std[i]);
			return -1;
		}
	}
	for (i = 0; i < m->D; i++) {
		m->mean[i] = mean[i];
		m->std[i] = std[i];
		/* a constant feature: leave it centred but unscaled */
		m->istd[i] = std[i] < KDM_STD_MIN ? 1.0f : 1.0f / std[i];
	}
	m->standardize = 1;
	return 0;
}

int
kdm_set_names(kdm_model *m, const char *blob, size_t len, kd_err *e)
{
	char *copy;
	size_t *off, k = 0, start = 0;
	const char *bad;

	if (!blob) {
		free(m->names);
		free(m->name_off);
		m->names = NULL;
		m->name_off = NULL;
		m->names_len = 0;
		return 0;
	}
	if (len == 0 || blob[len - 1] != '\0') {
		kd_err_set(e, KD_EFORMAT, "class names do not end with a NUL");
		return -1;
	}
	if ((bad = kdx_names_bad(blob, len))) {
		kd_err_set(e, KD_EFORMAT, "class names hold %s", bad);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if (blob[i] == '\0')
			k++;
	if (k != m->K) {
		kd_err_set(e, KD_EMISMATCH, "%zu class names for %zu classes",
		           k, m->K);
		return -1;
	}
	copy = malloc(len);
	off = malloc(m->K * sizeof *off);
	if (!copy || !off) {
		free(copy);
		free(off);
		kd_err_set(e, KD_ENOMEM, "out of memory for class names");
		return -1;
	}
	memcpy(copy, blob, len);
	k = 0;
	for (size_t i = 0; i < len; i++) {
		if (copy[i] == '\0') {
			off[k++] = start;
			start = i + 1;
		}
	}
	free(m->names);
	free(m->name_off);
	m->names = copy;
	m->name_off = off;
	m->names_len = len;
	return 0;
}

int
kdm_set_name_list(kdm_model *m, const char *const *names, kd_err *e)
{
	size_t len = 0, pos = 0;
	char *blob;
	int r;

	for (size_t k = 0; k < m->K; k++)
		len += strlen(names[k]) + 1;
	blob = malloc(len ? len : 1);
	if (!blob) {
		kd_err_set(e, KD_ENOMEM, "out of memory for class names");
		return -1;
	}
	for (size_t k = 0; k < m->K; k++) {
		size_t n = strlen(names[k]) + 1;
		memcpy(blob + pos, names[k], n);
		pos += n;
	}
	r = kdm_set_names(m, blob, len, e);
	free(blob);
	return r;
}

const char *
kdm_name(const kdm_model *m, size_t k)
{
	if (!m->names || k >= m->K)
		return NULL;
	return m->names + m->name_off[k];
}

float *
kdm_params(kdm_model *m)
{
	return m->params;
}

size_t
kdm_nparams(const kdm_model *m)
{
	return m->nparams;
}

/* ---- kernels ---- */

/* standardize: out = (X - mean) * istd, or a plain copy when m has no
 * standardisation. X is (B,D), mean and istd are (D), out is (B,D). */
static void
standardize(const kdm_model *m, const float *X, size_t B, float *out)
{
	size_t D = m->D;

	if (!m->standardize) {
		memcpy(out, X, B * D * sizeof *out);
		return;
	}
	for (size_t b = 0; b < B; b++) {
		const float *x = X + b * D;
		float *o = out + b * D;
		for (size_t i = 0; i < D; i++)
			o[i] = (x[i] - m->mean[i]) * m->istd[i];
	}
}

/* linear: out = in * W^T, then + b and, when relu, max(0, .).
 * in is (B,n_in), W is (n_out,n_in), b is (n_out), out is (B,n_out) */
static void
linear(const float *in, const float *W, const float *bias, size_t B,
       size_t n_in, size_t n_out, int relu, float *out)
{
	kdb_sgemm(KDB_N, KDB_T, B, n_out, n_in, 1.0f, in, n_in, W, n_in, 0.0f,
	          out, n_out);
	for (size_t r = 0; r < B; r++) {
		float *o = out + r * n_out;
		if (relu) {
			for (size_t j = 0; j < n_out; j++) {
				float v = o[j] + bias[j];
				o[j] = v > 0.0f ? v : 0.0f;
			}
		} else {
			for (size_t j = 0; j < n_out; j++)
				o[j] += bias[j];
		}
	}
}

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

/* ---- inference ---- */

struct kdm_ws {
	size_t max_batch; /* rows the buffers hold */
	size_t D;         /* input width they were sized for */
	size_t maxw;      /* widest hidden layer they were sized for */
	float *x;         /* (max_batch, D) standardised input */
	float *h[2];      /* (max_batch, maxw) hidden activations, ping-pong */
};

kdm_ws *
kdm_ws_new(const kdm_model *m, size_t max_batch)
{
	kdm_ws *ws;
	size_t nx, nh;

	if (max_batch < 1 || max_batch > INT_MAX)
		return NULL;
	if (!mul_ok(max_batch, m->D, &nx) ||
	    !mul_ok(max_batch, max_hidden(m), &nh) || nh > SIZE_MAX / 2 - nx ||
	    nx + 2 * nh > SIZE_MAX / sizeof(float))
		return NULL;
	ws = calloc(1, sizeof *ws);
	if (!ws)
		return NULL;
	ws->x = malloc((nx + 2 * nh) * sizeof *ws->x);
	if (!ws->x) {
		free(ws);
		return NULL;
	}
	ws->h[0] = ws->x + nx;
	ws->h[1] = ws->h[0] + nh;
	ws->max_batch = max_batch;
	ws->D = m->D;
	ws->maxw = max_hidden(m);
	return ws;
}

void
kdm_ws_free(kdm_ws *ws)
{
	if (!ws)
		return;
	free(ws->x);
	free(ws);
}

/* run_layers: run m on X (B,D) in ws: every layer into logits (B,K), or
 * with logits NULL the hidden layers only; with live not NULL, mark the
 * hidden units above 0 for some row as kdm_live_units says. -1 (nothing
 * written) when ws does not fit m or B rows. */
static int
run_layers(const kdm_model *m, kdm_ws *ws, const float *X, size_t B,
           float *logits, unsigned char *live)
{
	const float *in = X; /* read-only: no copy needed */
	size_t L = m->n_layers;

	if (B > ws->max_batch || ws->D != m->D || max_hidden(m) > ws->maxw)
		return -1;
	if (B == 0)
		return 0;
	if (m->standardize) {
		standardize(m, X, B, ws->x);
		in = ws->x;
	}
	for (size_t l = 0; l < (logits ? L : L - 1); l++) {
		size_t w = m->sizes[l + 1];
		float *out = l == L - 1 ? logits : ws->h[l % 2];
		// in is (B, sizes[l]), W[l] is (w, sizes[l]), out is (B, w)
		linear(in, m->W[l], m->b[l], B, m->sizes[l], w, l < L - 1, out);
		if (live && l < L - 1) {
			for (size_t i = 0; i < B; i++)
				for (size_t u = 0; u < w; u++)
					live[u] |= out[i * w + u] > 0.0f;
			live += w;
		}
		in = out;
	}
	return 0;
}

int
kdm_forward(const kdm_model *m, kdm_ws *ws, const float *X, size_t B,
            float *logits)
{
	return run_layers(m, ws, X, B, logits, NULL);
}

size_t
kdm_hidden_units(const kdm_model *m)
{
	size_t n = 0;

	for (size_t l = 1; l < m->n_layers; l++)
		n += m->sizes[l];
	return n;
}

int
kdm_logits_bad(const float *z, size_t K, const char *model, const char *data,
               size_t row, size_t line, kd_err *e)
{
	for (size_t k = 0; k < K; k++) {
		if (isfinite(z[k]))
			continue;
		if (line)
			kd_err_set(e, KD_ERANGE, "'%s':%zu: model '%s' gives logit %zu = %g "
			           "(the inputs are too large for it)", data, line, model, k + 1,
			           (double)z[k]);
		else
			kd_err_set(e, KD_ERANGE, "'%s': row %zu: model '%s' gives logit %zu = %g "
			           "(the inputs are too large for it)", data, row + 1, model, k + 1,
			           (double)z[k]);
		return -1;
	}
	return 0;
}

int
kdm_live_units(const kdm_model *m, kdm_ws *ws, const float *X, size_t B,
               unsigned char *live)
{
	return run_layers(m, ws, X, B, NULL, live);
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
		ok = mul_ok(max_batch, m->sizes[l], &n) && total <= SIZE_MAX - n;
		total += ok ? n : 0;
	}
	ok = ok && mul_ok(max_batch, max_hidden(m), &n) &&
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
	off += max_batch * max_hidden(m);
	t->d[1] = t->buf + off;
	off += max_batch * max_hidden(m);
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
	standardize(m, X, B, t->act[0]);
	if (t->o.input_dropout > 0.0f)
		dropout(t->act[0], B * m->D, t->o.input_dropout, rng);
	for (size_t l = 0; l < L; l++) {
		int hidden = l < L - 1;
		float *out = hidden ? t->act[l + 1] : t->logits;
		// act[l] is (B, sizes[l]), W[l] is (sizes[l+1], sizes[l]),
		// out is (B, sizes[l+1])
		linear(t->act[l], m->W[l], m->b[l], B, m->sizes[l],
		       m->sizes[l + 1], hidden, out);
		if (hidden && t->o.dropout > 0.0f)
			dropout(out, B * m->sizes[l + 1], t->o.dropout, rng);
	}
	t->B = B;
	t->have_grads = 0;
	return t->logits;
}

void
kdm_train_backward(kdm_train *t, const float *dlogits)
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
		// gb (n_out) = sum over the B rows of dout
		memcpy(gb, dout, n_out * sizeof *gb);
		for (size_t r = 1; r < B; r++) {
			const float *d = dout + r * n_out;
			for (size_t j = 0; j < n_out; j++)
				gb[j] += d[j];
		}
		if (l == 0)
			break; /* no gradient wanted for the inputs */
		{
			float *din = t->d[l % 2];
			// dout is (B,n_out), W[l] is (n_out,n_in), din is
			// (B,n_in): din = dout * W
			kdb_sgemm(KDB_N, KDB_N, B, n_in, n_out, 1.0f, dout,
			          n_out, m->W[l], n_in, 0.0f, din, n_in);
			// through dropout and ReLU: in = relu(z) * mask with
			// mask 0 or keep, so in > 0 exactly where the unit
			// was active and kept, and d in/dz is keep there
			for (size_t i = 0; i < B * n_in; i++)
				din[i] = in[i] > 0.0f ? din[i] * keep : 0.0f;
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
update_row(float *w, const float *g, float *v, size_t n, float mu, float lr,
           float wd)
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
