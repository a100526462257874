/* eval.c: metrics over rows of class scores, and the sources that
 * produce those rows (see eval.h); kd-eval's reports are
 * tools/common/report.c. */
#include "eval.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kds.h"
#include "prob.h"
#include "text.h"

#define BATCH 256 /* rows per kdm_forward */

/* ---- accumulators ---- */

int
kde_acc_init(kde_acc *a, size_t K, int labelled, int teacher, int confusion,
             kd_err *e)
{
	memset(a, 0, sizeof *a);
	if (K == 0 || K > KDS_MAX_K) {
		kd_err_set(e, KD_ERANGE, "%zu classes is out of range (1 to %u)", K, KDS_MAX_K);
		return -1;
	}
	if (confusion && K > KDE_MAX_CONF_K) {
		kd_err_set(e, KD_ERANGE, "%zu classes are too many for a confusion matrix (at most %d)",
		           K, KDE_MAX_CONF_K);
		return -1;
	}
	a->K = K;
	a->labelled = labelled;
	a->teacher = teacher;
	if (labelled) {
		a->class_rows = calloc(K, sizeof *a->class_rows);
		a->class_errors = calloc(K, sizeof *a->class_errors);
		if (confusion)
			a->confusion = calloc(K * K, sizeof *a->confusion);
		if (!a->class_rows || !a->class_errors || (confusion && !a->confusion)) {
			kde_acc_free(a);
			kd_err_set(e, KD_ENOMEM, "out of memory");
			return -1;
		}
	}
	return 0;
}

void
kde_acc_free(kde_acc *a)
{
	free(a->class_rows);
	free(a->class_errors);
	free(a->confusion);
	memset(a, 0, sizeof *a);
}

int
kde_bin_of(double conf)
{
	/* bins are closed on the right: (b/15, (b+1)/15] */
	double c = ceil(conf * KDE_BINS) - 1.0;
	if (!(c >= 0.0))
		return 0;
	if (c > KDE_BINS - 1)
		return KDE_BINS - 1;
	return (int)c;
}

void
kde_acc_add(kde_acc *a, const float *lp, int32_t label, const float *tlp)
{
	size_t K = a->K, pred = kdp_argmax(lp, K);

	a->rows++;
	if (a->labelled) {
		size_t y = (size_t)label;
		double conf = exp((double)lp[pred]), brier = 0.0;
		int b;

		if (conf > 1.0)
			conf = 1.0;
		for (size_t k = 0; k < K; k++) {
			double d = exp((double)lp[k]) - (k == y ? 1.0 : 0.0);
			brier += d * d;
		}
		a->brier_sum += brier;
		a->nll_sum -= (double)lp[y];
		b = kde_bin_of(conf);
		a->bins[b].count++;
		a->bins[b].conf_sum += conf;
		a->class_rows[y]++;
		if (pred == y) {
			a->bins[b].correct++;
		} else {
			a->errors++;
			a->class_errors[y]++;
		}
		if (a->confusion)
			a->confusion[y * K + pred]++;
	}
	if (a->teacher) {
		double kl = 0.0;
		if (kdp_argmax(tlp, K) == pred)
			a->agree++;
		/* KL from log-probabilities: t (log t - log p), no ratio of
		 * small numbers; t = 0 contributes nothing */
		for (size_t k = 0; k < K; k++) {
			double t = exp((double)tlp[k]);
			if (t > 0.0)
				kl += t * ((double)tlp[k] - (double)lp[k]);
		}
		if (kl > 0.0)
			a->kl_sum += kl;
	}
}

void
kde_acc_summary(const kde_acc *a, kde_summary *s)
{
	double n = (double)a->rows;

	s->accuracy = s->nll = s->brier = s->ece = NAN;
	s->agreement = s->kl = NAN;
	if (!a->rows)
		return;
	if (a->labelled) {
		double ece = 0.0;
		s->accuracy = 1.0 - (double)a->errors / n;
		s->nll = a->nll_sum / n;
		s->brier = a->brier_sum / n;
		/* (n_b / N) |acc_b - conf_b| = |correct_b - conf_sum_b| / N */
		for (int b = 0; b < KDE_BINS; b++)
			ece += fabs((double)a->bins[b].correct - a->bins[b].conf_sum);
		s->ece = ece / n;
	}
	if (a->teacher) {
		s->agreement = (double)a->agree / n;
		s->kl = a->kl_sum / n;
	}
}

/* ---- row sources ---- */

struct kde_src {
	char *name;          /* in messages */
	char *data_name;     /* the data a model runs over, NULL for a stream */
	size_t K;            /* classes */
	int labelled;        /* rows carry labels */
	uint64_t data_fp;    /* fingerprint of the data set (kdd_fingerprint), 0: not known */
	uint64_t count;      /* rows returned */
	float *lp;           /* (K) the current row's log-probabilities */
	const char *names;   /* class names, or NULL */
	size_t names_len;    /* bytes in names */
	/* a stream */
	kds_reader *r;       /* the reader, or NULL for a model */
	int kind;            /* the stream's kind of values */
	double temp;         /* its temperature */
	/* a model over a data set */
	const kdm_model *m;  /* the model, or NULL for a stream */
	const kdd_set *data; /* the rows it runs over */
	kdm_ws *ws;          /* forward workspace */
	float *logits;       /* (BATCH,K) logits of the current batch */
	size_t batch0;       /* data row of the batch's first row */
	size_t nbatch;       /* rows in the current batch */
};

static kde_src *
src_new(const char *name, size_t K, kd_err *e)
{
	kde_src *s = calloc(1, sizeof *s);
	if (!s || !(s->name = strdup(name)) || !(s->lp = malloc(K * sizeof *s->lp))) {
		kde_src_free(s);
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return NULL;
	}
	s->K = K;
	return s;
}

kde_src *
kde_src_stream(const char *path, kd_err *e)
{
	kds_reader *r = kds_open(path, e);
	const kds_header *h;
	kde_src *s;

	if (!r)
		return NULL;
	if (kds_scores_only(r, e)) {
		kds_close(r);
		return NULL;
	}
	kds_check_rows(r); /* shards joined with cat: every row once */
	h = kds_header_of(r);
	if (!(s = src_new(kds_name(r), h->k, e))) {
		kds_close(r);
		return NULL;
	}
	s->r = r;
	s->labelled = h->has_label;
	s->data_fp = h->data_fp;
	s->kind = h->kind;
	s->temp = h->temp;
	if (h->names_len) {
		s->names = h->names;
		s->names_len = h->names_len;
	}
	return s;
}

/* count_names: how many NUL-terminated strings fill blob exactly, or 0
 * when the blob does not end in a NUL */
static size_t
count_names(const char *blob, size_t len)
{
	size_t n = 0;
	if (!len || blob[len - 1])
		return 0;
	for (size_t i = 0; i < len; i++)
		n += !blob[i];
	return n;
}

kde_src *
kde_src_model(const kdm_model *m, const char *model_name, const kdd_set *data,
              const char *data_name, kd_err *e)
{
	kde_src *s;

	if (data->d != m->D) {
		kd_err_set(e, KD_EMISMATCH, "'%s' has %zu features, model '%s' takes %zu",
		           data_name, data->d, model_name, m->D);
		return NULL;
	}
	if (data->y)
		for (size_t i = 0; i < data->n; i++)
			if ((size_t)data->y[i] >= m->K) {
				kdd_label_range(data, data_name, i, m->K, model_name, e);
				return NULL;
			}
	if (!(s = src_new(model_name, m->K, e)))
		return NULL;
	if (!(s->data_name = strdup(data_name))) {
		kde_src_free(s);
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return NULL;
	}
	s->m = m;
	s->data = data;
	s->labelled = data->y != NULL; /* data_fp: on demand, src_data_fp */
	s->ws = kdm_ws_new(m, BATCH);
	s->logits = malloc((size_t)BATCH * m->K * sizeof *s->logits);
	if (!s->ws || !s->logits) {
		kde_src_free(s);
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return NULL;
	}
	if (m->names_len) {
		s->names = m->names;
		s->names_len = m->names_len;
	} else if (data->names_len && count_names(data->names, data->names_len) == m->K) {
		s->names = data->names;
		s->names_len = data->names_len;
	}
	return s;
}

/* floor_lp: apply the floor of eval.h to K log-probabilities; exact: they
 * come from logits (only -inf is floored) */
static void
floor_lp(float *lp, size_t K, int exact)
{
	const float lo = (float)KDE_LOG_PMIN;
	for (size_t k = 0; k < K; k++)
		if (exact ? lp[k] == -INFINITY : lp[k] < lo)
			lp[k] = lo;
}

int
kde_src_next(kde_src *s, kde_row *row, kd_err *e)
{
	if (s->r) {
		kds_record rec;
		int rc = kds_read(s->r, &rec, e);
		if (rc <= 0)
			return rc;
		/* the stream holds P^(1/T): softening at 1/T gives P back */
		kdp_soften(s->kind, rec.values, s->K, 1.0 / s->temp, 1, s->lp);
		floor_lp(s->lp, s->K, s->kind == KDP_LOGITS);
		row->id = rec.id;
		row->label = s->labelled ? rec.label : -1;
	} else {
		size_t i = (size_t)s->count, b;
		if (i >= s->data->n)
			return 0;
		if (i >= s->batch0 + s->nbatch) {
			size_t B = s->data->n - i < BATCH ? s->data->n - i : BATCH;
			if (kdm_forward(s->m, s->ws, s->data->x + i * s->data->d, B, s->logits)) {
				kd_err_set(e, KD_EUSAGE, "'%s': workspace does not fit the model", s->name);
				return -1;
			}
			s->batch0 = i;
			s->nbatch = B;
		}
		b = i - s->batch0;
		if (kdm_logits_bad(s->logits + b * s->K, s->K, s->name, s->data_name, i,
		                   s->data->line ? s->data->line[i] : 0, e))
			return -1;
		kdp_log_softmax(s->logits + b * s->K, s->K, 1.0, s->lp);
		floor_lp(s->lp, s->K, 1);
		row->id = s->data->id[i];
		row->label = s->labelled ? s->data->y[i] : -1;
	}
	row->lp = s->lp;
	s->count++;
	return 1;
}

size_t kde_src_k(const kde_src *s) { return s->K; }
int kde_src_labelled(const kde_src *s) { return s->labelled; }
const char *kde_src_name(const kde_src *s) { return s->name; }
uint64_t kde_src_count(const kde_src *s) { return s->count; }

const char *
kde_src_names(const kde_src *s, size_t *len)
{
	*len = s->names_len;
	return s->names;
}

void
kde_src_free(kde_src *s)
{
	if (!s)
		return;
	if (s->r)
		kds_close(s->r);
	kdm_ws_free(s->ws);
	free(s->logits);
	free(s->lp);
	free(s->name);
	free(s->data_name);
	free(s);
}

/* ---- scoring one candidate ---- */

void
kde_result_free(kde_result *r)
{
	kde_acc_free(&r->acc);
	free(r->name);
	free(r->names);
	memset(r, 0, sizeof *r);
}

const char *
kde_class_name(const kde_result *r, size_t c)
{
	return c < r->acc.K ? kdx_name_at(r->names, c) : NULL;
}

/* src_data_fp: the fingerprint of s's rows (a model's data hashed once,
 * and only when a teacher is compared with) */
static uint64_t
src_data_fp(kde_src *s)
{
	if (!s->data_fp && s->data)
		s->data_fp = kdd_fingerprint(s->data);
	return s->data_fp;
}

/* src_data_name: what to blame for a source's rows: its data, or its stream */
static const char *
src_data_name(const kde_src *s)
{
	return s->data_name ? s->data_name : s->name;
}

int
kde_eval(kde_src *cand, kde_src *teacher, const char *name, int confusion,
         kde_result *r, kd_err *e)
{
	size_t K = cand->K, nlen;
	const char *names;
	int labelled;
	kde_row row, trow;

	memset(r, 0, sizeof *r);
	memset(&trow, 0, sizeof trow);
	if (teacher && teacher->K != K) {
		kd_err_set(e, KD_EMISMATCH, "'%s' has %zu classes, the teacher '%s' has %zu",
		           cand->name, K, teacher->name, teacher->K);
		return -1;
	}
	if (teacher && src_data_fp(cand) && src_data_fp(teacher) &&
	    src_data_fp(cand) != src_data_fp(teacher)) {
		kd_err_set(e, KD_EMISMATCH, "'%s' and the teacher '%s' are of different data sets "
		           "(their data fingerprints differ)", src_data_name(cand), src_data_name(teacher));
		return -1;
	}
	labelled = cand->labelled || (teacher && teacher->labelled);
	if (!labelled && !teacher) {
		/* a model's labels would come from its data */
		kd_err_set(e, KD_EUSAGE, "'%s': no labels to score against",
		           cand->data_name ? cand->data_name : cand->name);
		return -1;
	}
	if (kde_acc_init(&r->acc, K, labelled, teacher != NULL, confusion, e)) {
		char why[KD_ERR_MAX];
		snprintf(why, sizeof why, "%s", e ? e->msg : "");
		kd_err_set(e, e ? e->code : KD_ERANGE, "'%s': %s", cand->name, why);
		return -1;
	}
	names = kde_src_names(cand, &nlen);
	if (!names && teacher)
		names = kde_src_names(teacher, &nlen);
	if (!(r->name = strdup(name)) || (names && !(r->names = malloc(nlen))))
		goto nomem;
	if (names) {
		memcpy(r->names, names, nlen);
		r->names_len = nlen;
	}

	for (;;) {
		int rc = kde_src_next(cand, &row, e), trc = 0;
		uint64_t n;
		int32_t label;

		if (rc < 0)
			goto fail;
		if (teacher && (trc = kde_src_next(teacher, &trow, e)) < 0)
			goto fail;
		if (!rc && !trc)
			break;
		n = cand->count;
		if (!rc) {
			kd_err_set(e, KD_EMISMATCH, "'%s' ends after record %" PRIu64 " but the teacher '%s' goes on",
			           cand->name, n, teacher->name);
			goto fail;
		}
		if (teacher && !trc) {
			kd_err_set(e, KD_EMISMATCH, "the teacher '%s' ends after record %" PRIu64 " but '%s' goes on",
			           teacher->name, teacher->count, cand->name);
			goto fail;
		}
		label = row.label;
		if (teacher) {
			if (row.id != trow.id) {
				kd_err_set(e, KD_EMISMATCH, "'%s': record %" PRIu64 " has row id %" PRIu64
				           ", the teacher '%s' has %" PRIu64,
				           cand->name, n, row.id, teacher->name, trow.id);
				goto fail;
			}
			if (teacher->labelled) {
				if (cand->labelled && row.label != trow.label) {
					kd_err_set(e, KD_EMISMATCH, "'%s': record %" PRIu64 " has label %ld, the teacher '%s' has %ld",
					           cand->name, n, (long)row.label, teacher->name, (long)trow.label);
					goto fail;
				}
				label = trow.label;
			}
		}
		kde_acc_add(&r->acc, row.lp, label, trow.lp);
	}
	return 0;
nomem:
	kd_err_set(e, KD_ENOMEM, "out of memory");
fail:
	kde_result_free(r);
	return -1;
}

/* ---- how alike the classes are ---- */

int
kde_sim_init(kde_sim *s, size_t K, double temp, kd_err *e)
{
	memset(s, 0, sizeof *s);
	if (K == 0 || K > KDE_MAX_CONF_K) {
		kd_err_set(e, KD_ERANGE, "%zu classes are %s for a similarity matrix (1 to %d)",
		           K, K ? "too many" : "too few", KDE_MAX_CONF_K);
		return -1;
	}
	if (!(temp > 0.0) || !isfinite(temp)) {
		kd_err_set(e, KD_ERANGE, "temperature %g is out of range (above 0)", temp);
		return -1;
	}
	s->K = K;
	s->temp = temp;
	s->class_rows = calloc(K, sizeof *s->class_rows);
	s->sum = calloc(K * K, sizeof *s->sum);
	if (!s->class_rows || !s->sum) {
		kde_sim_free(s);
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

void
kde_sim_free(kde_sim *s)
{
	free(s->class_rows);
	free(s->sum);
	free(s->name);
	free(s->names);
	memset(s, 0, sizeof *s);
}

void
kde_sim_add(kde_sim *s, const float *q, int32_t label)
{
	double *row = s->sum + (size_t)label * s->K;

	s->rows++;
	s->class_rows[label]++;
	for (size_t j = 0; j < s->K; j++)
		row[j] += (double)q[j];
}

double
kde_sim_at(const kde_sim *s, size_t c, size_t j)
{
	if (!s->class_rows[c])
		return NAN;
	return s->sum[c * s->K + j] / (double)s->class_rows[c];
}

size_t
kde_sim_alike(const kde_sim *s, size_t c)
{
	size_t best = s->K;

	if (!s->class_rows[c])
		return s->K;
	for (size_t j = 0; j < s->K; j++)
		if (j != c && (best == s->K || s->sum[c * s->K + j] > s->sum[c * s->K + best]))
			best = j;
	return best;
}

/* pair_before: x ranks before y: a higher score, else smaller classes */
static int
pair_before(const kde_pair *x, const kde_pair *y)
{
	if (x->s != y->s)
		return x->s > y->s;
	return x->a != y->a ? x->a < y->a : x->b < y->b;
}

size_t
kde_sim_pairs(const kde_sim *s, kde_pair *top, size_t n)
{
	size_t got = 0;

	/* keep the n best so far in order: K*K/2 pairs, n small */
	for (size_t a = 0; a < s->K; a++)
		for (size_t b = a + 1; b < s->K && n; b++) {
			kde_pair p;
			size_t i;
			if (!s->class_rows[a] || !s->class_rows[b])
				continue;
			p.a = a;
			p.b = b;
			p.s = (kde_sim_at(s, a, b) + kde_sim_at(s, b, a)) / 2.0;
			if (got == n && !pair_before(&p, &top[n - 1]))
				continue;
			i = got < n ? got++ : n - 1;
			for (; i > 0 && pair_before(&p, &top[i - 1]); i--)
				top[i] = top[i - 1];
			top[i] = p;
		}
	return got;
}

const char *
kde_sim_class_name(const kde_sim *s, size_t c)
{
	return c < s->K ? kdx_name_at(s->names, c) : NULL;
}

int
kde_similar(const char *path, double temp, const char *name, kde_sim *s,
            kd_err *e)
{
	kds_reader *r = kds_open(path, e);
	const kds_header *h;
	float *q = NULL;
	kds_record rec;
	double by;
	int rc;

	memset(s, 0, sizeof *s);
	if (!r)
		return -1;
	if (kds_scores_only(r, e))
		goto fail;
	kds_check_rows(r); /* shards joined with cat: every row once */
	h = kds_header_of(r);
	if (!h->has_label) {
		kd_err_set(e, KD_EUSAGE, "'%s': no labels (the matrix needs each row's true class)", kds_name(r));
		goto fail;
	}
	if (h->k > KDE_MAX_CONF_K) {
		kd_err_set(e, KD_ERANGE, "'%s': %" PRIu32 " classes are too many for a similarity matrix (at most %d)",
		           kds_name(r), h->k, KDE_MAX_CONF_K);
		goto fail;
	}
	if (temp == 0.0)
		temp = h->temp;
	/* the stream holds P^(1/T0): softened by T / T0 it is P^(1/T) */
	by = temp / h->temp;
	if (!(by > 0.0) || !isfinite(by)) {
		kd_err_set(e, KD_ERANGE, "'%s': temperature %g cannot be reached from the stream's %g",
		           kds_name(r), temp, h->temp);
		goto fail;
	}
	if (kde_sim_init(s, h->k, temp, e)) {
		char why[KD_ERR_MAX];
		snprintf(why, sizeof why, "%s", e ? e->msg : "");
		kd_err_set(e, e ? e->code : KD_ERANGE, "'%s': %s", kds_name(r), why);
		goto fail;
	}
	if (!(s->name = strdup(name ? name : kds_name(r))) || !(q = malloc(s->K * sizeof *q)) ||
	    (h->names_len && !(s->names = malloc(h->names_len)))) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		goto fail;
	}
	if (h->names_len) {
		memcpy(s->names, h->names, h->names_len);
		s->names_len = h->names_len;
	}
	while ((rc = kds_read(r, &rec, e)) > 0) {
		kdp_soften(h->kind, rec.values, s->K, by, 0, q);
		kde_sim_add(s, q, rec.label);
	}
	if (rc < 0)
		goto fail;
	free(q);
	kds_close(r);
	return 0;
fail:
	free(q);
	kde_sim_free(s);
	kds_close(r);
	return -1;
}
