/* report.h: kd-eval's reports of the results of lib/eval.h: a table,
 * JSON lines, and reliability diagrams and confusion matrices drawn by
 * gnuplot. Command-line side: these print and spawn, which the library
 * (lib/) never does. */
#ifndef KD_REPORT_H
#define KD_REPORT_H

#include <stdio.h>

#include "eval.h"

typedef struct kdrep_opts {
	const char *teacher; /* the teacher's name, NULL without one */
	int confusion;       /* the confusion matrix and per-class errors */
	int bins;            /* the calibration bins */
} kdrep_opts;

/* kdrep_table: an aligned table of the n results (a row each), then,
 * as asked, each one's confusion matrix with per-class errors and its
 * calibration bins. Returns what ferror says (0 or -1). */
int kdrep_table(FILE *f, const kde_result *r, size_t n,
                    const kdrep_opts *o);

/* kdrep_json: one JSON object per result per line: model, classes,
 * rows, errors, accuracy, nll, brier, ece (null without labels), teacher,
 * agreement, kl (with a teacher), per_class_rows, per_class_errors,
 * per_class_error_rate; with confusion (or bins) also class_names (when
 * named), confusion and ece_bins [{lo, hi, count, confidence, accuracy}]. */
int kdrep_json(FILE *f, const kde_result *r, size_t n,
                   const kdrep_opts *o);

/* kdrep_plot: a PNG at path (written atomically) with one row of two panels
 * per labelled result: its reliability diagram (accuracy and mean
 * confidence per bin, the diagonal) and its confusion matrix as a heat map
 * (row-normalised, counts written in when K <= 20). Drawn by running
 * gnuplot (pngcairo). 0, or -1 with e set. */
int kdrep_plot(const char *path, const kde_result *r, size_t n, kd_err *e);

/* kdrep_plot_script: the gnuplot script kdrep_plot runs, on f (exposed for
 * tests): the picture goes to gnuplot's standard output, and names are
 * written so that none of their bytes is read as gnuplot syntax. 0, or -1
 * when no result can be drawn. */
int kdrep_plot_script(FILE *f, const kde_result *r, size_t n, kd_err *e);

/* ---- how alike the classes are (kd-eval --similar; lib/eval.h's
 * kde_sim) ---- */

#define KDREP_SIM_PAIRS 10 /* the most alike pairs reported */

/* kdrep_sim_table: the matrix M of s (rows: true class) with each class's
 * rows, its most alike class and that entry, then the KDREP_SIM_PAIRS
 * most alike pairs with their mean and both entries. Names that would
 * not fit are cut. Returns what ferror says (0 or -1). */
int kdrep_sim_table(FILE *f, const kde_sim *s);

/* kdrep_sim_json: one JSON object on one line: model, classes, rows,
 * temperature, class_names (when named), class_rows, matrix (K rows of K,
 * null for a class without rows), most_alike [{class, name, alike,
 * alike_name, p}] (alike and p null when there is none), pairs [{classes
 * [a, b], names, mean, p_ab, p_ba}], best first. */
int kdrep_sim_json(FILE *f, const kde_sim *s);

/* kdrep_sim_plot: a PNG at path (written atomically): M as a heat map,
 * class names on both axes, the colours spanning the off-diagonal
 * entries, the diagonal grey, the values written in when K <= 20. Drawn
 * by gnuplot, as kdrep_plot. 0, or -1 with e set. */
int kdrep_sim_plot(const char *path, const kde_sim *s, kd_err *e);

/* kdrep_sim_plot_script: the gnuplot script kdrep_sim_plot runs, on f
 * (exposed for tests), quoted as kdrep_plot_script's. 0, or -1 when s
 * has no rows. */
int kdrep_sim_plot_script(FILE *f, const kde_sim *s, kd_err *e);

#endif
