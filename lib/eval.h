/* eval.h: scoring class scores against labels and against a teacher (the
 * work behind kd-eval).
 *
 * Three layers, each usable alone:
 *   kde_acc  metric accumulators over rows of (log-probabilities, label,
 *            teacher log-probabilities), in memory that does not grow with
 *            the number of rows;
 *   kde_src  a source of such rows at T=1: a kd stream read record by
 *            record, or a model run over a data set in batches;
 *   kde_eval one candidate source scored, matched row by row with an
 *            optional teacher source; tools/common/report.h reports the
 *            results.
 * And, apart, kde_sim: how alike a teacher holds the classes (kd-eval
 * --similar), from a labelled stream at a temperature (see below).
 *
 * Definitions, with p the candidate's probabilities at T=1, y the label,
 * N the rows scored, pred = argmax p (the first on ties), conf = max p:
 *   errors    rows with pred != y; accuracy = 1 - errors / N
 *   nll       mean of -log p_y (natural log)
 *   brier     mean of sum_k (p_k - [k == y])^2, in [0, 2]
 *   ece       sum over bins b of (n_b / N) |accuracy_b - confidence_b|,
 *             with KDE_BINS equal-width bins of conf: bin b holds
 *             conf in (b/15, (b+1)/15], bin 0 also conf = 0 (Guo et al.
 *             2017); confidence_b is the mean conf of its rows
 *   confusion (K,K) counts, row = true class, column = predicted class
 *   agreement fraction of rows with pred == argmax of the teacher's p
 *   kl        mean of KL(teacher || candidate) = sum_k t_k (log t_k - log p_k),
 *             from log-probabilities (terms with t_k = 0 are 0); a row's
 *             KL below 0 (rounding only) counts as 0
 *
 * Temperature: a stream at temperature T (kds_header.temp) holds P^(1/T),
 * normalised, of the model's distribution P. Scores are taken back to T=1:
 * with s the stream's scores (logits, or log p), P ∝ exp(T s), i.e. the
 * stream softened at 1/T. A logit stream and the same stream softened at
 * any T score the same, up to float rounding.
 *
 * Zero probabilities: log-probabilities from probabilities or
 * log-probabilities (streams of kind probs or logprobs) are floored at
 * KDE_LOG_PMIN = log(1e-45), about the smallest float, so that one
 * probability rounded to 0 costs at most 103.6 nats of NLL instead of
 * infinity. Log-probabilities from logits (streams of logits, models) are
 * the exact log-softmax and are not floored, except -inf (an overflow
 * when undoing a huge temperature), which gets the floor too. */
#ifndef KD_EVAL_H
#define KD_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "data.h"
#include "kd_err.h"
#include "mlp.h"

#define KDE_BINS        15
#define KDE_LOG_PMIN    (-103.61632918473205) /* log(1e-45) */
#define KDE_MAX_CONF_K  1024 /* most classes for a confusion matrix */

/* ---- accumulators ---- */

typedef struct kde_bin {
	uint64_t count;   /* rows whose confidence falls in the bin */
	uint64_t correct; /* of those, rows predicted right */
	double conf_sum;  /* sum of their confidences */
} kde_bin;

typedef struct kde_acc {
	size_t K;               /* classes */
	int labelled;           /* rows carry labels: label metrics kept */
	int teacher;            /* rows carry a teacher: agreement and KL kept */
	uint64_t rows;          /* rows added */
	uint64_t errors;        /* labelled rows predicted wrong */
	double nll_sum;         /* sum of -log p_y */
	double brier_sum;       /* sum of the rows' Brier scores */
	kde_bin bins[KDE_BINS]; /* calibration bins, (b/15, (b+1)/15] */
	uint64_t *class_rows;   /* (K) rows of each true class, or NULL */
	uint64_t *class_errors; /* (K) of those, predicted wrong, or NULL */
	uint64_t *confusion;    /* (K,K) row = true, column = predicted, or NULL */
	uint64_t agree;         /* rows whose argmax is the teacher's */
	double kl_sum;          /* sum of KL(teacher || candidate) */
} kde_acc;

/* kde_acc_init: an empty accumulator for K classes; labelled and teacher
 * say which metrics rows will feed, confusion asks for the K x K matrix
 * (at most KDE_MAX_CONF_K classes). 0, or -1 with e set. */
int kde_acc_init(kde_acc *a, size_t K, int labelled, int teacher,
                 int confusion, kd_err *e);

/* kde_acc_free: release what kde_acc_init allocated; a zeroed acc is fine. */
void kde_acc_free(kde_acc *a);

/* kde_acc_add: one row: lp (K) the candidate's log-probabilities at T=1,
 * label in [0,K) (read only when labelled; the caller checks the range),
 * tlp (K) the teacher's log-probabilities (read only with a teacher). */
void kde_acc_add(kde_acc *a, const float *lp, int32_t label, const float *tlp);

/* kde_bin_of: the bin of confidence conf in [0, 1]. */
int kde_bin_of(double conf);

/* the metrics of an accumulator; NaN where they do not apply (no labels,
 * no teacher) or no row was added */
typedef struct kde_summary {
	double accuracy, nll, brier, ece; /* against the labels */
	double agreement, kl;             /* against the teacher */
} kde_summary;

void kde_acc_summary(const kde_acc *a, kde_summary *s);

/* ---- row sources ---- */

/* one row of a source; lp points into the source until the next call */
typedef struct kde_row {
	uint64_t id;      /* row id */
	int32_t label;    /* class, or -1 when the source has no labels */
	const float *lp;  /* (K) log-probabilities at T=1, floored as above */
} kde_row;

typedef struct kde_src kde_src;

/* kde_src_stream: the records of kd stream path ("-": stdin), taken back
 * to T=1. NULL with e set on failure. */
kde_src *kde_src_stream(const char *path, kd_err *e);

/* kde_src_model: model m (named model_name in messages) run over data
 * (named data_name) in batches; both are borrowed and must outlive the
 * source. Class names come from the model, else from the data. Refuses a
 * data set of another width, or a label the model has no class for. */
kde_src *kde_src_model(const kdm_model *m, const char *model_name,
                       const kdd_set *data, const char *data_name, kd_err *e);

/* kde_src_next: the next row: 1, 0 at the end, -1 on error. */
int kde_src_next(kde_src *s, kde_row *row, kd_err *e);

size_t kde_src_k(const kde_src *s);          /* classes */
int kde_src_labelled(const kde_src *s);      /* rows carry labels */
const char *kde_src_name(const kde_src *s);  /* name in messages */
/* kde_src_names: K NUL-terminated class names back to back and their
 * length in *len, or NULL when the classes are unnamed */
const char *kde_src_names(const kde_src *s, size_t *len);
/* kde_src_count: rows returned so far. */
uint64_t kde_src_count(const kde_src *s);

/* kde_src_free: release s (closing its stream); NULL is fine. */
void kde_src_free(kde_src *s);

/* ---- scoring one candidate ---- */

/* the result of one candidate, for the reports */
typedef struct kde_result {
	char *name;      /* the candidate's label in the reports (owned) */
	kde_acc acc;     /* its metrics */
	char *names;     /* K class names back to back, or NULL (owned) */
	size_t names_len;/* bytes in names */
} kde_result;

/* kde_eval: read cand to its end, with teacher (NULL: none) read alongside,
 * and fill r (name given, names from cand or else teacher). Labels come
 * from the candidate, else from the teacher; when both carry them they must
 * agree. Without a teacher the rows must be labelled ("'x.kd': no labels to
 * score against"); with a teacher and no labels only agreement and KL are
 * kept. Teacher rows match candidate rows by position, and must have the
 * same id; K and row counts must agree. Errors name the file and record.
 * confusion: keep the K x K matrix. 0, or -1 with e set and r freed. */
int kde_eval(kde_src *cand, kde_src *teacher, const char *name,
             int confusion, kde_result *r, kd_err *e);

/* kde_result_free: release r's contents; a zeroed r is fine. */
void kde_result_free(kde_result *r);

/* kde_class_name: the name of class c of r, or NULL when unnamed. */
const char *kde_class_name(const kde_result *r, size_t c);

/* ---- how alike the classes are: the teacher's dark knowledge ----
 *
 * The soft targets of a teacher say, row by row, how much of each other
 * class it sees in a row. Averaged over the rows of each true class, at a
 * temperature T:
 *   M[c][j]  the mean over rows of true class c of q_j, where q is the
 *            row's distribution at T (softmax(z / T) for logits, p^(1/T)
 *            normalised for probabilities, as kd-soften: kdp_soften);
 *            the diagonal included, so that each row of M sums to 1;
 *            NaN when no row has class c
 *   alike(c) the class j != c of the largest M[c][j] (the first on ties):
 *            the class the teacher holds most like c; none when K = 1 or
 *            no row has class c
 *   pairs    every i < j whose classes both have rows, scored
 *            S = (M[i][j] + M[j][i]) / 2 and ranked by S decreasing
 *            (ties: by i, then j)
 * A stream at temperature T0 holds P^(1/T0) of its model's P (eval.h's
 * note on temperature): its values are softened by T / T0, so that M is
 * at T whatever T0; T = T0 unless given. Memory: K + K*K counters,
 * whatever the rows (K at most KDE_MAX_CONF_K). */

typedef struct kde_sim {
	size_t K;             /* classes */
	double temp;          /* the temperature T of the matrix */
	uint64_t rows;        /* rows added */
	uint64_t *class_rows; /* (K) rows of each true class */
	double *sum;          /* (K,K) row c, column j: sum of q_j over rows of class c */
	char *name;           /* the stream's name in the reports (owned) */
	char *names;          /* K class names back to back, or NULL (owned) */
	size_t names_len;     /* bytes in names */
} kde_sim;

/* a pair of classes a < b and its score S */
typedef struct kde_pair {
	size_t a, b; /* the classes */
	double s;    /* (M[a][b] + M[b][a]) / 2 */
} kde_pair;

/* kde_sim_init: an empty matrix of K classes (1 to KDE_MAX_CONF_K) at
 * temperature temp, without name or class names. 0, or -1 with e set. */
int kde_sim_init(kde_sim *s, size_t K, double temp, kd_err *e);

/* kde_sim_add: one row: q (K) its probabilities at s->temp, label in
 * [0,K) (the caller checks the range). */
void kde_sim_add(kde_sim *s, const float *q, int32_t label);

/* kde_sim_at: M[c][j], NaN when no row has class c. */
double kde_sim_at(const kde_sim *s, size_t c, size_t j);

/* kde_sim_alike: alike(c), or K when there is none. */
size_t kde_sim_alike(const kde_sim *s, size_t c);

/* kde_sim_pairs: the n best-scored pairs into top (n slots), best
 * first; returns how many were filled (fewer when there are fewer). */
size_t kde_sim_pairs(const kde_sim *s, kde_pair *top, size_t n);

/* kde_sim_class_name: the name of class c, or NULL when unnamed. */
const char *kde_sim_class_name(const kde_sim *s, size_t c);

/* kde_similar: read the labelled kd stream at path ("-": stdin) to its
 * end into s at temperature temp (0: the stream's own), named name in
 * the reports (NULL: the stream's name), with its class names. Refuses a
 * stream without labels, or of more than KDE_MAX_CONF_K classes, naming
 * the file; errors of the stream name the record. 0, or -1 with e set
 * and s freed. */
int kde_similar(const char *path, double temp, const char *name,
                kde_sim *s, kd_err *e);

/* kde_sim_free: release s's contents; a zeroed s is fine. */
void kde_sim_free(kde_sim *s);

#endif
