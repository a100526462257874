/* report.c: kd-eval's reports of kde_result's (lib/eval.h): an aligned
 * table, JSON lines, and a picture drawn by gnuplot (see report.h). */
#include "report.h"
#include "report_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "out.h"
#include "text.h"

extern char **environ;

/* ---- the table ---- */

/* kdrep_fmt_num: v with `dec` decimals (times `scale`), or "-" when NaN */
void
kdrep_fmt_num(char *buf, double v, double scale, int dec)
{
	if (isnan(v))
		snprintf(buf, CELL, "-");
	else
		snprintf(buf, CELL, "%.*f", dec, v * scale);
}

/* kdrep_put_cell: s padded to width w, left- or right-aligned, after a gap */
void
kdrep_put_cell(FILE *f, const char *s, int w, int left, int first)
{
	if (!first)
		fputs("  ", f);
	fprintf(f, left ? "%-*s" : "%*s", w, s);
}

int
kdrep_int_width(uint64_t v)
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
	int rw = kdrep_int_width(a->rows) > 4 ? kdrep_int_width(a->rows) : 4;   /* rows */
	int ew = kdrep_int_width(a->rows) > 6 ? kdrep_int_width(a->rows) : 6;   /* errors */
	char lab[CELL + 256];

	for (size_t i = 0; i < K * K; i++)
		if (a->confusion[i] > max)
			max = a->confusion[i];
	cw = kdrep_int_width(max) > kdrep_int_width(K - 1) ? kdrep_int_width(max) : kdrep_int_width(K - 1);
	for (size_t c = 0; c < K; c++) {
		const char *nm = kde_class_name(r, c);
		int l = snprintf(lab, sizeof lab, "%zu%s%.200s", c, nm ? " " : "", nm ? nm : "");
		if (l > lw)
			lw = l;
	}
	fprintf(f, "\nconfusion matrix of '%s' (rows: true class, columns: predicted class)\n", r->name);
	kdrep_put_cell(f, "true \\ predicted", lw, 1, 1);
	for (size_t c = 0; c < K; c++) {
		snprintf(lab, sizeof lab, "%zu", c);
		kdrep_put_cell(f, lab, cw, 0, 0);
	}
	fprintf(f, "  |  %*s  %*s  %7s\n", rw, "rows", ew, "errors", "error %");
	for (size_t t = 0; t < K; t++) {
		const char *nm = kde_class_name(r, t);
		char num[CELL];
		snprintf(lab, sizeof lab, "%zu%s%.200s", t, nm ? " " : "", nm ? nm : "");
		kdrep_put_cell(f, lab, lw, 1, 1);
		for (size_t c = 0; c < K; c++) {
			snprintf(num, sizeof num, "%" PRIu64, a->confusion[t * K + c]);
			kdrep_put_cell(f, num, cw, 0, 0);
		}
		kdrep_fmt_num(num, a->class_rows[t] ? (double)a->class_errors[t] / (double)a->class_rows[t] : NAN, 100.0, 2);
		fprintf(f, "  |  %*" PRIu64 "  %*" PRIu64 "  %7s\n",
		        rw, a->class_rows[t], ew, a->class_errors[t], num);
	}
}

/* print_bins: r's calibration bins */
static void
print_bins(FILE *f, const kde_result *r)
{
	const kde_acc *a = &r->acc;
	int rw = kdrep_int_width(a->rows) > 4 ? kdrep_int_width(a->rows) : 4;

	fprintf(f, "\ncalibration of '%s' (%d bins of confidence)\n", r->name, KDE_BINS);
	fprintf(f, "%-14s  %*s  %15s  %10s\n", "confidence", rw, "rows", "mean confidence", "accuracy %");
	for (int b = 0; b < KDE_BINS; b++) {
		const kde_bin *k = &a->bins[b];
		char range[CELL], conf[CELL], acc[CELL];
		snprintf(range, sizeof range, "%c%.3f, %.3f]", b ? '(' : '[',
		         (double)b / KDE_BINS, (double)(b + 1) / KDE_BINS);
		kdrep_fmt_num(conf, k->count ? k->conf_sum / (double)k->count : NAN, 1.0, 4);
		kdrep_fmt_num(acc, k->count ? (double)k->correct / (double)k->count : NAN, 100.0, 2);
		fprintf(f, "%-14s  %*" PRIu64 "  %15s  %10s\n", range, rw, k->count, conf, acc);
	}
}

int
kdrep_table(FILE *f, const kde_result *r, size_t n, const kdrep_opts *o)
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
		kdrep_fmt_num(cell[i][3], s.accuracy, 100.0, 2);
		kdrep_fmt_num(cell[i][4], s.nll, 1.0, 4);
		kdrep_fmt_num(cell[i][5], s.brier, 1.0, 4);
		kdrep_fmt_num(cell[i][6], s.ece, 1.0, 4);
		kdrep_fmt_num(cell[i][7], s.agreement, 100.0, 2);
		kdrep_fmt_num(cell[i][8], s.kl, 1.0, 4);
		for (int c = 0; c < ncol; c++)
			if ((int)strlen(cell[i][c]) > w[c])
				w[c] = (int)strlen(cell[i][c]);
	}
	/* a long name is cut in the table, not in the JSON */
	for (int c = 0; c < ncol; c++)
		kdrep_put_cell(f, head[c], w[c], c == 0, c == 0);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < ncol; c++)
			kdrep_put_cell(f, cell[i][c], w[c], c == 0, c == 0);
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

void
kdrep_json_str(FILE *f, const char *s)
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

/* kdrep_json_num: a number, or null for NaN (JSON has no NaN) */
void
kdrep_json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.10g", v);
}

/* kdrep_json_u64s: n counts as a JSON array */
void
kdrep_json_u64s(FILE *f, const uint64_t *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%" PRIu64, i ? "," : "", v[i]);
	fputc(']', f);
}

int
kdrep_json(FILE *f, const kde_result *r, size_t n, const kdrep_opts *o)
{
	for (size_t i = 0; i < n; i++) {
		const kde_acc *a = &r[i].acc;
		size_t K = a->K;
		kde_summary s;

		kde_acc_summary(a, &s);
		fputs("{\"model\":", f);
		kdrep_json_str(f, r[i].name);
		fprintf(f, ",\"classes\":%zu,\"rows\":%" PRIu64 ",\"errors\":", K, a->rows);
		if (a->labelled)
			fprintf(f, "%" PRIu64, a->errors);
		else
			fputs("null", f);
		fputs(",\"accuracy\":", f);
		kdrep_json_num(f, s.accuracy);
		fputs(",\"nll\":", f);
		kdrep_json_num(f, s.nll);
		fputs(",\"brier\":", f);
		kdrep_json_num(f, s.brier);
		fputs(",\"ece\":", f);
		kdrep_json_num(f, s.ece);
		if (o->teacher) {
			fputs(",\"teacher\":", f);
			kdrep_json_str(f, o->teacher);
			fputs(",\"agreement\":", f);
			kdrep_json_num(f, s.agreement);
			fputs(",\"kl\":", f);
			kdrep_json_num(f, s.kl);
		}
		if (a->labelled) {
			fputs(",\"per_class_rows\":", f);
			kdrep_json_u64s(f, a->class_rows, K);
			fputs(",\"per_class_errors\":", f);
			kdrep_json_u64s(f, a->class_errors, K);
			fputs(",\"per_class_error_rate\":[", f);
			for (size_t c = 0; c < K; c++) {
				if (c)
					fputc(',', f);
				kdrep_json_num(f, a->class_rows[c] ? (double)a->class_errors[c] / (double)a->class_rows[c] : NAN);
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
					kdrep_json_str(f, kde_class_name(&r[i], c));
				}
				fputc(']', f);
			}
			if (a->confusion) {
				fputs(",\"confusion\":[", f);
				for (size_t t = 0; t < K; t++) {
					if (t)
						fputc(',', f);
					kdrep_json_u64s(f, a->confusion + t * K, K);
				}
				fputc(']', f);
			}
			if (a->labelled) {
				fputs(",\"ece_bins\":[", f);
				for (int b = 0; b < KDE_BINS; b++) {
					const kde_bin *k = &a->bins[b];
					fprintf(f, "%s{\"lo\":", b ? "," : "");
					kdrep_json_num(f, (double)b / KDE_BINS);
					fputs(",\"hi\":", f);
					kdrep_json_num(f, (double)(b + 1) / KDE_BINS);
					fprintf(f, ",\"count\":%" PRIu64 ",\"confidence\":", k->count);
					kdrep_json_num(f, k->count ? k->conf_sum / (double)k->count : NAN);
					fputs(",\"accuracy\":", f);
					kdrep_json_num(f, k->count ? (double)k->correct / (double)k->count : NAN);
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

/* kdrep_gp_str: s as a gnuplot double-quoted string (noenhanced text). Only
 * letters, digits, the space and -_.,:()/+= go in as they are; every other
 * byte is written as an octal escape \ooo, which gnuplot turns back into
 * that byte once the line is parsed, so that no quote, backslash,
 * backquote (command substitution), @ (macro), $ or # from a name is ever
 * seen by gnuplot's reader. Control characters and bytes that are not
 * UTF-8 become '?'. */
void
kdrep_gp_str(FILE *f, const char *s)
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

/* kdrep_gp_tics: the tics of K classes on axis ("x" or "y"), named when names
 * (K names back to back) is not NULL */
void
kdrep_gp_tics(FILE *f, const char *axis, size_t K, const char *names)
{
	const char *nm = names;
	int rot = axis[0] == 'x';

	if (K > 30) {
		fprintf(f, "set %stics autofreq norotate\n", axis);
		return;
	}
	fprintf(f, "set %stics (", axis);
	for (size_t c = 0; c < K; c++) {
		char num[32];
		snprintf(num, sizeof num, "%zu", c);
		if (c)
			fputs(", ", f);
		kdrep_gp_str(f, nm ? nm : num);
		fprintf(f, " %zu", c);
		if (nm)
			nm += strlen(nm) + 1;
	}
	fprintf(f, ") %s\n", rot && names ? "rotate by 35 right" : "norotate");
}

int
kdrep_plot_script(FILE *f, const kde_result *r, size_t n, kd_err *e)
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
		kdrep_gp_str(f, r[i].name);
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
		kdrep_gp_str(f, r[i].name);
		fputs(" . \": confusion matrix (colour: share of the true class)\"\n", f);
		fprintf(f, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\n", K - 1, K - 1);
		fputs("unset mxtics\nunset grid\nunset key\n"
		      "set xlabel \"predicted class\"\nset ylabel \"true class\"\n"
		      "set style fill solid 1.0 noborder\n"
		      "set cbrange [0:1]\nset palette defined (0 \"#ffffff\", 1 \"#08306b\")\n"
		      "set colorbox\n", f);
		kdrep_gp_tics(f, "x", K, r[i].names);
		kdrep_gp_tics(f, "y", K, r[i].names);
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
 * through a pipe, so that the writes are kd's own and checked (kdout_commit)
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
		fwrite(buf, 1, (size_t)r, out); /* kdout_commit checks it */
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

/* kdrep_draw: the picture of script(f, arg, e) as a PNG at path, written
 * atomically. 0, or -1 with e set. */
int
kdrep_draw(const char *path, int (*script)(FILE *, const void *, kd_err *),
           const void *arg, kd_err *e)
{
	kdout_file o;
	FILE *sf;
	int png;

	if (!path || !strcmp(path, "-")) {
		kd_err_set(e, KD_EUSAGE, "the plot needs a file name, not stdout");
		return -1;
	}
	if (!(sf = tmpfile())) {
		kd_err_set(e, KD_EIO, "cannot create a temporary file: %s", strerror(errno));
		return -1;
	}
	/* gnuplot draws into the temporary of an atomic output file, which
	 * is renamed into place only once the picture is known to be whole */
	if (kdout_open(&o, path, 1, e)) {
		fclose(sf);
		return -1;
	}
	if (script(sf, arg, e))
		goto fail;
	if (fflush(sf) || ferror(sf) || fseek(sf, 0, SEEK_SET)) {
		kd_err_set(e, KD_EIO, "cannot write the gnuplot script: %s", strerror(errno));
		goto fail;
	}
	if (run_gnuplot(fileno(sf), o.fp, path, &png, e))
		goto fail;
	if (!png) {
		kd_err_set(e, KD_EIO, "gnuplot did not draw '%s'", path);
		goto fail;
	}
	fclose(sf);
	return kdout_commit(&o, e);
fail:
	fclose(sf);
	kdout_abort(&o);
	return -1;
}

/* the results of kdrep_plot, for draw */
typedef struct results {
	const kde_result *r;
	size_t n;
} results;

static int
results_script(FILE *f, const void *arg, kd_err *e)
{
	const results *rs = arg;
	return kdrep_plot_script(f, rs->r, rs->n, e);
}

int
kdrep_plot(const char *path, const kde_result *r, size_t n, kd_err *e)
{
	results rs = { r, n };
	return kdrep_draw(path, results_script, &rs, e);
}
