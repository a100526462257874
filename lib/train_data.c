/* train_data.c: what the training loop takes in around its steps (see
 * train.h): the run's fingerprint a checkpoint stores, the split of a data
 * set into training and validation rows, and mixup's mixed batches. The
 * loop itself is train.c. */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "le.h"
#include "rng.h"

/* ---- the run's fingerprint (a checkpoint stores it) ---- */

/* crc_f64, crc_u64: one option into the fingerprint, as little-endian */
static uLong
crc_f64(uLong crc, double v)
{
	unsigned char b[8];
	kd_put_f64(b, v);
	return crc32(crc, b, 8);
}

static uLong
crc_u64(uLong crc, uint64_t v)
{
	unsigned char b[8];
	kd_put_u64(b, v);
	return crc32(crc, b, 8);
}

/* crc_set: the rows, labels and ids of a data set, and its targets */
static uLong
crc_set(uLong crc, const kdd_set *s, const float *targets, size_t K)
{
	if (!s)
		return crc_u64(crc, UINT64_MAX);
	crc = crc_u64(crc, s->n);
	crc = crc_u64(crc, s->d);
	crc = kd_crc32(crc, s->x, s->n * s->d * sizeof *s->x);
	if (s->y)
		crc = kd_crc32(crc, s->y, s->n * sizeof *s->y);
	crc = kd_crc32(crc, s->id, s->n * sizeof *s->id);
	if (targets)
		crc = kd_crc32(crc, targets, s->n * K * sizeof *targets);
	return crc;
}

uint32_t
kdt_fingerprint(const kdm_model *m, const kdt_data *d, const kdt_opts *o)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	crc = crc_u64(crc, o->epochs);
	crc = crc_u64(crc, o->batch);
	crc = crc_f64(crc, o->lr);
	crc = crc_f64(crc, o->lr_end);
	crc = crc_f64(crc, o->reg.input_dropout);
	crc = crc_f64(crc, o->reg.dropout);
	crc = crc_f64(crc, o->reg.maxnorm);
	crc = crc_f64(crc, o->reg.momentum);
	crc = crc_f64(crc, o->reg.weight_decay);
	crc = crc_u64(crc, (uint64_t)(int64_t)o->jitter);
	crc = crc_u64(crc, o->seed);
	crc = crc_u64(crc, (uint64_t)(int64_t)o->loss);
	crc = crc_f64(crc, o->T);
	crc = crc_f64(crc, o->alpha);
	crc = crc_u64(crc, (uint64_t)o->keep_best);
	/* options added later enter only when not at their old value, so
	 * that older runs keep their fingerprints */
	if (o->reg.optimizer != KDM_SGD) {
		crc = crc_u64(crc, 0x6f7074); /* "opt" */
		crc = crc_u64(crc, (uint64_t)(int64_t)o->reg.optimizer);
	}
	if (o->select != KDT_BY_ERROR) {
		crc = crc_u64(crc, 0x73656c); /* "sel" */
		crc = crc_u64(crc, (uint64_t)(int64_t)o->select);
	}
	if (o->patience > 0) {
		crc = crc_u64(crc, 0x706174); /* "pat" */
		crc = crc_u64(crc, o->patience);
	}
	/* a plain run's fingerprint is as it was before workers (and
	 * flips) existed */
	if (o->workers > 1)
		crc = crc_u64(crc, o->workers);
	if (o->flip)
		crc = crc_u64(crc, 0x666c6970); /* "flip" */
	if (o->ema > 0)
		crc = crc_f64(crc, o->ema);
	if (o->mixup > 0) {
		crc = crc_u64(crc, 0x6d69787570); /* "mixup" */
		crc = crc_f64(crc, o->mixup);
	}
	if (o->schedule != KDT_GEOMETRIC) {
		crc = crc_u64(crc, 0x7363686564); /* "sched" */
		crc = crc_u64(crc, (uint64_t)(int64_t)o->schedule);
	}
	if (o->warmup > 0) {
		crc = crc_u64(crc, 0x7761726d); /* "warm" */
		crc = crc_u64(crc, o->warmup);
	}
	if (d->hint) {
		crc = crc_u64(crc, 0x68696e74); /* "hint" */
		crc = crc_u64(crc, o->hint_layer);
		crc = crc_f64(crc, o->hint_weight);
		crc = crc_u64(crc, d->hint_dim);
		crc = kd_crc32(crc, d->hint, d->train->n * d->hint_dim * sizeof *d->hint);
		crc = crc_u64(crc, (uint64_t)o->hint_only);
	}
	crc = crc_u64(crc, m->n_layers);
	for (size_t l = 0; l <= m->n_layers; l++)
		crc = crc_u64(crc, m->sizes[l]);
	crc = crc_u64(crc, (uint64_t)m->standardize);
	if (m->standardize) {
		crc = kd_crc32(crc, m->mean, m->D * sizeof *m->mean);
		crc = kd_crc32(crc, m->std, m->D * sizeof *m->std);
	}
	crc = crc_set(crc, d->train, d->targets, m->K);
	crc = crc_set(crc, d->val, d->val_targets, m->K);
	return (uint32_t)crc;
}

/* ---- mixup ---- */

double
kdt_mixup(kdr_rng *r, double a, const float *X, const int32_t *y, size_t B,
          size_t D, size_t K, uint32_t *perm, float *out, float *tg)
{
	double lam = kdr_beta(r, a, a);
	float l = (float)lam, m = (float)(1.0 - lam);

	for (size_t b = 0; b < B; b++)
		perm[b] = (uint32_t)b;
	kdr_shuffle(r, perm, (uint32_t)B);
	for (size_t b = 0; b < B; b++) {
		const float *u = X + b * D, *v = X + (size_t)perm[b] * D;
		float *o = out + b * D, *t = tg + b * K;
		for (size_t j = 0; j < D; j++)
			o[j] = l * u[j] + m * v[j];
		memset(t, 0, K * sizeof *t);
		t[y[b]] += l;
		t[y[perm[b]]] += m;
	}
	return lam;
}

/* ---- the split ---- */

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
