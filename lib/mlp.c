/* mlp.c: the multilayer perceptron: sizes, construction, the kernels of a
 * layer, and inference (see mlp.h; training is mlp_train.c). */
#include "mlp.h"
#include "mlp_impl.h"
#include "text.h"

#include "blas.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- sizes ---- */

/* kdm_mul_ok: *r = a * b unless it overflows a size_t */
int
kdm_mul_ok(size_t a, size_t b, size_t *r)
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

/* kdm_max_hidden: the widest hidden layer of m, 0 when there is none */
size_t
kdm_max_hidden(const kdm_model *m)
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

/* kdm_standardize_rows: out = (X - mean) * istd, or a plain copy when m has no
 * standardisation. X is (B,D), mean and istd are (D), out is (B,D). */
void
kdm_standardize_rows(const kdm_model *m, const float *X, size_t B, float *out)
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

/* kdm_linear: out = in * W^T, then + b and, when relu, max(0, .).
 * in is (B,n_in), W is (n_out,n_in), b is (n_out), out is (B,n_out) */
void
kdm_linear(const float *in, const float *W, const float *bias, size_t B,
       size_t n_in, size_t n_out, int relu, float *out)
{
	kdb_sgemm(KDB_N, KDB_T, B, n_out, n_in, 1.0f, in, n_in, W, n_in, 0.0f,
	          out, n_out);
	for (size_t r = 0; r < B; r++) {
		float *restrict o = out + r * n_out;
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
	if (!kdm_mul_ok(max_batch, m->D, &nx) ||
	    !kdm_mul_ok(max_batch, kdm_max_hidden(m), &nh) || nh > SIZE_MAX / 2 - nx ||
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
	ws->maxw = kdm_max_hidden(m);
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

	if (B > ws->max_batch || ws->D != m->D || kdm_max_hidden(m) > ws->maxw)
		return -1;
	if (B == 0)
		return 0;
	if (m->standardize) {
		kdm_standardize_rows(m, X, B, ws->x);
		in = ws->x;
	}
	for (size_t l = 0; l < (logits ? L : L - 1); l++) {
		size_t w = m->sizes[l + 1];
		float *out = l == L - 1 ? logits : ws->h[l % 2];
		// in is (B, sizes[l]), W[l] is (w, sizes[l]), out is (B, w)
		kdm_linear(in, m->W[l], m->b[l], B, m->sizes[l], w, l < L - 1, out);
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

int
kdm_hidden(const kdm_model *m, kdm_ws *ws, const float *X, size_t B, size_t layer,
           float *out)
{
	const float *in = X;

	if (layer < 1 || layer >= m->n_layers || B > ws->max_batch || ws->D != m->D ||
	    kdm_max_hidden(m) > ws->maxw)
		return -1;
	if (B == 0)
		return 0;
	if (m->standardize) {
		kdm_standardize_rows(m, X, B, ws->x);
		in = ws->x;
	}
	for (size_t l = 0; l < layer; l++) {
		float *o = l == layer - 1 ? out : ws->h[l % 2];
		kdm_linear(in, m->W[l], m->b[l], B, m->sizes[l], m->sizes[l + 1], 1, o);
		in = o;
	}
	return 0;
}
