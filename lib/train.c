/* train.c: the training loop (see train.h). */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "blas.h"
#include "ckpt.h"
#include "le.h"
#include "loss.h"
#include "prob.h"
#include "rng.h"

#define EVAL_BATCH 256
#define KDT_TOL 1e-4 /* the least fall of the training loss that counts as
                      * progress (scikit-learn's tol) */

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void
kdt_opts_init(kdt_opts *o)
{
	memset(o, 0, sizeof *o);
	o->epochs = 30;
	o->batch = 128;
	o->lr = 0.05;
	o->lr_end = 0.0005;
	o->reg.momentum = 0.9f;
	o->seed = 1;
	o->loss = KDT_HARD;
	o->T = 1.0;
	o->alpha = 1.0;
	o->keep_best = 1;
	o->select = KDT_BY_ERROR;
}

size_t
kdt_steps_per_epoch(const kdt_opts *o, size_t n)
{
	size_t W = o->workers > 1 ? o->workers : 1;
	size_t G = o->batch <= n / W ? W * o->batch : n;
	return G ? (n + G - 1) / G : 0;
}

/* nll: -log softmax(z)[c] of K logits z, in double */
static double
nll(const float *z, size_t K, size_t c)
{
	double mx = z[0], sum = 0.0;
	for (size_t k = 1; k < K; k++)
		mx = z[k] > mx ? z[k] : mx;
	for (size_t k = 0; k < K; k++)
		sum += exp((double)z[k] - mx);
	return log(sum) - ((double)z[c] - mx);
}

/* count_wrong: *wrong = the rows from..to-1 of s that m classifies
 * wrongly, and *loss their summed cross-entropy (see kdt_error_rate).
 * 0 or -1. */
static int
count_wrong(const kdm_model *m, const kdd_set *s, const float *targets,
            size_t from, size_t to, size_t *wrong, double *loss, kd_err *e)
{
	kdm_ws *ws;
	float *logits;
	size_t K = m->K;

	*wrong = 0;
	*loss = 0.0;
	if (from >= to)
		return 0;
	if (!s->y && !targets) {
		kd_err_set(e, KD_EUSAGE, "no labels or targets to score against");
		return -1;
	}
	ws = kdm_ws_new(m, EVAL_BATCH);
	logits = malloc(EVAL_BATCH * K * sizeof *logits);
	if (!ws || !logits) {
		kdm_ws_free(ws);
		free(logits);
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return -1;
	}
	for (size_t i = from; i < to; i += EVAL_BATCH) {
		size_t B = to - i < EVAL_BATCH ? to - i : EVAL_BATCH;
		kdm_forward(m, ws, s->x + i * s->d, B, logits);
		for (size_t b = 0; b < B; b++) {
			size_t want = s->y ? (size_t)s->y[i + b] : kdp_argmax(targets + (i + b) * K, K);
			*wrong += kdp_argmax(logits + b * K, K) != want;
			*loss += nll(logits + b * K, K, want);
		}
	}
	kdm_ws_free(ws);
	free(logits);
	return 0;
}

double
kdt_lr(const kdt_opts *o, size_t ep)
{
	double f = o->epochs > 1 ? (double)ep / (double)(o->epochs - 1) : 0.0;
	if (o->schedule == KDT_COSINE)
		return o->lr_end + (o->lr - o->lr_end) * 0.5 * (1.0 + cos(3.14159265358979323846 * f));
	return o->lr * pow(o->lr_end / o->lr, f);
}

double
kdt_step_lr(const kdt_opts *o, size_t ep, size_t s, size_t steps)
{
	double lr = kdt_lr(o, ep);
	size_t g = ep * steps + s, S = o->warmup * steps;
	return g < S ? lr * (double)(g + 1) / (double)S : lr;
}

double
kdt_error_rate(const kdm_model *m, const kdd_set *s, const float *targets,
               double *loss, kd_err *e)
{
	size_t wrong;
	double l;

	if (loss)
		*loss = 0.0;
	if (s->n == 0)
		return 0.0;
	if (count_wrong(m, s, targets, 0, s->n, &wrong, &l, e))
		return -1;
	if (loss)
		*loss = l / (double)s->n;
	return (double)wrong / (double)s->n;
}

/* val_error: the validation error (and *loss) of a run of o->workers
 * workers: each scores its share of the rows of s and the counts are
 * summed (the errors exactly: whole numbers in doubles); one worker scores
 * them all. -1 on failure. */
static double
val_error(const kdm_model *m, const kdd_set *s, const float *targets,
          const kdt_opts *o, double *loss, kd_err *e)
{
	size_t W = o->workers, w = o->worker, wrong;
	double sum[2];

	if (W <= 1)
		return kdt_error_rate(m, s, targets, loss, e);
	if (count_wrong(m, s, targets, s->n * w / W, s->n * (w + 1) / W, &wrong, &sum[1], e))
		return -1;
	sum[0] = (double)wrong;
	if (o->reduce(NULL, 0, sum, 2, o->reduce_ctx, e))
		return -1;
	*loss = sum[1] / (double)s->n;
	return sum[0] / (double)s->n;
}

int
kdt_standardize(kdm_model *m, const kdd_set *s, kd_err *e)
{
	float *mean = malloc(s->d * sizeof *mean), *sd = malloc(s->d * sizeof *sd);
	int rc;
	if (!mean || !sd) {
		free(mean);
		free(sd);
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return -1;
	}
	kdd_moments(s, mean, sd);
	rc = kdm_set_standardize(m, mean, sd, e);
	free(mean);
	free(sd);
	return rc;
}

static int
check(const kdm_model *m, const kdt_data *d, const kdt_opts *o, kd_err *e)
{
	const kdd_set *t = d->train;
	if (t->n == 0) {
		kd_err_set(e, KD_EUSAGE, "no training rows");
		return -1;
	}
	if (t->d != m->D) {
		kd_err_set(e, KD_EMISMATCH, "the data has %zu features, the model %zu inputs",
		           t->d, m->D);
		return -1;
	}
	if (o->epochs < 1 || o->batch < 1 || !(o->lr > 0) || !(o->lr_end > 0) ||
	    !(o->ema >= 0 && o->ema < 1) || o->warmup > o->epochs ||
	    (o->schedule != KDT_GEOMETRIC && o->schedule != KDT_COSINE) ||
	    (o->select != KDT_BY_ERROR && o->select != KDT_BY_LOSS)) {
		kd_err_set(e, KD_EUSAGE, "epochs, batch and learning rates must be positive, "
		           "the average's decay in [0, 1), the warm-up no longer "
		           "than the run and the schedule and selection known");
		return -1;
	}
	if (o->loss == KDT_HARD || (o->loss == KDT_DISTILL && o->alpha < 1.0)) {
		if (!t->y) {
			kd_err_set(e, KD_EUSAGE, "%s", o->loss == KDT_HARD ?
			           "the training data has no labels" :
			           "alpha below 1 (a share of hard labels) needs labels, and the training data has none");
			return -1;
		}
		for (size_t i = 0; i < t->n; i++)
			if (t->y[i] < 0 || (size_t)t->y[i] >= m->K) {
				kd_err_set(e, KD_ERANGE, "row id %llu: label %ld, the model has %zu classes",
				           (unsigned long long)t->id[i], (long)t->y[i], m->K);
				return -1;
			}
	}
	if (o->loss != KDT_HARD && !d->targets) {
		kd_err_set(e, KD_EUSAGE, "no targets to distil from");
		return -1;
	}
	if (o->loss == KDT_DISTILL && !(o->T > 0 && o->alpha >= 0 && o->alpha <= 1)) {
		kd_err_set(e, KD_EUSAGE, "bad temperature or alpha");
		return -1;
	}
	if (!(o->mixup >= 0 && o->mixup <= 100)) {
		kd_err_set(e, KD_EUSAGE, "mixup's a must be in [0, 100]");
		return -1;
	}
	if (o->mixup > 0 && o->loss != KDT_HARD) {
		kd_err_set(e, KD_EUSAGE, "mixup trains on hard labels only: a teacher's "
		           "targets for a mixed image are not the mix of its targets");
		return -1;
	}
	if ((o->jitter > 0 || o->flip) && !kdd_is_image(t)) {
		kd_err_set(e, KD_EUSAGE, "--%s needs images, and the data has no image shape",
		           o->jitter > 0 ? "jitter" : "flip");
		return -1;
	}
	if (d->hint && (o->hint_layer < 1 || o->hint_layer >= m->n_layers)) {
		kd_err_set(e, KD_EUSAGE, "a hint needs a hidden layer of the student: layer %zu "
		           "is not one (it has %zu)", o->hint_layer, m->n_layers - 1);
		return -1;
	}
	if (d->hint && (d->hint_dim < 1 || d->hint_dim > KDM_MAX_WIDTH ||
	                !(o->hint_weight >= 0) || !isfinite(o->hint_weight))) {
		kd_err_set(e, KD_EUSAGE, "a hint needs 1 to %zu features and a finite weight >= 0",
		           KDM_MAX_WIDTH);
		return -1;
	}
	if (o->hint_only && !d->hint) {
		kd_err_set(e, KD_EUSAGE, "a run on the hint alone needs a hint");
		return -1;
	}
	if (d->hint && o->mixup > 0) {
		kd_err_set(e, KD_EUSAGE, "mixup and a hint do not go together: the teacher's "
		           "features for a mixed row are not the mix of its features");
		return -1;
	}
	if (o->workers > 1 ? !o->reduce || o->worker >= o->workers || o->workers >= (1u << 20) ||
	                     o->batch > SIZE_MAX / o->workers : o->worker != 0) {
		kd_err_set(e, KD_EUSAGE, "bad data-parallel options: worker %zu of %zu%s",
		           o->worker, o->workers, o->workers > 1 && !o->reduce ?
		           " without a reduce function" : "");
		return -1;
	}
	return 0;
}

/* same_run: 0 when every worker has the same options and data (their
 * checkpoint fingerprints agree), else -1 with e set. The 32-bit
 * fingerprint f goes through the sums in two 16-bit halves h, each with
 * its square: W values are all equal exactly when (sum h)^2 = W sum h^2,
 * and these sums stay exact in doubles for any W below 2^20. */
static int
same_run(const kdm_model *m, const kdt_data *d, const kdt_opts *o, kd_err *e)
{
	uint32_t f = kdt_fingerprint(m, d, o);
	double h[2] = { (double)(f & 0xFFFF), (double)(f >> 16) };
	double s[4] = { h[0], h[0] * h[0], h[1], h[1] * h[1] };
	double W = (double)o->workers;

	if (o->reduce(NULL, 0, s, 4, o->reduce_ctx, e))
		return -1;
	if (s[0] * s[0] != W * s[1] || s[2] * s[2] != W * s[3]) {
		kd_err_set(e, KD_EMISMATCH, "the %zu workers were not given the same options "
		           "and data (their fingerprints differ)", o->workers);
		return -1;
	}
	return 0;
}

/* ema_update: a (P) = decay * a + (1 - decay) * w (P), written as a step
 * of a towards w */
static void
ema_update(float *a, const float *w, size_t P, double decay)
{
	float f = (float)(1.0 - decay);
	for (size_t j = 0; j < P; j++)
		a[j] += f * (w[j] - a[j]);
}

/* ema_decay: the decay of step t (from 0) of a run with --ema D: small at
 * first, so that the average soon forgets the random initial weights */
static double
ema_decay(double D, size_t t)
{
	double warm = (1.0 + (double)t) / (10.0 + (double)t);
	return warm < D ? warm : D;
}

/* worker_rng: the generator of worker w's dropout masks and jitter shifts
 * in epoch ep of a data-parallel run: its own stream, so that workers do
 * not repeat each other's masks, and a function of (seed, w, ep) alone,
 * so that a resumed run draws the same ones without saving it */
static void
worker_rng(kdr_rng *r, uint64_t seed, size_t w, size_t ep)
{
	kdr_init(r, seed ^ (0x9E3779B97F4A7C15ULL * ((uint64_t)w + 1)) ^
	            (0xD1B54A32D192ED03ULL * ((uint64_t)ep + 1)));
}

/* the state of one kdt_fit run: the loop's buffers and what it carries
 * from one step and one epoch to the next */
typedef struct fit {
	kdm_model *m;
	const kdt_data *d;
	const kdt_opts *o;
	const kdd_set *t, *v;
	size_t n, D, K;
	size_t B;          /* rows a step of this worker, at most */
	size_t W;          /* workers sharing each step */
	size_t G;          /* rows of a step over all workers */
	size_t steps;      /* steps of one epoch */
	int scored;        /* validation rows score each epoch */
	kdm_train *tr;
	kdr_rng rng, wrng, *arng; /* the shuffle's; a worker's own (dropout,
	                             augmentation); the one in use */
	uint32_t *order;   /* (n) the rows in this epoch's order */
	uint32_t *perm;    /* (B) --mixup: the partner of each row */
	float *X, *Xj, *Xm;/* (B,D) the step's rows; jittered; mixed */
	float *tg, *dl;    /* (B,K) the step's targets; the loss's gradient */
	int32_t *y;        /* (B) the step's labels */
	kdm_model *reg;    /* the hint's regressor (F outputs from the
	                      student's hidden layer), or NULL */
	kdm_train *rtr;    /* its training state */
	float *ht, *dr;    /* (B,F) the step's features; the hint's gradient */
	float *dh;         /* (B,H) that gradient at the student's layer */
	float *best;       /* the best epoch's parameters, or NULL */
	float *avg, *live; /* --ema: the average; the live parameters while
	                      the average is scored */
	double first_loss; /* mean loss of the first epoch (-1: not yet) */
	double best_err;   /* the best score so far */
	size_t ep0;        /* epochs done before this call (--resume) */
	size_t best_ep;    /* the epoch (from 1) of best_err, 0 before any */
	double t_start, t_ep, t_last, sum; /* clocks; the epoch's loss sum */
	kdckpt_state ck;      /* what a checkpoint saves */
	kdt_progress p;
	kdt_report_fn report;
	void *ctx;
} fit;

/* fit_free: release what fit_open allocated */
static void
fit_free(fit *f)
{
	kdm_train_free(f->tr);
	kdm_train_free(f->rtr);
	kdm_free(f->reg);
	free(f->ht);
	free(f->dr);
	free(f->dh);
	free(f->order);
	free(f->X);
	free(f->Xj);
	free(f->Xm);
	free(f->perm);
	free(f->tg);
	free(f->dl);
	free(f->y);
	free(f->best);
	free(f->avg);
	free(f->live);
}

/* hint_open: the hint's regressor, H = the student's layer's width to F
 * features, He-initialised from the seed, trained by the run's optimizer
 * with its momentum and decay but no dropout or max-norm; its buffers */
static int
hint_open(fit *f, kd_err *e)
{
	const kdt_opts *o = f->o;
	size_t F = f->d->hint_dim, H = f->m->sizes[o->hint_layer], B = f->B;
	kdm_opts ro;

	memset(&ro, 0, sizeof ro);
	ro.optimizer = o->reg.optimizer;
	ro.momentum = o->reg.momentum;
	ro.weight_decay = o->reg.weight_decay;
	if (!(f->reg = kdm_new(H, NULL, 0, F, o->seed ^ KDT_HINT_SEED, e)) ||
	    !(f->rtr = kdm_train_new(f->reg, B, &ro, e)))
		return -1;
	f->ht = malloc(B * F * sizeof *f->ht);
	f->dr = malloc(B * F * sizeof *f->dr);
	f->dh = malloc(B * H * sizeof *f->dh);
	if (!f->ht || !f->dr || !f->dh) {
		kd_err_set(e, KD_ENOMEM, "out of memory for the hint (%zu features)", F);
		return -1;
	}
	return 0;
}

/* fit_open: check the run, allocate its buffers, and start it, from
 * o->resume's checkpoint when there is one. 0 or -1. */
static int
fit_open(fit *f, kdm_model *m, const kdt_data *d, const kdt_opts *o,
         kdt_report_fn report, void *ctx, kd_err *e)
{
	size_t n = d->train->n, D = d->train->d, K = m->K, B, np = m->nparams;

	memset(f, 0, sizeof *f);
	f->m = m;
	f->d = d;
	f->o = o;
	f->t = d->train;
	f->v = d->val;
	f->report = report;
	f->ctx = ctx;
	f->t_start = now_s();
	f->first_loss = -1;
	f->best_err = INFINITY;
	if (check(m, d, o, e))
		return -1;
	f->n = n;
	f->D = D;
	f->K = K;
	f->B = B = o->batch < n ? o->batch : n;
	f->W = o->workers > 1 ? o->workers : 1;
	f->G = f->W * o->batch < n ? f->W * o->batch : n;
	f->steps = kdt_steps_per_epoch(o, n);
	/* a run on the hint alone has no classifier to score: its stop
	 * follows the training (hint) loss */
	f->scored = f->v && f->v->n && !o->hint_only;
	f->arng = f->W > 1 ? &f->wrng : &f->rng;
	if (f->W > 1 && same_run(m, d, o, e))
		return -1;
	if (!(f->tr = kdm_train_new(m, B, &o->reg, e)))
		return -1;
	if (d->hint && hint_open(f, e))
		return -1;
	f->order = malloc(n * sizeof *f->order);
	f->X = malloc(B * D * sizeof *f->X);
	f->Xj = o->jitter > 0 ? malloc(B * D * sizeof *f->Xj) : NULL;
	f->Xm = o->mixup > 0 ? malloc(B * D * sizeof *f->Xm) : NULL;
	f->perm = o->mixup > 0 ? malloc(B * sizeof *f->perm) : NULL;
	f->tg = malloc(B * K * sizeof *f->tg);
	f->dl = malloc(B * K * sizeof *f->dl);
	f->y = malloc(B * sizeof *f->y);
	f->best = o->keep_best && f->scored ? malloc(np * sizeof *f->best) : NULL;
	f->avg = o->ema > 0 ? malloc(np * sizeof *f->avg) : NULL;
	f->live = o->ema > 0 && f->scored ? malloc(np * sizeof *f->live) : NULL;
	if (!f->order || !f->X || (o->jitter > 0 && !f->Xj) ||
	    (o->mixup > 0 && (!f->Xm || !f->perm)) || !f->tg || !f->dl || !f->y ||
	    (o->keep_best && f->scored && !f->best) ||
	    (o->ema > 0 && (!f->avg || (f->scored && !f->live)))) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return -1;
	}
	kdr_init(&f->rng, o->seed);
	for (size_t i = 0; i < n; i++)
		f->order[i] = (uint32_t)i;
	if (f->avg)
		memcpy(f->avg, m->params, np * sizeof *f->avg);
	f->p.epochs = o->epochs;
	f->p.total = n;
	f->p.val_n = f->v ? f->v->n : 0;
	f->p.val_vs_teacher = f->scored && !f->v->y;
	if (o->checkpoint || o->resume) {
		kdckpt_state *ck = &f->ck;
		ck->fingerprint = kdt_fingerprint(m, d, o);
		ck->epochs = o->epochs;
		ck->n = n;
		ck->order = f->order;
		ck->nparams = np;
		ck->params = m->params;
		ck->vel = kdm_train_velocity(f->tr);
		ck->sq = kdm_train_second_moments(f->tr);
		ck->best = f->best;
		ck->avg = f->avg;
		ck->patience = o->patience > 0;
		if (f->reg) {
			ck->nhint = f->reg->nparams;
			ck->hint = f->reg->params;
			ck->hint_vel = kdm_train_velocity(f->rtr);
			ck->hint_sq = kdm_train_second_moments(f->rtr);
		}
	}
	if (o->resume) {
		if (kdckpt_load(o->resume, &f->ck, e))
			return -1;
		f->ep0 = (size_t)f->ck.epoch;
		f->rng = f->ck.rng;
		f->first_loss = f->ck.first_loss;
		f->best_err = f->ck.best_err;
		f->best_ep = (size_t)f->ck.best_epoch;
		kdm_train_set_steps(f->tr, (uint64_t)f->ep0 * f->steps);
		if (f->rtr)
			kdm_train_set_steps(f->rtr, (uint64_t)f->ep0 * f->steps);
	}
	/* a run resumed after its early stop has no epoch left */
	if (o->patience > 0 && f->ep0 > 0 && f->ep0 - f->best_ep >= o->patience)
		f->ep0 = o->epochs;
	return 0;
}

/* begin_epoch: epoch ep's row order, its workers' generator, its clocks */
static void
begin_epoch(fit *f, size_t ep)
{
	kdr_shuffle(&f->rng, f->order, (uint32_t)f->n);
	if (f->W > 1)
		worker_rng(&f->wrng, f->o->seed, f->o->worker, ep);
	f->p.epoch = ep + 1;
	f->p.lr = kdt_lr(f->o, ep);
	f->p.end_of_epoch = 0;
	f->sum = 0.0;
	f->t_ep = f->t_last = now_s();
}

/* next_batch: the bn rows of this worker from order[i+lo ..] into X, y
 * and tg, augmented as the options ask; the rows the model is to see */
static const float *
next_batch(fit *f, size_t i, size_t lo, size_t bn)
{
	const kdt_opts *o = f->o;
	const kdd_set *t = f->t;
	size_t D = f->D, K = f->K;
	float *aug = f->X; /* the step's own copy: a flip alone needs no other */

	for (size_t b = 0; b < bn; b++) {
		size_t r = f->order[i + lo + b];
		memcpy(f->X + b * D, t->x + r * D, D * sizeof *f->X);
		if (t->y)
			f->y[b] = t->y[r];
		if (f->d->targets)
			memcpy(f->tg + b * K, f->d->targets + r * K, K * sizeof *f->tg);
		if (f->ht)
			memcpy(f->ht + b * f->d->hint_dim, f->d->hint + r * f->d->hint_dim,
			       f->d->hint_dim * sizeof *f->ht);
	}
	if (o->jitter > 0) {
		kdm_jitter(f->X, f->Xj, bn, t->width, t->height, o->jitter, f->arng);
		aug = f->Xj;
	}
	if (o->flip)
		kdm_flip(aug, bn, t->width, t->height, f->arng);
	if (o->mixup > 0) {
		kdt_mixup(f->arng, o->mixup, aug, f->y, bn, D, K, f->perm, f->Xm, f->tg);
		return f->Xm;
	}
	return aug;
}

/* loss_of: the step's loss on the model's logits (bn rows), its gradient
 * in dl */
static double
loss_of(fit *f, const float *logits, size_t bn)
{
	const kdt_opts *o = f->o;
	size_t K = f->K;

	/* the cross-entropy with mixup's mixed one-hot targets is
	 * lam CE(y) + (1-lam) CE(y_p) */
	if (o->mixup > 0)
		return kdl_distill(logits, f->tg, NULL, bn, K, 1.0, 1.0, f->dl);
	switch (o->loss) {
	case KDT_DISTILL:
		/* shown and compared as T^2 KL, which nears 0, not as the
		 * cross-entropy, which holds T^2 times the targets' entropy
		 * (55.8 at T = 8 on Fashion-MNIST): the same gradient */
		return kdl_distill(logits, f->tg, f->t->y ? f->y : NULL, bn, K, o->T, o->alpha, f->dl) -
		       (o->alpha > 0 ? o->alpha * o->T * o->T * kdl_entropy(f->tg, bn, K) : 0.0);
	case KDT_MSE:
		return kdl_mse_logits(logits, f->tg, bn, K, f->dl);
	default:
		return kdl_hard_ce(logits, f->y, bn, K, f->dl);
	}
}

/* hint_loss: the hint's part of a step of bn rows, share of the step's
 * rows over all workers: the regressor on the student's hidden layer,
 * kdl_hint against the features ht, the regressor's gradients, and in dh
 * the gradient for the student's layer. Returns the weighted loss. */
static double
hint_loss(fit *f, size_t bn, double share)
{
	size_t F = f->d->hint_dim, H = f->m->sizes[f->o->hint_layer];
	const float *h = kdm_train_hidden(f->tr, f->o->hint_layer);
	// h is (bn,H), W_r is (F,H), r is (bn,F): r = h W_r^T + b_r
	const float *r = kdm_train_forward(f->rtr, h, bn, NULL);
	double loss = kdl_hint(r, f->ht, bn, F, f->o->hint_weight, f->dr);

	if (share != 1.0)
		for (size_t k = 0; k < bn * F; k++)
			f->dr[k] = (float)((double)f->dr[k] * share);
	kdm_train_backward(f->rtr, f->dr);
	// dr is (bn,F), W_r is (F,H), dh is (bn,H): dh = dr W_r
	kdb_sgemm(KDB_N, KDB_N, bn, H, F, 1.0f, f->dr, F, f->reg->W[0], H, 0.0f, f->dh, H);
	return loss;
}

/* step: one step of epoch ep on the rows order[i .. i+gn) shared by the
 * workers: forward, loss, backward, the workers' sum, the update, the
 * moving average, the progress line. 0, or -1 (divergence, a failed sum) */
static int
step(fit *f, size_t ep, size_t i, kd_err *e)
{
	const kdt_opts *o = f->o;
	size_t gn = f->n - i < f->G ? f->n - i : f->G;
	/* this worker's rows: order[i+lo .. i+lo+bn) */
	size_t lo = o->worker * o->batch < gn ? o->worker * o->batch : gn;
	size_t bn = gn - lo < f->B ? gn - lo : f->B;
	double loss = 0.0, lsum = 0.0;

	if (bn == 0) { /* a short last step left this worker none */
		kdm_train_zero_grads(f->tr);
		if (f->rtr)
			kdm_train_zero_grads(f->rtr);
	} else {
		const float *in = next_batch(f, i, lo, bn);
		/* the losses divide by this worker's bn rows; the step's mean
		 * is over all gn */
		double share = (double)bn / (double)gn;
		loss = loss_of(f, kdm_train_forward(f->tr, in, bn, f->arng), bn);
		if (o->hint_only) { /* the targets' part is left out */
			loss = 0.0;
			memset(f->dl, 0, bn * f->K * sizeof *f->dl);
		}
		if (bn != gn)
			for (size_t k = 0; k < bn * f->K; k++)
				f->dl[k] = (float)((double)f->dl[k] * share);
		if (f->rtr)
			loss += hint_loss(f, bn, share);
		lsum = loss * (double)bn;
		kdm_train_backward_hint(f->tr, f->dl, o->hint_layer, f->rtr ? f->dh : NULL);
	}
	/* sum the gradients and losses of all workers; the divergence test
	 * below then stops them all alike */
	if (f->W > 1) {
		if (o->reduce(kdm_train_grads(f->tr), f->m->nparams, &lsum, 1, o->reduce_ctx, e) ||
		    (f->rtr && o->reduce(kdm_train_grads(f->rtr), f->reg->nparams, NULL, 0,
		                         o->reduce_ctx, e)))
			return -1;
		loss = lsum / (double)gn;
	}
	if (!isfinite(loss)) {
		kd_err_set(e, KD_ERANGE, "training diverged in epoch %zu: the loss became %s; "
		           "try a smaller learning rate (now %g)", ep + 1, isnan(loss) ? "nan" : "infinite", o->lr);
		return -1;
	}
	f->p.lr = kdt_step_lr(o, ep, i / f->G, f->steps);
	kdm_train_step(f->tr, (float)f->p.lr);
	if (f->rtr)
		kdm_train_step(f->rtr, (float)f->p.lr);
	if (f->avg)
		ema_update(f->avg, f->m->params, f->m->nparams, ema_decay(o->ema, ep * f->steps + i / f->G));
	f->sum += lsum;
	f->p.done = i + gn;
	f->p.loss = f->sum / (double)f->p.done;
	if (f->report && now_s() - f->t_last > 0.5) {
		f->t_last = now_s();
		f->p.samples_per_s = (double)f->p.done / (f->t_last - f->t_ep);
		f->p.eta_s = ((double)(o->epochs - ep) * (double)f->n - (double)f->p.done) /
		             f->p.samples_per_s;
		f->report(&f->p, f->ctx);
	}
	return 0;
}
/* score: with validation rows, epoch ep's validation error and loss (the
 * moving average's, with --ema), and the best epoch kept. 0 or -1. */
static int
score(fit *f, size_t ep, kd_err *e)
{
	kdm_model *m = f->m;
	double s;

	if (f->avg) {
		memcpy(f->live, m->params, m->nparams * sizeof *f->live);
		memcpy(m->params, f->avg, m->nparams * sizeof *f->avg);
	}
	f->p.val_error = val_error(m, f->v, f->d->val_targets, f->o, &f->p.val_loss, e);
	if (f->p.val_error < 0)
		return -1;
	s = f->o->select == KDT_BY_LOSS ? f->p.val_loss : f->p.val_error;
	if (s < f->best_err) {
		f->best_err = s;
		f->best_ep = ep + 1;
		f->p.best = 1;
		if (f->best)
			memcpy(f->best, m->params, m->nparams * sizeof *f->best);
	}
	if (f->avg)
		memcpy(m->params, f->live, m->nparams * sizeof *f->live);
	return 0;
}

/* end_epoch: after epoch ep's steps: the exploding-loss check, the
 * validation score or the training loss's progress, the early stop, the
 * checkpoint and the progress line. 1 to stop, 0 to go on, -1 on error. */
static int
end_epoch(fit *f, size_t ep, kd_err *e)
{
	const kdt_opts *o = f->o;
	kdt_progress *p = &f->p;

	p->samples_per_s = (double)f->n / (now_s() - f->t_ep);
	/* an exploding loss: ten times the first epoch's, after it fell */
	if (f->first_loss < 0)
		f->first_loss = p->loss;
	else if (p->loss > 10.0 * f->first_loss + 1.0) {
		kd_err_set(e, KD_ERANGE, "training diverged in epoch %zu: the loss rose from %g to %g; "
		           "try a smaller learning rate (now %g)", ep + 1, f->first_loss, p->loss, o->lr);
		return -1;
	}
	p->val_error = -1;
	p->val_loss = -1;
	p->best = 0;
	if (f->scored && score(f, ep, e))
		return -1;
	/* without validation rows the training loss decides when to stop:
	 * an epoch improves on the best by more than KDT_TOL */
	if (!f->scored && p->loss < f->best_err - KDT_TOL) {
		f->best_err = p->loss;
		f->best_ep = ep + 1;
	}
	p->stopped = o->patience > 0 && ep + 1 - f->best_ep >= o->patience;
	if (o->checkpoint && o->worker == 0) {
		f->ck.epoch = ep + 1;
		f->ck.rng = f->rng;
		f->ck.first_loss = f->first_loss;
		f->ck.best_err = f->best_err;
		f->ck.best_epoch = f->best_ep;
		if (kdckpt_save(o->checkpoint, &f->ck, e))
			return -1;
	}
	p->end_of_epoch = 1;
	p->eta_s = (now_s() - f->t_start) / (double)(ep + 1 - f->ep0) * (double)(o->epochs - ep - 1);
	if (f->report)
		f->report(p, f->ctx);
	return p->stopped;
}

/* kdt_fit's loop, as llm.c's reads:
 *
 *   for each epoch:   begin_epoch (shuffle)
 *     for each step:  step = next_batch (gather, augment) -> forward ->
 *                     loss_of -> backward -> workers' sum -> update
 *     end_epoch:      validation, best epoch, early stop, checkpoint
 *   the best (or averaged) parameters into the model */
int
kdt_fit(kdm_model *m, const kdt_data *d, const kdt_opts *o,
        kdt_report_fn report, void *ctx, kd_err *e)
{
	fit f;
	int rc = -1, stop = 0;

	if (fit_open(&f, m, d, o, report, ctx, e))
		goto done;
	for (size_t ep = f.ep0; ep < o->epochs && !stop; ep++) {
		begin_epoch(&f, ep);
		for (size_t i = 0; i < f.n; i += f.G)
			if (step(&f, ep, i, e))
				goto done;
		if ((stop = end_epoch(&f, ep, e)) < 0)
			goto done;
	}
	if (f.best)
		memcpy(m->params, f.best, m->nparams * sizeof *f.best);
	else if (f.avg)
		memcpy(m->params, f.avg, m->nparams * sizeof *f.avg);
	rc = 0;
done:
	fit_free(&f);
	return rc;
}
