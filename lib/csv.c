/* csv.c: the CSV reader and loader of data.h (kdd_csv_*, kdd_parse_float),
 * on libcsv, fed a line at a time so that every message can name its line. */
#include "data.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gzin.h"

/* ---- numbers ---------------------------------------------------------- */

/* decimal_syntax: s is [+-](digits[.[digits]] | .digits)[(e|E)[+-]digits]. */
static int
decimal_syntax(const char *s)
{
	size_t digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	while (*s >= '0' && *s <= '9')
		s++, digits++;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9')
			s++, digits++;
	}
	if (!digits)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* spells_nonfinite: s is nan, inf or infinity (any case, optional sign,
 * "nan(...)" too), as strtod would accept it. */
static int
spells_nonfinite(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return !strncasecmp(s, "nan", 3) || !strcasecmp(s, "inf") ||
	       !strcasecmp(s, "infinity");
}

int
kdd_parse_float(const char *s, float *out)
{
	float v;

	if (!decimal_syntax(s))
		return spells_nonfinite(s) ? KDD_NUM_NONFINITE : KDD_NUM_BAD;
	errno = 0;
	v = strtof(s, NULL);
	/* overflow gives HUGE_VALF; underflow (ERANGE with a tiny v) is fine */
	if (!isfinite(v))
		return KDD_NUM_RANGE;
	*out = v;
	return KDD_NUM_OK;
}

/* ---- the CSV row reader ----------------------------------------------- */

/* libcsv's parser state between rows (ROW_NOT_BEGUN in libcsv.c): the
 * reader compares csv_parser.pstate with it to see on which line a row
 * starts. */
#define CSV_STATE_BETWEEN_ROWS 0

enum { CB_OK, CB_NOMEM, CB_TOOMANY, CB_NUL }; /* problems met in callbacks */

struct kdd_csv_reader {
	gzFile gz;             /* the input, gzip or plain */
	char *path;            /* as given, for messages through kdz_name() */
	struct csv_parser p;   /* libcsv state, fed one line at a time */
	unsigned char *buf;    /* KDZ_CHUNK bytes read from gz */
	size_t pos, len;       /* buf[pos..len) is not parsed yet */
	int started;           /* the first chunk has been read */
	int at_end;            /* input exhausted and csv_fini called */
	int cr_pending;        /* the last byte parsed was CR: the next byte
	                          tells whether it ended a line (CRLF is one) */
	size_t line;           /* line of the next byte to parse, from 1 */
	/* the row being assembled */
	char *text;            /* its fields back to back, each NUL-terminated */
	size_t text_len, text_cap;
	size_t *off;           /* off[i]: start of field i in text */
	size_t nf, off_cap;    /* fields so far, room in off */
	char **fields;         /* pointers handed to the caller */
	size_t fields_cap;
	size_t row_line;       /* line on which the row being built starts */
	size_t done_line;      /* line of the row last returned */
	int row_ready;         /* libcsv ended the row */
	int cb_err;            /* CB_*: a problem met in a callback */
	size_t cb_col;         /* the field it concerns, from 1 */
	int failed;            /* an error was returned: keep returning it */
	kd_err err;            /* that error */
};

static void
cb_field(void *s, size_t len, void *data)
{
	kdd_csv_reader *r = data;

	if (r->cb_err)
		return;
	if (r->nf == KDD_MAX_FIELDS) {
		r->cb_err = CB_TOOMANY;
		r->cb_col = r->nf + 1;
		return;
	}
	if (len && memchr(s, '\0', len)) {
		r->cb_err = CB_NUL;
		r->cb_col = r->nf + 1;
		return;
	}
	if (r->nf == r->off_cap) {
		size_t cap = r->off_cap ? 2 * r->off_cap : 64;
		size_t *o = realloc(r->off, cap * sizeof *o);
		if (!o) {
			r->cb_err = CB_NOMEM;
			return;
		}
		r->off = o;
		r->off_cap = cap;
	}
	if (len + 1 > r->text_cap - r->text_len) {
		size_t cap = r->text_cap ? r->text_cap : 1024;
		char *t;
		while (len + 1 > cap - r->text_len) {
			if (cap > SIZE_MAX / 2) {
				r->cb_err = CB_NOMEM;
				return;
			}
			cap *= 2;
		}
		t = realloc(r->text, cap);
		if (!t) {
			r->cb_err = CB_NOMEM;
			return;
		}
		r->text = t;
		r->text_cap = cap;
	}
	if (len)
		memcpy(r->text + r->text_len, s, len);
	r->text[r->text_len + len] = '\0';
	r->off[r->nf++] = r->text_len;
	r->text_len += len + 1;
}

static void
cb_row(int c, void *data)
{
	kdd_csv_reader *r = data;

	(void)c;
	r->row_ready = 1;
}

kdd_csv_reader *
kdd_csv_open(const char *path, kd_err *e)
{
	kdd_csv_reader *r = calloc(1, sizeof *r);

	if (!r || !(r->buf = malloc(KDZ_CHUNK)) || !(r->path = strdup(path))) {
		if (r)
			free(r->buf);
		free(r);
		kd_err_set(e, KD_ENOMEM, "cannot open '%s': out of memory",
		           kdz_name(path));
		return NULL;
	}
	/* strict: a stray quote is an error, not silently part of a field */
	if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)) {
		kd_err_set(e, KD_ENOMEM, "cannot open '%s': out of memory",
		           kdz_name(path));
		free(r->path);
		free(r->buf);
		free(r);
		return NULL;
	}
	/* libcsv grows a field's buffer by blk_size at a time: keep it big */
	csv_set_blk_size(&r->p, 4096);
	r->gz = kdz_open(path, NULL, e);
	if (!r->gz) {
		csv_free(&r->p);
		free(r->path);
		free(r->buf);
		free(r);
		return NULL;
	}
	r->line = 1;
	return r;
}

/* reader_fail: remember an error, copy it to e, return -1. */
static int
reader_fail(kdd_csv_reader *r, kd_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
reader_fail(kdd_csv_reader *r, kd_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err.msg, sizeof r->err.msg, fmt, ap);
	va_end(ap);
	r->err.code = code;
	r->failed = 1;
	if (e)
		*e = r->err;
	return -1;
}

/* callback_fail: turn r->cb_err into an error on the row being built. */
static int
callback_fail(kdd_csv_reader *r, kd_err *e)
{
	const char *name = kdz_name(r->path);

	switch (r->cb_err) {
	case CB_TOOMANY:
		return reader_fail(r, e, KD_ERANGE, "'%s':%zu:%zu: more than %zu fields",
		                   name, r->row_line, r->cb_col, KDD_MAX_FIELDS);
	case CB_NUL:
		return reader_fail(r, e, KD_EFORMAT, "'%s':%zu:%zu: NUL byte in field",
		                   name, r->row_line, r->cb_col);
	default:
		return reader_fail(r, e, KD_ENOMEM, "'%s':%zu: out of memory",
		                   name, r->row_line);
	}
}

/* parse_fail: libcsv stopped; say why, at line `line`. */
static int
parse_fail(kdd_csv_reader *r, kd_err *e, size_t line, const char *what)
{
	int st = csv_error(&r->p);
	const char *name = kdz_name(r->path);

	if (st == CSV_EPARSE)
		return reader_fail(r, e, KD_EFORMAT, "'%s':%zu:%zu: %s", name,
		                   line, r->nf + 1, what);
	return reader_fail(r, e, KD_ENOMEM, "'%s':%zu: %s", name, line,
	                   csv_strerror(st));
}

/* deliver: hand the finished row to the caller. */
static int
deliver(kdd_csv_reader *r, char ***fields, size_t *nfields)
{
	if (r->nf > r->fields_cap) {
		size_t cap = r->fields_cap ? r->fields_cap : 64;
		char **f;
		while (cap < r->nf)
			cap *= 2;
		f = realloc(r->fields, cap * sizeof *f);
		if (!f) {
			r->cb_err = CB_NOMEM;
			return 0;
		}
		r->fields = f;
		r->fields_cap = cap;
	}
	for (size_t i = 0; i < r->nf; i++)
		r->fields[i] = r->text + r->off[i];
	*fields = r->fields;
	*nfields = r->nf;
	r->done_line = r->row_line;
	return 1;
}

int
kdd_csv_next(kdd_csv_reader *r, char ***fields, size_t *nfields, kd_err *e)
{
	if (r->failed) {
		if (e)
			*e = r->err;
		return -1;
	}
	if (r->row_ready) {
		r->row_ready = 0;
		r->nf = 0;
		r->text_len = 0;
	}
	for (;;) {
		unsigned char *b;
		size_t avail, j, seg, seg_line;
		int before;

		if (r->pos == r->len) {
			long long got;

			if (r->at_end)
				return 0;
			got = kdz_read(r->gz, r->buf, KDZ_CHUNK, r->path, &r->err);
			if (got < 0 && r->err.code == KD_EFORMAT) /* cut short */
				kd_err_set(&r->err, KD_EFORMAT, "'%s': truncated in line %zu (the gzip "
				           "data ends early)", kdz_name(r->path), r->line);
			if (got < 0) {
				r->failed = 1;
				if (e)
					*e = r->err;
				return -1;
			}
			if (got == 0) {
				/* end of input: a last row without a line end */
				r->at_end = 1;
				if (csv_fini(&r->p, cb_field, cb_row, r) != 0)
					return parse_fail(r, e, r->row_line,
					                  "unterminated quoted field");
				if (r->cb_err)
					return callback_fail(r, e);
				if (r->row_ready)
					return deliver(r, fields, nfields) ? 1 :
					       callback_fail(r, e);
				return 0;
			}
			r->pos = 0;
			r->len = (size_t)got;
			/* a UTF-8 byte order mark (spreadsheet exports) is not data */
			if (!r->started && got >= 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3))
				r->pos = 3;
			if (!r->started && got >= 4 && kdz_binary_kind(r->buf)) {
				kd_err_set(&r->err, KD_EFORMAT, "'%s' is %s, not CSV text",
				           kdz_name(r->path), kdz_binary_kind(r->buf));
				r->failed = 1;
				if (e)
					*e = r->err;
				return -1;
			}
			r->started = 1;
			if (r->pos == r->len)
				continue;
		}
		/* feed libcsv one line (up to and including CR or LF) at a time:
		 * each call then ends at most one row, and r->line is the line of
		 * every byte libcsv sees during the call */
		b = r->buf + r->pos;
		avail = r->len - r->pos;
		if (r->cr_pending) {
			r->cr_pending = 0;
			if (b[0] != '\n')
				r->line++;
		}
		for (j = 0; j < avail && b[j] != '\n' && b[j] != '\r'; j++)
			;
		seg = j < avail ? j + 1 : avail;
		seg_line = r->line;
		before = r->p.pstate;
		if (csv_parse(&r->p, b, seg, cb_field, cb_row, r) != seg)
			return parse_fail(r, e, seg_line, "malformed quoting");
		r->pos += seg;
		if (j < avail) {
			if (b[j] == '\n')
				r->line++;
			else
				r->cr_pending = 1;
		}
		/* a row starts on the line where libcsv leaves the between-rows
		 * state (blank lines and leading spaces keep it there) */
		if (before == CSV_STATE_BETWEEN_ROWS &&
		    (r->p.pstate != CSV_STATE_BETWEEN_ROWS || r->row_ready))
			r->row_line = seg_line;
		if (r->cb_err)
			return callback_fail(r, e);
		if (r->row_ready)
			return deliver(r, fields, nfields) ? 1 : callback_fail(r, e);
	}
}

size_t
kdd_csv_line(const kdd_csv_reader *r)
{
	return r->done_line;
}

const char *
kdd_csv_name(const kdd_csv_reader *r)
{
	return kdz_name(r->path);
}

void
kdd_csv_close(kdd_csv_reader *r)
{
	if (!r)
		return;
	gzclose(r->gz);
	csv_free(&r->p);
	free(r->text);
	free(r->off);
	free(r->fields);
	free(r->buf);
	free(r->path);
	free(r);
}

/* ---- loading CSV ------------------------------------------------------ */

/* label_value: parse label s (below max_k) into *out, or put the reason in
 * why and return -1. */
static int
label_value(const char *s, size_t max_k, int32_t *out, char *why, size_t nwhy)
{
	double v;

	if (!*s) {
		snprintf(why, nwhy, "empty label");
		return -1;
	}
	if (!decimal_syntax(s)) {
		snprintf(why, nwhy, "label '%.40s' is not a number", s);
		return -1;
	}
	v = strtod(s, NULL);
	if (v < 0) {
		snprintf(why, nwhy, "label '%.40s' is negative", s);
		return -1;
	}
	if (v >= (double)max_k) {
		snprintf(why, nwhy, "label '%.40s' is out of range (at most %zu)",
		         s, max_k - 1);
		return -1;
	}
	if (v != floor(v)) {
		snprintf(why, nwhy, "label '%.40s' is not an integer", s);
		return -1;
	}
	*out = (int32_t)v;
	return 0;
}

/* feature_value: parse feature s into *out, or put the reason in why. */
static int
feature_value(const char *s, float *out, char *why, size_t nwhy)
{
	switch (kdd_parse_float(s, out)) {
	case KDD_NUM_OK:
		return 0;
	case KDD_NUM_NONFINITE:
		snprintf(why, nwhy, "'%.40s' is not a finite number", s);
		return -1;
	case KDD_NUM_RANGE:
		snprintf(why, nwhy, "'%.40s' is out of float range", s);
		return -1;
	default:
		if (!*s)
			snprintf(why, nwhy, "empty field");
		else
			snprintf(why, nwhy, "'%.40s' is not a number", s);
		return -1;
	}
}

int
kdd_csv_load(const char *path, const kdd_csv_opts *o, kdd_set *out, kd_err *e)
{
	static const kdd_csv_opts defaults;
	kdd_csv_reader *r;
	size_t max_k, nf0 = 0, line0 = 0, lab = SIZE_MAX, d = 0, n = 0, cap = 0, kline = 0;
	size_t *lines = NULL;
	float *x = NULL;
	int32_t *y = NULL, maxy = -1;
	char **f, why[128];
	size_t nf;
	int rc, first = 1, unl = 0;
	const char *name;

	memset(out, 0, sizeof *out);
	if (!o)
		o = &defaults;
	max_k = o->max_k ? o->max_k : KDD_MAX_K;
	if (max_k > (size_t)INT32_MAX + 1) /* labels are int32_t */
		max_k = (size_t)INT32_MAX + 1;
	r = kdd_csv_open(path, e);
	if (!r)
		return -1;
	name = kdd_csv_name(r);
	while ((rc = kdd_csv_next(r, &f, &nf, e)) == 1) {
		size_t line = kdd_csv_line(r), jx = 0;

		if (first) {
			first = 0;
			nf0 = nf;
			line0 = line;
			unl = o->unlabelled ||
			      (o->features && !o->label_col && nf == o->features);
			if (!unl) {
				if (o->label_col > nf) {
					kd_err_set(e, KD_EFORMAT, "'%s':%zu:%zu: no label "
					           "column %zu in a row of %zu fields", name,
					           line, nf, o->label_col, nf);
					goto fail;
				}
				if (nf < 2) {
					kd_err_set(e, KD_EFORMAT, "'%s':%zu:1: no feature "
					           "columns besides the label", name, line);
					goto fail;
				}
				lab = o->label_col ? o->label_col - 1 : nf - 1;
			}
			d = unl ? nf : nf - 1;
			if (o->header)
				continue;
		} else if (nf != nf0) {
			kd_err_set(e, KD_EFORMAT, "'%s':%zu:%zu: expected %zu fields "
			           "as on line %zu, found %zu", name, line,
			           (nf < nf0 ? nf : nf0) + 1, nf0, line0, nf);
			goto fail;
		}
		if (n == cap) {
			/* start near 64K values, then double */
			size_t ncap = cap ? 2 * cap : (d < 65536 ? 65536 / d : 1);
			float *nx;
			if (ncap > SIZE_MAX / sizeof(float) / d)
				goto nomem;
			nx = realloc(x, ncap * d * sizeof *x);
			if (!nx)
				goto nomem;
			x = nx;
			{
				size_t *nl = realloc(lines, ncap * sizeof *lines);
				if (!nl)
					goto nomem;
				lines = nl;
			}
			if (lab != SIZE_MAX) {
				int32_t *ny = realloc(y, ncap * sizeof *y);
				if (!ny)
					goto nomem;
				y = ny;
			}
			cap = ncap;
		}
		for (size_t j = 0; j < nf; j++) {
			int bad;
			if (j == lab) {
				bad = label_value(f[j], max_k, &y[n], why, sizeof why);
				if (!bad && y[n] > maxy) {
					maxy = y[n];
					kline = line;
				}
			} else {
				bad = feature_value(f[j], &x[n * d + jx++], why, sizeof why);
			}
			if (bad) {
				kd_err_set(e, KD_EFORMAT, "'%s':%zu:%zu: %s", name, line,
				           j + 1, why);
				goto fail;
			}
		}
		lines[n++] = line;
	}
	if (rc < 0)
		goto fail;
	if (n == 0) {
		kd_err_set(e, KD_EFORMAT, "'%s': no data rows", name);
		goto fail;
	}
	kdd_csv_close(r);
	r = NULL;
	/* give back the slack of the last doubling */
	if (n < cap) {
		float *nx = realloc(x, n * d * sizeof *x);
		if (nx)
			x = nx;
		if (y) {
			int32_t *ny = realloc(y, n * sizeof *y);
			if (ny)
				y = ny;
		}
	}
	out->id = malloc(n * sizeof *out->id);
	if (!out->id)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		out->id[i] = i;
	out->n = n;
	out->d = d;
	out->x = x;
	out->y = y;
	out->k = y ? (size_t)maxy + 1 : 0;
	out->kline = y ? kline : 0;
	out->line = lines;
	return 0;
nomem:
	kd_err_set(e, KD_ENOMEM, "'%s': out of memory", kdz_name(path));
fail:
	kdd_csv_close(r);
	free(x);
	free(y);
	free(lines);
	memset(out, 0, sizeof *out);
	return -1;
}

