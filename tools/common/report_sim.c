/* report_sim.c: kd-eval --similar's reports of a kde_sim (lib/eval.h): the
 * matrix as a table, as JSON, and as a heat map drawn by gnuplot (see
 * report.h; the helpers shared with report.c are in report_impl.h). */
#include "report.h"
#include "report_impl.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- how alike the classes are (kd-eval --similar) ---- */

/* class_label: "c name", or "c" when unnamed, cut to fit buf */
static void
class_label(char *buf, size_t n, const kde_sim *s, size_t c)
{
	const char *nm = kde_sim_class_name(s, c);
	snprintf(buf, n, "%zu%s%.200s", c, nm ? " " : "", nm ? nm : "");
}

int
kdrep_sim_table(FILE *f, const kde_sim *s)
{
	size_t K = s->K;
	int lw = (int)strlen("true \\ class"), cw = 6, rw = 4, aw = (int)strlen("most alike");
	kde_pair top[KDREP_SIM_PAIRS];
	size_t np = kde_sim_pairs(s, top, KDREP_SIM_PAIRS);
	char lab[CELL + 256], num[CELL];

	for (size_t c = 0; c < K; c++) {
		size_t a = kde_sim_alike(s, c);
		int l;
		class_label(lab, sizeof lab, s, c);
		if ((l = (int)strlen(lab)) > lw)
			lw = l;
		if (a < K) {
			class_label(lab, sizeof lab, s, a);
			if ((l = (int)strlen(lab)) > aw)
				aw = l;
		}
		if (kdrep_int_width(s->class_rows[c]) > rw)
			rw = kdrep_int_width(s->class_rows[c]);
	}
	if (kdrep_int_width(K - 1) > cw)
		cw = kdrep_int_width(K - 1);

	fprintf(f, "classes alike in '%s' at T=%g (%" PRIu64 " rows): the mean probability that rows "
	        "of the true class (row) give each class (column)\n", s->name, s->temp, s->rows);
	kdrep_put_cell(f, "true \\ class", lw, 1, 1);
	for (size_t c = 0; c < K; c++) {
		snprintf(num, sizeof num, "%zu", c);
		kdrep_put_cell(f, num, cw, 0, 0);
	}
	fprintf(f, "  |  %*s  %-*s  %6s\n", rw, "rows", aw, "most alike", "p");
	for (size_t c = 0; c < K; c++) {
		size_t a = kde_sim_alike(s, c);
		class_label(lab, sizeof lab, s, c);
		kdrep_put_cell(f, lab, lw, 1, 1);
		for (size_t j = 0; j < K; j++) {
			kdrep_fmt_num(num, kde_sim_at(s, c, j), 1.0, 4);
			kdrep_put_cell(f, num, cw, 0, 0);
		}
		if (a < K)
			class_label(lab, sizeof lab, s, a);
		else
			snprintf(lab, sizeof lab, "-");
		kdrep_fmt_num(num, a < K ? kde_sim_at(s, c, a) : NAN, 1.0, 4);
		fprintf(f, "  |  %*" PRIu64 "  %-*s  %6s\n", rw, s->class_rows[c], aw, lab, num);
	}

	if (np) {
		char la[CELL + 256], lb[CELL + 256], ab[CELL], ba[CELL];
		int pw = (int)strlen("pair");
		for (size_t i = 0; i < np; i++) {
			class_label(la, sizeof la, s, top[i].a);
			class_label(lb, sizeof lb, s, top[i].b);
			if ((int)(strlen(la) + 2 + strlen(lb)) > pw)
				pw = (int)(strlen(la) + 2 + strlen(lb));
		}
		fprintf(f, "\nthe most alike pairs of classes a, b: (M[a][b] + M[b][a]) / 2\n");
		fprintf(f, "rank  %-*s  %6s  %7s  %7s\n", pw, "pair", "mean", "M[a][b]", "M[b][a]");
		for (size_t i = 0; i < np; i++) {
			class_label(la, sizeof la, s, top[i].a);
			class_label(lb, sizeof lb, s, top[i].b);
			kdrep_fmt_num(num, top[i].s, 1.0, 4);
			kdrep_fmt_num(ab, kde_sim_at(s, top[i].a, top[i].b), 1.0, 4);
			kdrep_fmt_num(ba, kde_sim_at(s, top[i].b, top[i].a), 1.0, 4);
			fprintf(f, "%4zu  %s, %-*s  %6s  %7s  %7s\n", i + 1, la,
			        pw - (int)strlen(la) - 2, lb, num, ab, ba);
		}
	}
	return ferror(f) ? -1 : 0;
}

int
kdrep_sim_json(FILE *f, const kde_sim *s)
{
	size_t K = s->K, np;
	kde_pair top[KDREP_SIM_PAIRS];

	fputs("{\"model\":", f);
	kdrep_json_str(f, s->name);
	fprintf(f, ",\"classes\":%zu,\"rows\":%" PRIu64 ",\"temperature\":", K, s->rows);
	kdrep_json_num(f, s->temp);
	if (s->names) {
		fputs(",\"class_names\":[", f);
		for (size_t c = 0; c < K; c++) {
			if (c)
				fputc(',', f);
			kdrep_json_str(f, kde_sim_class_name(s, c));
		}
		fputc(']', f);
	}
	fputs(",\"class_rows\":", f);
	kdrep_json_u64s(f, s->class_rows, K);
	fputs(",\"matrix\":[", f);
	for (size_t c = 0; c < K; c++) {
		if (c)
			fputc(',', f);
		if (!s->class_rows[c]) {
			fputs("null", f);
			continue;
		}
		fputc('[', f);
		for (size_t j = 0; j < K; j++) {
			if (j)
				fputc(',', f);
			kdrep_json_num(f, kde_sim_at(s, c, j));
		}
		fputc(']', f);
	}
	fputs("],\"most_alike\":[", f);
	for (size_t c = 0; c < K; c++) {
		size_t a = kde_sim_alike(s, c);
		fprintf(f, "%s{\"class\":%zu", c ? "," : "", c);
		if (s->names) {
			fputs(",\"name\":", f);
			kdrep_json_str(f, kde_sim_class_name(s, c));
		}
		if (a < K) {
			fprintf(f, ",\"alike\":%zu", a);
			if (s->names) {
				fputs(",\"alike_name\":", f);
				kdrep_json_str(f, kde_sim_class_name(s, a));
			}
			fputs(",\"p\":", f);
			kdrep_json_num(f, kde_sim_at(s, c, a));
		} else {
			fputs(",\"alike\":null,\"p\":null", f);
		}
		fputc('}', f);
	}
	fputs("],\"pairs\":[", f);
	np = kde_sim_pairs(s, top, KDREP_SIM_PAIRS);
	for (size_t i = 0; i < np; i++) {
		fprintf(f, "%s{\"classes\":[%zu,%zu]", i ? "," : "", top[i].a, top[i].b);
		if (s->names) {
			fputs(",\"names\":[", f);
			kdrep_json_str(f, kde_sim_class_name(s, top[i].a));
			fputc(',', f);
			kdrep_json_str(f, kde_sim_class_name(s, top[i].b));
			fputc(']', f);
		}
		fputs(",\"mean\":", f);
		kdrep_json_num(f, top[i].s);
		fputs(",\"p_ab\":", f);
		kdrep_json_num(f, kde_sim_at(s, top[i].a, top[i].b));
		fputs(",\"p_ba\":", f);
		kdrep_json_num(f, kde_sim_at(s, top[i].b, top[i].a));
		fputc('}', f);
	}
	fputs("]}\n", f);
	return ferror(f) ? -1 : 0;
}

int
kdrep_sim_plot_script(FILE *f, const kde_sim *s, kd_err *e)
{
	size_t K = s->K;
	double max = 0.0;

	if (!s->rows) {
		kd_err_set(e, KD_EUSAGE, "nothing to plot: '%s' has no rows", s->name);
		return -1;
	}
	/* the colours span the off-diagonal entries: the diagonal, which
	 * holds most of each row's probability, is drawn grey apart */
	for (size_t c = 0; c < K; c++)
		for (size_t j = 0; s->class_rows[c] && j < K; j++)
			if (j != c && kde_sim_at(s, c, j) > max)
				max = kde_sim_at(s, c, j);
	if (!(max > 0.0))
		max = 1.0;
	fprintf(f, "# kd-eval --similar: the mean softened probabilities as a heat map\n"
	           "set terminal pngcairo size %d,%d noenhanced font \"sans,10\"\n"
	           "set output\n", 900, 820);
	/* the data: the matrix with 0 on the diagonal and for classes
	 * without rows (as image), the diagonal's cells, the numbers */
	fputs("$sim << EOD\n", f);
	for (size_t c = 0; c < K; c++) {
		for (size_t j = 0; j < K; j++)
			fprintf(f, "%s%.6f", j ? " " : "",
			        j != c && s->class_rows[c] ? kde_sim_at(s, c, j) : 0.0);
		fputc('\n', f);
	}
	fputs("EOD\n$diag << EOD\n", f);
	for (size_t c = 0; c < K; c++)
		fprintf(f, "%zu %zu\n", c, c);
	fputs("EOD\n$num << EOD\n", f);
	for (size_t c = 0; K <= 20 && c < K; c++)
		for (size_t j = 0; j < K; j++) {
			double v = kde_sim_at(s, c, j);
			int light = j != c && v > max / 2;
			if (isnan(v))
				fprintf(f, "%zu %zu - %d\n", j, c, 0x303030);
			else
				fprintf(f, "%zu %zu %.3f %d\n", j, c, v, light ? 0xffffff : 0x303030);
		}
	fputs("EOD\n", f);

	fputs("set title \"classes alike in \" . ", f);
	kdrep_gp_str(f, s->name);
	fprintf(f, " . \", at T = %g\\n"
	           "(the mean probability that rows of the true class give each class; "
	           "the diagonal in grey)\"\n", s->temp);
	fprintf(f, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\n", K - 1, K - 1);
	fputs("set size square\nunset key\n"
	      "set xlabel \"class\"\nset ylabel \"true class\"\n"
	      "set style fill solid 1.0 noborder\n", f);
	fprintf(f, "set cbrange [0:%.6f]\nset cblabel \"mean probability, off the diagonal\"\n", max);
	fputs("set palette defined (0 \"#ffffff\", 1 \"#08306b\")\nset colorbox\n", f);
	kdrep_gp_tics(f, "x", K, s->names);
	kdrep_gp_tics(f, "y", K, s->names);
	/* an image needs 2 x 2 points: one class is its diagonal alone */
	fputs("plot ", f);
	if (K > 1)
		fputs("$sim matrix with image, \\\n     ", f);
	fputs("$diag using 1:2:(0.5):(0.5) with boxxyerror fc rgb \"#c8c8c8\"", f);
	if (K <= 20)
		fputs(", \\\n     $num using 1:2:3:4 with labels tc rgb variable", f);
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

static int
sim_script(FILE *f, const void *arg, kd_err *e)
{
	return kdrep_sim_plot_script(f, arg, e);
}

int
kdrep_sim_plot(const char *path, const kde_sim *s, kd_err *e)
{
	return kdrep_draw(path, sim_script, s, e);
}
