/* train.c: the training loop (see train.h). */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt.h"
#include "loss.h"
#include "rng.h"

#define EVAL_BATCH 256

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
}

/* argmax of K values */
static size_t
argmax(const float *v, size_t K)
{
	size_t b = 0;
	for (size_t k = 1; k < K; k++)
		if (v[k] > v[b])
			b = k;
	return b;
}

double
kdt_error_rate(const kdm_model *m, const kdd_set *s, const float *targets,
               kd_err *e)
{
	kdm_ws *ws;
	float *logits;
	size_t wrong = 0, K = m->K;

	if (s->n == 0)
		return 0.0;
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
	for (size_t i = 0; i < s->n; i += EVAL_BATCH) {
		size_t B = s->n - i < EVAL_BATCH ? s->n - i : EVAL_BATCH;
		kdm_forward(m, ws, s->x + i * s->d, B, logits);
		for (size_t b = 0; b < B; b++) {
			size_t want = s->y ? (size_t)s->y[i + b] : argmax(targets + (i + b) * K, K);
			wrong += argmax(logits + b * K, K) != want;
		}
	}
	kdm_ws_free(ws);
	free(logits);
	return (double)wrong / (double)s->n;
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
	if (o->epochs < 1 || o->batch < 1 || !(o->lr > 0) || !(o->lr_end > 0)) {
		kd_err_set(e, KD_EUSAGE, "epochs, batch and learning rates must be positive");
		return -1;
	}
	if (o->loss == KDT_HARD || (o->loss == KDT_DISTILL && o->alpha < 1.0)) {
		if (!t->y) {
			kd_err_set(e, KD_EUSAGE, "%s", o->loss == KDT_HARD ?
			           "the training data has no labels" :
			           "--alpha below 1 needs labels, and the training data has none");
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
	if (o->jitter > 0 && t->width * t->height != t->d) {
		kd_err_set(e, KD_EUSAGE, "--jitter needs images, and the data has no image shape");
		return -1;
	}
	return 0;
}

int
kdt_fit(kdm_model *m, const kdt_data *d, const kdt_opts *o,
        kdt_report_fn report, void *ctx, kd_err *e)
{
	const kdd_set *t = d->train, *v = d->val;
	size_t n = t->n, D = t->d, K = m->K, B = o->batch < n ? o->batch : n;
	kdt_progress p;
	kdm_train *tr = NULL;
	kdr_rng rng;
	uint32_t *order = NULL;
	float *X = NULL, *Xj = NULL, *tg = NULL, *dl = NULL, *best = NULL;
	int32_t *y = NULL;
	double t_start = now_s(), first_loss = -1, best_err = INFINITY;
	size_t ep0 = 0; /* epochs done before this call (--resume) */
	kdk_state ck;
	int rc = -1;

	if (check(m, d, o, e))
		return -1;
	if (!(tr = kdm_train_new(m, B, &o->reg, e)))
		return -1;
	order = malloc(n * sizeof *order);
	X = malloc(B * D * sizeof *X);
	Xj = o->jitter > 0 ? malloc(B * D * sizeof *Xj) : NULL;
	tg = malloc(B * K * sizeof *tg);
	dl = malloc(B * K * sizeof *dl);
	y = malloc(B * sizeof *y);
	best = o->keep_best && v && v->n ? malloc(m->nparams * sizeof *best) : NULL;
	if (!order || !X || (o->jitter > 0 && !Xj) || !tg || !dl || !y ||
	    (o->keep_best && v && v->n && !best)) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		goto done;
	}
	kdr_init(&rng, o->seed);
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	memset(&p, 0, sizeof p);
	p.epochs = o->epochs;
	p.total = n;
	p.val_n = v ? v->n : 0;
	p.val_vs_teacher = v && v->n && !v->y;
	if (o->checkpoint || o->resume) {
		memset(&ck, 0, sizeof ck);
		ck.fingerprint = kdk_fingerprint(m, d, o);
		ck.epochs = o->epochs;
		ck.n = n;
		ck.order = order;
		ck.nparams = m->nparams;
		ck.params = m->params;
		ck.vel = kdm_train_velocity(tr);
		ck.best = best;
	}
	if (o->resume) {
		if (kdk_load(o->resume, &ck, e))
			goto done;
		ep0 = (size_t)ck.epoch;
		rng = ck.rng;
		first_loss = ck.first_loss;
		best_err = ck.best_err;
	}

	for (size_t ep = ep0; ep < o->epochs; ep++) {
		double frac = o->epochs > 1 ? (double)ep / (double)(o->epochs - 1) : 0.0;
		double lr = o->lr * pow(o->lr_end / o->lr, frac), sum = 0.0;
		double t_ep = now_s(), t_last = t_ep;

		kdr_shuffle(&rng, order, (uint32_t)n);
		p.epoch = ep + 1;
		p.lr = lr;
		p.end_of_epoch = 0;
		for (size_t i = 0; i < n; i += B) {
			size_t bn = n - i < B ? n - i : B;
			const float *logits, *in = X;
			double loss;

			for (size_t b = 0; b < bn; b++) {
				size_t r = order[i + b];
				memcpy(X + b * D, t->x + r * D, D * sizeof *X);
				if (t->y)
					y[b] = t->y[r];
				if (d->targets)
					memcpy(tg + b * K, d->targets + r * K, K * sizeof *tg);
			}
			if (o->jitter > 0) {
				kdm_jitter(X, Xj, bn, t->width, t->height, o->jitter, &rng);
				in = Xj;
			}
			logits = kdm_train_forward(tr, in, bn, &rng);
			switch (o->loss) {
			case KDT_DISTILL:
				loss = kdl_distill(logits, tg, t->y ? y : NULL, bn, K, o->T, o->alpha, dl);
				break;
			case KDT_MSE:
				loss = kdl_mse_logits(logits, tg, bn, K, dl);
				break;
			default:
				loss = kdl_hard_ce(logits, y, bn, K, dl);
			}
			if (!isfinite(loss)) {
				kd_err_set(e, KD_ERANGE, "training diverged in epoch %zu: the loss became %s; "
				           "try a smaller --lr (now %g)", ep + 1,
				           isnan(loss) ? "nan" : "infinite", o->lr);
				goto done;
			}
			kdm_train_backward(tr, dl);
			kdm_train_step(tr, (float)lr);
			sum += loss * (double)bn;
			p.done = i + bn;
			p.loss = sum / (double)p.done;
			if (report && now_s() - t_last > 0.5) {
				double el = now_s() - t_ep;
				t_last = now_s();
				p.samples_per_s = (double)p.done / el;
				p.eta_s = ((double)(o->epochs - ep) * (double)n - (double)p.done) / p.samples_per_s;
				report(&p, ctx);
			}
		}
		p.samples_per_s = (double)n / (now_s() - t_ep);
		/* an exploding loss: ten times the first epoch's, after it fell */
		if (first_loss < 0)
			first_loss = p.loss;
		else if (p.loss > 10.0 * first_loss + 1.0) {
			kd_err_set(e, KD_ERANGE, "training diverged in epoch %zu: the loss rose from %g to %g; "
			           "try a smaller --lr (now %g)", ep + 1, first_loss, p.loss, o->lr);
			goto done;
		}
		p.val_error = -1;
		p.best = 0;
		if (v && v->n) {
			p.val_error = kdt_error_rate(m, v, d->val_targets, e);
			if (p.val_error < 0)
				goto done;
			if (p.val_error < best_err) {
				best_err = p.val_error;
				p.best = 1;
				if (best)
					memcpy(best, m->params, m->nparams * sizeof *best);
			}
		}
		if (o->checkpoint) {
			ck.epoch = ep + 1;
			ck.rng = rng;
			ck.first_loss = first_loss;
			ck.best_err = best_err;
			if (kdk_save(o->checkpoint, &ck, e))
				goto done;
		}
		p.end_of_epoch = 1;
		p.eta_s = (now_s() - t_start) / (double)(ep + 1 - ep0) * (double)(o->epochs - ep - 1);
		if (report)
			report(&p, ctx);
	}
	if (best)
		memcpy(m->params, best, m->nparams * sizeof *best);
	rc = 0;
done:
	kdm_train_free(tr);
	free(order);
	free(X);
	free(Xj);
	free(tg);
	free(dl);
	free(y);
	free(best);
	return rc;
}

/* gather: rows idx[0..n) of targets (., K) */
static float *
gather(const float *targets, size_t K, const uint32_t *idx, size_t n)
{
	float *g = malloc((n ? n : 1) * K * sizeof *g);
	if (!g)
		return NULL;
	for (size_t i = 0; i < n; i++)
		memcpy(g + i * K, targets + (size_t)idx[i] * K, K * sizeof *g);
	return g;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int
kdt_split(const kdd_set *s, const float *targets, size_t K, size_t nval,
          uint64_t seed, kdd_set *tr, float **ttr, kdd_set *va,
          float **tva, kd_err *e)
{
	uint32_t *idx;
	kdr_rng rng;
	size_t nt = s->n - nval;
	int rc = -1;

	memset(tr, 0, sizeof *tr);
	memset(va, 0, sizeof *va);
	if (targets) {
		*ttr = NULL;
		*tva = NULL;
	}
	if (nval >= s->n) {
		kd_err_set(e, KD_EUSAGE, "cannot hold out %zu validation rows of %zu", nval, s->n);
		return -1;
	}
	if (!(idx = malloc(s->n * sizeof *idx))) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->n; i++)
		idx[i] = (uint32_t)i;
	kdr_init(&rng, seed ^ 0x5EED5711ULL);
	kdr_shuffle(&rng, idx, (uint32_t)s->n);
	/* idx[0..nval) is the validation part; keep both parts in file order */
	qsort(idx, nval, sizeof *idx, cmp_u32);
	qsort(idx + nval, nt, sizeof *idx, cmp_u32);
	if (kdd_subset(s, idx + nval, nt, tr, e) || kdd_subset(s, idx, nval, va, e))
		goto done;
	if (targets) {
		*ttr = gather(targets, K, idx + nval, nt);
		*tva = gather(targets, K, idx, nval);
		if (!*ttr || !*tva) {
			kd_err_set(e, KD_ENOMEM, "out of memory");
			goto done;
		}
	}
	rc = 0;
done:
	if (rc) {
		kdd_free(tr);
		kdd_free(va);
		if (targets) {
			free(*ttr);
			free(*tva);
			*ttr = *tva = NULL;
		}
	}
	free(idx);
	return rc;
}
