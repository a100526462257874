/* test_workers.c: data-parallel training in lib/train.c without MPI. Two
 * workers run kdt_fit in two threads of this process, and a reduce hook
 * written here sums their buffers (a barrier, then each adds the two in
 * the same order): the workers must end with the same parameters, bit
 * for bit, and with the model of one plain run with twice the batch, to
 * float rounding; one plain run with the workers' batch must not match
 * (the comparison can fail). Row counts are chosen so that the last
 * global batch leaves worker 1 a few rows, or none. */
#include "train.h"
#include "blas.h"
#include "kdtest.h"
#include "blobs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { D = 6, K = 3, HID = 12, BATCH = 8, NVAL = 41 };

/* ---- the data: blobs around K centres, labels, soft targets ---- */

typedef struct data {
	kdd_set tr, va;
	float *targets;   /* (tr.n, K) */
	float *vtargets;  /* (va.n, K) */
} data;

static void
fill(kdd_set *s, float **targets, size_t n, kdr_rng *r)
{
	*targets = malloc(n * K * sizeof **targets);
	kt_blobs(s, n, D, K, 1.5f, *targets, r);
}

static void
data_make(data *d, size_t n)
{
	kdr_rng r;
	kdr_init(&r, 42 + n);
	fill(&d->tr, &d->targets, n, &r);
	fill(&d->va, &d->vtargets, NVAL, &r);
}

static void
data_free(data *d)
{
	kdd_free(&d->tr);
	kdd_free(&d->va);
	free(d->targets);
	free(d->vtargets);
}

/* ---- two workers and their reduce hook ---- */

typedef struct duo {
	pthread_barrier_t bar;
	float *f[2];
	double *s[2];
	size_t calls[2];  /* reduce calls per worker */
} duo;

typedef struct worker {
	duo *d;
	int id;
	float *tmp;       /* (nparams) this worker's sums before copying back */
	kdm_model *m;
	const data *dat;
	kdt_opts o;
	int rc;
	kd_err e;
	double loss[16];  /* training loss reported at each epoch's end */
	double val[16];   /* validation error at each epoch's end */
} worker;

/* duo_reduce: the kdt_reduce_fn: both workers' buffers are summed by each
 * (f0 + f1, the same order for both), then copied back */
static int
duo_reduce(float *f, size_t nf, double *s, size_t ns, void *ctx, kd_err *e)
{
	worker *w = ctx;
	duo *d = w->d;
	double ts[8];

	(void)e;
	if (ns > 8 || nf > w->m->nparams)
		return -1;
	d->f[w->id] = f;
	d->s[w->id] = s;
	d->calls[w->id]++;
	pthread_barrier_wait(&d->bar);
	for (size_t i = 0; i < nf; i++)
		w->tmp[i] = d->f[0][i] + d->f[1][i];
	for (size_t i = 0; i < ns; i++)
		ts[i] = d->s[0][i] + d->s[1][i];
	pthread_barrier_wait(&d->bar);
	if (nf > 0) /* f is NULL for the sums of doubles alone */
		memcpy(f, w->tmp, nf * sizeof *f);
	memcpy(s, ts, ns * sizeof *s);
	return 0;
}

static void
on_report(const kdt_progress *p, void *ctx)
{
	worker *w = ctx;
	if (p->end_of_epoch && p->epoch <= 16) {
		w->loss[p->epoch - 1] = p->loss;
		w->val[p->epoch - 1] = p->val_error;
	}
}

static void
base_opts(kdt_opts *o)
{
	kdt_opts_init(o);
	o->epochs = 5;
	o->lr = 0.1;
	o->lr_end = 0.01;
	o->loss = KDT_DISTILL;
	o->T = 2.0;
	o->alpha = 0.7;          /* the hard labels too */
	o->reg.momentum = 0.9f;
	o->reg.weight_decay = 1e-3f;
	o->reg.maxnorm = 2.0f;
	o->seed = 5;
}

static kdm_model *
new_model(void)
{
	size_t h = HID;
	return kdm_new(D, &h, 1, K, 7, NULL);
}

/* run: train w->m on w->dat with w->o (the thread body, or called as is) */
static void *
run(void *arg)
{
	worker *w = arg;
	kdt_data td = { .train = &w->dat->tr, .targets = w->dat->targets, .val = &w->dat->va, .val_targets = w->dat->vtargets };
	w->rc = kdt_fit(w->m, &td, &w->o, on_report, w, &w->e);
	return NULL;
}

/* two_workers: train ws[0], ws[1] (models and options set) in two threads */
static void
two_workers(worker *ws, duo *d)
{
	pthread_t th[2];

	memset(d, 0, sizeof *d);
	pthread_barrier_init(&d->bar, NULL, 2);
	for (int i = 0; i < 2; i++) {
		ws[i].d = d;
		ws[i].id = i;
		ws[i].tmp = malloc(ws[i].m->nparams * sizeof *ws[i].tmp);
		ws[i].o.workers = 2;
		ws[i].o.worker = (size_t)i;
		ws[i].o.reduce = duo_reduce;
		ws[i].o.reduce_ctx = &ws[i];
		pthread_create(&th[i], NULL, run, &ws[i]);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		free(ws[i].tmp);
	}
	pthread_barrier_destroy(&d->bar);
}

/* train_duo: two workers of options o on dat, into ws (models made here) */
static void
train_duo(worker *ws, duo *d, const data *dat, const kdt_opts *o)
{
	memset(ws, 0, 2 * sizeof *ws);
	for (int i = 0; i < 2; i++) {
		ws[i].dat = dat;
		ws[i].m = new_model();
		ws[i].o = *o;
	}
	two_workers(ws, d);
}

/* max_rel: the largest |a-b| / max(|a|, 1) over n values */
static double
max_rel(const float *a, const float *b, size_t n)
{
	double mx = 0.0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)b[i]);
		double m = fabs((double)a[i]);
		d /= m > 1.0 ? m : 1.0;
		if (d > mx)
			mx = d;
	}
	return mx;
}

/* check_equal_to_double_batch: n training rows, and the moving average
 * of the weights with decay ema (0: none) */
static void
check_equal_to_double_batch(size_t n, double ema)
{
	data dat;
	worker one, half, ws[2];
	duo d;

	data_make(&dat, n);
	memset(&one, 0, sizeof one);
	memset(&half, 0, sizeof half);
	one.dat = half.dat = &dat;
	one.m = new_model();
	half.m = new_model();
	base_opts(&half.o);
	half.o.batch = BATCH;
	half.o.ema = ema;
	one.o = half.o;
	one.o.batch = 2 * BATCH;
	run(&one);
	run(&half);
	train_duo(ws, &d, &dat, &half.o);
	KT_CHECK(one.rc == 0 && half.rc == 0);
	KT_CHECK(ws[0].rc == 0 && ws[1].rc == 0);
	if (ws[0].rc || ws[1].rc)
		printf("# %s / %s\n", ws[0].e.msg, ws[1].e.msg);
	/* a step per global batch, one more call per epoch for validation,
	 * one to compare fingerprints */
	KT_CHECK(d.calls[0] == d.calls[1]);
	KT_CHECK(d.calls[0] == 5 * ((n + 2 * BATCH - 1) / (2 * BATCH) + 1) + 1);
	/* the workers agree bit for bit */
	KT_CHECK(!memcmp(ws[0].m->params, ws[1].m->params, ws[0].m->nparams * sizeof(float)));
	/* the same model as one run with twice the batch, to float rounding */
	{
		double r = max_rel(one.m->params, ws[0].m->params, one.m->nparams);
		double r_half = max_rel(one.m->params, half.m->params, one.m->nparams);
		printf("# n %zu, ema %g: 2 workers vs batch %d: %.3g; batch %d vs %d: %.3g\n",
		       n, ema, 2 * BATCH, r, BATCH, 2 * BATCH, r_half);
		KT_CHECK(r < 1e-5);
		/* and the comparison can fail: one worker's batch alone differs */
		KT_CHECK(r_half > 1e-3);
	}
	for (int ep = 0; ep < 5; ep++) {
		KT_NEAR(ws[0].loss[ep], one.loss[ep], 1e-6 * one.loss[ep]);
		KT_CHECK(ws[0].loss[ep] == ws[1].loss[ep]);
		KT_CHECK(ws[0].val[ep] == one.val[ep] && ws[1].val[ep] == one.val[ep]);
	}
	kdm_free(one.m);
	kdm_free(half.m);
	kdm_free(ws[0].m);
	kdm_free(ws[1].m);
	data_free(&dat);
}

/* 203 rows: the last global batch of 11 gives worker 1 three rows */
static void
test_two_workers_equal_one_with_twice_the_batch(void)
{
	check_equal_to_double_batch(203, 0.0);
}

/* the same with --ema: every worker keeps the same average, that of the
 * global steps */
static void
test_two_workers_with_a_moving_average(void)
{
	check_equal_to_double_batch(203, 0.9);
}

/* 197 rows: the last global batch of 5 gives worker 1 none */
static void
test_a_worker_with_no_rows_in_the_last_step(void)
{
	check_equal_to_double_batch(197, 0.0);
}

/* mixup in a data-parallel run: each worker mixes its own rows with its
 * own draws. The workers must still agree bit for bit, also when one has
 * no rows in the last step (197 rows), and the mixing must have taken
 * effect (the model differs from the same run without it) without
 * keeping the workers from learning the blobs */
static void
test_two_workers_with_mixup(void)
{
	data dat;
	worker mx[2], no[2];
	duo d;
	kdt_opts o;

	data_make(&dat, 197);
	base_opts(&o);
	o.batch = BATCH;
	o.loss = KDT_HARD; /* mixup mixes hard labels only */
	train_duo(no, &d, &dat, &o);
	o.mixup = 0.4;
	train_duo(mx, &d, &dat, &o);
	KT_CHECK(no[0].rc == 0 && no[1].rc == 0);
	KT_CHECK(mx[0].rc == 0 && mx[1].rc == 0);
	if (mx[0].rc || mx[1].rc)
		printf("# %s / %s\n", mx[0].e.msg, mx[1].e.msg);
	KT_CHECK(d.calls[0] == d.calls[1]);
	KT_CHECK(!memcmp(mx[0].m->params, mx[1].m->params, mx[0].m->nparams * sizeof(float)));
	{
		double r = max_rel(no[0].m->params, mx[0].m->params, no[0].m->nparams);
		printf("# mixup vs none: %.3g; validation error %.3f vs %.3f\n", r,
		       mx[0].val[4], no[0].val[4]);
		KT_CHECK(r > 1e-3);
	}
	KT_CHECK(mx[0].val[4] == mx[1].val[4]);
	KT_CHECK(mx[0].val[4] < no[0].val[4] + 0.05);
	for (int i = 0; i < 2; i++) {
		kdm_free(mx[i].m);
		kdm_free(no[i].m);
	}
	data_free(&dat);
}

/* workers given different options stop at once, all of them */
static void
test_workers_with_other_options_are_refused(void)
{
	data dat;
	worker ws[2];
	duo d;

	data_make(&dat, 100);
	memset(ws, 0, sizeof ws);
	ws[0].dat = ws[1].dat = &dat;
	ws[0].m = new_model();
	ws[1].m = new_model();
	base_opts(&ws[0].o);
	ws[0].o.batch = BATCH;
	ws[1].o = ws[0].o;
	ws[1].o.lr = 0.2;
	two_workers(ws, &d);
	KT_CHECK(ws[0].rc == -1 && ws[1].rc == -1);
	KT_CHECK(strstr(ws[0].e.msg, "not given the same options") != NULL);
	KT_CHECK(d.calls[0] == 1 && d.calls[1] == 1);
	kdm_free(ws[0].m);
	kdm_free(ws[1].m);
	data_free(&dat);
}

/* a plain run is untouched by the new fields; bad ones are refused */
static void
test_bad_worker_options(void)
{
	data dat;
	worker w;

	data_make(&dat, 50);
	memset(&w, 0, sizeof w);
	w.dat = &dat;
	w.m = new_model();
	base_opts(&w.o);
	w.o.workers = 2; /* no reduce hook */
	run(&w);
	KT_CHECK(w.rc == -1 && strstr(w.e.msg, "reduce") != NULL);
	w.o.workers = 1;
	w.o.worker = 1;
	run(&w);
	KT_CHECK(w.rc == -1);
	w.o.workers = 2;
	w.o.worker = 2;
	w.o.reduce = duo_reduce;
	run(&w);
	KT_CHECK(w.rc == -1);
	kdm_free(w.m);
	data_free(&dat);
}

int
main(void)
{
	kdb_set_threads(1); /* one BLAS thread under each worker thread */
	KT_RUN(test_two_workers_equal_one_with_twice_the_batch);
	KT_RUN(test_a_worker_with_no_rows_in_the_last_step);
	KT_RUN(test_two_workers_with_a_moving_average);
	KT_RUN(test_two_workers_with_mixup);
	KT_RUN(test_workers_with_other_options_are_refused);
	KT_RUN(test_bad_worker_options);
	return kt_done();
}
