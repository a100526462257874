/* test_mlp.c: the perceptron's forward pass against a double-precision
 * reference written here, its parameter gradients against central finite
 * differences of that reference, dropout, the SGD step, max-norm, jitter,
 * learning a toy problem, and repeatability. */
#include "mlp.h"
#include "loss.h"
#include "prob.h"
#include "kdtest.h"

#include <stdlib.h>
#include <string.h>

/* ---- a double-precision reference network ---- */

/* ref_forward: logits (B,K) of raw X (B,D) for the network shaped like m
 * with parameters p (in the order of kdm_params) and m's standardisation;
 * with top not NULL, top[u] is raised to each hidden unit's pre-activation
 * (units numbered as in kdm_live_units) where that is higher */
static void ref_forward_at(const kdm_model *m, const double *p, const float *X,
                           size_t B, double *logits, double *top, size_t layer,
                           double *hid);

static void
ref_forward(const kdm_model *m, const double *p, const float *X, size_t B,
            double *logits, double *top)
{
	ref_forward_at(m, p, X, B, logits, top, 0, NULL);
}

/* ref_forward_at: ref_forward, and with hid not NULL the outputs of
 * hidden layer layer (B, sizes[layer]) after the ReLU */
static void
ref_forward_at(const kdm_model *m, const double *p, const float *X, size_t B,
               double *logits, double *top, size_t layer, double *hid)
{
	size_t maxw = 0;
	for (size_t l = 0; l <= m->n_layers; l++)
		if (m->sizes[l] > maxw)
			maxw = m->sizes[l];
	double *a = malloc(maxw * sizeof *a), *o = malloc(maxw * sizeof *o);

	for (size_t b = 0; b < B; b++) {
		const double *q = p;
		for (size_t i = 0; i < m->D; i++) {
			double x = X[b * m->D + i];
			if (m->standardize) {
				double sd = m->std[i] < 1e-6f ? 1.0 : m->std[i];
				x = (x - m->mean[i]) / sd;
			}
			a[i] = x;
		}
		double *t = top;
		for (size_t l = 0; l < m->n_layers; l++) {
			size_t ni = m->sizes[l], no = m->sizes[l + 1];
			const double *W = q, *bias = q + no * ni;
			for (size_t j = 0; j < no; j++) {
				double s = bias[j];
				for (size_t i = 0; i < ni; i++)
					s += W[j * ni + i] * a[i];
				if (t && l + 1 < m->n_layers && s > t[j])
					t[j] = s;
				o[j] = l + 1 < m->n_layers && s < 0.0 ? 0.0 : s;
			}
			if (t)
				t += no;
			if (hid && l + 1 == layer)
				memcpy(hid + b * no, o, no * sizeof *o);
			memcpy(a, o, no * sizeof *a);
			q += no * ni + no;
		}
		memcpy(logits + b * m->K, a, m->K * sizeof *a);
	}
	free(a);
	free(o);
}

/* ref_loss: hard CE (q NULL) or T^2-scaled soft CE of logits z (B,K) */
static double
ref_loss(const double *z, const int32_t *y, const float *q, size_t B,
         size_t K, double T)
{
	double sum = 0.0;
	for (size_t b = 0; b < B; b++) {
		const double *zb = z + b * K;
		double m = zb[0], s = 0.0, lse;
		for (size_t k = 1; k < K; k++)
			if (zb[k] > m)
				m = zb[k];
		for (size_t k = 0; k < K; k++)
			s += exp((zb[k] - m) / (q ? T : 1.0));
		lse = m / (q ? T : 1.0) + log(s);
		if (!q) {
			sum += lse - zb[y[b]];
		} else {
			for (size_t k = 0; k < K; k++)
				sum -= T * T * q[b * K + k] * (zb[k] / T - lse);
		}
	}
	return sum / (double)B;
}

static double
ref_total(const kdm_model *m, const double *p, const float *X,
          const int32_t *y, const float *q, size_t B, double T)
{
	double *z = malloc(B * m->K * sizeof *z), L;
	ref_forward(m, p, X, B, z, NULL);
	L = ref_loss(z, y, q, B, m->K, T);
	free(z);
	return L;
}

static void
fill_normal(float *x, size_t n, double sd, kdr_rng *r)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(sd * kdr_normal(r));
}

/* ---- tests ---- */

/* gradient_check: forward matches the reference; the gradient of the
 * hard CE (q NULL) or the soft CE at T matches finite differences */
static void
gradient_check(const float *q, double T)
{
	size_t hidden[2] = {7, 6}, D = 5, K = 3, B = 4;
	float X[20], mean[5], sd[5], logits[12], dl[12];
	int32_t y[4] = {0, 2, 1, 2};
	double zr[12], *p;
	kdm_model *m = kdm_new(D, hidden, 2, K, 3, NULL);
	kdm_ws *ws = kdm_ws_new(m, B);
	kdm_train *t = kdm_train_new(m, B, NULL, NULL);
	const float *tl;
	kdr_rng r;
	size_t np, bad = 0;
	float *g;

	KT_CHECK(m && ws && t);
	if (!m || !ws || !t)
		return;
	kdr_init(&r, 99);
	fill_normal(X, B * D, 2.0, &r);
	fill_normal(mean, D, 1.0, &r);
	for (size_t i = 0; i < D; i++)
		sd[i] = 0.5f + kdr_uniform(&r);
	sd[3] = 0.0f; /* a constant feature: scaled by 1 */
	KT_CHECK(kdm_set_standardize(m, mean, sd, NULL) == 0);
	/* biases off zero, so that they matter */
	for (size_t l = 0; l < m->n_layers; l++)
		fill_normal(m->b[l], m->sizes[l + 1], 0.3, &r);
	np = kdm_nparams(m);
	p = malloc(np * sizeof *p);
	for (size_t i = 0; i < np; i++)
		p[i] = kdm_params(m)[i];

	/* the forward passes, inference and training, against the reference */
	KT_CHECK(kdm_forward(m, ws, X, B, logits) == 0);
	ref_forward(m, p, X, B, zr, NULL);
	tl = kdm_train_forward(t, X, B, NULL);
	KT_CHECK(tl != NULL);
	for (size_t i = 0; i < B * K; i++) {
		KT_NEAR(logits[i], zr[i], 1e-5 * (1.0 + fabs(zr[i])));
		KT_NEAR(tl[i], logits[i], 1e-6 * (1.0 + fabs(zr[i])));
	}

	/* the library's gradient */
	if (q)
		kdl_soft_ce(tl, q, B, K, T, dl);
	else
		kdl_hard_ce(tl, y, B, K, dl);
	kdm_train_backward(t, dl);
	g = kdm_train_grads(t);

	for (size_t i = 0; i < np; i++) {
		double h = 1e-6, pi = p[i], fd;
		p[i] = pi + h;
		fd = ref_total(m, p, X, y, q, B, T);
		p[i] = pi - h;
		fd = (fd - ref_total(m, p, X, y, q, B, T)) / (2.0 * h);
		p[i] = pi;
		if (!(fabs(g[i] - fd) <= 1e-4 + 1e-3 * fabs(fd))) {
			printf("# param %zu: grad %.9g, finite difference %.9g\n",
			       i, (double)g[i], fd);
			bad++;
		}
	}
	KT_CHECK(bad == 0);
	free(p);
	kdm_train_free(t);
	kdm_ws_free(ws);
	kdm_free(m);
}

static void
test_gradient_hard(void)
{
	gradient_check(NULL, 1.0);
}

static void
test_gradient_soft(void)
{
	float z[12], q[12];
	kdr_rng r;

	kdr_init(&r, 5);
	fill_normal(z, 12, 2.0, &r);
	for (size_t b = 0; b < 4; b++)
		kdp_softmax(z + 3 * b, 3, 3.0, q + 3 * b);
	gradient_check(q, 3.0);
}

/* hint_total: the hard CE of the reference network with parameters p,
 * plus w times the mean squared error between the regressor pr (W_r
 * (F,H), b_r (F)) on hidden layer layer and the features f (B,F) */
static double
hint_total(const kdm_model *m, const double *p, const double *pr, const float *X,
           const int32_t *y, size_t B, size_t layer, const float *f, size_t F,
           double w)
{
	size_t H = m->sizes[layer];
	double *z = malloc(B * m->K * sizeof *z), *h = malloc(B * H * sizeof *h), L, se = 0.0;

	ref_forward_at(m, p, X, B, z, NULL, layer, h);
	L = ref_loss(z, y, NULL, B, m->K, 1.0);
	for (size_t b = 0; b < B; b++)
		for (size_t j = 0; j < F; j++) {
			double r = pr[F * H + j];
			for (size_t i = 0; i < H; i++)
				r += pr[j * H + i] * h[b * H + i];
			se += (r - f[b * F + j]) * (r - f[b * F + j]);
		}
	free(z);
	free(h);
	return L + w * se / (double)(B * F);
}

/* hint_check: the gradients of a hint on hidden layer layer, through
 * kdm_train_hidden, a regressor (a model of one layer), kdl_hint and
 * kdm_train_backward_hint, against finite differences of hint_total, for
 * the student's parameters and the regressor's */
static void
hint_check(size_t layer)
{
	size_t hidden[2] = {7, 6}, D = 5, K = 3, B = 4, F = 4, H = hidden[layer - 1];
	float X[20], f[16], dl[12], dr[16], dh[28];
	int32_t y[4] = {0, 2, 1, 2};
	const double w = 0.7;
	kdm_model *m = kdm_new(D, hidden, 2, K, 3, NULL), *reg = kdm_new(H, NULL, 0, F, 4, NULL);
	kdm_train *t = kdm_train_new(m, B, NULL, NULL), *rt = kdm_train_new(reg, B, NULL, NULL);
	kdr_rng r;
	size_t np, nr, bad = 0;
	double *p, *pr;

	KT_CHECK(m && reg && t && rt);
	if (!m || !reg || !t || !rt)
		return;
	kdr_init(&r, 17);
	fill_normal(X, B * D, 2.0, &r);
	fill_normal(f, B * F, 1.0, &r);
	for (size_t l = 0; l < m->n_layers; l++)
		fill_normal(m->b[l], m->sizes[l + 1], 0.3, &r);
	fill_normal(reg->b[0], F, 0.3, &r);
	np = kdm_nparams(m);
	nr = kdm_nparams(reg);
	p = malloc(np * sizeof *p);
	pr = malloc(nr * sizeof *pr);
	for (size_t i = 0; i < np; i++)
		p[i] = kdm_params(m)[i];
	for (size_t i = 0; i < nr; i++)
		pr[i] = kdm_params(reg)[i];

	/* the library's gradients, as train.c chains them */
	KT_CHECK(kdm_train_hidden(t, layer) == NULL); /* before any forward */
	kdl_hard_ce(kdm_train_forward(t, X, B, NULL), y, B, K, dl);
	KT_CHECK(kdm_train_hidden(t, 3) == NULL);
	kdl_hint(kdm_train_forward(rt, kdm_train_hidden(t, layer), B, NULL), f, B, F, w, dr);
	kdm_train_backward(rt, dr);
	// dr is (B,F), W_r is (F,H), dh is (B,H): dh = dr W_r
	for (size_t b = 0; b < B; b++)
		for (size_t i = 0; i < H; i++) {
			double s = 0.0;
			for (size_t j = 0; j < F; j++)
				s += (double)dr[b * F + j] * reg->W[0][j * H + i];
			dh[b * H + i] = (float)s;
		}
	kdm_train_backward_hint(t, dl, layer, dh);

	for (size_t i = 0; i < np + nr; i++) {
		double *q = i < np ? p + i : pr + (i - np), h = 1e-6, qi = *q, fd;
		double g = i < np ? kdm_train_grads(t)[i] : kdm_train_grads(rt)[i - np];
		*q = qi + h;
		fd = hint_total(m, p, pr, X, y, B, layer, f, F, w);
		*q = qi - h;
		fd = (fd - hint_total(m, p, pr, X, y, B, layer, f, F, w)) / (2.0 * h);
		*q = qi;
		if (!(fabs(g - fd) <= 1e-4 + 1e-3 * fabs(fd))) {
			printf("# %s param %zu: grad %.9g, finite difference %.9g\n",
			       i < np ? "student" : "regressor", i < np ? i : i - np, g, fd);
			bad++;
		}
	}
	KT_CHECK(bad == 0);
	free(p);
	free(pr);
	kdm_train_free(t);
	kdm_train_free(rt);
	kdm_free(m);
	kdm_free(reg);
}

static void
test_gradient_hint(void)
{
	hint_check(1);
	hint_check(2);
}

/* with dropout, a fixed rng gives the same masks, so the loss is a fixed
 * function of the parameters whose gradient backward must give. Hidden
 * biases are large so that every ReLU is active and the finite
 * differences (in float, through the library) cross no kink. */
static void
test_gradient_dropout(void)
{
	size_t hidden[2] = {8, 7}, D = 6, K = 3, B = 5;
	kdm_opts o = {.input_dropout = 0.2f, .dropout = 0.5f};
	float X[30], dl[15], *g, *p, l1[15];
	int32_t y[5] = {0, 1, 2, 1, 0};
	kdm_model *m = kdm_new(D, hidden, 2, K, 8, NULL);
	kdm_train *t = kdm_train_new(m, B, &o, NULL);
	const float *z;
	kdr_rng r;
	size_t bad = 0, ndiff = 0;

	KT_CHECK(m && t);
	if (!m || !t)
		return;
	kdr_init(&r, 1);
	fill_normal(X, B * D, 1.0, &r);
	for (size_t l = 0; l + 1 < m->n_layers; l++)
		for (size_t j = 0; j < m->sizes[l + 1]; j++)
			m->b[l][j] = 6.0f;
	for (size_t i = 0; i < m->sizes[1] * D; i++)
		m->W[0][i] *= 0.3f;
	p = kdm_params(m);

	kdr_init(&r, 1234);
	z = kdm_train_forward(t, X, B, &r);
	memcpy(l1, z, sizeof l1);
	kdr_init(&r, 1234);
	z = kdm_train_forward(t, X, B, &r);
	KT_CHECK(memcmp(z, l1, sizeof l1) == 0); /* same rng, same masks */
	kdr_init(&r, 4321);
	z = kdm_train_forward(t, X, B, &r);
	for (size_t i = 0; i < B * K; i++)
		ndiff += z[i] != l1[i];
	KT_CHECK(ndiff > 0); /* other masks */

	kdr_init(&r, 1234);
	z = kdm_train_forward(t, X, B, &r);
	kdl_hard_ce(z, y, B, K, dl);
	kdm_train_backward(t, dl);
	g = kdm_train_grads(t);
	/* a copy: forwards below must not disturb the gradients taken */
	float *g0 = malloc(kdm_nparams(m) * sizeof *g0);
	memcpy(g0, g, kdm_nparams(m) * sizeof *g0);
	for (size_t i = 0; i < kdm_nparams(m); i++) {
		float pi = p[i], h = 1e-2f;
		double lp, lm;
		p[i] = pi + h;
		kdr_init(&r, 1234);
		z = kdm_train_forward(t, X, B, &r);
		lp = kdl_hard_ce(z, y, B, K, dl);
		p[i] = pi - h;
		kdr_init(&r, 1234);
		z = kdm_train_forward(t, X, B, &r);
		lm = kdl_hard_ce(z, y, B, K, dl);
		p[i] = pi;
		double fd = (lp - lm) / (2.0 * (double)h);
		if (!(fabs(g0[i] - fd) <= 1e-3 + 1e-2 * fabs(fd))) {
			printf("# param %zu: grad %.9g, finite difference %.9g\n",
			       i, (double)g0[i], fd);
			bad++;
		}
	}
	KT_CHECK(bad == 0);
	free(g0);
	kdm_train_free(t);
	kdm_free(m);
}

/* inverted dropout: the mean of many training forwards is the inference
 * forward, exactly in expectation when only the last layer's input is
 * dropped (a linear model with input dropout, or one hidden layer) */
static void
test_dropout_expectation(void)
{
	enum { N = 4000 };
	size_t hidden[1] = {10}, D = 4;
	float x[4] = {0.5f, -1.0f, 2.0f, 0.25f}, *X = malloc(N * D * sizeof *X);
	float want[2];
	kdr_rng r;

	for (size_t i = 0; i < N; i++)
		memcpy(X + i * D, x, sizeof x);
	kdr_init(&r, 77);
	for (int c = 0; c < 2; c++) {
		kdm_opts o = {0};
		kdm_model *m = c == 0 ? kdm_new(D, NULL, 0, 2, 2, NULL)
		                      : kdm_new(D, hidden, 1, 2, 2, NULL);
		kdm_ws *ws = kdm_ws_new(m, 1);
		kdm_train *t;
		const float *z;
		double mean[2] = {0, 0};

		if (c == 0)
			o.input_dropout = 0.5f;
		else
			o.dropout = 0.5f;
		t = kdm_train_new(m, N, &o, NULL);
		KT_CHECK(kdm_forward(m, ws, x, 1, want) == 0);
		z = kdm_train_forward(t, X, N, &r);
		for (size_t i = 0; i < N; i++)
			for (int k = 0; k < 2; k++)
				mean[k] += z[i * 2 + k] / N;
		/* the standard error is below 0.03 here */
		KT_NEAR(mean[0], want[0], 0.12);
		KT_NEAR(mean[1], want[1], 0.12);
		/* without an rng, dropout cannot run */
		KT_CHECK(kdm_train_forward(t, X, 1, NULL) == NULL);
		kdm_train_free(t);
		kdm_ws_free(ws);
		kdm_free(m);
	}
	free(X);
}

/* one step: v = -lr * (g + wd * w) for weights, -lr * g for biases; then
 * a second step adds momentum */
static void
test_step(void)
{
	size_t hidden[1] = {4};
	kdm_opts o = {.momentum = 0.5f, .weight_decay = 0.1f};
	kdm_model *m = kdm_new(3, hidden, 1, 2, 4, NULL);
	kdm_train *t = kdm_train_new(m, 2, &o, NULL);
	float X[6] = {1, 2, 3, -1, 0, 1}, dl[4] = {0.1f, -0.2f, 0.3f, 0.05f};
	size_t np = kdm_nparams(m), nw0 = 4 * 3;
	float *p0 = malloc(np * sizeof *p0), *g1 = malloc(np * sizeof *g1);
	float *p1 = malloc(np * sizeof *p1), lr = 0.1f;

	memcpy(p0, kdm_params(m), np * sizeof *p0);
	kdm_train_step(t, lr); /* no gradients yet: nothing happens */
	KT_CHECK(memcmp(p0, kdm_params(m), np * sizeof *p0) == 0);
	KT_CHECK(kdm_train_forward(t, X, 2, NULL) != NULL);
	kdm_train_backward(t, dl);
	memcpy(g1, kdm_train_grads(t), np * sizeof *g1);
	kdm_train_step(t, lr);
	memcpy(p1, kdm_params(m), np * sizeof *p1);
	/* W_0 then b_0: decay on the weights only */
	KT_NEAR(p1[0], p0[0] - lr * (g1[0] + 0.1f * p0[0]), 1e-6);
	KT_NEAR(p1[nw0 + 1], p0[nw0 + 1] - lr * g1[nw0 + 1], 1e-6);
	/* second step with the same gradients: v2 = mu * v1 - lr * (g + wd w1) */
	kdm_train_backward(t, dl); /* gradients of the old forward */
	float *g2 = kdm_train_grads(t);
	kdm_train_step(t, lr);
	{
		double v1 = p1[0] - p0[0];
		double v2 = 0.5 * v1 - lr * (g2[0] + 0.1 * p1[0]);
		KT_NEAR(kdm_params(m)[0], p1[0] + v2, 1e-6);
	}
	free(p0);
	free(p1);
	free(g1);
	kdm_train_free(t);
	kdm_free(m);
}

/* AdamW against a double-precision reference written here from the
 * formulas of Kingma & Ba (2015) and Loshchilov & Hutter (2019): three
 * steps with the gradients of one batch, decay on the weights only, the
 * steps counted for the bias correction (and set back on a resume) */
static void
test_adam(void)
{
	size_t hidden[1] = {4};
	kdm_opts o = {.optimizer = KDM_ADAM, .weight_decay = 0.1f};
	kdm_model *m = kdm_new(3, hidden, 1, 2, 4, NULL);
	kdm_train *t = kdm_train_new(m, 2, &o, NULL);
	float X[6] = {1, 2, 3, -1, 0, 1}, dl[4] = {0.1f, -0.2f, 0.3f, 0.05f};
	size_t np = kdm_nparams(m), nw0 = 4 * 3, nw = nw0 + 4 + 2 * 4;
	double *w = malloc(np * sizeof *w), *mo = calloc(np, sizeof *mo),
	       *v = calloc(np, sizeof *v), lr = 0.01;

	KT_CHECK(t && kdm_train_second_moments(t) != NULL);
	for (size_t i = 0; i < np; i++)
		w[i] = kdm_params(m)[i];
	KT_CHECK(kdm_train_forward(t, X, 2, NULL) != NULL);
	for (int step = 1; step <= 3; step++) {
		const float *g;
		kdm_train_backward(t, dl); /* the gradients of the first forward */
		g = kdm_train_grads(t);
		for (size_t i = 0; i < np; i++) {
			/* W_0 (nw0), b_0 (4), W_1 (8), b_1 (2): decay on W only */
			int weight = i < nw0 || (i >= nw0 + 4 && i < nw);
			double mh, vh;
			mo[i] = 0.9 * mo[i] + 0.1 * g[i];
			v[i] = 0.999 * v[i] + 0.001 * (double)g[i] * g[i];
			mh = mo[i] / (1.0 - pow(0.9, step));
			vh = v[i] / (1.0 - pow(0.999, step));
			w[i] -= lr * mh / (sqrt(vh) + 1e-8) + (weight ? lr * 0.1 * w[i] : 0.0);
		}
		kdm_train_step(t, (float)lr);
		KT_CHECK(kdm_train_steps(t) == (uint64_t)step);
	}
	for (size_t i = 0; i < np; i++)
		KT_NEAR(kdm_params(m)[i], w[i], 1e-5 * (1.0 + fabs(w[i])));
	/* the optimizer cannot change under a run */
	o.optimizer = KDM_SGD;
	KT_CHECK(kdm_train_set_opts(t, &o, NULL) == -1);
	kdm_train_set_steps(t, 7);
	KT_CHECK(kdm_train_steps(t) == 7);
	free(w);
	free(mo);
	free(v);
	kdm_train_free(t);
	kdm_free(m);
	/* SGD keeps no second moments */
	{
		kdm_model *m2 = kdm_new(3, hidden, 1, 2, 4, NULL);
		kdm_train *t2 = kdm_train_new(m2, 2, NULL, NULL);
		KT_CHECK(t2 && kdm_train_second_moments(t2) == NULL);
		kdm_train_free(t2);
		kdm_free(m2);
	}
}

/* after a large step, no unit's incoming weights are longer than maxnorm,
 * in hidden and output layers alike */
static void
test_maxnorm(void)
{
	size_t hidden[2] = {20, 15}, B = 8;
	kdm_opts o = {.maxnorm = 0.3f, .momentum = 0.9f};
	kdm_model *m = kdm_new(10, hidden, 2, 4, 6, NULL);
	kdm_train *t = kdm_train_new(m, B, &o, NULL);
	float X[80], dl[32];
	kdr_rng r;
	int over = 0;

	kdr_init(&r, 3);
	fill_normal(X, 80, 1.0, &r);
	fill_normal(dl, 32, 1.0, &r);
	for (int s = 0; s < 3; s++) {
		kdm_train_forward(t, X, B, NULL);
		kdm_train_backward(t, dl);
		kdm_train_step(t, 0.5f);
	}
	for (size_t l = 0; l < m->n_layers; l++) {
		size_t ni = m->sizes[l];
		for (size_t j = 0; j < m->sizes[l + 1]; j++) {
			double s = 0.0;
			for (size_t i = 0; i < ni; i++)
				s += (double)m->W[l][j * ni + i] * m->W[l][j * ni + i];
			if (sqrt(s) > 0.3 * (1.0 + 1e-6))
				over++;
		}
	}
	KT_CHECK(over == 0);
	/* the He initialisation itself gives rows longer than 0.3 */
	{
		kdm_model *m2 = kdm_new(10, hidden, 2, 4, 6, NULL);
		double s = 0.0;
		for (size_t i = 0; i < 10; i++)
			s += (double)m2->W[0][i] * m2->W[0][i];
		KT_CHECK(sqrt(s) > 0.3);
		kdm_free(m2);
	}
	kdm_train_free(t);
	kdm_free(m);
}

static void
test_shift(void)
{
	/* a 4-wide, 3-high image 1..12 moved 1 right and 1 up */
	float img[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, out[12];
	float want[12] = {0, 5, 6, 7, 0, 9, 10, 11, 0, 0, 0, 0};
	float want2[12] = {0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0};

	kdm_shift(img, out, 4, 3, 1, -1);
	KT_CHECK(memcmp(out, want, sizeof out) == 0);
	/* 2 left and 2 down */
	kdm_shift(img, out, 4, 3, -2, 2);
	KT_CHECK(memcmp(out, want2, sizeof out) == 0);
	/* too far: all zero; no shift: a copy */
	kdm_shift(img, out, 4, 3, 4, 0);
	for (int i = 0; i < 12; i++)
		KT_CHECK(out[i] == 0.0f);
	kdm_shift(img, out, 4, 3, 0, 0);
	KT_CHECK(memcmp(out, img, sizeof out) == 0);
}

/* each jittered image is the original shifted by some (dx, dy) within
 * maxshift, and every shift in range shows up */
static void
test_jitter(void)
{
	enum { W = 7, H = 5, B = 400, S = 2 };
	float *X = malloc(B * W * H * sizeof *X), *out = malloc(B * W * H * sizeof *out);
	float tmp[W * H];
	int seen[2 * S + 1][2 * S + 1] = {{0}}, unmatched = 0, all = 1;
	kdr_rng r;

	for (size_t b = 0; b < B; b++)
		for (size_t i = 0; i < W * H; i++)
			X[b * W * H + i] = (float)(i + 1 + b);
	kdr_init(&r, 10);
	kdm_jitter(X, out, B, W, H, S, &r);
	for (size_t b = 0; b < B; b++) {
		int found = 0;
		for (int dy = -S; dy <= S && !found; dy++)
			for (int dx = -S; dx <= S && !found; dx++) {
				kdm_shift(X + b * W * H, tmp, W, H, dx, dy);
				if (!memcmp(tmp, out + b * W * H, sizeof tmp)) {
					found = 1;
					seen[dy + S][dx + S]++;
				}
			}
		unmatched += !found;
	}
	KT_CHECK(unmatched == 0);
	for (int i = 0; i < 2 * S + 1; i++)
		for (int j = 0; j < 2 * S + 1; j++)
			all &= seen[i][j] > 0;
	KT_CHECK(all);
	/* maxshift 0 copies, without an rng */
	kdm_jitter(X, out, B, W, H, 0, NULL);
	KT_CHECK(memcmp(X, out, B * W * H * sizeof *X) == 0);
	free(X);
	free(out);
}

/* kdm_flip: each image comes back as it was or mirrored, as written out
 * by hand for an odd width (the middle column stays), and about half are
 * mirrored */
static void
test_flip(void)
{
	enum { W = 3, H = 2, B = 1000 };
	static const float img[W * H] = { 1, 2, 3, 4, 5, 6 };
	static const float mirrored[W * H] = { 3, 2, 1, 6, 5, 4 };
	float *X = malloc(B * W * H * sizeof *X);
	int flipped = 0, other = 0;
	kdr_rng r;

	for (size_t b = 0; b < B; b++)
		memcpy(X + b * W * H, img, sizeof img);
	kdr_init(&r, 11);
	kdm_flip(X, B, W, H, &r);
	for (size_t b = 0; b < B; b++) {
		if (!memcmp(X + b * W * H, mirrored, sizeof img))
			flipped++;
		else if (memcmp(X + b * W * H, img, sizeof img))
			other++;
	}
	KT_CHECK(other == 0);
	/* binomial(1000, 1/2): 500 +- 16, so 430..570 is 4.4 sigma */
	KT_CHECK(flipped > 430 && flipped < 570);
	free(X);
}

/* kdm_mirror: every image mirrored, as written out by hand (odd width:
 * the middle column stays), and mirrored twice it is back */
static void
test_mirror(void)
{
	float X[2 * 6] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	static const float once[2 * 6] = { 3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10 };
	static const float even[8] = { 2, 1, 4, 3, 6, 5, 8, 7 };
	float Y[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	kdm_mirror(X, 2, 3, 2);
	KT_CHECK(!memcmp(X, once, sizeof X));
	kdm_mirror(X, 2, 3, 2);
	for (int i = 0; i < 12; i++)
		KT_CHECK(X[i] == (float)(i + 1));
	kdm_mirror(Y, 1, 2, 4); /* width 2, height 4 */
	KT_CHECK(!memcmp(Y, even, sizeof Y));
}

/* toy problem: points in [-1,1]^2; class 0 inside radius 0.5, else
 * class 1 where x*y > 0 and class 2 elsewhere */
static void
toy_batch(kdr_rng *r, float *X, int32_t *y, size_t B)
{
	for (size_t b = 0; b < B; b++) {
		float u = 2.0f * kdr_uniform(r) - 1.0f, v = 2.0f * kdr_uniform(r) - 1.0f;
		X[2 * b] = 3.0f + u; /* off-centre: standardisation must fix it */
		X[2 * b + 1] = 10.0f * v;
		y[b] = u * u + v * v < 0.25f ? 0 : u * v > 0 ? 1 : 2;
	}
}

static void
test_learns_toy(void)
{
	enum { B = 64, NT = 2000 };
	size_t hidden[2] = {32, 32};
	kdm_opts o = {.momentum = 0.9f};
	kdm_model *m = kdm_new(2, hidden, 2, 3, 1, NULL);
	kdm_train *t = kdm_train_new(m, B, &o, NULL);
	kdm_ws *ws = kdm_ws_new(m, NT);
	float X[2 * B], dl[3 * B], mean[2] = {3.0f, 0.0f}, sd[2] = {0.577f, 5.77f};
	float *XT = malloc(2 * NT * sizeof *XT), *ZT = malloc(3 * NT * sizeof *ZT);
	float *dT = malloc(3 * NT * sizeof *dT);
	int32_t y[B], yT[NT];
	double before, after;
	size_t right = 0;
	kdr_rng r;

	KT_CHECK(kdm_set_standardize(m, mean, sd, NULL) == 0);
	kdr_init(&r, 2024);
	toy_batch(&r, XT, yT, NT);
	kdm_forward(m, ws, XT, NT, ZT);
	before = kdl_hard_ce(ZT, yT, NT, 3, dT);
	for (int s = 0; s < 1500; s++) {
		toy_batch(&r, X, y, B);
		const float *z = kdm_train_forward(t, X, B, &r);
		kdl_hard_ce(z, y, B, 3, dl);
		kdm_train_backward(t, dl);
		kdm_train_step(t, 0.05f);
	}
	kdm_forward(m, ws, XT, NT, ZT);
	after = kdl_hard_ce(ZT, yT, NT, 3, dT);
	for (size_t i = 0; i < NT; i++) {
		float *z = ZT + 3 * i;
		int32_t k = z[1] > z[0] ? 1 : 0;
		if (z[2] > z[k])
			k = 2;
		right += k == yT[i];
	}
	printf("# toy: loss %.4f -> %.4f, accuracy %.3f\n", before, after,
	       (double)right / NT);
	KT_CHECK(after < 0.25 * before);
	KT_CHECK(right > 0.9 * NT);
	free(XT);
	free(ZT);
	free(dT);
	kdm_ws_free(ws);
	kdm_train_free(t);
	kdm_free(m);
}

/* train: a few steps of m with dropout from seed; the result in p */
static void
train_a_little(kdm_model *m, uint64_t seed)
{
	kdm_opts o = {.dropout = 0.3f, .input_dropout = 0.1f, .momentum = 0.9f,
	              .maxnorm = 2.0f};
	kdm_train *t = kdm_train_new(m, 16, &o, NULL);
	float X[16 * 6], dl[16 * 3];
	int32_t y[16];
	kdr_rng r;

	kdr_init(&r, seed);
	for (int s = 0; s < 20; s++) {
		fill_normal(X, 16 * 6, 1.0, &r);
		for (int b = 0; b < 16; b++)
			y[b] = (int32_t)kdr_below(&r, 3);
		const float *z = kdm_train_forward(t, X, 16, &r);
		kdl_hard_ce(z, y, 16, 3, dl);
		kdm_train_backward(t, dl);
		kdm_train_step(t, 0.1f);
	}
	kdm_train_free(t);
}

static void
test_same_seed_same_bits(void)
{
	size_t hidden[2] = {9, 5};
	kdm_model *a = kdm_new(6, hidden, 2, 3, 17, NULL);
	kdm_model *b = kdm_new(6, hidden, 2, 3, 17, NULL);
	kdm_model *c = kdm_new(6, hidden, 2, 3, 18, NULL);
	size_t n = kdm_nparams(a) * sizeof(float);

	KT_CHECK(kdm_nparams(a) == 6 * 9 + 9 + 9 * 5 + 5 + 5 * 3 + 3);
	KT_CHECK(memcmp(kdm_params(a), kdm_params(b), n) == 0);
	KT_CHECK(memcmp(kdm_params(a), kdm_params(c), n) != 0);
	/* biases start at 0 */
	KT_CHECK(a->b[0][0] == 0.0f && a->b[2][2] == 0.0f);
	train_a_little(a, 5);
	train_a_little(b, 5);
	KT_CHECK(memcmp(kdm_params(a), kdm_params(b), n) == 0);
	kdm_free(a);
	kdm_free(b);
	kdm_free(c);
}

/* He initialisation: weights of layer l have variance 2 / fan-in */
static void
test_init_scale(void)
{
	size_t hidden[1] = {400};
	kdm_model *m = kdm_new(200, hidden, 1, 300, 9, NULL);
	double s = 0.0, s2 = 0.0;
	size_t n = 400 * 200;

	for (size_t i = 0; i < n; i++) {
		s += m->W[0][i];
		s2 += (double)m->W[0][i] * m->W[0][i];
	}
	KT_NEAR(s / n, 0.0, 0.002);
	KT_NEAR(s2 / n, 2.0 / 200, 0.0003);
	s2 = 0.0;
	for (size_t i = 0; i < 300 * 400; i++)
		s2 += (double)m->W[1][i] * m->W[1][i];
	KT_NEAR(s2 / (300 * 400), 2.0 / 400, 0.00015);
	kdm_free(m);
}

static void
test_sizes_and_options(void)
{
	size_t h0[1] = {0}, hbig[1] = {((size_t)1 << 20) + 1}, h256[1] = {256};
	size_t many[70];
	kdm_opts bad = {.dropout = 1.0f};
	kd_err e = {{0}, 0};
	kdm_model *m;

	for (int i = 0; i < 70; i++)
		many[i] = 2;
	KT_CHECK(kdm_new(3, h0, 1, 2, 1, &e) == NULL);
	KT_CHECK(strstr(e.msg, "layer width 0 is out of range") != NULL);
	KT_CHECK(kdm_new(3, hbig, 1, 2, 1, &e) == NULL);
	KT_CHECK(strstr(e.msg, "width 1048577 is out of range") != NULL);
	KT_CHECK(kdm_new(0, NULL, 0, 2, 1, &e) == NULL);
	KT_CHECK(strstr(e.msg, "input dimension 0") != NULL);
	KT_CHECK(kdm_new(3, NULL, 0, 0, 1, &e) == NULL);
	KT_CHECK(strstr(e.msg, "output width 0") != NULL);
	KT_CHECK(kdm_new(3, many, 64, 2, 1, &e) == NULL);
	/* 2^24 inputs into 256 units: 2^32 parameters, refused unallocated */
	KT_CHECK(kdm_new((size_t)1 << 24, h256, 1, 2, 1, &e) == NULL);
	KT_CHECK(strstr(e.msg, "parameters is too many") != NULL);

	m = kdm_new(3, NULL, 0, 2, 1, &e);
	KT_CHECK(m != NULL);
	KT_CHECK(kdm_train_new(m, 4, &bad, &e) == NULL);
	KT_CHECK(strstr(e.msg, "dropout") != NULL);
	KT_CHECK(kdm_train_new(m, 0, NULL, &e) == NULL);
	{
		kdm_ws *ws = kdm_ws_new(m, 2);
		float X[9] = {0}, z[6];
		KT_CHECK(kdm_forward(m, ws, X, 3, z) == -1);
		KT_CHECK(kdm_forward(m, ws, X, 2, z) == 0);
		kdm_ws_free(ws);
	}
	kdm_free(m);
}

/* the deepest network allowed: 63 hidden layers, 64 weight layers */
static void
test_deep(void)
{
	size_t many[63];
	kdm_model *m;

	for (int i = 0; i < 63; i++)
		many[i] = 3;
	m = kdm_new(3, many, 63, 2, 1, NULL);
	KT_CHECK(m && m->n_layers == 64);
	kdm_free(m);
}

static void
test_names_and_standardize(void)
{
	const char *list[3] = {"cat", "d\xc3\xa9j\xc3\xa0", ""};
	kdm_model *m = kdm_new(2, NULL, 0, 3, 1, NULL);
	kd_err e = {{0}, 0};
	float mean[2] = {1, 2}, sd[2] = {2, 1e-7f}, nan[2] = {NAN, 1};

	KT_CHECK(kdm_name(m, 0) == NULL);
	KT_CHECK(kdm_set_names(m, "a\0b\0c", 6, &e) == 0);
	KT_CHECK(!strcmp(kdm_name(m, 1), "b") && !strcmp(kdm_name(m, 2), "c"));
	KT_CHECK(kdm_name(m, 3) == NULL);
	KT_CHECK(kdm_set_names(m, "a\0b", 4, &e) == -1);
	KT_CHECK(strstr(e.msg, "2 class names for 3 classes") != NULL);
	KT_CHECK(kdm_set_names(m, "a\0b\0c", 5, &e) == -1);
	KT_CHECK(kdm_set_names(m, "a\0\xff\0c", 6, &e) == -1);
	KT_CHECK(strstr(e.msg, "UTF-8") != NULL);
	KT_CHECK(!strcmp(kdm_name(m, 2), "c")); /* unchanged by failures */
	KT_CHECK(kdm_set_name_list(m, list, &e) == 0);
	KT_CHECK(!strcmp(kdm_name(m, 1), list[1]) && !strcmp(kdm_name(m, 2), ""));
	KT_CHECK(m->names_len == 4 + 7 + 1);
	KT_CHECK(kdm_set_names(m, NULL, 0, &e) == 0 && kdm_name(m, 0) == NULL);

	KT_CHECK(kdm_set_standardize(m, nan, sd, &e) == -1);
	KT_CHECK(strstr(e.msg, "feature 1") != NULL);
	KT_CHECK(!m->standardize);
	KT_CHECK(kdm_set_standardize(m, mean, sd, &e) == 0);
	KT_CHECK(m->standardize && m->istd[0] == 0.5f && m->istd[1] == 1.0f);
	KT_CHECK(m->std[1] == 1e-7f); /* kept as given, for saving */
	KT_CHECK(kdm_set_standardize(m, NULL, NULL, &e) == 0 && !m->standardize);
	kdm_free(m);
}

/* live units: kdm_live_units against a double-precision pass written here,
 * fed in two batches (the marks add up), with units made dead by a large
 * negative bias and inputs standardised */
static void
test_live_units(void)
{
	size_t hid[2] = {6, 4};
	enum { D = 5, N = 9, H = 10 };
	kdm_model *m = kdm_new(D, hid, 2, 3, 7, NULL);
	float X[N * D], mean[D], sd[D];
	unsigned char live[H];
	double top[H], *p, z[N * 3];
	kdr_rng r;

	KT_CHECK(m && kdm_hidden_units(m) == H);
	kdr_init(&r, 3);
	for (size_t i = 0; i < N * D; i++)
		X[i] = 2.0f * kdr_uniform(&r) - 1.0f;
	for (size_t i = 0; i < D; i++) {
		mean[i] = 0.1f * (float)i;
		sd[i] = 0.5f + 0.25f * (float)i;
	}
	KT_CHECK(kdm_set_standardize(m, mean, sd, NULL) == 0);
	m->b[0][2] = -100.0f; /* unit 2 of layer 1: dead on these inputs */
	m->b[1][1] = -100.0f; /* unit 1 of layer 2 (unit 7 in all) */
	/* the highest pre-activation of each unit over the rows, in double */
	p = malloc(kdm_nparams(m) * sizeof *p);
	for (size_t i = 0; i < kdm_nparams(m); i++)
		p[i] = kdm_params(m)[i];
	for (size_t u = 0; u < H; u++)
		top[u] = -1e300;
	ref_forward(m, p, X, N, z, top);
	free(p);
	kdm_ws *ws = kdm_ws_new(m, 5);
	memset(live, 0, sizeof live);
	KT_CHECK(kdm_live_units(m, ws, X, 6, live) == -1); /* over max_batch */
	KT_CHECK(kdm_live_units(m, ws, X, 5, live) == 0);
	KT_CHECK(kdm_live_units(m, ws, X + 5 * D, N - 5, live) == 0);
	for (size_t u = 0; u < H; u++) {
		/* a unit whose best row is within rounding of 0 is not judged */
		if (fabs(top[u]) > 1e-4)
			KT_CHECK(live[u] == (top[u] > 0));
	}
	KT_CHECK(!live[2] && !live[7]);
	size_t n_live = 0;
	for (size_t u = 0; u < H; u++)
		n_live += live[u];
	KT_CHECK(n_live >= 4); /* not all dead: the check can tell them apart */
	kdm_ws_free(ws);
	kdm_free(m);
}

int
main(void)
{
	KT_RUN(test_gradient_hard);
	KT_RUN(test_gradient_soft);
	KT_RUN(test_gradient_dropout);
	KT_RUN(test_gradient_hint);
	KT_RUN(test_dropout_expectation);
	KT_RUN(test_step);
	KT_RUN(test_adam);
	KT_RUN(test_maxnorm);
	KT_RUN(test_shift);
	KT_RUN(test_jitter);
	KT_RUN(test_flip);
	KT_RUN(test_mirror);
	KT_RUN(test_learns_toy);
	KT_RUN(test_same_seed_same_bits);
	KT_RUN(test_init_scale);
	KT_RUN(test_sizes_and_options);
	KT_RUN(test_deep);
	KT_RUN(test_names_and_standardize);
	KT_RUN(test_live_units);
	return kt_done();
}
