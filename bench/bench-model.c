/* bench-model: training and inference speed of kd's perceptron next to the
 * cblas_sgemm rate of the same machine, measured in the same run (make bench).
 *
 *   bench-model [--threads N] [--seconds S]
 *
 * Prints, for the teacher (784-1200-1200-10, dropout 0.2/0.5, max-norm) and
 * the student (784-800-800-10, no dropout), at batch 128: training
 * samples/s and GFLOP/s, inference samples/s (batch 256), and the sgemm
 * GFLOP/s of a 2048 x 2048 x 2048 product; training FLOPs are counted as
 * 6 x weights per sample less the input gradient of the first layer. Beside
 * kd's training rate, the probe's (below): the same network trained by the
 * least work a step must do, and kd's rate as a share of it; beside its
 * inference rate, that of the bare chain of sgemms of the same shapes. */
#include <getopt.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas.h"
#include "cli.h"
#include "loss.h"
#include "mlp.h"
#include "rng.h"

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double
sgemm_gflops(double secs)
{
	size_t n = 2048;
	float *a = malloc(n * n * 4), *b = malloc(n * n * 4), *c = malloc(n * n * 4);
	double t0, t;
	int reps = 0;
	for (size_t i = 0; i < n * n; i++) {
		a[i] = (float)(i % 7) * 1e-3f;
		b[i] = (float)(i % 5) * 1e-3f;
	}
	kdb_sgemm(0, 1, n, n, n, 1, a, n, b, n, 0, c, n); /* warm up */
	t0 = now_s();
	do {
		kdb_sgemm(0, 1, n, n, n, 1, a, n, b, n, 0, c, n);
		reps++;
	} while ((t = now_s() - t0) < secs);
	free(a);
	free(b);
	free(c);
	return 2.0 * (double)n * (double)n * (double)n * reps / t / 1e9;
}

/* ---- the probe: the least work a training step must do ----
 *
 * The same MLP trained without kd, as a plain loop on the same sgemm:
 * forward, per layer one sgemm (Z = A W^T) and one pass for bias and
 * ReLU; the softmax cross-entropy's gradient; backward, per layer the
 * weight-gradient sgemm (dW = dZ^T A), the bias gradient (column sums of
 * dZ), the input-gradient sgemm (dA = dZ W, not for the first layer) and
 * one pass for the ReLU's gradient; then one pass of SGD with momentum
 * over every parameter. No dropout, max-norm, shuffling or copies: what
 * kd does beyond this is its overhead. Parameters are one array, W_0, b_0,
 * W_1, ..., like kd's. */

typedef struct probe {
	size_t L, B, sizes[8];
	float *p, *g, *v;          /* parameters, gradients, velocities */
	float *W[8], *b[8], *dW[8], *db[8];
	float *A[9], *dA[9];       /* activations (B, sizes[l]) and gradients */
	size_t np;
} probe;

static int
probe_init(probe *q, const size_t *sizes, size_t L, size_t B)
{
	size_t off = 0;
	kdr_rng rng;

	memset(q, 0, sizeof *q);
	q->L = L;
	q->B = B;
	for (size_t l = 0; l <= L; l++)
		q->sizes[l] = sizes[l];
	for (size_t l = 0; l < L; l++)
		q->np += sizes[l + 1] * sizes[l] + sizes[l + 1];
	q->p = calloc(q->np, 4);
	q->g = calloc(q->np, 4);
	q->v = calloc(q->np, 4);
	if (!q->p || !q->g || !q->v)
		return -1;
	kdr_init(&rng, 7);
	for (size_t l = 0; l < L; l++) {
		size_t nw = sizes[l + 1] * sizes[l];
		q->W[l] = q->p + off;
		q->dW[l] = q->g + off;
		q->b[l] = q->p + off + nw;
		q->db[l] = q->g + off + nw;
		for (size_t i = 0; i < nw; i++)
			q->W[l][i] = (kdr_uniform(&rng) - 0.5f) * 0.1f;
		off += nw + sizes[l + 1];
	}
	for (size_t l = 0; l <= L; l++)
		if (!(q->A[l] = malloc(B * sizes[l] * 4)) || !(q->dA[l] = malloc(B * sizes[l] * 4)))
			return -1;
	return 0;
}

static void
probe_free(probe *q)
{
	free(q->p);
	free(q->g);
	free(q->v);
	for (size_t l = 0; l <= q->L; l++) {
		free(q->A[l]);
		free(q->dA[l]);
	}
}

/* probe_step: one step on the batch x (B, sizes[0]) with labels y */
static void
probe_step(probe *q, const float *x, const int32_t *y, float lr)
{
	size_t B = q->B, L = q->L, K = q->sizes[L];

	memcpy(q->A[0], x, B * q->sizes[0] * 4); /* kd reads its batch in place too */
	for (size_t l = 0; l < L; l++) {
		size_t in = q->sizes[l], out = q->sizes[l + 1];
		float *Z = q->A[l + 1];
		kdb_sgemm(0, 1, B, out, in, 1, q->A[l], in, q->W[l], in, 0, Z, out);
		for (size_t r = 0; r < B; r++)
			for (size_t j = 0; j < out; j++) {
				float z = Z[r * out + j] + q->b[l][j];
				Z[r * out + j] = l + 1 < L && z < 0 ? 0 : z;
			}
	}
	/* softmax cross-entropy: dZ = (softmax(z) - onehot(y)) / B */
	for (size_t r = 0; r < B; r++) {
		float *z = q->A[L] + r * K, *d = q->dA[L] + r * K, mx = z[0], sum = 0;
		for (size_t k = 1; k < K; k++)
			mx = z[k] > mx ? z[k] : mx;
		for (size_t k = 0; k < K; k++)
			sum += d[k] = expf(z[k] - mx);
		for (size_t k = 0; k < K; k++)
			d[k] = (d[k] / sum - (k == (size_t)y[r])) / (float)B;
	}
	for (size_t l = L; l-- > 0;) {
		size_t in = q->sizes[l], out = q->sizes[l + 1];
		const float *dZ = q->dA[l + 1];
		kdb_sgemm(1, 0, out, in, B, 1, dZ, out, q->A[l], in, 0, q->dW[l], in);
		memset(q->db[l], 0, out * 4);
		for (size_t r = 0; r < B; r++)
			for (size_t j = 0; j < out; j++)
				q->db[l][j] += dZ[r * out + j];
		if (l == 0)
			break;
		kdb_sgemm(0, 0, B, in, out, 1, dZ, out, q->W[l], in, 0, q->dA[l], in);
		for (size_t i = 0; i < B * in; i++) /* ReLU's gradient */
			q->dA[l][i] = q->A[l][i] > 0 ? q->dA[l][i] : 0;
	}
	for (size_t i = 0; i < q->np; i++) { /* SGD with momentum 0.9 */
		q->v[i] = 0.9f * q->v[i] - lr * q->g[i];
		q->p[i] += q->v[i];
	}
}

/* The four loops below are timed in alternation, in slices of SLICE
 * seconds, until each has run secs seconds: the machine's load moves by
 * 10 to 30% from one second to the next, and alternating puts kd and its
 * reference under the same load, so that their ratio holds still. */
#define SLICE 0.25

/* the state of one timed loop: a step function over a context */
typedef struct timed {
	void (*step)(void *ctx, size_t i); /* one step, the i-th */
	void *ctx;
	size_t per_step;                   /* samples a step */
	size_t steps;                      /* steps run */
	double secs;                       /* seconds spent */
} timed;

/* slice: run t's steps for SLICE seconds */
static void
slice(timed *t)
{
	double t0 = now_s(), dt;

	do {
		t->step(t->ctx, t->steps++);
	} while ((dt = now_s() - t0) < SLICE);
	t->secs += dt;
}

/* alternate: slices of a and b in turn until both ran secs seconds */
static void
alternate(timed *a, timed *b, double secs)
{
	a->step(a->ctx, a->steps++); /* warm up both */
	b->step(b->ctx, b->steps++);
	a->steps = b->steps = 0;
	while (a->secs < secs || b->secs < secs) {
		slice(a);
		slice(b);
	}
}

static double
rate(const timed *t)
{
	return (double)(t->steps * t->per_step) / t->secs;
}

/* the data the loops run over */
typedef struct bdata {
	const float *X;
	const int32_t *y;
	size_t N, D, K, B, BI;
	kdm_model *m;
	kdm_train *tr;
	kdm_ws *ws;
	kdr_rng rng;
	float *dl, *lg;
	probe q;
	float *chain[2];
} bdata;

static void
kd_train_step(void *ctx, size_t i)
{
	bdata *d = ctx;
	size_t off = (i * d->B) % (d->N - d->B);
	const float *z = kdm_train_forward(d->tr, d->X + off * d->D, d->B, &d->rng);

	kdl_hard_ce(z, d->y + off, d->B, d->K, d->dl);
	kdm_train_backward(d->tr, d->dl);
	kdm_train_step(d->tr, 0.01f);
}

static void
probe_train_step(void *ctx, size_t i)
{
	bdata *d = ctx;
	size_t off = (i * d->B) % (d->N - d->B);

	probe_step(&d->q, d->X + off * d->D, d->y + off, 0.01f);
}

static void
kd_infer_step(void *ctx, size_t i)
{
	bdata *d = ctx;

	kdm_forward(d->m, d->ws, d->X + ((i * d->BI) % (d->N - d->BI)) * d->D, d->BI, d->lg);
}

/* chain_step: the bare forward chain of the network (the sgemms alone, no
 * bias, ReLU or standardisation): the limit of inference */
static void
chain_step(void *ctx, size_t i)
{
	bdata *d = ctx;
	const kdm_model *m = d->m;
	const float *in = d->X + ((i * d->BI) % (d->N - d->BI)) * d->D;

	for (size_t l = 0; l < m->n_layers; l++) {
		float *out = d->chain[l % 2];
		kdb_sgemm(0, 1, d->BI, m->sizes[l + 1], m->sizes[l], 1, in, m->sizes[l], m->W[l],
		          m->sizes[l], 0, out, m->sizes[l + 1]);
		in = out;
	}
}

static void
bench(const char *name, const size_t *hidden, size_t nh, const kdm_opts *o,
      double secs, double peak)
{
	const size_t D = 784, K = 10, B = 128, BI = 256, N = 4096;
	size_t sizes[8] = { D }, maxw = D;
	kd_err e;
	bdata d = { .N = N, .D = D, .K = K, .B = B, .BI = BI };
	float *X = malloc(N * D * 4);
	int32_t *y = malloc(N * sizeof *y);
	double flops_fwd = 0, flops_train;
	timed kd_tr = { kd_train_step, &d, B, 0, 0 }, pr_tr = { probe_train_step, &d, B, 0, 0 };
	timed kd_in = { kd_infer_step, &d, BI, 0, 0 }, ch_in = { chain_step, &d, BI, 0, 0 };

	for (size_t i = 0; i < nh; i++) {
		sizes[i + 1] = hidden[i];
		maxw = hidden[i] > maxw ? hidden[i] : maxw;
	}
	sizes[nh + 1] = K;
	d.m = kdm_new(D, hidden, nh, K, 1, &e);
	d.tr = d.m ? kdm_train_new(d.m, B, o, &e) : NULL;
	d.ws = d.m ? kdm_ws_new(d.m, BI) : NULL;
	d.dl = malloc(B * K * 4);
	d.lg = malloc(BI * K * 4);
	d.chain[0] = malloc(BI * maxw * 4);
	d.chain[1] = malloc(BI * maxw * 4);
	if (!d.m || !d.tr || !d.ws || !X || !y || !d.dl || !d.lg || !d.chain[0] || !d.chain[1] ||
	    probe_init(&d.q, sizes, nh + 1, B))
		kdc_die("%s: setup failed", name);
	kdr_init(&d.rng, 1);
	for (size_t i = 0; i < N * D; i++)
		X[i] = kdr_uniform(&d.rng);
	for (size_t i = 0; i < N; i++)
		y[i] = (int32_t)kdr_below(&d.rng, K);
	d.X = X;
	d.y = y;
	for (size_t l = 0; l < d.m->n_layers; l++)
		flops_fwd += 2.0 * (double)d.m->sizes[l] * (double)d.m->sizes[l + 1];
	/* backward: weight gradients as much as forward, input gradients
	 * for every layer but the first */
	flops_train = 2.0 * flops_fwd + (flops_fwd - 2.0 * (double)D * (double)d.m->sizes[1]);
	alternate(&kd_tr, &pr_tr, secs);
	alternate(&kd_in, &ch_in, secs);
	printf("%-28s %12.0f %10.1f %9.0f%% %12.0f %9.0f%% %14.0f %10.1f %12.0f %9.0f%%\n", name,
	       rate(&kd_tr), rate(&kd_tr) * flops_train / 1e9,
	       100.0 * rate(&kd_tr) * flops_train / 1e9 / peak, rate(&pr_tr),
	       100.0 * rate(&kd_tr) / rate(&pr_tr), rate(&kd_in), rate(&kd_in) * flops_fwd / 1e9,
	       rate(&ch_in), 100.0 * rate(&kd_in) / rate(&ch_in));
	probe_free(&d.q);
	kdm_train_free(d.tr);
	kdm_ws_free(d.ws);
	kdm_free(d.m);
	free(X);
	free(y);
	free(d.dl);
	free(d.lg);
	free(d.chain[0]);
	free(d.chain[1]);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	int threads = 0, c;
	double secs = 10, peak;
	size_t th[2] = { 1200, 1200 }, sh[2] = { 800, 800 };
	kdm_opts teacher = { .input_dropout = 0.2f, .dropout = 0.5f, .maxnorm = 3.5f, .momentum = 0.9f },
	         student = { .momentum = 0.9f };

	kdc_choose_core(argv);
	kdc_init(argv[0]);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 't')
			threads = (int)kdc_long("--threads", optarg, 1, 1024);
		else if (c == 's')
			secs = kdc_double("--seconds", optarg, 0.1, 3600, 0);
		else
			kdc_usage_error("usage: bench-model [--threads N] [--seconds S]");
	}
	kdb_set_threads(threads);
	peak = sgemm_gflops(secs / 2);
	printf("== model: %d BLAS threads, OpenBLAS %s kernels; cblas_sgemm 2048^3: %.1f GFLOP/s\n",
	       kdb_get_threads(), kdb_core(), peak);
	printf("%-28s %12s %10s %10s %12s %10s %14s %10s %12s %10s\n", "model (batch 128)",
	       "train smp/s", "GFLOP/s", "of sgemm", "probe smp/s", "of probe", "infer smp/s",
	       "GFLOP/s", "chain smp/s", "of chain");
	bench("784-1200-1200-10 teacher", th, 2, &teacher, secs, peak);
	bench("784-800-800-10 student", sh, 2, &student, secs, peak);
	return 0;
}
