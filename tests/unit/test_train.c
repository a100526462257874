/* test_train.c: the moving average of the weights (kdt_opts.ema) in
 * lib/train.c, against the same average computed here, in doubles, from
 * the parameters of plain runs of 0, 1, 2 and 3 steps. With one step an
 * epoch (the batch is all the rows), a constant learning rate and no
 * dropout, a run of k epochs is the first k steps of a longer one, so
 * plain runs give the parameters after every step.
 * And mixup (kdt_opts.mixup): kdt_mixup against the formula, and one
 * step of kdt_fit with it against one step of distillation (T = 1) on
 * the mixed rows and targets made here. And the learning-rate schedules
 * (kdt_lr) against hand-computed rates, and the rate a cosine run's
 * second step really took, measured from its parameters; the warm-up
 * (kdt_step_lr) alike. And a hint (kdt_data.hint): one step of kdt_fit
 * against the chain of kdm_train_hidden, a regressor, kdl_hint and
 * kdm_train_backward_hint done here (whose gradients test_mlp checks by
 * finite differences), with and without the targets' part (hint_only). */
#include "train.h"
#include "kdtest.h"
#include "blobs.h"
#include "loss.h"

#include <math.h>
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
	kdt_data td = { .train = tr, .targets = NULL, .val = va, .val_targets = NULL };
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
		err[k] = kdt_error_rate(probe, &va, NULL, NULL, &e);
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

/* what each epoch of a run told: validation error and loss, best, stop */
typedef struct told {
	size_t n;
	double err[64], loss[64], train[64];
	int best[64], stopped[64];
} told;

static void
on_epoch_all(const kdt_progress *pr, void *ctx)
{
	told *t = ctx;
	if (!pr->end_of_epoch || pr->epoch > 64)
		return;
	t->n = pr->epoch;
	t->err[pr->epoch - 1] = pr->val_error;
	t->loss[pr->epoch - 1] = pr->val_loss;
	t->train[pr->epoch - 1] = pr->loss;
	t->best[pr->epoch - 1] = pr->best;
	t->stopped[pr->epoch - 1] = pr->stopped;
}

/* --select loss and --patience P: the validation loss told is the mean
 * -log softmax of the label (computed here from kdm_forward's logits);
 * the run stops at the first epoch P epochs past the lowest loss so far,
 * and keeps the parameters of that lowest epoch, which are those of a
 * plain run of that many epochs (one step an epoch, constant rate) */
static void
test_patience_keeps_the_lowest_loss(void)
{
	enum { E = 40, P = 3 };
	kdd_set tr, va;
	kdr_rng r;
	kd_err e;
	kdt_data td = { .train = &tr, .targets = NULL, .val = &va, .val_targets = NULL };
	kdt_opts o;
	told all = { 0 }, cut = { 0 };
	size_t best = 1, stop = 0;
	kdm_model *m = new_model(), *c = new_model(), *b;
	float z[NVAL * K];
	kdm_ws *ws = kdm_ws_new(m, NVAL);
	double loss = 0.0, l;

	kdr_init(&r, 21);
	fill(&tr, N, &r);
	fill(&va, NVAL, &r);
	opts(&o, E, 0.0);
	o.lr = o.lr_end = 0.5; /* fast enough to overfit 40 rows */
	o.select = KDT_BY_LOSS;
	KT_CHECK(kdt_fit(m, &td, &o, on_epoch_all, &all, &e) == 0);
	KT_CHECK(all.n == E);
	for (size_t k = 1; k < E && !stop; k++) {
		if (all.loss[k] < all.loss[best - 1])
			best = k + 1;
		if (k + 1 - best >= P)
			stop = k + 1;
	}
	printf("# lowest loss at epoch %zu, stop at %zu of %d\n", best, stop, E);
	KT_CHECK(stop > 0 && stop < E);
	o.patience = P;
	KT_CHECK(kdt_fit(c, &td, &o, on_epoch_all, &cut, &e) == 0);
	KT_CHECK(cut.n == stop);
	KT_CHECK(cut.stopped[stop - 1] == 1 && cut.stopped[stop - 2] == 0);
	for (size_t k = 0; k < stop; k++)
		KT_CHECK(cut.loss[k] == all.loss[k] && cut.best[k] == all.best[k]);
	td.val = NULL;
	o.patience = 0;
	o.epochs = best;
	b = new_model();
	KT_CHECK(kdt_fit(b, &td, &o, NULL, NULL, &e) == 0);
	td.val = &va;
	KT_CHECK(memcmp(b->params, c->params, b->nparams * sizeof *b->params) == 0);
	/* the loss of the kept model, by hand */
	KT_CHECK(kdm_forward(c, ws, va.x, NVAL, z) == 0);
	for (size_t i = 0; i < NVAL; i++) {
		double sum = 0.0;
		for (size_t k = 0; k < K; k++)
			sum += exp((double)z[i * K + k]);
		loss -= log(exp((double)z[i * K + (size_t)va.y[i]]) / sum);
	}
	KT_NEAR(kdt_error_rate(c, &va, NULL, &l, &e), all.err[best - 1], 1e-12);
	KT_NEAR(l, loss / NVAL, 1e-9);
	KT_NEAR(l, all.loss[best - 1], 1e-12);
	/* without validation rows the training loss decides: the run stops
	 * at the first epoch P epochs past the last whose loss fell 1e-4
	 * below the lowest before it, and keeps its last epoch */
	{
		/* the first rate (of a few) whose run's loss stalls */
		const double rates[] = { 0.5, 1.0, 2.0, 4.0 };
		told full;
		kdm_model *f, *g = new_model();
		double low;
		size_t last = 0, end = 0;
		td.val = NULL;
		o.patience = 0;
		o.epochs = E;
		for (size_t i = 0; i < 4 && !end; i++) {
			memset(&full, 0, sizeof full);
			f = new_model();
			o.lr = o.lr_end = rates[i];
			KT_CHECK(kdt_fit(f, &td, &o, on_epoch_all, &full, &e) == 0);
			kdm_free(f);
			low = INFINITY;
			for (size_t k = 0; k < E && !end; k++) {
				if (full.train[k] < low - 1e-4) {
					low = full.train[k];
					last = k + 1;
				}
				if (k + 1 - last >= 2)
					end = k + 1;
			}
		}
		printf("# training loss at rate %g: last improvement at epoch %zu, stop at %zu of %d\n",
		       o.lr, last, end, E);
		KT_CHECK(end > 0 && end < E);
		told stop2 = { 0 };
		o.patience = 2;
		KT_CHECK(kdt_fit(g, &td, &o, on_epoch_all, &stop2, &e) == 0);
		KT_CHECK(stop2.n == end && end > 0 && stop2.stopped[end - 1] == 1);
		kdm_free(g);
	}
	kdm_ws_free(ws);
	kdm_free(m);
	kdm_free(c);
	kdm_free(b);
	kdd_free(&tr);
	kdd_free(&va);
}

/* a decay outside [0, 1) and an unknown schedule are refused */
static void
test_bad_decay_and_schedule_are_refused(void)
{
	kdd_set tr;
	kdr_rng r;
	kdt_data td = { .train = &tr, .targets = NULL, .val = NULL, .val_targets = NULL };
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
	opts(&o, 1, 0.0);
	o.schedule = 7;
	KT_CHECK(kdt_fit(m, &td, &o, NULL, NULL, &e) == -1);
	KT_CHECK(strstr(e.msg, "schedule") != NULL);
	kdm_free(m);
	kdd_free(&tr);
}

/* kdt_mixup: out and tg are lam and 1 - lam of each row and its
 * partner, lam and the partners the draws of r in the documented order */
static void
test_mixup_mixes_rows_and_labels(void)
{
	enum { B = 9 };
	kdd_set s;
	kdr_rng r, again;
	uint32_t perm[B], p2[B], seen[B] = { 0 };
	float out[B * D], tg[B * K];
	double lam, lam2, moved = 0.0;

	kdr_init(&r, 21);
	fill(&s, B, &r);
	kdr_init(&r, 22);
	again = r;
	lam = kdt_mixup(&r, 0.4, s.x, s.y, B, D, K, perm, out, tg);
	lam2 = kdr_beta(&again, 0.4, 0.4);
	for (uint32_t b = 0; b < B; b++)
		p2[b] = b;
	kdr_shuffle(&again, p2, B);
	KT_CHECK(lam == lam2);
	KT_CHECK(lam > 0.0 && lam < 1.0);
	for (size_t b = 0; b < B; b++) {
		double sum = 0.0;
		KT_CHECK(perm[b] == p2[b] && perm[b] < B);
		seen[perm[b] % B]++;
		if (perm[b] != b)
			moved = 1.0;
		for (size_t j = 0; j < D; j++)
			KT_NEAR(out[b * D + j], lam * s.x[b * D + j] + (1 - lam) * s.x[perm[b] * D + j], 1e-6);
		for (size_t q = 0; q < K; q++) {
			double want = (s.y[b] == (int32_t)q ? lam : 0.0) +
			              (s.y[perm[b]] == (int32_t)q ? 1 - lam : 0.0);
			KT_NEAR(tg[b * K + q], want, 1e-6);
			sum += tg[b * K + q];
		}
		KT_NEAR(sum, 1.0, 1e-6);
	}
	for (size_t b = 0; b < B; b++)
		KT_CHECK(seen[b] == 1); /* a permutation */
	KT_CHECK(moved > 0.0);
	kdd_free(&s);
}

/* one step (the batch is all the rows) of kdt_fit with --mixup is one
 * step of distillation at T = 1 on the rows and targets that kdt_mixup
 * makes of the epoch's shuffle: kdt_fit seeds its generator with the
 * seed, shuffles the rows, and (with no jitter or flip) mixes them next */
static void
test_mixup_step_is_distillation_on_mixed_rows(void)
{
	kdd_set tr, mixed;
	kdr_rng r;
	kdt_opts o;
	kd_err e;
	uint32_t order[N], perm[N];
	float *x = malloc(N * D * sizeof *x), *tg = malloc(N * K * sizeof *tg);
	int32_t y[N];
	kdm_model *mix = new_model(), *ref = new_model(), *plain;
	double worst = 0.0, moved = 0.0;

	kdr_init(&r, 23);
	fill(&tr, N, &r);
	/* as kdt_fit draws them */
	kdr_init(&r, 1);
	for (uint32_t i = 0; i < N; i++)
		order[i] = i;
	kdr_shuffle(&r, order, N);
	for (size_t b = 0; b < N; b++) {
		memcpy(x + b * D, tr.x + order[b] * D, D * sizeof *x);
		y[b] = tr.y[order[b]];
	}
	memset(&mixed, 0, sizeof mixed);
	mixed.n = N;
	mixed.d = D;
	mixed.id = tr.id;
	mixed.x = malloc(N * D * sizeof *mixed.x);
	kdt_mixup(&r, 0.5, x, y, N, D, K, perm, mixed.x, tg);

	opts(&o, 1, 0.0);
	o.mixup = 0.5;
	o.seed = 1;
	KT_CHECK(kdt_fit(mix, &(kdt_data){ .train = &tr, .targets = NULL, .val = NULL, .val_targets = NULL }, &o, NULL, NULL, &e) == 0);
	opts(&o, 1, 0.0);
	o.loss = KDT_DISTILL;
	o.T = 1.0;
	o.alpha = 1.0;
	KT_CHECK(kdt_fit(ref, &(kdt_data){ .train = &mixed, .targets = tg, .val = NULL, .val_targets = NULL }, &o, NULL, NULL, &e) == 0);
	plain = train(&tr, NULL, 1, 0.0, NULL, NULL);
	for (size_t j = 0; j < mix->nparams; j++) {
		double d = fabs(mix->params[j] - ref->params[j]);
		if (d > worst)
			worst = d;
		if (fabs(mix->params[j] - plain->params[j]) > moved)
			moved = fabs(mix->params[j] - plain->params[j]);
	}
	KT_NEAR(worst, 0.0, 1e-6);
	KT_CHECK(moved > 1e-3); /* mixing changed the step */
	kdm_free(mix);
	kdm_free(ref);
	kdm_free(plain);
	free(mixed.x);
	free(x);
	free(tg);
	kdd_free(&tr);
}

/* mixup needs labels to mix: a distilled student is refused, and so is
 * an a out of range */
static void
test_mixup_refused_without_hard_labels(void)
{
	kdd_set tr;
	kdr_rng r;
	kdt_opts o;
	kd_err e;
	float *tg = malloc(N * K * sizeof *tg);
	kdm_model *m = new_model();

	kdr_init(&r, 24);
	kt_blobs(&tr, N, D, K, 1.0f, tg, &r);
	opts(&o, 1, 0.0);
	o.mixup = 0.2;
	o.loss = KDT_DISTILL;
	o.T = 4.0;
	KT_CHECK(kdt_fit(m, &(kdt_data){ .train = &tr, .targets = tg, .val = NULL, .val_targets = NULL }, &o, NULL, NULL, &e) == -1);
	KT_CHECK(strstr(e.msg, "hard labels only") != NULL);
	opts(&o, 1, 0.0);
	o.mixup = -1.0;
	KT_CHECK(kdt_fit(m, &(kdt_data){ .train = &tr, .targets = NULL, .val = NULL, .val_targets = NULL }, &o, NULL, NULL, &e) == -1);
	kdm_free(m);
	free(tg);
	kdd_free(&tr);
}

/* kdt_lr against rates computed by hand: lr 0.1 to 0.001 over 5 epochs,
 * f = 0, 1/4, 1/2, 3/4, 1 */
static void
test_lr_schedules(void)
{
	static const double geo[5] = { 0.1, 0.0316227766, 0.01, 0.00316227766, 0.001 };
	/* 0.001 + 0.099 * (1 + cos(pi f)) / 2, cos(pi/4) = 0.70710678 */
	static const double cosine[5] = { 0.1, 0.0855017857, 0.0505, 0.0154982143, 0.001 };
	kdt_opts o;

	kdt_opts_init(&o);
	KT_CHECK(o.schedule == KDT_GEOMETRIC);
	o.epochs = 5;
	o.lr = 0.1;
	o.lr_end = 0.001;
	for (size_t ep = 0; ep < 5; ep++)
		KT_NEAR(kdt_lr(&o, ep), geo[ep], 1e-10);
	o.schedule = KDT_COSINE;
	for (size_t ep = 0; ep < 5; ep++)
		KT_NEAR(kdt_lr(&o, ep), cosine[ep], 1e-10);
	o.epochs = 1;
	KT_NEAR(kdt_lr(&o, 0), 0.1, 0);
}

/* the parameters at the end of each epoch, copied by the callback */
struct snap {
	kdm_model *m;
	float *p[4];
	double lr[4];
};

static void
snap_report(const kdt_progress *p, void *ctx)
{
	struct snap *s = ctx;
	if (!p->end_of_epoch || p->epoch > 3)
		return;
	s->lr[p->epoch] = p->lr;
	memcpy(s->p[p->epoch], s->m->params, s->m->nparams * sizeof *s->m->params);
}

/* fitted_rate: the rate of the one step that took a model's parameters
 * from `from` to `to` (P of them; no momentum), where the gradient g at
 * `from` is measured by one step at lr 1 from there (step = rate *
 * (g - from), rate = <step, g - from> / |g - from|^2); *worst is the
 * parameter furthest from a step at rate want */
static double
fitted_rate(const kdd_set *tr, const float *from, const float *to, size_t P,
            double want, double *worst)
{
	kdm_model *g = new_model();
	kdt_opts o;
	kd_err e;
	double num = 0, den = 0;

	memcpy(g->params, from, P * sizeof *g->params);
	opts(&o, 1, 0.0);
	o.reg.momentum = 0.0f;
	o.lr = o.lr_end = 1.0;
	KT_CHECK(kdt_fit(g, &(kdt_data){ .train = tr, .targets = NULL, .val = NULL, .val_targets = NULL }, &o, NULL, NULL, &e) == 0);
	*worst = 0;
	for (size_t j = 0; j < P; j++) {
		double step = (double)to[j] - from[j], unit = (double)g->params[j] - from[j];
		double d = fabs(step - want * unit);
		num += step * unit;
		den += unit * unit;
		*worst = d > *worst ? d : *worst;
	}
	KT_CHECK(den > 0);
	kdm_free(g);
	return den > 0 ? num / den : 0;
}

/* a run of 3 epochs, lr 0.1 (to lr_end), one full-batch step an epoch
 * and no momentum, on fresh blobs; s gets the parameters before (p[0])
 * and after each epoch */
static void
run_three_steps(kdd_set *tr, kdt_opts *o, struct snap *s)
{
	kdr_rng r;
	kd_err e;
	kdm_model *m = new_model();

	kdr_init(&r, 31);
	fill(tr, N, &r);
	s->m = m;
	for (int i = 0; i < 4; i++)
		s->p[i] = calloc(m->nparams, sizeof *s->p[i]);
	memcpy(s->p[0], m->params, m->nparams * sizeof *m->params);
	o->reg.momentum = 0.0f;
	o->lr = 0.1;
	KT_CHECK(kdt_fit(m, &(kdt_data){ .train = tr, .targets = NULL, .val = NULL, .val_targets = NULL }, o, snap_report, s, &e) == 0);
}

/* a cosine run of 3 epochs, lr 0.1 to 0.001: its second step is -0.0505
 * times the gradient (a geometric schedule would have taken 0.01) */
static void
test_cosine_run_takes_its_rates(void)
{
	kdd_set tr;
	kdt_opts o;
	struct snap s;
	double worst, rate;
	size_t P;

	opts(&o, 3, 0.0);
	o.lr_end = 0.001;
	o.schedule = KDT_COSINE;
	run_three_steps(&tr, &o, &s);
	KT_NEAR(s.lr[1], 0.1, 0);
	KT_NEAR(s.lr[2], 0.0505, 1e-12);
	KT_NEAR(s.lr[3], 0.001, 1e-12);
	P = s.m->nparams;
	rate = fitted_rate(&tr, s.p[1], s.p[2], P, 0.0505, &worst);
	KT_NEAR(rate, 0.0505, 0.0505 * 1e-3);
	printf("# cosine epoch 2: fitted rate %.6f, worst parameter off by %.2g\n", rate, worst);
	KT_CHECK(worst < 1e-5);
	for (int i = 0; i < 4; i++)
		free(s.p[i]);
	kdm_free(s.m);
	kdd_free(&tr);
}

/* kdt_step_lr against rates worked by hand: a warm-up of 2 epochs of 4
 * steps (S = 8) under a cosine from 0.1 to 0.001 over 3 epochs: step s
 * of epoch 0 takes 0.1 (s+1)/8, of epoch 1 0.0505 (s+5)/8, of epoch 2
 * 0.001; without a warm-up the epoch's rate */
static void
test_warmup_rates(void)
{
	kdt_opts o;

	kdt_opts_init(&o);
	o.epochs = 3;
	o.lr = 0.1;
	o.lr_end = 0.001;
	o.schedule = KDT_COSINE;
	KT_NEAR(kdt_step_lr(&o, 0, 0, 4), 0.1, 1e-12);
	o.warmup = 2;
	KT_NEAR(kdt_step_lr(&o, 0, 0, 4), 0.0125, 1e-12);
	KT_NEAR(kdt_step_lr(&o, 0, 3, 4), 0.05, 1e-12);
	KT_NEAR(kdt_step_lr(&o, 1, 0, 4), 0.0505 * 5 / 8, 1e-12);
	KT_NEAR(kdt_step_lr(&o, 1, 3, 4), 0.0505, 1e-12);
	KT_NEAR(kdt_step_lr(&o, 2, 0, 4), 0.001, 1e-12);
	o.warmup = 3; /* the whole run */
	KT_NEAR(kdt_step_lr(&o, 2, 3, 4), 0.001, 1e-12);
	KT_NEAR(kdt_step_lr(&o, 2, 1, 4), 0.001 * 10 / 12, 1e-12);
}

/* a run with a warm-up of 2 one-step epochs at a constant 0.1 really
 * takes steps of 0.05, then 0.1, then 0.1 (measured from its parameters,
 * as above); and a warm-up longer than the run is refused */
static void
test_warmup_run_takes_its_rates(void)
{
	static const double want[3] = { 0.05, 0.1, 0.1 };
	kdd_set tr;
	kdt_opts o;
	kd_err e;
	struct snap s;
	size_t P;

	opts(&o, 3, 0.0);
	o.lr_end = 0.1;
	o.warmup = 2;
	run_three_steps(&tr, &o, &s);
	/* and the progress reports the rate of the epoch's last step */
	KT_NEAR(s.lr[1], 0.05, 1e-12);
	KT_NEAR(s.lr[2], 0.1, 1e-12);
	P = s.m->nparams;
	for (int k = 0; k < 3; k++) {
		double worst, rate = fitted_rate(&tr, s.p[k], s.p[k + 1], P, want[k], &worst);
		printf("# warm-up step %d: fitted rate %.6f (want %g), worst parameter off by %.2g\n",
		       k + 1, rate, want[k], worst);
		KT_NEAR(rate, want[k], want[k] * 1e-3);
		KT_CHECK(worst < 1e-5);
	}
	opts(&o, 3, 0.0);
	o.warmup = 4;
	KT_CHECK(kdt_fit(s.m, &(kdt_data){ .train = &tr, .targets = NULL, .val = NULL, .val_targets = NULL }, &o, NULL, NULL, &e) == -1);
	KT_CHECK(strstr(e.msg, "warm-up") != NULL);
	for (int i = 0; i < 4; i++)
		free(s.p[i]);
	kdm_free(s.m);
	kdd_free(&tr);
}

/* hint_step: one SGD step (momentum 0.5: the first is -lr g) of kdt_fit
 * on tr with the features f (N, F) as a hint on layer 1, against the same
 * step made here */
static void
hint_step(const kdd_set *tr, const float *f, size_t F, int hint_only)
{
	kdt_data td = { .train = tr, .hint = f, .hint_dim = F };
	kdt_opts o;
	kd_err e;
	kdm_model *m = new_model(), *ref = new_model(), *reg;
	kdm_train *t, *rt;
	float dl[N * K], dr[N * 4], dh[N * HID];
	size_t bad = 0;
	const double lr = 0.2, w = 0.7;

	opts(&o, 1, 0.0);
	o.hint_layer = 1;
	o.hint_weight = w;
	o.hint_only = hint_only;
	KT_CHECK(kdt_fit(m, &td, &o, NULL, NULL, &e) == 0);

	reg = kdm_new(HID, NULL, 0, F, o.seed ^ KDT_HINT_SEED, NULL);
	t = kdm_train_new(ref, N, NULL, NULL);
	rt = kdm_train_new(reg, N, NULL, NULL);
	kdl_hard_ce(kdm_train_forward(t, tr->x, N, NULL), tr->y, N, K, dl);
	if (hint_only)
		memset(dl, 0, sizeof dl);
	kdl_hint(kdm_train_forward(rt, kdm_train_hidden(t, 1), N, NULL), f, N, F, w, dr);
	kdm_train_backward(rt, dr);
	// dr is (N,F), W_r is (F,HID), dh is (N,HID): dh = dr W_r
	for (size_t b = 0; b < N; b++)
		for (size_t i = 0; i < HID; i++) {
			double s = 0.0;
			for (size_t j = 0; j < F; j++)
				s += (double)dr[b * F + j] * reg->W[0][j * HID + i];
			dh[b * HID + i] = (float)s;
		}
	kdm_train_backward_hint(t, dl, 1, dh);
	for (size_t i = 0; i < ref->nparams; i++) {
		double want = ref->params[i] - lr * kdm_train_grads(t)[i];
		if (!(fabs(m->params[i] - want) <= 1e-6 * (1.0 + fabs(want))))
			bad++;
	}
	KT_CHECK(bad == 0);
	/* on the hint alone, the output layer gets no gradient: unchanged */
	if (hint_only)
		KT_CHECK(memcmp(m->W[1], ref->W[1], (HID * K + K) * sizeof *m->W[1]) == 0);
	else
		KT_CHECK(memcmp(m->W[1], ref->W[1], HID * K * sizeof *m->W[1]) != 0);
	kdm_train_free(t);
	kdm_train_free(rt);
	kdm_free(reg);
	kdm_free(ref);
	kdm_free(m);
}

static void
test_hint_step_is_the_chain(void)
{
	kdd_set tr;
	kdr_rng r;
	float f[N * 4];

	kdr_init(&r, 21);
	fill(&tr, N, &r);
	for (size_t i = 0; i < N * 4; i++)
		f[i] = (float)kdr_uniform(&r);
	hint_step(&tr, f, 4, 0);
	hint_step(&tr, f, 4, 1);
	kdd_free(&tr);
}

/* a hint of weight 0 trains the student of no hint, bit for bit; a layer
 * that is not hidden, no features, mixup and hint_only without a hint are
 * refused */
static void
test_hint_weight_0_and_bad_hints(void)
{
	kdd_set tr;
	kdr_rng r;
	float f[N * 4];
	kdt_opts o;
	kd_err e;
	kdm_model *a, *b = new_model();

	kdr_init(&r, 22);
	fill(&tr, N, &r);
	for (size_t i = 0; i < N * 4; i++)
		f[i] = (float)kdr_uniform(&r);
	a = train(&tr, NULL, 5, 0.0, NULL, NULL);
	opts(&o, 5, 0.0);
	o.hint_layer = 1;
	KT_CHECK(kdt_fit(b, &(kdt_data){ .train = &tr, .hint = f, .hint_dim = 4 }, &o, NULL, NULL, &e) == 0);
	KT_CHECK(memcmp(a->params, b->params, a->nparams * sizeof *a->params) == 0);
	o.hint_weight = 1.0;
	KT_CHECK(kdt_fit(b, &(kdt_data){ .train = &tr, .hint = f, .hint_dim = 4 }, &o, NULL, NULL, &e) == 0);
	KT_CHECK(memcmp(a->params, b->params, a->nparams * sizeof *a->params) != 0);
	o.hint_layer = 2;
	KT_CHECK(kdt_fit(b, &(kdt_data){ .train = &tr, .hint = f, .hint_dim = 4 }, &o, NULL, NULL, &e) == -1);
	KT_CHECK(strstr(e.msg, "layer 2 is not one (it has 1)") != NULL);
	o.hint_layer = 1;
	KT_CHECK(kdt_fit(b, &(kdt_data){ .train = &tr, .hint = f, .hint_dim = 0 }, &o, NULL, NULL, &e) == -1);
	o.mixup = 0.2;
	KT_CHECK(kdt_fit(b, &(kdt_data){ .train = &tr, .hint = f, .hint_dim = 4 }, &o, NULL, NULL, &e) == -1);
	o.mixup = 0;
	o.hint_only = 1;
	KT_CHECK(kdt_fit(b, &(kdt_data){ .train = &tr }, &o, NULL, NULL, &e) == -1);
	KT_CHECK(strstr(e.msg, "needs a hint") != NULL);
	kdm_free(a);
	kdm_free(b);
	kdd_free(&tr);
}

int
main(void)
{
	KT_RUN(test_ema_is_the_average_of_the_steps);
	KT_RUN(test_ema_scores_and_keeps_the_average);
	KT_RUN(test_patience_keeps_the_lowest_loss);
	KT_RUN(test_bad_decay_and_schedule_are_refused);
	KT_RUN(test_mixup_mixes_rows_and_labels);
	KT_RUN(test_mixup_step_is_distillation_on_mixed_rows);
	KT_RUN(test_mixup_refused_without_hard_labels);
	KT_RUN(test_lr_schedules);
	KT_RUN(test_cosine_run_takes_its_rates);
	KT_RUN(test_warmup_rates);
	KT_RUN(test_warmup_run_takes_its_rates);
	KT_RUN(test_hint_step_is_the_chain);
	KT_RUN(test_hint_weight_0_and_bad_hints);
	return kt_done();
}
