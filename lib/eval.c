/* eval.c: metrics over rows of class scores, the sources that produce
 * those rows, and the reports of kd-eval (see eval.h). */
#include "eval.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kds.h"
#include "out.h"
#include "prob.h"
#include "text.h"

extern char **environ;

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

/* argmax: the index of the largest of K values, the first on ties */
static size_t
argmax(const float *v, size_t K)
{
	size_t best = 0;
	for (size_t k = 1; k < K; k++)
		if (v[k] > v[best])
			best = k;
	return best;
}

void
kde_acc_add(kde_acc *a, const float *lp, int32_t label, const float *tlp)
{
	size_t K = a->K, pred = argmax(lp, K);

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
		if (argmax(tlp, K) == pred)
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
	s->labelled = data->y != NULL;
	s->data_fp = kdd_fingerprint(data);
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
	const char *p = r->names;
	if (!p || c >= r->acc.K)
		return NULL;
	while (c--)
		p += strlen(p) + 1;
	return p;
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
	if (teacher && cand->data_fp && teacher->data_fp && cand->data_fp != teacher->data_fp) {
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

/* ---- the table ---- */

#define CELL 48 /* bytes of one formatted cell */

/* fmt_num: v with `dec` decimals (times `scale`), or "-" when NaN */
static void
fmt_num(char *buf, double v, double scale, int dec)
{
	if (isnan(v))
		snprintf(buf, CELL, "-");
	else
		snprintf(buf, CELL, "%.*f", dec, v * scale);
}

/* put_cell: s padded to width w, left- or right-aligned, after a gap */
static void
put_cell(FILE *f, const char *s, int w, int left, int first)
{
	if (!first)
		fputs("  ", f);
	fprintf(f, left ? "%-*s" : "%*s", w, s);
}

static int
int_width(uint64_t v)
{
	int w = 1;
	while (v >= 10) {
		v /= 10;
		w++;
	}
	return w;
}

/* print_confusion: r's matrix with a rows / errors / error % block */
static void
print_confusion(FILE *f, const kde_result *r)
{
	const kde_acc *a = &r->acc;
	size_t K = a->K;
	uint64_t max = 0;
	int cw, lw = (int)strlen("true \\ predicted");
	int rw = int_width(a->rows) > 4 ? int_width(a->rows) : 4;   /* rows */
	int ew = int_width(a->rows) > 6 ? int_width(a->rows) : 6;   /* errors */
	char lab[CELL + 256];

	for (size_t i = 0; i < K * K; i++)
		if (a->confusion[i] > max)
			max = a->confusion[i];
	cw = int_width(max) > int_width(K - 1) ? int_width(max) : int_width(K - 1);
	for (size_t c = 0; c < K; c++) {
		const char *nm = kde_class_name(r, c);
		int l = snprintf(lab, sizeof lab, "%zu%s%.200s", c, nm ? " " : "", nm ? nm : "");
		if (l > lw)
			lw = l;
	}
	fprintf(f, "\nconfusion matrix of '%s' (rows: true class, columns: predicted class)\n", r->name);
	put_cell(f, "true \\ predicted", lw, 1, 1);
	for (size_t c = 0; c < K; c++) {
		snprintf(lab, sizeof lab, "%zu", c);
		put_cell(f, lab, cw, 0, 0);
	}
	fprintf(f, "  |  %*s  %*s  %7s\n", rw, "rows", ew, "errors", "error %");
	for (size_t t = 0; t < K; t++) {
		const char *nm = kde_class_name(r, t);
		char num[CELL];
		snprintf(lab, sizeof lab, "%zu%s%.200s", t, nm ? " " : "", nm ? nm : "");
		put_cell(f, lab, lw, 1, 1);
		for (size_t c = 0; c < K; c++) {
			snprintf(num, sizeof num, "%" PRIu64, a->confusion[t * K + c]);
			put_cell(f, num, cw, 0, 0);
		}
		fmt_num(num, a->class_rows[t] ? (double)a->class_errors[t] / (double)a->class_rows[t] : NAN, 100.0, 2);
		fprintf(f, "  |  %*" PRIu64 "  %*" PRIu64 "  %7s\n",
		        rw, a->class_rows[t], ew, a->class_errors[t], num);
	}
}

/* print_bins: r's calibration bins */
static void
print_bins(FILE *f, const kde_result *r)
{
	const kde_acc *a = &r->acc;
	int rw = int_width(a->rows) > 4 ? int_width(a->rows) : 4;

	fprintf(f, "\ncalibration of '%s' (%d bins of confidence)\n", r->name, KDE_BINS);
	fprintf(f, "%-14s  %*s  %15s  %10s\n", "confidence", rw, "rows", "mean confidence", "accuracy %");
	for (int b = 0; b < KDE_BINS; b++) {
		const kde_bin *k = &a->bins[b];
		char range[CELL], conf[CELL], acc[CELL];
		snprintf(range, sizeof range, "%c%.3f, %.3f]", b ? '(' : '[',
		         (double)b / KDE_BINS, (double)(b + 1) / KDE_BINS);
		fmt_num(conf, k->count ? k->conf_sum / (double)k->count : NAN, 1.0, 4);
		fmt_num(acc, k->count ? (double)k->correct / (double)k->count : NAN, 100.0, 2);
		fprintf(f, "%-14s  %*" PRIu64 "  %15s  %10s\n", range, rw, k->count, conf, acc);
	}
}

int
kde_print_table(FILE *f, const kde_result *r, size_t n, const kde_report_opts *o)
{
	enum { NCOL = 9 };
	static const char *head[NCOL] = {
		"model", "rows", "errors", "accuracy %", "NLL", "Brier", "ECE",
		"agreement %", "KL"
	};
	int ncol = o->teacher ? NCOL : NCOL - 2, w[NCOL];
	char (*cell)[NCOL][CELL] = n ? calloc(n, sizeof *cell) : NULL;

	if (n && !cell)
		return -1;
	for (int c = 0; c < ncol; c++)
		w[c] = (int)strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		kde_summary s;
		kde_acc_summary(&r[i].acc, &s);
		snprintf(cell[i][0], CELL, "%.*s", CELL - 1, r[i].name);
		snprintf(cell[i][1], CELL, "%" PRIu64, r[i].acc.rows);
		if (r[i].acc.labelled)
			snprintf(cell[i][2], CELL, "%" PRIu64, r[i].acc.errors);
		else
			snprintf(cell[i][2], CELL, "-");
		fmt_num(cell[i][3], s.accuracy, 100.0, 2);
		fmt_num(cell[i][4], s.nll, 1.0, 4);
		fmt_num(cell[i][5], s.brier, 1.0, 4);
		fmt_num(cell[i][6], s.ece, 1.0, 4);
		fmt_num(cell[i][7], s.agreement, 100.0, 2);
		fmt_num(cell[i][8], s.kl, 1.0, 4);
		for (int c = 0; c < ncol; c++)
			if ((int)strlen(cell[i][c]) > w[c])
				w[c] = (int)strlen(cell[i][c]);
	}
	/* a long name is cut in the table, not in the JSON */
	for (int c = 0; c < ncol; c++)
		put_cell(f, head[c], w[c], c == 0, c == 0);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < ncol; c++)
			put_cell(f, cell[i][c], w[c], c == 0, c == 0);
		fputc('\n', f);
	}
	free(cell);
	if (o->teacher)
		fprintf(f, "agreement and KL(teacher || model) at T=1, against the teacher '%s'\n", o->teacher);
	for (size_t i = 0; i < n; i++) {
		if (!r[i].acc.labelled)
			continue;
		if (o->confusion && r[i].acc.confusion)
			print_confusion(f, &r[i]);
		if (o->bins)
			print_bins(f, &r[i]);
	}
	return ferror(f) ? -1 : 0;
}

/* ---- JSON ---- */

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* json_num: a number, or null for NaN (JSON has no NaN) */
static void
json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.10g", v);
}

static void
json_u64s(FILE *f, const uint64_t *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%" PRIu64, i ? "," : "", v[i]);
	fputc(']', f);
}

int
kde_print_json(FILE *f, const kde_result *r, size_t n, const kde_report_opts *o)
{
	for (size_t i = 0; i < n; i++) {
		const kde_acc *a = &r[i].acc;
		size_t K = a->K;
		kde_summary s;

		kde_acc_summary(a, &s);
		fputs("{\"model\":", f);
		json_str(f, r[i].name);
		fprintf(f, ",\"classes\":%zu,\"rows\":%" PRIu64 ",\"errors\":", K, a->rows);
		if (a->labelled)
			fprintf(f, "%" PRIu64, a->errors);
		else
			fputs("null", f);
		fputs(",\"accuracy\":", f);
		json_num(f, s.accuracy);
		fputs(",\"nll\":", f);
		json_num(f, s.nll);
		fputs(",\"brier\":", f);
		json_num(f, s.brier);
		fputs(",\"ece\":", f);
		json_num(f, s.ece);
		if (o->teacher) {
			fputs(",\"teacher\":", f);
			json_str(f, o->teacher);
			fputs(",\"agreement\":", f);
			json_num(f, s.agreement);
			fputs(",\"kl\":", f);
			json_num(f, s.kl);
		}
		if (a->labelled) {
			fputs(",\"per_class_rows\":", f);
			json_u64s(f, a->class_rows, K);
			fputs(",\"per_class_errors\":", f);
			json_u64s(f, a->class_errors, K);
			fputs(",\"per_class_error_rate\":[", f);
			for (size_t c = 0; c < K; c++) {
				if (c)
					fputc(',', f);
				json_num(f, a->class_rows[c] ? (double)a->class_errors[c] / (double)a->class_rows[c] : NAN);
			}
			fputc(']', f);
		} else {
			fputs(",\"per_class_rows\":null,\"per_class_errors\":null,\"per_class_error_rate\":null", f);
		}
		if (o->confusion || o->bins) {
			if (r[i].names) {
				fputs(",\"class_names\":[", f);
				for (size_t c = 0; c < K; c++) {
					if (c)
						fputc(',', f);
					json_str(f, kde_class_name(&r[i], c));
				}
				fputc(']', f);
			}
			if (a->confusion) {
				fputs(",\"confusion\":[", f);
				for (size_t t = 0; t < K; t++) {
					if (t)
						fputc(',', f);
					json_u64s(f, a->confusion + t * K, K);
				}
				fputc(']', f);
			}
			if (a->labelled) {
				fputs(",\"ece_bins\":[", f);
				for (int b = 0; b < KDE_BINS; b++) {
					const kde_bin *k = &a->bins[b];
					fprintf(f, "%s{\"lo\":", b ? "," : "");
					json_num(f, (double)b / KDE_BINS);
					fputs(",\"hi\":", f);
					json_num(f, (double)(b + 1) / KDE_BINS);
					fprintf(f, ",\"count\":%" PRIu64 ",\"confidence\":", k->count);
					json_num(f, k->count ? k->conf_sum / (double)k->count : NAN);
					fputs(",\"accuracy\":", f);
					json_num(f, k->count ? (double)k->correct / (double)k->count : NAN);
					fputc('}', f);
				}
				fputc(']', f);
			}
		}
		fputs("}\n", f);
	}
	return ferror(f) ? -1 : 0;
}

/* ---- the picture ---- */

/* gp_str: s as a gnuplot double-quoted string (noenhanced text). Only
 * letters, digits, the space and -_.,:()/+= go in as they are; every other
 * byte is written as an octal escape \ooo, which gnuplot turns back into
 * that byte once the line is parsed, so that no quote, backslash,
 * backquote (command substitution), @ (macro), $ or # from a name is ever
 * seen by gnuplot's reader. Control characters and bytes that are not
 * UTF-8 become '?'. */
static void
gp_str(FILE *f, const char *s)
{
	const unsigned char *end = (const unsigned char *)s + strlen(s);

	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t len = kdx_utf8_char(p, (size_t)(end - p));
		if (*p < 0x20 || *p == 0x7f || !len)
			fputc('?', f);
		else if (len > 1) {
			for (size_t i = 0; i < len; i++)
				fprintf(f, "\\%03o", p[i]);
			p += len - 1;
		}
		else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		         (*p >= '0' && *p <= '9') || strchr(" -_.,:()/+=", *p))
			fputc(*p, f);
		else
			fprintf(f, "\\%03o", *p);
	}
	fputc('"', f);
}

/* gp_tics: class tics on axis ("x" or "y"), named when r names them */
static void
gp_tics(FILE *f, const char *axis, const kde_result *r)
{
	size_t K = r->acc.K;
	int rot = axis[0] == 'x';

	if (K > 30) {
		fprintf(f, "set %stics autofreq norotate\n", axis);
		return;
	}
	fprintf(f, "set %stics (", axis);
	for (size_t c = 0; c < K; c++) {
		const char *nm = kde_class_name(r, c);
		char num[32];
		snprintf(num, sizeof num, "%zu", c);
		if (c)
			fputs(", ", f);
		gp_str(f, nm ? nm : num);
		fprintf(f, " %zu", c);
	}
	fprintf(f, ") %s\n", rot && r->names ? "rotate by 35 right" : "norotate");
}

int
kde_plot_script(FILE *f, const kde_result *r, size_t n, kd_err *e)
{
	size_t rows = 0;

	for (size_t i = 0; i < n; i++)
		if (r[i].acc.labelled && r[i].acc.confusion && r[i].acc.rows)
			rows++;
	if (!rows) {
		kd_err_set(e, KD_EUSAGE, "nothing to plot: no candidate has labelled rows");
		return -1;
	}
	/* the picture goes to gnuplot's standard output: no path is ever
	 * written into the script */
	fprintf(f, "# kd-eval: reliability diagrams and confusion matrices\n"
	           "set terminal pngcairo size 1200,%zu noenhanced font \"sans,10\"\n"
	           "set output\n", 520 * rows);

	/* the data first, as datablocks: bins (lo hi count confidence
	 * accuracy), the row-normalised matrix, and the counts to write in */
	for (size_t i = 0, j = 0; i < n; i++) {
		const kde_acc *a = &r[i].acc;
		size_t K = a->K;
		if (!(a->labelled && a->confusion && a->rows))
			continue;
		fprintf(f, "$bins%zu << EOD\n", j);
		for (int b = 0; b < KDE_BINS; b++)
			if (a->bins[b].count)
				fprintf(f, "%.6f %.6f %" PRIu64 " %.6f %.6f\n", (double)b / KDE_BINS,
				        (double)(b + 1) / KDE_BINS, a->bins[b].count,
				        a->bins[b].conf_sum / (double)a->bins[b].count,
				        (double)a->bins[b].correct / (double)a->bins[b].count);
		fprintf(f, "EOD\n$conf%zu << EOD\n", j);
		for (size_t t = 0; t < K; t++) {
			for (size_t c = 0; c < K; c++)
				fprintf(f, "%s%.6f", c ? " " : "", a->class_rows[t]
				        ? (double)a->confusion[t * K + c] / (double)a->class_rows[t] : 0.0);
			fputc('\n', f);
		}
		fprintf(f, "EOD\n$count%zu << EOD\n", j);
		for (size_t t = 0; K <= 20 && t < K; t++)
			for (size_t c = 0; c < K; c++) {
				uint64_t v = a->confusion[t * K + c];
				int dark = a->class_rows[t] && 2 * v > a->class_rows[t];
				fprintf(f, "%zu %zu %" PRIu64 " %d\n", c, t, v, dark ? 0xffffff : 0x303030);
			}
		fputs("EOD\n", f);
		j++;
	}

	fprintf(f, "set multiplot layout %zu,2\n", rows);
	for (size_t i = 0, j = 0; i < n; i++) {
		const kde_acc *a = &r[i].acc;
		size_t K = a->K;
		kde_summary s;
		char title[64];
		if (!(a->labelled && a->confusion && a->rows))
			continue;
		kde_acc_summary(a, &s);

		/* the reliability diagram */
		fputs("set title ", f);
		gp_str(f, r[i].name);
		snprintf(title, sizeof title, ": reliability (ECE %.4f, accuracy %.2f%%)", s.ece, 100.0 * s.accuracy);
		fprintf(f, " . \"%s\"\n", title);
		fputs("set size ratio 1\n"
		      "set xrange [0:1]\nset yrange [0:1]\n"
		      "set xtics 0.2 norotate\nset ytics 0.2\nset mxtics 3\n"
		      "set xlabel \"confidence\"\nset ylabel \"accuracy\"\n"
		      "set grid\nset key top left box opaque\nunset colorbox\n"
		      "set style fill solid 0.7 border rgb \"#1f4e79\"\n", f);
		fprintf(f, "plot $bins%zu using (($1+$2)/2):5:($2-$1) with boxes lc rgb \"#6baed6\" title \"accuracy of the bin\", \\\n"
		           "     x with lines dt 2 lw 1.5 lc rgb \"#555555\" title \"perfect calibration\", \\\n"
		           "     $bins%zu using 4:5 with points pt 7 ps 1 lc rgb \"#c0392b\" title \"accuracy at the mean confidence\"\n",
		        j, j);

		/* the confusion matrix */
		fputs("set title ", f);
		gp_str(f, r[i].name);
		fputs(" . \": confusion matrix (colour: share of the true class)\"\n", f);
		fprintf(f, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\n", K - 1, K - 1);
		fputs("unset mxtics\nunset grid\nunset key\n"
		      "set xlabel \"predicted class\"\nset ylabel \"true class\"\n"
		      "set style fill solid 1.0 noborder\n"
		      "set cbrange [0:1]\nset palette defined (0 \"#ffffff\", 1 \"#08306b\")\n"
		      "set colorbox\n", f);
		gp_tics(f, "x", &r[i]);
		gp_tics(f, "y", &r[i]);
		/* an image needs 2 x 2 points: one class is drawn as a box */
		if (K == 1)
			fprintf(f, "plot $conf%zu matrix using 1:2:(0.5):(0.5):3 with boxxyerror fc palette", j);
		else
			fprintf(f, "plot $conf%zu matrix with image", j);
		if (K <= 20)
			fprintf(f, ", \\\n     $count%zu using 1:2:3:4 with labels tc rgb variable", j);
		fputc('\n', f);
		j++;
	}
	fputs("unset multiplot\n", f);
	return ferror(f) ? -1 : 0;
}

/* run_gnuplot: run gnuplot on the script in fd (as its standard input)
 * and copy what it writes on its standard output, the picture, to out,
 * through a pipe, so that the writes are kd's own and checked (kdo_commit)
 * whatever out is; *png is set to 1 when it starts with the PNG
 * signature. 0, or -1 with e set. */
static int
run_gnuplot(int fd, FILE *out, const char *path, int *png, kd_err *e)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	posix_spawn_file_actions_t fa;
	char *argv[] = { "gnuplot", NULL };
	unsigned char buf[65536];
	size_t got = 0;
	ssize_t r;
	pid_t pid;
	int rc, st, p[2];

	*png = 0;
	if (pipe(p)) {
		kd_err_set(e, KD_EIO, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if (posix_spawn_file_actions_init(&fa)) {
		close(p[0]);
		close(p[1]);
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return -1;
	}
	posix_spawn_file_actions_adddup2(&fa, fd, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc) {
		close(p[0]);
		kd_err_set(e, KD_EIO, "cannot run gnuplot: %s (install gnuplot-nox)", strerror(rc));
		return -1;
	}
	while ((r = read(p[0], buf, sizeof buf)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (got < 8 && (size_t)r >= 8 - got)
			*png = got == 0 && !memcmp(buf, sig, 8);
		got += (size_t)r;
		fwrite(buf, 1, (size_t)r, out); /* kdo_commit checks it */
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			kd_err_set(e, KD_EIO, "cannot wait for gnuplot: %s", strerror(errno));
			return -1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		kd_err_set(e, KD_EIO, "cannot run gnuplot (install gnuplot-nox)");
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		kd_err_set(e, KD_EIO, "gnuplot failed drawing '%s' (%s %d)", path,
		           WIFEXITED(st) ? "exit status" : "signal",
		           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return -1;
	}
	return 0;
}

int
kde_plot(const char *path, const kde_result *r, size_t n, kd_err *e)
{
	kdo_file o;
	FILE *script;
	int png;

	if (!path || !strcmp(path, "-")) {
		kd_err_set(e, KD_EUSAGE, "the plot needs a file name, not stdout");
		return -1;
	}
	if (!(script = tmpfile())) {
		kd_err_set(e, KD_EIO, "cannot create a temporary file: %s", strerror(errno));
		return -1;
	}
	/* gnuplot draws into the temporary of an atomic output file, which
	 * is renamed into place only once the picture is known to be whole */
	if (kdo_open(&o, path, 1, e)) {
		fclose(script);
		return -1;
	}
	if (kde_plot_script(script, r, n, e))
		goto fail;
	if (fflush(script) || ferror(script) || fseek(script, 0, SEEK_SET)) {
		kd_err_set(e, KD_EIO, "cannot write the gnuplot script: %s", strerror(errno));
		goto fail;
	}
	if (run_gnuplot(fileno(script), o.fp, path, &png, e))
		goto fail;
	if (!png) {
		kd_err_set(e, KD_EIO, "gnuplot did not draw '%s'", path);
		goto fail;
	}
	fclose(script);
	return kdo_commit(&o, e);
fail:
	fclose(script);
	kdo_abort(&o);
	return -1;
}
