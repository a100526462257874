/* data.c: loading data sets from CSV and IDX files (see data.h).
 *
 * All input goes through zlib's gz* functions, which read gzip files and
 * plain files alike, in fixed-size chunks: nothing is read whole into one
 * buffer, and memory grows with the rows kept, not with the file. */
#include "data.h"
#include "kds.h"

#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "le.h"
#include "rng.h"

#define CHUNK ((size_t)1 << 16)   /* bytes read from a file at a time */
#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* ---- opening files ---------------------------------------------------- */

/* display: the name errors give path: 'stdin' for "-". */
static const char *
display(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

/* gz_trailing: for the regular file on fd (read with pread, so its offset
 * is left where it was), -1 with e set when it is gzip data followed by bytes that are
 * not another gzip member, which zlib's gzread would silently ignore;
 * else 0 (plain files, and unreadable ones, are left to the reader) */
static int
gz_trailing(int fd, const char *path, kd_err *e)
{
	unsigned char in[1 << 16], out[1 << 16];
	z_stream z;
	ssize_t got;
	long long pos = 0; /* bytes of the file before in[0] */
	int rc = 0, zr = Z_OK, member = 1;

	got = pread(fd, in, 2, 0);
	if (got != 2 || in[0] != 0x1f || in[1] != 0x8b)
		return 0;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return 0;
	for (;;) {
		if (z.avail_in == 0) {
			got = pread(fd, in, sizeof in, pos);
			if (got <= 0)
				break; /* the end (a cut member is the reader's to report) */
			z.next_in = in;
			z.avail_in = (uInt)got;
		}
		if (!member) {
			/* after a member: another one, or nothing, may follow */
			if (z.next_in[0] != 0x1f || (z.avail_in > 1 && z.next_in[1] != 0x8b)) {
				kd_err_set(e, KD_EFORMAT, "'%s': data after the end of the gzip stream "
				           "(at byte %lld), not another gzip member", display(path),
				           pos + (long long)(z.next_in - in));
				rc = -1;
				break;
			}
			inflateReset(&z);
			member = 1;
		}
		z.next_out = out;
		z.avail_out = sizeof out;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			member = 0;
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			break; /* corrupt: the reader says so */
		if (z.avail_in == 0)
			pos += got;
	}
	inflateEnd(&z);
	return rc;
}

/* open_input: a gz reader on path ("-" = a duplicate of standard input, so
 * closing it leaves fd 0 open). *size gets the file size for a regular
 * file, else -1. Directories are refused here: open() succeeds on them and
 * the first read would fail with a less helpful message. */
static gzFile
open_input(const char *path, long long *size, kd_err *e)
{
	struct stat st;
	gzFile gz;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = dup(0);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		kd_err_set(e, KD_EIO, "cannot open '%s': %s", display(path),
		           strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		kd_err_set(e, KD_EIO, "cannot open '%s': %s", display(path),
		           strerror(errno));
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		kd_err_set(e, KD_EIO, "cannot open '%s': %s", display(path),
		           strerror(EISDIR));
		close(fd);
		return NULL;
	}
	if (size)
		*size = S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
	if (S_ISREG(st.st_mode) && gz_trailing(fd, path, e)) {
		close(fd);
		return NULL;
	}
	gz = gzdopen(fd, "rb");
	if (!gz) {
		kd_err_set(e, KD_ENOMEM, "cannot open '%s': out of memory",
		           display(path));
		close(fd);
		return NULL;
	}
	gzbuffer(gz, 1u << 17);
	return gz;
}

/* binary_kind: what the 4 bytes at b begin, when a file kd knows that is
 * not text (a CSV reader names it instead of parsing it), else NULL */
static const char *
binary_kind(const unsigned char *b)
{
	if (!memcmp(b, "\x28\xB5\x2F\xFD", 4))
		return "zstd-compressed (a kd stream?)";
	if (!memcmp(b, "KDM\x1a", 4))
		return "a kd model";
	if (!memcmp(b, "KDK\x1a", 4))
		return "a kd checkpoint";
	if (!memcmp(b, "\0\0\x08\x03", 4))
		return "an IDX images file";
	if (!memcmp(b, "\0\0\x08\x01", 4))
		return "an IDX labels file";
	return NULL;
}

/* gz_fail: set e for a read error on gz (a zlib error or errno). */
static void
gz_fail(gzFile gz, const char *path, kd_err *e)
{
	int zerr = Z_OK;
	const char *msg = gzerror(gz, &zerr);

	if (zerr == Z_BUF_ERROR) { /* zlib's "unexpected end of file" */
		kd_err_set(e, KD_EFORMAT, "'%s': truncated (the gzip data ends early)", display(path));
		return;
	}
	if (zerr == Z_ERRNO) {
		msg = strerror(errno);
	} else if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": ")) {
		/* zlib puts the gzdopen pseudo-name "<fd:N>: " in front */
		msg = strstr(msg, ": ") + 2;
	}
	kd_err_set(e, zerr == Z_MEM_ERROR ? KD_ENOMEM : KD_EIO,
	           "cannot read '%s': %s", display(path), msg);
}

/* read_full: read up to n bytes into buf; returns the count (< n only at
 * the end of the data, or before an error) or -1 with e set. A gzip
 * stream cut short counts as an error, not as the end (gzread reports it
 * only through gzerror): the bytes before the cut are returned first, and
 * the next call fails with KD_EFORMAT. */
static long long
read_full(gzFile gz, void *buf, size_t n, const char *path, kd_err *e)
{
	unsigned char *p = buf;
	size_t done = 0;

	while (done < n) {
		size_t want = n - done;
		int got;

		if (want > (1u << 30))
			want = 1u << 30;
		got = gzread(gz, p + done, (unsigned)want);
		if (got < 0) {
			gz_fail(gz, path, e);
			return -1;
		}
		if (got == 0) {
			int zerr = Z_OK;
			gzerror(gz, &zerr);
			if (zerr != Z_OK && done > 0)
				break; /* the bytes before the error first: the
				          next call reports it (zlib keeps it) */
			if (zerr != Z_OK) {
				gz_fail(gz, path, e);
				return -1;
			}
			break;
		}
		done += (size_t)got;
	}
	return (long long)done;
}

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
	char *path;            /* as given, for messages through display() */
	struct csv_parser p;   /* libcsv state, fed one line at a time */
	unsigned char *buf;    /* CHUNK bytes read from gz */
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

	if (!r || !(r->buf = malloc(CHUNK)) || !(r->path = strdup(path))) {
		if (r)
			free(r->buf);
		free(r);
		kd_err_set(e, KD_ENOMEM, "cannot open '%s': out of memory",
		           display(path));
		return NULL;
	}
	/* strict: a stray quote is an error, not silently part of a field */
	if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)) {
		kd_err_set(e, KD_ENOMEM, "cannot open '%s': out of memory",
		           display(path));
		free(r->path);
		free(r->buf);
		free(r);
		return NULL;
	}
	/* libcsv grows a field's buffer by blk_size at a time: keep it big */
	csv_set_blk_size(&r->p, 4096);
	r->gz = open_input(path, NULL, e);
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
	const char *name = display(r->path);

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
	const char *name = display(r->path);

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
			got = read_full(r->gz, r->buf, CHUNK, r->path, &r->err);
			if (got < 0 && r->err.code == KD_EFORMAT) /* cut short */
				kd_err_set(&r->err, KD_EFORMAT, "'%s': truncated in line %zu (the gzip "
				           "data ends early)", display(r->path), r->line);
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
			if (!r->started && got >= 4 && binary_kind(r->buf)) {
				kd_err_set(&r->err, KD_EFORMAT, "'%s' is %s, not CSV text",
				           display(r->path), binary_kind(r->buf));
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
	return display(r->path);
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
	int rc, first = 1;
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
			if (!o->unlabelled) {
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
			d = o->unlabelled ? nf : nf - 1;
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
	kd_err_set(e, KD_ENOMEM, "'%s': out of memory", display(path));
fail:
	kdd_csv_close(r);
	free(x);
	free(y);
	free(lines);
	memset(out, 0, sizeof *out);
	return -1;
}

/* ---- loading IDX ------------------------------------------------------ */

#define IDX_IMAGES 0x00000803u /* u8 data, 3 dimensions */
#define IDX_LABELS 0x00000801u /* u8 data, 1 dimension */
#define IDX_MAX_VALUES ((uint64_t)1 << 32)

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* idx_header: read the magic and dims of an IDX file into dim[0..ndim-1],
 * checking the magic; what names the kind for messages. */
static int
idx_header(gzFile gz, const char *path, uint32_t magic, uint32_t *dim,
           int ndim, kd_err *e)
{
	unsigned char h[16];
	size_t hlen = 4 + 4 * (size_t)ndim;
	long long got = read_full(gz, h, hlen, path, e);
	uint32_t m;

	if (got < 0)
		return -1;
	if (got < 4) {
		kd_err_set(e, KD_EFORMAT, "'%s': truncated IDX header", path);
		return -1;
	}
	m = be32(h);
	if (m != magic) {
		if (m == IDX_IMAGES || m == IDX_LABELS)
			kd_err_set(e, KD_EFORMAT, "'%s': an IDX %s file, not %s", path,
			           m == IDX_IMAGES ? "images" : "labels",
			           magic == IDX_IMAGES ? "images" : "labels");
		else
			kd_err_set(e, KD_EFORMAT, "'%s': bad magic 0x%08x (not an IDX "
			           "%s file)", path, (unsigned)m,
			           magic == IDX_IMAGES ? "images" : "labels");
		return -1;
	}
	if ((size_t)got < hlen) {
		kd_err_set(e, KD_EFORMAT, "'%s': truncated IDX header", path);
		return -1;
	}
	for (int i = 0; i < ndim; i++)
		dim[i] = be32(h + 4 + 4 * i);
	return 0;
}

/* idx_no_trailing: check that gz has nothing after the data. */
static int
idx_no_trailing(gzFile gz, const char *path, uint32_t n, const char *what,
                kd_err *e)
{
	unsigned char c;
	long long got = read_full(gz, &c, 1, path, e);

	if (got < 0)
		return -1;
	if (got > 0) {
		kd_err_set(e, KD_EFORMAT, "'%s': unexpected data after %u %s",
		           path, (unsigned)n, what);
		return -1;
	}
	return 0;
}

/* idx_images: read the images file into out (x, n, d, width, height). */
static int
idx_images(const char *path, kdd_set *out, kd_err *e)
{
	long long fsize, got;
	uint32_t dim[3];
	uint64_t px, total, done = 0;
	size_t cap;
	float *x = NULL, lut[256];
	unsigned char *tmp = NULL;
	gzFile gz = open_input(path, &fsize, e);

	if (!gz)
		return -1;
	if (idx_header(gz, path, IDX_IMAGES, dim, 3, e))
		goto fail;
	if (dim[0] == 0) {
		kd_err_set(e, KD_EFORMAT, "'%s': no images", path);
		goto fail;
	}
	if (dim[1] == 0 || dim[2] == 0) {
		kd_err_set(e, KD_EFORMAT, "'%s': bad image size %ux%u", path,
		           (unsigned)dim[1], (unsigned)dim[2]);
		goto fail;
	}
	px = (uint64_t)dim[1] * dim[2];
	if (px > IDX_MAX_VALUES || dim[0] > IDX_MAX_VALUES / px ||
	    px * dim[0] > SIZE_MAX / sizeof(float)) {
		kd_err_set(e, KD_ERANGE, "'%s': %u images of %ux%u are too many "
		           "pixels", path, (unsigned)dim[0], (unsigned)dim[1],
		           (unsigned)dim[2]);
		goto fail;
	}
	total = px * dim[0];
	/* a plain file's size is known: refuse a header it cannot back up
	 * before allocating; a gzip file's is not, so x grows as data comes */
	if (gzdirect(gz) && fsize >= 0 && (uint64_t)fsize - 16 < total) {
		kd_err_set(e, KD_EFORMAT, "'%s': truncated: %u images of %ux%u "
		           "need %llu bytes, the file has %lld", path,
		           (unsigned)dim[0], (unsigned)dim[1], (unsigned)dim[2],
		           (unsigned long long)(total + 16), fsize);
		goto fail;
	}
	cap = total < ((size_t)1 << 20) ? (size_t)total : (size_t)1 << 20;
	x = malloc(cap * sizeof *x);
	tmp = malloc(CHUNK);
	if (!x || !tmp)
		goto nomem;
	for (int v = 0; v < 256; v++)
		lut[v] = (float)v / 255.0f;
	while (done < total) {
		size_t want = total - done < CHUNK ? (size_t)(total - done) : CHUNK;
		got = read_full(gz, tmp, want, path, e);
		if (got < 0)
			goto fail;
		if (done + (uint64_t)got > cap) {
			size_t ncap = cap;
			float *nx;
			while (ncap < done + (uint64_t)got)
				ncap = ncap > total / 2 ? (size_t)total : 2 * ncap;
			nx = realloc(x, ncap * sizeof *x);
			if (!nx)
				goto nomem;
			x = nx;
			cap = ncap;
		}
		for (long long i = 0; i < got; i++)
			x[done + (uint64_t)i] = lut[tmp[i]];
		done += (uint64_t)got;
		if ((size_t)got < want) {
			kd_err_set(e, KD_EFORMAT, "'%s': truncated after %llu of %u "
			           "images", path, (unsigned long long)(done / px),
			           (unsigned)dim[0]);
			goto fail;
		}
	}
	if (idx_no_trailing(gz, path, dim[0], "images", e))
		goto fail;
	gzclose(gz);
	free(tmp);
	out->x = x;
	out->n = dim[0];
	out->d = (size_t)px;
	out->height = dim[1];
	out->width = dim[2];
	return 0;
nomem:
	kd_err_set(e, KD_ENOMEM, "'%s': out of memory", path);
fail:
	gzclose(gz);
	free(tmp);
	free(x);
	return -1;
}

/* idx_labels: read n labels from path into out->y and set out->k. */
static int
idx_labels(const char *path, const char *images_path, size_t n, kdd_set *out,
           kd_err *e)
{
	long long fsize, got;
	uint32_t cnt;
	unsigned char *raw = NULL;
	int32_t *y = NULL, maxy = 0;
	gzFile gz = open_input(path, &fsize, e);

	if (!gz)
		return -1;
	if (idx_header(gz, path, IDX_LABELS, &cnt, 1, e))
		goto fail;
	if (cnt != n) {
		kd_err_set(e, KD_EMISMATCH, "'%s' has %zu images but '%s' has %u "
		           "labels", images_path, n, path, (unsigned)cnt);
		goto fail;
	}
	raw = malloc(n);
	y = malloc(n * sizeof *y);
	if (!raw || !y) {
		kd_err_set(e, KD_ENOMEM, "'%s': out of memory", path);
		goto fail;
	}
	got = read_full(gz, raw, n, path, e);
	if (got < 0)
		goto fail;
	if ((size_t)got < n) {
		kd_err_set(e, KD_EFORMAT, "'%s': truncated after %lld of %zu "
		           "labels", path, got, n);
		goto fail;
	}
	if (idx_no_trailing(gz, path, cnt, "labels", e))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		y[i] = raw[i];
		if (y[i] > maxy)
			maxy = y[i];
	}
	gzclose(gz);
	free(raw);
	out->y = y;
	out->k = (size_t)maxy + 1;
	return 0;
fail:
	gzclose(gz);
	free(raw);
	free(y);
	return -1;
}

int
kdd_idx_load(const char *images_path, const char *labels_path, kdd_set *out,
             kd_err *e)
{
	memset(out, 0, sizeof *out);
	if (idx_images(images_path, out, e))
		return -1;
	if (labels_path && idx_labels(labels_path, images_path, out->n, out, e))
		goto fail;
	out->id = malloc(out->n * sizeof *out->id);
	if (!out->id) {
		kd_err_set(e, KD_ENOMEM, "'%s': out of memory", images_path);
		goto fail;
	}
	for (size_t i = 0; i < out->n; i++)
		out->id[i] = i;
	return 0;
fail:
	kdd_free(out);
	return -1;
}

/* ---- choosing a loader ------------------------------------------------ */

/* is_file: path names an existing regular file. */
static int
is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ends_with: s ends with suffix. */
static int
ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* labels_for: the labels file that goes with images file path: the same
 * path with "images-idx3" in the file name changed to "labels-idx1", ".gz"
 * added or dropped when only that exists; NULL when there is none (or no
 * memory: the set then loads unlabelled, which the caller will notice). */
static char *
labels_for(const char *path)
{
	const char *base = strrchr(path, '/'), *hit;
	size_t len = strlen(path), at;
	char *lp;

	base = base ? base + 1 : path;
	hit = strstr(base, "images-idx3");
	if (!hit)
		return NULL;
	at = (size_t)(hit - path);
	lp = malloc(len + 4);
	if (!lp)
		return NULL;
	memcpy(lp, path, len + 1);
	memcpy(lp + at, "labels-idx1", 11);
	if (is_file(lp))
		return lp;
	if (ends_with(lp, ".gz"))
		lp[len - 3] = '\0';
	else
		memcpy(lp + len, ".gz", 4);
	if (is_file(lp))
		return lp;
	free(lp);
	return NULL;
}

/* images_in_dir: the one "*images-idx3-ubyte[.gz]" file in dir (malloc'd
 * path), or NULL with e set. */
static char *
images_in_dir(const char *dir, kd_err *e)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char *found = NULL, other[256] = "";
	int count = 0;

	if (!dp) {
		kd_err_set(e, KD_EIO, "cannot open '%s': %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(dp))) {
		const char *nm = de->d_name;
		if (!ends_with(nm, "images-idx3-ubyte") &&
		    !ends_with(nm, "images-idx3-ubyte.gz"))
			continue;
		if (++count == 1) {
			size_t len = strlen(dir) + strlen(nm) + 2;
			found = malloc(len);
			if (!found) {
				closedir(dp);
				kd_err_set(e, KD_ENOMEM, "'%s': out of memory", dir);
				return NULL;
			}
			snprintf(found, len, "%s/%s", dir, nm);
		} else if (count == 2) {
			snprintf(other, sizeof other, "%s", nm);
		}
	}
	closedir(dp);
	if (count == 1)
		return found;
	if (count == 0)
		kd_err_set(e, KD_EFORMAT, "'%s': no IDX images file "
		           "(*images-idx3-ubyte[.gz]) in this directory", dir);
	else
		kd_err_set(e, KD_EUSAGE, "'%s': %d IDX images files ('%s', '%s', "
		           "...): name one", dir, count,
		           strrchr(found, '/') + 1, other);
	free(found);
	return NULL;
}

/* sniff: the first (gunzipped) bytes of path, up to 4; returns the count
 * or -1 with e set. */
static int
sniff(const char *path, unsigned char *magic, kd_err *e)
{
	gzFile gz = open_input(path, NULL, e);
	long long got;

	if (!gz)
		return -1;
	got = read_full(gz, magic, 4, path, e);
	gzclose(gz);
	return (int)got;
}

/* load_idx_checked: kdd_idx_load with the options' label rules. */
static int
load_idx_checked(const char *images, const char *labels,
                 const kdd_load_opts *o, kdd_set *out, kd_err *e)
{
	size_t max_k = o->csv.max_k ? o->csv.max_k : KDD_MAX_K;

	if (kdd_idx_load(images, o->csv.unlabelled ? NULL : labels, out, e))
		return -1;
	if (out->y && out->k > max_k) {
		kd_err_set(e, KD_EFORMAT, "'%s': label %zu is out of range (at "
		           "most %zu)", labels, out->k - 1, max_k - 1);
		kdd_free(out);
		return -1;
	}
	return 0;
}

/* ---- kd streams as data ----------------------------------------------- */

int
kdd_set_names(kdd_set *s, const char *names, size_t len, kd_err *e)
{
	char *copy = NULL;
	if (len) {
		if (!(copy = malloc(len))) {
			kd_err_set(e, KD_ENOMEM, "out of memory");
			return -1;
		}
		memcpy(copy, names, len);
	}
	free(s->names);
	s->names = copy;
	s->names_len = len;
	return 0;
}

int
kdd_stream_load(const char *path, kdd_set *out, float **values,
                kds_header *hout, kd_err *e)
{
	kds_reader *r;
	const kds_header *h;
	kds_record rec;
	size_t cap = 0, n = 0, d, K;
	float *v = NULL;
	int got;

	memset(out, 0, sizeof *out);
	if (values)
		*values = NULL;
	if (!(r = kds_open(path, e)))
		return -1;
	kds_check_rows(r); /* shards joined with cat: every row once */
	h = kds_header_of(r);
	d = h->dim;
	K = h->k;
	while ((got = kds_read(r, &rec, e)) == 1) {
		if (n == cap) {
			/* start near 64K values, as the CSV loader does: 1024
			 * rows of the widest records would be 20 GiB */
			size_t nc = cap ? 2 * cap : 65536 / (d + K) + 1;
			float *nx = d ? realloc(out->x, nc * d * sizeof *nx) : out->x;
			int32_t *ny = h->has_label ? realloc(out->y, nc * sizeof *ny) : out->y;
			uint64_t *ni = realloc(out->id, nc * sizeof *ni);
			float *nv = values ? realloc(v, nc * K * sizeof *nv) : v;
			if (nx) out->x = nx;
			if (ny) out->y = ny;
			if (ni) out->id = ni;
			if (nv) v = nv;
			if ((d && !nx) || (h->has_label && !ny) || !ni || (values && !nv)) {
				kd_err_set(e, KD_ENOMEM, "'%s': out of memory at record %zu",
				           kds_name(r), n + 1);
				got = -1;
				break;
			}
			cap = nc;
		}
		if (d)
			memcpy(out->x + n * d, rec.inputs, d * sizeof *out->x);
		if (h->has_label)
			out->y[n] = rec.label;
		out->id[n] = rec.id;
		if (values)
			memcpy(v + n * K, rec.values, K * sizeof *v);
		n++;
	}
	if (got == 0 && n == 0) {
		kd_err_set(e, KD_EFORMAT, "'%s': no records", kds_name(r));
		got = -1;
	}
	if (got == 0 && !out->x && !(out->x = malloc(sizeof *out->x)))
		got = -1;
	if (got == 0 && !out->id && !(out->id = malloc(sizeof *out->id)))
		got = -1;
	if (got == 0) {
		out->n = n;
		out->d = d;
		out->k = K;
		out->width = h->width;
		out->height = h->height;
		if (h->names_len && kdd_set_names(out, h->names, h->names_len, e))
			got = -1;
	}
	if (got == 0 && hout && kds_header_copy(hout, h, e))
		got = -1;
	kds_close(r);
	if (got != 0) {
		kdd_free(out);
		free(v);
		return -1;
	}
	if (values)
		*values = v;
	else
		free(v);
	return 0;
}

/* load_kds: a kd stream as a data set for kdd_load: it must carry inputs */
static int
load_kds(const char *path, const kdd_load_opts *o, kdd_set *out, kd_err *e)
{
	if (kdd_stream_load(path, out, NULL, NULL, e))
		return -1;
	if (out->d == 0) {
		kdd_free(out);
		kd_err_set(e, KD_EFORMAT, "'%s': the stream carries no inputs "
		           "(write it with kd-teacher --inputs)", path);
		return -1;
	}
	if (o->csv.unlabelled && out->y) {
		free(out->y);
		out->y = NULL;
	}
	return 0;
}

/* Fashion-MNIST's ten classes, in label order */
static const char fmnist_names[] =
	"T-shirt/top\0Trouser\0Pullover\0Dress\0Coat\0Sandal\0Shirt\0"
	"Sneaker\0Bag\0Ankle boot";

/* name_fmnist: Fashion-MNIST files get their class names */
static int
name_fmnist(const char *path, kdd_set *out, kd_err *e)
{
	if (!strstr(path, "fashion-mnist") || out->k > 10)
		return 0;
	if (kdd_set_names(out, fmnist_names, sizeof fmnist_names, e)) {
		kdd_free(out);
		return -1;
	}
	return 0;
}

static int load_any(const char *spec, const kdd_load_opts *o, kdd_set *out,
                    kd_err *e);

int
kdd_load(const char *spec, const kdd_load_opts *o, kdd_set *out, kd_err *e)
{
	if (load_any(spec, o, out, e))
		return -1;
	if (o && o->max_rows && out->n > o->max_rows) {
		/* the first rows only: the arrays keep their size, n shrinks */
		out->n = o->max_rows;
		if (out->y) {
			int32_t mx = -1;
			for (size_t i = 0; i < out->n; i++)
				if (out->y[i] > mx)
					mx = out->y[i];
			if ((size_t)(mx + 1) < out->k && !out->names)
				out->k = (size_t)(mx + 1);
		}
	}
	return 0;
}

static int
load_any(const char *spec, const kdd_load_opts *o, kdd_set *out, kd_err *e)
{
	static const kdd_load_opts defaults;
	static const unsigned char idx3[4] = { 0x00, 0x00, 0x08, 0x03 };
	static const unsigned char idx1[4] = { 0x00, 0x00, 0x08, 0x01 };
	static const unsigned char zstd[4] = { 0x28, 0xB5, 0x2F, 0xFD };
	const char *prefix = "fashion-mnist:";
	unsigned char magic[4];
	char *path = NULL, *labels;
	struct stat st;
	int got, rc;

	memset(out, 0, sizeof *out);
	if (!o)
		o = &defaults;
	if (strncmp(spec, prefix, strlen(prefix)) == 0) {
		const char *split = spec + strlen(prefix), *stem;
		char ip[256], lp[256];
		if (strcmp(split, "train") == 0) {
			stem = "train";
		} else if (strcmp(split, "test") == 0) {
			stem = "t10k";
		} else {
			kd_err_set(e, KD_EUSAGE, "unknown data set '%s' (use "
			           "fashion-mnist:train or fashion-mnist:test)", spec);
			return -1;
		}
		snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", FMNIST_DIR, stem);
		snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", FMNIST_DIR, stem);
		if (load_idx_checked(ip, lp, o, out, e))
			return -1;
		return name_fmnist(ip, out, e);
	}
	/* standard input and pipes can be read once only: no sniffing */
	if (strcmp(spec, "-") == 0)
		return kdd_csv_load(spec, &o->csv, out, e);
	if (stat(spec, &st) != 0) {
		kd_err_set(e, KD_EIO, "cannot open '%s': %s", spec, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		path = images_in_dir(spec, e);
		if (!path)
			return -1;
	} else if (!S_ISREG(st.st_mode)) {
		return kdd_csv_load(spec, &o->csv, out, e);
	}
	got = sniff(path ? path : spec, magic, e);
	if (got < 0) {
		free(path);
		return -1;
	}
	if (got == 4 && memcmp(magic, idx3, 4) == 0) {
		const char *ip = path ? path : spec;
		labels = o->csv.unlabelled ? NULL : labels_for(ip);
		rc = load_idx_checked(ip, labels, o, out, e);
		if (rc == 0)
			rc = name_fmnist(ip, out, e);
		free(labels);
		free(path);
		return rc;
	}
	if (path) {
		kd_err_set(e, KD_EFORMAT, "'%s': not an IDX images file", path);
		free(path);
		return -1;
	}
	if (got == 4 && memcmp(magic, idx1, 4) == 0) {
		kd_err_set(e, KD_EUSAGE, "'%s': an IDX labels file; give the "
		           "images file", spec);
		return -1;
	}
	if (got == 4 && memcmp(magic, zstd, 4) == 0)
		return load_kds(spec, o, out, e);
	/* kd's own files, which are no data set */
	if (got == 4 && (memcmp(magic, "KDM\x1a", 4) == 0 || memcmp(magic, "KDK\x1a", 4) == 0)) {
		kd_err_set(e, KD_EUSAGE, "'%s' is a kd %s, not a data set", spec,
		           magic[2] == 'M' ? "model" : "checkpoint");
		return -1;
	}
	return kdd_csv_load(spec, &o->csv, out, e);
}

/* ---- whole sets ------------------------------------------------------- */

int
kdd_alloc(kdd_set *out, size_t n, size_t d, int labelled, kd_err *e)
{
	size_t nn = n ? n : 1, nd;

	memset(out, 0, sizeof *out);
	if (d && nn > SIZE_MAX / sizeof(float) / d)
		goto nomem;
	nd = d ? nn * d : 1;
	out->x = malloc(nd * sizeof *out->x);
	out->id = malloc(nn * sizeof *out->id);
	if (labelled)
		out->y = malloc(nn * sizeof *out->y);
	if (!out->x || !out->id || (labelled && !out->y))
		goto nomem;
	for (size_t i = 0; i < n; i++)
		out->id[i] = i;
	out->n = n;
	out->d = d;
	return 0;
nomem:
	kdd_free(out);
	kd_err_set(e, KD_ENOMEM, "out of memory for %zu rows of %zu features",
	           n, d);
	return -1;
}

int
kdd_is_image(const kdd_set *s)
{
	return s->width > 0 && s->height > 0 && s->width * s->height == s->d;
}

void
kdd_free(kdd_set *s)
{
	if (!s)
		return;
	free(s->x);
	free(s->y);
	free(s->id);
	free(s->names);
	free(s->line);
	memset(s, 0, sizeof *s);
}

int
kdd_subset(const kdd_set *in, const uint32_t *idx, size_t n, kdd_set *out,
           kd_err *e)
{
	size_t d = in->d;

	for (size_t i = 0; i < n; i++)
		if (idx[i] >= in->n) {
			memset(out, 0, sizeof *out);
			kd_err_set(e, KD_ERANGE, "row %u out of range: the set has %zu "
			           "rows", (unsigned)idx[i], in->n);
			return -1;
		}
	if (kdd_alloc(out, n, d, in->y != NULL, e))
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t r = idx[i];
		if (d)
			memcpy(out->x + i * d, in->x + r * d, d * sizeof *out->x);
		out->id[i] = in->id[r];
		if (in->y)
			out->y[i] = in->y[r];
	}
	out->k = in->k;
	out->width = in->width;
	out->height = in->height;
	if (in->names_len && kdd_set_names(out, in->names, in->names_len, e)) {
		kdd_free(out);
		return -1;
	}
	return 0;
}

int
kdd_split(const kdd_set *in, size_t nval, uint64_t seed, kdd_set *train,
          kdd_set *val, kd_err *e)
{
	size_t n = in->n, a = 0, b = nval;
	uint32_t *perm;
	unsigned char *held;
	kdr_rng rng;

	memset(train, 0, sizeof *train);
	memset(val, 0, sizeof *val);
	if (nval > n) {
		kd_err_set(e, KD_ERANGE, "cannot hold out %zu rows for validation "
		           "from a set of %zu", nval, n);
		return -1;
	}
	if (n > UINT32_MAX) {
		kd_err_set(e, KD_ERANGE, "cannot split a set of %zu rows (at most "
		           "%u)", n, (unsigned)UINT32_MAX);
		return -1;
	}
	perm = malloc((n ? n : 1) * sizeof *perm);
	held = calloc(n ? n : 1, 1);
	if (!perm || !held) {
		free(perm);
		free(held);
		kd_err_set(e, KD_ENOMEM, "out of memory splitting %zu rows", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	kdr_init(&rng, seed);
	kdr_shuffle(&rng, perm, (uint32_t)n);
	for (size_t i = 0; i < nval; i++)
		held[perm[i]] = 1;
	/* reuse perm: validation rows first, then training rows, each part in
	 * file order */
	for (size_t i = 0; i < n; i++) {
		if (held[i])
			perm[a++] = (uint32_t)i;
		else
			perm[b++] = (uint32_t)i;
	}
	free(held);
	if (kdd_subset(in, perm, nval, val, e) ||
	    kdd_subset(in, perm + nval, n - nval, train, e)) {
		kdd_free(val);
		kdd_free(train);
		free(perm);
		return -1;
	}
	free(perm);
	return 0;
}

void
kdd_moments(const kdd_set *s, float *mean, float *std)
{
	enum { B = 1024 }; /* columns per pass: 24 KiB of sums on the stack */
	size_t n = s->n, d = s->d;

	for (size_t j0 = 0; j0 < d; j0 += B) {
		size_t nb = d - j0 < B ? d - j0 : B;
		double sum[B] = { 0 }, mu[B], ss[B] = { 0 };

		for (size_t i = 0; i < n; i++) {
			const float *row = s->x + i * d + j0;
			for (size_t b = 0; b < nb; b++)
				sum[b] += row[b];
		}
		for (size_t b = 0; b < nb; b++)
			mu[b] = n ? sum[b] / (double)n : 0.0;
		/* second pass about the mean: no cancellation for large offsets */
		for (size_t i = 0; i < n; i++) {
			const float *row = s->x + i * d + j0;
			for (size_t b = 0; b < nb; b++) {
				double dv = row[b] - mu[b];
				ss[b] += dv * dv;
			}
		}
		for (size_t b = 0; b < nb; b++) {
			mean[j0 + b] = (float)mu[b];
			std[j0 + b] = n ? (float)sqrt(ss[b] / (double)n) : 0.0f;
		}
	}
}

size_t
kdd_empty_class(const kdd_set *s, size_t k)
{
	unsigned char *seen;
	size_t c = k;

	if (!s->y || !k || !(seen = calloc(k, 1)))
		return k;
	for (size_t i = 0; i < s->n; i++)
		if (s->y[i] >= 0 && (size_t)s->y[i] < k)
			seen[s->y[i]] = 1;
	for (size_t j = 0; j < k && c == k; j++)
		if (!seen[j])
			c = j;
	free(seen);
	return c;
}

uint64_t
kdd_fingerprint(const kdd_set *s)
{
	unsigned char nd[16];
	uint64_t h;

	kd_put_u64(nd, s->n);
	kd_put_u64(nd + 8, s->d);
	h = kd_hash64(KD_HASH64_START, nd, sizeof nd);
	h = kd_hash64(h, s->id, s->n * sizeof *s->id);
	h = kd_hash64(h, s->x, s->n * s->d * sizeof *s->x);
	return h ? h : 1;
}

void
kdd_label_range(const kdd_set *s, const char *name, size_t i, size_t K,
                const char *model, kd_err *e)
{
	if (s->line)
		kd_err_set(e, KD_ERANGE, "'%s':%zu: label %ld, but model '%s' has %zu classes",
		           name, s->line[i], (long)s->y[i], model, K);
	else
		kd_err_set(e, KD_ERANGE, "'%s': row %zu: label %ld, but model '%s' has %zu classes",
		           name, i + 1, (long)s->y[i], model, K);
}
