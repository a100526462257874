/* kdcat.c: kd streams to and from CSV (see kdcat.h). */
#include "kdcat.h"

#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "kds.h"
#include "prob.h"
#include "text.h"

static const char *
value_prefix(int kind)
{
	return kind == KDP_LOGITS ? "z" : kind == KDP_PROBS ? "p" : kind == KDP_FEATURES ? "f" : "lp";
}

void
kdcat_import_opts_init(kdcat_import_opts *o)
{
	memset(o, 0, sizeof *o);
	o->kind = -1;
	o->temp = 1.0;
	o->temp_given = 0;
}

static int
out_err(kd_err *e)
{
	if (errno == EPIPE)
		kd_err_set(e, KD_EPIPE, "broken pipe");
	else
		kd_err_set(e, KD_EIO, "write error on stdout: %s", strerror(errno));
	return -1;
}

/* put_meta: the line before the column names that keeps what a CSV row
 * cannot say (see kdcat.h); class names in double quotes, "" for " */
static void
put_meta(const kds_header *h, FILE *out)
{
	fprintf(out, "%s,kind=%s,temperature=%.17g", KDCAT_META, kdp_kind_name(h->kind), h->temp);
	if (h->model_fp)
		fprintf(out, ",model=%016llx", (unsigned long long)h->model_fp);
	if (h->names_len) {
		fputs(",names", out);
		for (uint32_t k = 0; k < h->k; k++) {
			fputs(",\"", out);
			for (const char *c = kds_class_name(h, k); *c; c++) {
				if (*c == '"')
					fputc('"', out);
				fputc(*c, out);
			}
			fputc('"', out);
		}
	}
	fputc('\n', out);
}

int
kdcat_export(const char *path, int with_inputs, FILE *out, kd_err *e)
{
	kds_reader *r = kds_open(path, e);
	const kds_header *h;
	kds_record rec;
	int got;

	if (!r)
		return -1;
	h = kds_header_of(r);
	put_meta(h, out);
	fputs("id,label", out);
	for (uint32_t k = 0; k < h->k; k++)
		fprintf(out, ",%s%lu", value_prefix(h->kind), (unsigned long)k);
	if (with_inputs)
		for (uint32_t j = 0; j < h->dim; j++)
			fprintf(out, ",x%lu", (unsigned long)j);
	fputc('\n', out);
	while ((got = kds_read(r, &rec, e)) == 1) {
		fprintf(out, "%llu,", (unsigned long long)rec.id);
		if (rec.label >= 0)
			fprintf(out, "%ld", (long)rec.label);
		for (uint32_t k = 0; k < h->k; k++)
			fprintf(out, ",%.9g", (double)rec.values[k]);
		if (with_inputs)
			for (uint32_t j = 0; j < h->dim; j++)
				fprintf(out, ",%.9g", (double)rec.inputs[j]);
		if (fputc('\n', out) == EOF) {
			kds_close(r);
			return out_err(e);
		}
	}
	kds_close(r);
	return got < 0 ? -1 : 0;
}

/* put_class: class k as a person reads it: its name (CSV-quoted when it
 * holds a comma, a quote or leading/trailing space) or its number */
static void
put_class(const kds_header *h, long k, FILE *out)
{
	const char *name = h->names_len ? kds_class_name(h, (uint32_t)k) : NULL;
	size_t n;

	if (!name) {
		fprintf(out, "%ld", k);
		return;
	}
	n = strlen(name);
	if (!strpbrk(name, ",\"") && n && name[0] != ' ' && name[n - 1] != ' ') {
		fputs(name, out);
		return;
	}
	fputc('"', out);
	for (const char *c = name; *c; c++) {
		if (*c == '"')
			fputc('"', out);
		fputc(*c, out);
	}
	fputc('"', out);
}

/* top_k: the indices of the k largest of p[0..K-1] into idx, largest
 * first (ties: the lower index first) */
static void
top_k(const float *p, size_t K, size_t k, size_t *idx)
{
	for (size_t j = 0; j < k; j++) {
		size_t best = SIZE_MAX;
		for (size_t c = 0; c < K; c++) {
			int taken = 0;
			for (size_t i = 0; i < j && !taken; i++)
				taken = idx[i] == c;
			if (!taken && (best == SIZE_MAX || p[c] > p[best]))
				best = c;
		}
		idx[j] = best;
	}
}

int
kdcat_top(const char *path, size_t top, FILE *out, kd_err *e)
{
	kds_reader *r = kds_open(path, e);
	const kds_header *h;
	kds_record rec;
	float *p = NULL;
	size_t *idx = NULL;
	int got, rc = -1;

	if (!r)
		return -1;
	if (kds_scores_only(r, e))
		goto done;
	h = kds_header_of(r);
	if (top < 1 || top > h->k) {
		kd_err_set(e, KD_EUSAGE, "'%s': the top %zu of %lu classes", kds_name(r), top,
		           (unsigned long)h->k);
		goto done;
	}
	p = malloc(h->k * sizeof *p);
	idx = malloc(top * sizeof *idx);
	if (!p || !idx) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		goto done;
	}
	fputs("id,label", out);
	for (size_t j = 1; j <= top; j++)
		fprintf(out, ",class%zu,p%zu", j, j);
	fputc('\n', out);
	while ((got = kds_read(r, &rec, e)) == 1) {
		/* the model's own distribution: softened at 1/t, t undone */
		kdp_soften(h->kind, rec.values, h->k, 1.0 / h->temp, 0, p);
		top_k(p, h->k, top, idx);
		fprintf(out, "%llu,", (unsigned long long)rec.id);
		if (rec.label >= 0)
			put_class(h, (long)rec.label, out);
		for (size_t j = 0; j < top; j++) {
			fputc(',', out);
			put_class(h, (long)idx[j], out);
			fprintf(out, ",%.4f", (double)p[idx[j]]);
		}
		if (fputc('\n', out) == EOF) {
			out_err(e);
			goto done;
		}
	}
	rc = got < 0 ? -1 : 0;
done:
	kds_close(r);
	free(p);
	free(idx);
	return rc;
}

int
kdcat_info(const char *path, FILE *out, kd_err *e)
{
	kds_reader *r = kds_open(path, e);
	const kds_header *h;
	kds_record rec;
	int got;

	if (!r)
		return -1;
	h = kds_header_of(r);
	while ((got = kds_read(r, &rec, e)) == 1)
		;
	if (got < 0) {
		kds_close(r);
		return -1;
	}
	fprintf(out, "stream: %s\nformat version: %d\nkind: %s\ntemperature: %g\n%s: %lu\nlabels: %s\n",
	        kds_name(r), kds_version(r), kdp_kind_name(h->kind), h->temp,
	        h->kind == KDP_FEATURES ? "units" : "classes", (unsigned long)h->k,
	        h->has_label ? "yes" : "no");
	if (h->input_type == KDS_IN_NONE)
		fprintf(out, "inputs: none\n");
	else
		fprintf(out, "inputs: %lu %s%s\n", (unsigned long)h->dim,
		        h->input_type == KDS_IN_U8 ? "bytes/255" : "float32",
		        h->width ? " (images)" : "");
	if (h->width)
		fprintf(out, "image shape: %lux%lu\n", (unsigned long)h->width,
		        (unsigned long)h->height);
	if (h->names_len) {
		fputs("class names:", out);
		for (uint32_t k = 0; k < h->k; k++)
			fprintf(out, "%s %s", k ? "," : "", kds_class_name(h, k));
		fputc('\n', out);
	}
	fprintf(out, "records: %llu\n", (unsigned long long)kds_count(r));
	if (h->rows)
		fprintf(out, "rows of the data set: %llu\n", (unsigned long long)h->rows);
	if (h->model_fp)
		fprintf(out, "model fingerprint: %016llx\n", (unsigned long long)h->model_fp);
	if (h->data_fp)
		fprintf(out, "data fingerprint: %016llx\n", (unsigned long long)h->data_fp);
	kds_close(r);
	return 0;
}

/* ---- import ---- */

/* the role of each CSV column */
enum { COL_VALUE, COL_LABEL, COL_ID, COL_INPUT };

typedef struct importer {
	const char *path;
	kdd_csv_reader *csv;
	unsigned char *role;   /* per column */
	size_t ncols;
	kds_header h;
	kds_writer *w;
	float *values, *inputs;
	int meta_kind;         /* the kind the kd-cat line names, or -1 */
	size_t meta_names;     /* class names it gives, 0: none */
} importer;

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return (*end || errno) ? -1 : 0;
}

/* parse_meta: kd-cat's line before the column names (KDCAT_META, then
 * kind=, temperature=, model=, and names followed by the class names) */
static int
parse_meta(importer *im, char **f, size_t nf, const kdcat_import_opts *o, kd_err *e)
{
	size_t line = kdd_csv_line(im->csv), j, len = 0;
	const char *bad;
	char *end;

	for (j = 1; j < nf && strcmp(f[j], "names"); j++) {
		const char *v = strchr(f[j], '=');
		int ok = 0;
		if (v && !strncmp(f[j], "kind=", 5))
			ok = (im->meta_kind = kdp_kind_parse(v + 1)) >= 0;
		else if (v && !strncmp(f[j], "temperature=", 12)) {
			errno = 0;
			im->h.temp = strtod(v + 1, &end);
			ok = end != v + 1 && !*end && !errno && im->h.temp > 0 && im->h.temp <= KDS_MAX_TEMP;
		} else if (v && !strncmp(f[j], "model=", 6)) {
			errno = 0;
			im->h.model_fp = strtoull(v + 1, &end, 16);
			ok = end != v + 1 && !*end && !errno && v[1] != '-' && v[1] != '+';
		}
		if (!ok) {
			kd_err_set(e, KD_EFORMAT, "'%s':%zu:%zu: '%s' is none of kd-cat's first line's fields "
			           "(kind=logits|probs|logprobs, temperature=T above 0, model=HEX, names)",
			           im->path, line, j + 1, f[j]);
			return -1;
		}
	}
	if (o->kind >= 0 && im->meta_kind >= 0 && o->kind != im->meta_kind) {
		kd_err_set(e, KD_EMISMATCH, "'%s':%zu: the kind given is %s, but the file holds %s",
		           im->path, line, kdp_kind_name(o->kind), kdp_kind_name(im->meta_kind));
		return -1;
	}
	if (o->temp_given && o->temp != im->h.temp) {
		kd_err_set(e, KD_EMISMATCH, "'%s':%zu: -T %g, but the file is at temperature %g",
		           im->path, line, o->temp, im->h.temp);
		return -1;
	}
	if (j == nf)
		return 0;
	for (size_t i = j + 1; i < nf; i++)
		len += strlen(f[i]) + 1;
	if (len > KDS_MAX_NAMES || !(im->h.names = malloc(len ? len : 1))) {
		kd_err_set(e, len > KDS_MAX_NAMES ? KD_EFORMAT : KD_ENOMEM, "'%s':%zu: %s", im->path, line,
		           len > KDS_MAX_NAMES ? "class names too long" : "out of memory");
		return -1;
	}
	for (size_t i = j + 1, at = 0; i < nf; i++) {
		memcpy(im->h.names + at, f[i], strlen(f[i]) + 1);
		at += strlen(f[i]) + 1;
	}
	im->h.names_len = (uint32_t)len;
	im->meta_names = nf - j - 1;
	if ((bad = kdx_names_bad(im->h.names, len))) {
		kd_err_set(e, KD_EFORMAT, "'%s':%zu: class names hold %s", im->path, line, bad);
		return -1;
	}
	return 0;
}

/* setup_kdcat_header: columns named by kd-cat's own header */
static int
setup_kdcat_header(importer *im, char **f, size_t nf, int kind, kd_err *e)
{
	int hkind = -1;
	for (size_t j = 0; j < nf; j++) {
		const char *s = f[j];
		int kk = -1;
		if (j == 0) { im->role[j] = COL_ID; continue; }
		if (j == 1) { im->role[j] = COL_LABEL; continue; }
		if (s[0] == 'x') {
			im->role[j] = COL_INPUT;
			im->h.dim++;
			continue;
		}
		if (!strncmp(s, "lp", 2)) kk = KDP_LOGPROBS;
		else if (s[0] == 'p') kk = KDP_PROBS;
		else if (s[0] == 'z') kk = KDP_LOGITS;
		else if (s[0] == 'f') kk = KDP_FEATURES;
		if (kk < 0 || (hkind >= 0 && kk != hkind) || im->h.dim) {
			kd_err_set(e, KD_EFORMAT, "'%s':%zu:%zu: unexpected column '%s' in a kd-cat header",
			           im->path, kdd_csv_line(im->csv), j + 1, s);
			return -1;
		}
		hkind = kk;
		im->role[j] = COL_VALUE;
		im->h.k++;
	}
	if (kind >= 0 && hkind >= 0 && kind != hkind) {
		kd_err_set(e, KD_EMISMATCH, "'%s': the kind given is %s, but the header names %s columns",
		           im->path, kdp_kind_name(kind), kdp_kind_name(hkind));
		return -1;
	}
	im->h.kind = hkind >= 0 ? hkind : KDP_LOGITS;
	if (im->h.dim)
		im->h.input_type = KDS_IN_F32;
	return 0;
}

static int
import_row(importer *im, char **f, size_t nf, kd_err *e)
{
	size_t line = kdd_csv_line(im->csv), k = 0, d = 0, bad;
	kds_record rec = { 0, -1, im->values, im->inputs };

	if (nf != im->ncols) {
		kd_err_set(e, KD_EFORMAT, "'%s':%zu: expected %zu fields, found %zu",
		           im->path, line, im->ncols, nf);
		return -1;
	}
	rec.id = kds_writer_count(im->w);
	for (size_t j = 0; j < nf; j++) {
		float v;
		switch (im->role[j]) {
		case COL_ID:
			if (parse_u64(f[j], &rec.id)) {
				kd_err_set(e, KD_EFORMAT, "'%s':%zu:%zu: row id '%s' is not a whole number",
				           im->path, line, j + 1, f[j]);
				return -1;
			}
			break;
		case COL_LABEL:
			if (!f[j][0] && !im->h.has_label)
				break; /* unlabelled kd-cat output */
			if (!im->h.has_label || kdd_parse_float(f[j], &v) || v != floorf(v) ||
			    v < 0 || v >= (float)im->h.k) {
				kd_err_set(e, KD_EFORMAT, "'%s':%zu:%zu: label '%s' is not a class from 0 to %lu",
				           im->path, line, j + 1, f[j], (unsigned long)im->h.k - 1);
				return -1;
			}
			rec.label = (int32_t)v;
			break;
		default:
			if (kdd_parse_float(f[j], &v) &&
			    !(im->h.kind == KDP_LOGPROBS && !strcmp(f[j], "-inf"))) {
				kd_err_set(e, KD_EFORMAT, "'%s':%zu:%zu: '%s' is not a finite number",
				           im->path, line, j + 1, f[j]);
				return -1;
			}
			if (kdd_parse_float(f[j], &v))
				v = -INFINITY;
			if (im->role[j] == COL_VALUE)
				im->values[k++] = v;
			else
				im->inputs[d++] = v;
		}
	}
	if (kdp_check(im->h.kind, im->values, im->h.k, &bad)) {
		if (bad < im->h.k)
			kd_err_set(e, KD_EFORMAT, "'%s':%zu: value %zu (%g) is not valid %s",
			           im->path, line, bad + 1, (double)im->values[bad],
			           kdp_kind_name(im->h.kind));
		else
			kd_err_set(e, KD_EFORMAT, "'%s':%zu: %s do not sum to 1", im->path, line,
			           im->h.kind == KDP_PROBS ? "probabilities" : "exp(log-probabilities)");
		return -1;
	}
	return kds_write(im->w, &rec, e);
}

int
kdcat_import(const char *path, const kdcat_import_opts *o, FILE *out,
             const char *out_name, kd_err *e)
{
	importer im;
	char **f;
	size_t nf;
	int got, rc = -1, kdcat_format = 0, first = 1, meta = 0;

	memset(&im, 0, sizeof im);
	if (!(im.csv = kdd_csv_open(path ? path : "-", e)))
		return -1;
	im.path = kdd_csv_name(im.csv);
	kds_header_init(&im.h, 0, KDP_LOGITS);
	im.h.temp = o->temp;
	im.meta_kind = -1;
	while ((got = kdd_csv_next(im.csv, &f, &nf, e)) == 1) {
		if (first && !meta && !strcmp(f[0], KDCAT_META)) {
			if (parse_meta(&im, f, nf, o, e))
				goto done;
			meta = 1;
			continue;
		}
		if (first && meta && !(nf >= 2 && !strcmp(f[0], "id") && !strcmp(f[1], "label"))) {
			kd_err_set(e, KD_EFORMAT, "'%s':%zu: after kd-cat's first line, its column names "
			           "('id,label,...') are expected", im.path, kdd_csv_line(im.csv));
			goto done;
		}
		if (first) {
			im.ncols = nf;
			if (!(im.role = calloc(nf, 1)))
				goto nomem;
			if (nf >= 2 && !strcmp(f[0], "id") && !strcmp(f[1], "label")) {
				kdcat_format = 1;
				if (setup_kdcat_header(&im, f, nf, im.meta_kind >= 0 ? im.meta_kind : o->kind, e))
					goto done;
				if (im.meta_names && im.meta_names != im.h.k) {
					kd_err_set(e, KD_EFORMAT, "'%s': the first line names %zu classes, the columns hold %lu",
					           im.path, im.meta_names, (unsigned long)im.h.k);
					goto done;
				}
				first = 0;
				continue;
			}
			if (o->label_col > nf || o->id_col > nf) {
				kd_err_set(e, KD_EUSAGE, "'%s':%zu: column %zu asked for, the row has %zu",
				           im.path, kdd_csv_line(im.csv),
				           o->label_col > nf ? o->label_col : o->id_col, nf);
				goto done;
			}
			if (o->label_col && o->label_col == o->id_col) {
				kd_err_set(e, KD_EUSAGE, "the label and id columns are the same");
				goto done;
			}
			for (size_t j = 0; j < nf; j++) {
				im.role[j] = (j + 1 == o->label_col) ? COL_LABEL :
				             (j + 1 == o->id_col) ? COL_ID : COL_VALUE;
				im.h.k += im.role[j] == COL_VALUE;
			}
			im.h.kind = o->kind >= 0 ? o->kind : KDP_LOGITS;
			im.h.has_label = o->label_col > 0;
			first = 0;
			if (o->skip_header)
				continue;
		}
		if (!im.w) {
			if (im.h.k == 0) {
				kd_err_set(e, KD_EFORMAT, "'%s': no value columns", im.path);
				goto done;
			}
			if (kdcat_format) {
				/* a kd-cat file is labelled when its first row is */
				im.h.has_label = f[1][0] != '\0';
			}
			im.values = malloc(4 * (size_t)im.h.k);
			im.inputs = malloc(4 * (size_t)im.h.dim + 4);
			if (!im.values || !im.inputs)
				goto nomem;
			if (!(im.w = kds_create(out, out_name, &im.h, e)))
				goto done;
		}
		if (import_row(&im, f, nf, e))
			goto done;
	}
	if (got < 0)
		goto done;
	if (!im.w) {
		kd_err_set(e, KD_EFORMAT, "'%s': no data rows", im.path);
		goto done;
	}
	rc = kds_finish(im.w, e);
	goto done;
nomem:
	kd_err_set(e, KD_ENOMEM, "out of memory");
done:
	kdd_csv_close(im.csv);
	kds_writer_free(im.w);
	free(im.h.names);
	free(im.role);
	free(im.values);
	free(im.inputs);
	return rc;
}
