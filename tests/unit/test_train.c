/* test_train.c: the moving average of the weights (kdt_opts.ema) in
 * lib/train.c, against the same average computed here, in doubles, from
 * the parameters of plain runs of 0, 1, 2 and 3 steps. With one step an
 * epoch (the batch is all the rows), a constant learning rate and no
 * dropout, a run of k epochs is the first k steps of a longer one, so
 * plain runs give the parameters after every step. */
#include "train.h"
#include "kdtest.h"
#include "blobs.h"

#include <stdlib.h>
#include <string.h>

enum { D = 5, K = 3, HID = 7, N = 40, NVAL = 30 };

static void
fill(kdd_set *s, size_t n, kdr_rng *r)
{
	kt_blobs(s, n, D, K, 1.0f, NULL, r);
}

static kdm_model *
new_model(void)
{
	size_t h = HID;
	return kdm_new(D, &h, 1, K, 3, NULL);
}

static void
opts(kdt_opts *o, size_t epochs, double ema)
{
	kdt_opts_init(o);
	o->epochs = epochs;
	o->batch = N;           /* one step an epoch */
	o->lr = o->lr_end = 0.2; /* the same rate in every epoch */
	o->reg.momentum = 0.5f;
	o->ema = ema;
}

/* train: a new model trained for epochs on tr (and va when not NULL) */
static kdm_model *
train(const kdd_set *tr, const kdd_set *va, size_t epochs, double ema,
      kdt_report_fn report, void *ctx)
{
	kdt_data td = { tr, NULL, va, NULL };
	kdt_opts o;
	kd_err e;
	kdm_model *m = new_model();

	opts(&o, epochs, ema);
	KT_CHECK(m != NULL);
	if (kdt_fit(m, &td, &o, report, ctx, &e)) {
		printf("# kdt_fit: %s\n", e.msg);
		KT_CHECK(0);
	}
	return m;
}

/* averages: a[k] (k = 1..E) = the moving average with decay D after k
 * steps, in doubles, from the parameters of plain runs of 0..E steps */
static double **
averages(const kdd_set *tr, size_t E, double decay)
{
	double **a = calloc(E + 1, sizeof *a);
	kdm_model *p = new_model();
	size_t P = p->nparams;

	a[0] = malloc(P * sizeof **a);
	for (size_t j = 0; j < P; j++)
		a[0][j] = p->params[j];
	kdm_free(p);
	for (size_t k = 1; k <= E; k++) {
		double warm = (double)k / (9.0 + (double)k), d = warm < decay ? warm : decay;
		p = train(tr, NULL, k, 0.0, NULL, NULL);
		a[k] = malloc(P * sizeof **a);
		for (size_t j = 0; j < P; j++)
			a[k][j] = d * a[k - 1][j] + (1 - d) * p->params[j];
		kdm_free(p);
	}
	return a;
}

static void
free_averages(double **a, size_t E)
{
	for (size_t k = 0; k <= E; k++)
		free(a[k]);
	free(a);
}

/* worst_rel: the largest |a - m| / max(|a|, 1) over m's parameters */
static double
worst_rel(const double *a, const kdm_model *m)
{
	double worst = 0.0;
	for (size_t j = 0; j < m->nparams; j++) {
		double err = fabs(a[j] - m->params[j]) / (fabs(a[j]) > 1 ? fabs(a[j]) : 1);
		if (err > worst)
			worst = err;
	}
	return worst;
}

static void
test_ema_is_the_average_of_the_steps(void)
{
	kdd_set tr;
	kdr_rng r;
	kdm_model *avg, *plain;
	const double Dk = 0.2; /* reached at step 2: min(0.2, 3/12) */
	double **a, moved = 0.0;

	kdr_init(&r, 11);
	fill(&tr, N, &r);
	a = averages(&tr, 3, Dk);
	avg = train(&tr, NULL, 3, Dk, NULL, NULL);
	plain = train(&tr, NULL, 3, 0.0, NULL, NULL);
	KT_NEAR(worst_rel(a[3], avg), 0.0, 1e-5);
	/* the average is not the last step's parameters */
	for (size_t j = 0; j < avg->nparams; j++)
		if (fabs(avg->params[j] - plain->params[j]) > moved)
			moved = fabs(avg->params[j] - plain->params[j]);
	KT_CHECK(moved > 1e-3);
	free_averages(a, 3);
	kdm_free(avg);
	kdm_free(plain);
	kdd_free(&tr);
}

static void
on_epoch(const kdt_progress *pr, void *ctx)
{
	double *val = ctx;
	if (pr->end_of_epoch)
		val[pr->epoch - 1] = pr->val_error;
}

/* with validation rows, each epoch scores the average, the epoch kept is
 * the first whose average scored lowest, and the model is that average */
static void
test_ema_scores_and_keeps_the_average(void)
{
	enum { E = 10 };
	const double Dk = 0.6;
	kdd_set tr, va;
	kdr_rng r;
	kd_err e;
	double **a, val[E], err[E + 1];
	size_t kbest = 1;
	kdm_model *m, *probe = new_model();

	kdr_init(&r, 12);
	fill(&tr, N, &r);
	fill(&va, NVAL, &r);
	a = averages(&tr, E, Dk);
	for (size_t k = 1; k <= E; k++) {
		for (size_t j = 0; j < probe->nparams; j++)
			probe->params[j] = (float)a[k][j];
		err[k] = kdt_error_rate(probe, &va, NULL, &e);
		if (err[k] < err[kbest])
			kbest = k;
	}
	m = train(&tr, &va, E, Dk, on_epoch, val);
	for (size_t k = 1; k <= E; k++)
		KT_NEAR(val[k - 1], err[k], 1e-12);
	KT_NEAR(worst_rel(a[kbest], m), 0.0, 1e-5);
	/* the test means something only if the kept epoch is not the last */
	printf("# kept epoch %zu of %d\n", kbest, E);
	KT_CHECK(kbest < E);
	free_averages(a, E);
	kdm_free(probe);
	kdm_free(m);
	kdd_free(&tr);
	kdd_free(&va);
}

static void
test_bad_decay_is_refused(void)
{
	kdd_set tr;
	kdr_rng r;
	kdt_data td = { &tr, NULL, NULL, NULL };
	kdt_opts o;
	kd_err e;
	kdm_model *m = new_model();

	kdr_init(&r, 13);
	fill(&tr, N, &r);
	opts(&o, 1, 1.0);
	KT_CHECK(kdt_fit(m, &td, &o, NULL, NULL, &e) == -1);
	KT_CHECK(strstr(e.msg, "decay") != NULL);
	opts(&o, 1, -0.5);
	KT_CHECK(kdt_fit(m, &td, &o, NULL, NULL, &e) == -1);
	kdm_free(m);
	kdd_free(&tr);
}

int
main(void)
{
	KT_RUN(test_ema_is_the_average_of_the_steps);
	KT_RUN(test_ema_scores_and_keeps_the_average);
	KT_RUN(test_bad_decay_is_refused);
	return kt_done();
}
