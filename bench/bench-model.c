/* bench-model: training and inference speed of kd's perceptron next to the
 * cblas_sgemm rate of the same machine, measured in the same run (make bench).
 *
 *   bench-model [--threads N] [--seconds S]
 *
 * Prints, for the teacher (784-1200-1200-10, dropout 0.2/0.5, max-norm) and
 * the student (784-800-800-10, no dropout), at batch 128: training
 * samples/s and GFLOP/s, inference samples/s (batch 256), and the sgemm
 * GFLOP/s of a 2048 x 2048 x 2048 product; training FLOPs are counted as
 * 6 x weights per sample less the input gradient of the first layer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
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

static void
bench(const char *name, const size_t *hidden, size_t nh, const kdm_opts *o,
      double secs, double peak)
{
	const size_t D = 784, K = 10, B = 128, BI = 256, N = 4096;
	kd_err e;
	kdm_model *m = kdm_new(D, hidden, nh, K, 1, &e);
	kdm_train *tr = kdm_train_new(m, B, o, &e);
	kdm_ws *ws = kdm_ws_new(m, BI);
	float *X = malloc(N * D * 4), *dl = malloc(B * K * 4), *lg = malloc(BI * K * 4);
	int32_t *y = malloc(N * sizeof *y);
	kdr_rng rng;
	double flops_fwd = 0, flops_train, t0, t, tr_rate, in_rate;
	size_t steps = 0, rows = 0;

	if (!m || !tr || !ws || !X || !dl || !lg || !y)
		kdc_die("%s: setup failed", name);
	kdr_init(&rng, 1);
	for (size_t i = 0; i < N * D; i++)
		X[i] = kdr_uniform(&rng);
	for (size_t i = 0; i < N; i++)
		y[i] = (int32_t)kdr_below(&rng, K);
	for (size_t l = 0; l < m->n_layers; l++)
		flops_fwd += 2.0 * (double)m->sizes[l] * (double)m->sizes[l + 1];
	/* backward: weight gradients as much as forward, input gradients
	 * for every layer but the first */
	flops_train = 2.0 * flops_fwd + (flops_fwd - 2.0 * (double)m->sizes[0] * (double)m->sizes[1]);
	t0 = now_s();
	do {
		size_t off = (steps * B) % (N - B);
		const float *z = kdm_train_forward(tr, X + off * D, B, &rng);
		kdl_hard_ce(z, y + off, B, K, dl);
		kdm_train_backward(tr, dl);
		kdm_train_step(tr, 0.01f);
		steps++;
	} while ((t = now_s() - t0) < secs);
	tr_rate = (double)(steps * B) / t;
	t0 = now_s();
	do {
		size_t off = (rows) % (N - BI);
		kdm_forward(m, ws, X + off * D, BI, lg);
		rows += BI;
	} while ((t = now_s() - t0) < secs);
	in_rate = (double)rows / t;
	printf("%-28s %12.0f %10.1f %9.0f%% %14.0f %10.1f\n", name, tr_rate,
	       tr_rate * flops_train / 1e9, 100.0 * tr_rate * flops_train / 1e9 / peak,
	       in_rate, in_rate * flops_fwd / 1e9);
	kdm_train_free(tr);
	kdm_ws_free(ws);
	kdm_free(m);
	free(X);
	free(dl);
	free(lg);
	free(y);
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
	printf("%-28s %12s %10s %10s %14s %10s\n", "model (batch 128)", "train smp/s",
	       "GFLOP/s", "of sgemm", "infer smp/s", "GFLOP/s");
	bench("784-1200-1200-10 teacher", th, 2, &teacher, secs, peak);
	bench("784-800-800-10 student", sh, 2, &student, secs, peak);
	return 0;
}
