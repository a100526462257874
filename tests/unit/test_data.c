/* test_data.c: unit tests of lib/data.c: CSV and IDX loading with their
 * exact error messages, the streaming CSV reader, kdd_load's choice of
 * loader, splits, subsets and moments. Files are written to a temporary
 * directory that is removed at the end. */
#include "data.h"
#include "kdtest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define FMNIST "/usr/share/datasets/fashion-mnist"

static char tmpdir[64];
static char made[64][128]; /* files written, removed at the end */
static int nmade;

/* kt_skip: report a test that cannot run here as a TAP skip. */
static void
kt_skip(const char *name, const char *why)
{
	kt_n++;
	printf("ok %d - %s # SKIP %s\n", kt_n, name, why);
	fflush(stdout);
}

/* tpath: the path of name in the temporary directory (a static buffer of
 * a small ring, so a few can be live at once). */
static const char *
tpath(const char *name)
{
	static char ring[4][160];
	static int at;
	char *p = ring[at++ % 4];
	snprintf(p, sizeof ring[0], "%s/%s", tmpdir, name);
	return p;
}

static void
remember(const char *path)
{
	for (int i = 0; i < nmade; i++)
		if (!strcmp(made[i], path))
			return;
	if (nmade < 64)
		snprintf(made[nmade++], sizeof made[0], "%s", path);
}

/* put: write len bytes to name in the temporary directory; its path. */
static const char *
put(const char *name, const void *data, size_t len)
{
	const char *p = tpath(name);
	FILE *f = fopen(p, "wb");
	KT_CHECK(f != NULL);
	if (!f)
		return p;
	KT_CHECK(fwrite(data, 1, len, f) == len);
	KT_CHECK(fclose(f) == 0);
	remember(p);
	return p;
}

static const char *
puts_file(const char *name, const char *text)
{
	return put(name, text, strlen(text));
}

/* put_gz: like put, gzip-compressed with zlib. */
static const char *
put_gz(const char *name, const void *data, size_t len)
{
	const char *p = tpath(name);
	gzFile gz = gzopen(p, "wb");
	KT_CHECK(gz != NULL);
	if (!gz)
		return p;
	KT_CHECK(gzwrite(gz, data, (unsigned)len) == (int)len);
	KT_CHECK(gzclose(gz) == Z_OK);
	remember(p);
	return p;
}

/* check_msg: e holds exactly want. */
#define CHECK_MSG(e, want) check_msg((e).msg, (want), __LINE__)
static void
check_msg(const char *got, const char *want, int line)
{
	if (strcmp(got, want) != 0) {
		char m[1200];
		snprintf(m, sizeof m, "message\n#   got:  %s\n#   want: %s", got, want);
		kt_fail(__FILE__, line, m);
	}
}

/* csv_error: load text as CSV with o, expect failure with message
 * "'PATH'" + rest. */
#define CSV_ERROR(text, o, rest) csv_error((text), (o), (rest), __LINE__)
static void
csv_error(const char *text, const kdd_csv_opts *o, const char *rest, int line)
{
	const char *p = puts_file("bad.csv", text);
	char want[600];
	kdd_set s;
	kd_err e = { "", 0 };
	int rc = kdd_csv_load(p, o, &s, &e);

	if (rc != -1)
		kt_fail(__FILE__, line, "kdd_csv_load accepted bad input");
	snprintf(want, sizeof want, "'%s'%s", p, rest);
	check_msg(e.msg, want, line);
	if (s.n != 0 || s.x != NULL)
		kt_fail(__FILE__, line, "set not zeroed on failure");
	kdd_free(&s);
}

static void
test_parse_float(void)
{
	float v = 0;

	KT_CHECK(kdd_parse_float("1", &v) == 0 && v == 1.0f);
	KT_CHECK(kdd_parse_float("-2.5e3", &v) == 0 && v == -2500.0f);
	KT_CHECK(kdd_parse_float("+.5", &v) == 0 && v == 0.5f);
	KT_CHECK(kdd_parse_float("5.", &v) == 0 && v == 5.0f);
	KT_CHECK(kdd_parse_float("3.4e38", &v) == 0);
	KT_CHECK(kdd_parse_float("1e-50", &v) == 0 && v == 0.0f);
	KT_CHECK(kdd_parse_float("0", &v) == 0 && v == 0.0f);
	v = 7;
	KT_CHECK(kdd_parse_float("", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float("abc", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float("0x1p3", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float("1.5x", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float(" 1", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float("1 ", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float(".", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float("e5", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float("1e", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float("1e+", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float("--1", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float("1,5", &v) == KDD_NUM_BAD);
	KT_CHECK(kdd_parse_float("nan", &v) == KDD_NUM_NONFINITE);
	KT_CHECK(kdd_parse_float("-inf", &v) == KDD_NUM_NONFINITE);
	KT_CHECK(kdd_parse_float("Infinity", &v) == KDD_NUM_NONFINITE);
	KT_CHECK(kdd_parse_float("NaN(1)", &v) == KDD_NUM_NONFINITE);
	KT_CHECK(kdd_parse_float("1e39", &v) == KDD_NUM_RANGE);
	KT_CHECK(kdd_parse_float("-1e400", &v) == KDD_NUM_RANGE);
	KT_CHECK(v == 7); /* untouched on failure */
}

/* load_text: load text as CSV with o; 0 or -1. */
static int
load_text(const char *text, const kdd_csv_opts *o, kdd_set *s, kd_err *e)
{
	return kdd_csv_load(puts_file("t.csv", text), o, s, e);
}

static void
test_csv_basic(void)
{
	kdd_set s;
	kd_err e = { "", 0 };

	KT_CHECK(load_text("1,2,0\n3.5, -4 ,1\n5,6e1,2\n", NULL, &s, &e) == 0);
	KT_CHECK(s.n == 3 && s.d == 2 && s.k == 3);
	KT_CHECK(s.y && s.y[0] == 0 && s.y[1] == 1 && s.y[2] == 2);
	KT_CHECK(s.x[0] == 1 && s.x[1] == 2 && s.x[2] == 3.5f && s.x[3] == -4);
	KT_CHECK(s.x[4] == 5 && s.x[5] == 60);
	KT_CHECK(s.id[0] == 0 && s.id[1] == 1 && s.id[2] == 2);
	KT_CHECK(s.width == 0 && s.height == 0);
	kdd_free(&s);
	KT_CHECK(s.x == NULL && s.n == 0);
	kdd_free(&s); /* twice is harmless */
}

static void
test_csv_label_columns(void)
{
	kdd_csv_opts o = { 0 };
	kdd_set s;
	kd_err e = { "", 0 };

	o.header = 1;
	KT_CHECK(load_text("a,b,label\n1,2,0\n3,4,3.0\n", &o, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.d == 2 && s.k == 4 && s.y[1] == 3);
	KT_CHECK(s.x[2] == 3 && s.id[1] == 1);
	kdd_free(&s);

	memset(&o, 0, sizeof o);
	o.label_col = 1;
	KT_CHECK(load_text("2,10,11\n0,20,21\n", &o, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.d == 2 && s.k == 3);
	KT_CHECK(s.y[0] == 2 && s.y[1] == 0);
	KT_CHECK(s.x[0] == 10 && s.x[1] == 11 && s.x[2] == 20 && s.x[3] == 21);
	kdd_free(&s);

	o.label_col = 2;
	KT_CHECK(load_text("10,1,11\n20,0,21\n", &o, &s, &e) == 0);
	KT_CHECK(s.y[0] == 1 && s.y[1] == 0 && s.k == 2);
	KT_CHECK(s.x[0] == 10 && s.x[1] == 11 && s.x[2] == 20 && s.x[3] == 21);
	kdd_free(&s);

	memset(&o, 0, sizeof o);
	o.unlabelled = 1;
	KT_CHECK(load_text("1,2,3\n4,5,6\n", &o, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.d == 3 && s.y == NULL && s.k == 0);
	KT_CHECK(s.x[5] == 6);
	kdd_free(&s);

	/* one column, unlabelled */
	KT_CHECK(load_text("7\n8\n", &o, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.d == 1 && s.x[1] == 8);
	kdd_free(&s);

	/* a model's width: rows of 3 fields are inputs only, of 4 labelled */
	memset(&o, 0, sizeof o);
	o.features = 3;
	KT_CHECK(load_text("1,2,3\n4,5,6\n", &o, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.d == 3 && s.y == NULL && s.x[5] == 6);
	kdd_free(&s);
	KT_CHECK(load_text("1,2,3,1\n4,5,6,0\n", &o, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.d == 3 && s.y && s.y[0] == 1 && s.x[5] == 6);
	kdd_free(&s);
	/* ... but a label column named by number is one */
	o.label_col = 3;
	KT_CHECK(load_text("1,2,0\n4,5,1\n", &o, &s, &e) == 0);
	KT_CHECK(s.d == 2 && s.y && s.y[1] == 1);
	kdd_free(&s);
}

static void
test_csv_line_ends(void)
{
	kdd_set s;
	kd_err e = { "", 0 };

	KT_CHECK(load_text("1,2,0\r\n3,4,1\r\n5,6,1", NULL, &s, &e) == 0);
	KT_CHECK(s.n == 3 && s.x[4] == 5 && s.y[2] == 1);
	kdd_free(&s);
	KT_CHECK(load_text("1,2,0\n3,4,1", NULL, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.y[1] == 1);
	kdd_free(&s);
	KT_CHECK(load_text("1,2,0\r3,4,1\r", NULL, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.y[1] == 1);
	kdd_free(&s);
	KT_CHECK(load_text("\n\n1,2,0\n\n  \n3,4,1\n\n", NULL, &s, &e) == 0);
	KT_CHECK(s.n == 2);
	kdd_free(&s);
	KT_CHECK(load_text("\xEF\xBB\xBF" "1,2,0\n", NULL, &s, &e) == 0);
	KT_CHECK(s.n == 1 && s.x[0] == 1);
	kdd_free(&s);
	CSV_ERROR("\xEF\xBB\xBF", NULL, ": no data rows");

	/* line numbers count CRLF once, CR alone and LF alone once each, and
	 * blank lines */
	CSV_ERROR("1,2,0\r\n3,4,1\r\n5,x,1\r\n", NULL, ":3:2: 'x' is not a number");
	CSV_ERROR("1,2,0\r\n\r\n\r\n3,4,x", NULL, ":4:3: label 'x' is not a number");
	CSV_ERROR("1,2,0\r3,x,1\r", NULL, ":2:2: 'x' is not a number");
	CSV_ERROR("1,2,0\n\n\n3,4,1\n 5 , y ,1\n", NULL,
	          ":5:2: 'y' is not a number");
	CSV_ERROR("1,2,0\n\r\n\r3,4,1\n\n5,6\n", NULL,
	          ":6:3: expected 3 fields as on line 1, found 2");
}

static void
test_csv_quoted(void)
{
	kdd_csv_opts o = { 0 };
	kdd_set s;
	kd_err e = { "", 0 };

	KT_CHECK(load_text("\"1\",\"2.5\",\"0\"\n3,\"4\",1\n", NULL, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.x[1] == 2.5f && s.x[3] == 4 && s.y[1] == 1);
	kdd_free(&s);

	/* a header with a quoted line break: later lines still count right */
	o.header = 1;
	KT_CHECK(load_text("\"a\nb\",\"c,d\",label\r\n1,2,0\r\n", &o, &s, &e) == 0);
	KT_CHECK(s.n == 1 && s.d == 2);
	kdd_free(&s);
	CSV_ERROR("\"a\nb\",\"c,d\",label\n1,2,0\n3,x,1\n", &o,
	          ":4:2: 'x' is not a number");
	CSV_ERROR("1,2,0\n\"x\ny\",2,0\n", NULL,
	          ":2:1: 'x\ny' is not a number");
	CSV_ERROR("1,2\"3,0\n", NULL, ":1:2: malformed quoting");
	CSV_ERROR("1,2,0\n\"3,4,1\n", NULL, ":2:1: unterminated quoted field");
	CSV_ERROR("1,\" 2\",0\n", NULL, ":1:2: ' 2' is not a number");
}

static void
test_csv_errors(void)
{
	kdd_csv_opts o = { 0 };
	char want[300];
	kdd_set s;
	kd_err e = { "", 0 };
	const char *p;

	CSV_ERROR("1,2,0\n3,4,1\n5,6\n", NULL,
	          ":3:3: expected 3 fields as on line 1, found 2");
	CSV_ERROR("1,2,0\n3,4,1,7\n", NULL,
	          ":2:4: expected 3 fields as on line 1, found 4");
	CSV_ERROR("1,abc,0\n", NULL, ":1:2: 'abc' is not a number");
	CSV_ERROR("1,2,0\nnan,1,0\n", NULL, ":2:1: 'nan' is not a finite number");
	CSV_ERROR("inf,1,0\n", NULL, ":1:1: 'inf' is not a finite number");
	CSV_ERROR("1e39,1,0\n", NULL, ":1:1: '1e39' is out of float range");
	CSV_ERROR("0x10,1,0\n", NULL, ":1:1: '0x10' is not a number");
	CSV_ERROR("1.5kg,1,0\n", NULL, ":1:1: '1.5kg' is not a number");
	CSV_ERROR("1,,0\n", NULL, ":1:2: empty field");
	CSV_ERROR("1,2,\n", NULL, ":1:3: empty label");
	CSV_ERROR("1,2,-1\n", NULL, ":1:3: label '-1' is negative");
	CSV_ERROR("1,2,0\n1,2,2.5\n", NULL, ":2:3: label '2.5' is not an integer");
	CSV_ERROR("1,2,nan\n", NULL, ":1:3: label 'nan' is not a number");
	CSV_ERROR("1,2,1048576\n", NULL,
	          ":1:3: label '1048576' is out of range (at most 1048575)");
	o.max_k = 3;
	CSV_ERROR("1,2,2\n1,2,3\n", &o, ":2:3: label '3' is out of range (at most 2)");
	memset(&o, 0, sizeof o);
	o.label_col = 4;
	CSV_ERROR("1,2,0\n", &o, ":1:3: no label column 4 in a row of 3 fields");
	CSV_ERROR("1\n", NULL, ":1:1: no feature columns besides the label");
	CSV_ERROR("", NULL, ": no data rows");
	CSV_ERROR("\n\n\r\n", NULL, ": no data rows");
	o.label_col = 0;
	o.header = 1;
	CSV_ERROR("a,b,c\n", &o, ": no data rows");
	CSV_ERROR("a,b,c\n1,2\n", &o, ":2:3: expected 3 fields as on line 1, found 2");
	p = put("nul.csv", "1,2\0,0\n", 7);
	KT_CHECK(kdd_csv_load(p, NULL, &s, &e) == -1);
	snprintf(want, sizeof want, "'%s':1:2: NUL byte in field", p);
	CHECK_MSG(e, want);

	p = tpath("missing.csv");
	KT_CHECK(kdd_csv_load(p, NULL, &s, &e) == -1);
	snprintf(want, sizeof want, "cannot open '%s': No such file or directory", p);
	CHECK_MSG(e, want);
	KT_CHECK(e.code == KD_EIO);

	KT_CHECK(kdd_csv_load(tmpdir, NULL, &s, &e) == -1);
	snprintf(want, sizeof want, "cannot open '%s': Is a directory", tmpdir);
	CHECK_MSG(e, want);
}

/* a long line and many fields: the reader's buffers grow */
static void
test_csv_wide(void)
{
	size_t d = 3000, len = 0;
	char *text = malloc(d * 8 + 16);
	kdd_set s;
	kd_err e = { "", 0 };

	for (size_t j = 0; j < d; j++)
		len += (size_t)sprintf(text + len, "%zu,", j);
	len += (size_t)sprintf(text + len, "1\n");
	KT_CHECK(kdd_csv_load(put("wide.csv", text, len), NULL, &s, &e) == 0);
	KT_CHECK(s.n == 1 && s.d == d && s.k == 2 && s.x[d - 1] == (float)(d - 1));
	kdd_free(&s);
	free(text);
}

static void
test_csv_gzip(void)
{
	const char *text = "1,2,0\r\n3,4,1\r\n5,6,2";
	kdd_set s;
	kd_err e = { "", 0 };
	char want[300];
	unsigned char buf[4096];
	const char *p;
	FILE *f;
	size_t len;

	p = put_gz("t.csv.gz", text, strlen(text));
	KT_CHECK(kdd_csv_load(p, NULL, &s, &e) == 0);
	KT_CHECK(s.n == 3 && s.d == 2 && s.k == 3 && s.x[5] == 6);
	kdd_free(&s);

	/* a gzip file cut short is an error, not a shorter file */
	f = fopen(p, "rb");
	KT_CHECK(f != NULL);
	len = f ? fread(buf, 1, sizeof buf, f) : 0;
	if (f)
		fclose(f);
	p = put("cut.csv.gz", buf, len - 6);
	KT_CHECK(kdd_csv_load(p, NULL, &s, &e) == -1);
	/* all of the text came out; the cut is in the gzip trailer after it */
	snprintf(want, sizeof want, "'%s': truncated in line 3 (the gzip data ends early)", p);
	CHECK_MSG(e, want);
}

/* big: many rows across the reader's 64 KiB chunks, with a CRLF split
 * exactly at the first chunk boundary; line numbers must stay right */
static void
test_csv_chunks(void)
{
	size_t cap = 1 << 20, len = 0, lines = 0;
	char *t = malloc(cap), want[300];
	kdd_set s;
	kd_err e = { "", 0 };
	const char *p;

	/* 9361 lines of 7 bytes end at 65527; the next line's CR is byte 65535 */
	for (int i = 0; i < 9361; i++, lines++)
		len += (size_t)sprintf(t + len, "1,2,0\r\n");
	len += (size_t)sprintf(t + len, "1,2,   0\r\n");
	lines++;
	KT_CHECK(t[65535] == '\r' && t[65536] == '\n');
	for (int i = 0; i < 20000; i++, lines++)
		len += (size_t)sprintf(t + len, "%d,%d.5,%d\r\n", i, -i, i % 7);
	p = put("big.csv", t, len);
	KT_CHECK(kdd_csv_load(p, NULL, &s, &e) == 0);
	KT_CHECK(s.n == lines && s.k == 7 && s.id[s.n - 1] == s.n - 1);
	KT_CHECK(s.x[2 * (s.n - 1)] == 19999 && s.x[2 * (s.n - 1) + 1] == -19999.5f);
	kdd_free(&s);
	len += (size_t)sprintf(t + len, "1,oops,0\r\n");
	p = put("big.csv", t, len);
	KT_CHECK(kdd_csv_load(p, NULL, &s, &e) == -1);
	snprintf(want, sizeof want, "'%s':%zu:2: 'oops' is not a number", p,
	         lines + 1);
	CHECK_MSG(e, want);

	/* a lone CR (old Mac line end) at the chunk boundary */
	len = 0;
	for (int i = 0; i < 9361; i++)
		len += (size_t)sprintf(t + len, "1,2,0\r\n");
	len += (size_t)sprintf(t + len, "1,2,   0\r3,4,1\nx,1,1\n");
	KT_CHECK(t[65535] == '\r' && t[65536] == '3');
	p = put("big.csv", t, len);
	KT_CHECK(kdd_csv_load(p, NULL, &s, &e) == -1);
	snprintf(want, sizeof want, "'%s':9364:1: 'x' is not a number", p);
	CHECK_MSG(e, want);

	/* the same through gzip */
	p = put_gz("big.csv.gz", t, len);
	KT_CHECK(kdd_csv_load(p, NULL, &s, &e) == -1);
	snprintf(want, sizeof want, "'%s':9364:1: 'x' is not a number", p);
	CHECK_MSG(e, want);
	free(t);
}

static void
test_csv_reader(void)
{
	const char *p = puts_file("r.csv", "a,b\n\"x,y\",\"2\"\"\"\r\n\n  3 ,4");
	kd_err e = { "", 0 };
	kdd_csv_reader *r = kdd_csv_open(p, &e);
	char **f;
	size_t nf;

	KT_CHECK(r != NULL);
	if (!r)
		return;
	KT_CHECK(!strcmp(kdd_csv_name(r), p));
	KT_CHECK(kdd_csv_next(r, &f, &nf, &e) == 1);
	KT_CHECK(nf == 2 && !strcmp(f[0], "a") && !strcmp(f[1], "b"));
	KT_CHECK(kdd_csv_line(r) == 1);
	KT_CHECK(kdd_csv_next(r, &f, &nf, &e) == 1);
	KT_CHECK(nf == 2 && !strcmp(f[0], "x,y") && !strcmp(f[1], "2\""));
	KT_CHECK(kdd_csv_line(r) == 2);
	KT_CHECK(kdd_csv_next(r, &f, &nf, &e) == 1);
	KT_CHECK(nf == 2 && !strcmp(f[0], "3") && !strcmp(f[1], "4"));
	KT_CHECK(kdd_csv_line(r) == 4);
	KT_CHECK(kdd_csv_next(r, &f, &nf, &e) == 0);
	KT_CHECK(kdd_csv_next(r, &f, &nf, &e) == 0);
	kdd_csv_close(r);
	kdd_csv_close(NULL);

	/* errors stick */
	p = puts_file("r.csv", "1,2\n3,4\"5\n6,7\n");
	r = kdd_csv_open(p, &e);
	KT_CHECK(r != NULL);
	if (!r)
		return;
	KT_CHECK(kdd_csv_next(r, &f, &nf, &e) == 1);
	KT_CHECK(kdd_csv_next(r, &f, &nf, &e) == -1);
	KT_CHECK(strstr(e.msg, ":2:2: malformed quoting") != NULL);
	kd_err_clear(&e);
	KT_CHECK(kdd_csv_next(r, &f, &nf, &e) == -1);
	KT_CHECK(strstr(e.msg, ":2:2: malformed quoting") != NULL);
	kdd_csv_close(r);

	KT_CHECK(kdd_csv_open(tpath("nope.csv"), &e) == NULL);
	KT_CHECK(strstr(e.msg, "No such file or directory") != NULL);
}

/* with_stdin: run load("-") with standard input read from path. */
static int
load_stdin(const char *path, kdd_set *s, kd_err *e)
{
	int saved = dup(0), rc;
	FILE *f = fopen(path, "rb");

	if (saved < 0 || !f)
		return -2;
	dup2(fileno(f), 0);
	fclose(f);
	rc = kdd_load("-", NULL, s, e);
	dup2(saved, 0);
	close(saved);
	return rc;
}

static void
test_csv_stdin(void)
{
	kdd_set s;
	kd_err e = { "", 0 };
	const char *p = puts_file("in.csv", "1,2,1\n3,4,0\n");

	KT_CHECK(load_stdin(p, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.k == 2);
	kdd_free(&s);
	p = puts_file("in.csv", "1,2,1\n3,4\n");
	KT_CHECK(load_stdin(p, &s, &e) == -1);
	CHECK_MSG(e, "'stdin':2:3: expected 3 fields as on line 1, found 2");
}

/* idx_bytes: an IDX images file of n images of rows x cols, pixel i of the
 * whole file = (i * 37) % 256, into buf; its length. */
static size_t
idx_images(unsigned char *buf, uint32_t magic, uint32_t n, uint32_t rows,
           uint32_t cols, size_t npx)
{
	uint32_t h[4] = { magic, n, rows, cols };
	size_t len = 0;

	for (int i = 0; i < 4; i++) {
		buf[len++] = (unsigned char)(h[i] >> 24);
		buf[len++] = (unsigned char)(h[i] >> 16);
		buf[len++] = (unsigned char)(h[i] >> 8);
		buf[len++] = (unsigned char)h[i];
	}
	for (size_t i = 0; i < npx; i++)
		buf[len++] = (unsigned char)(i * 37 % 256);
	return len;
}

static size_t
idx_labels(unsigned char *buf, uint32_t n, const unsigned char *lab, size_t nl)
{
	uint32_t h[2] = { 0x801, n };
	size_t len = 0;

	for (int i = 0; i < 2; i++) {
		buf[len++] = (unsigned char)(h[i] >> 24);
		buf[len++] = (unsigned char)(h[i] >> 16);
		buf[len++] = (unsigned char)(h[i] >> 8);
		buf[len++] = (unsigned char)h[i];
	}
	memcpy(buf + len, lab, nl);
	return len + nl;
}

static void
check_tiny(const kdd_set *s, int labelled)
{
	KT_CHECK(s->n == 3 && s->d == 6 && s->width == 3 && s->height == 2);
	for (size_t i = 0; i < 18; i++)
		KT_NEAR(s->x[i], (double)(i * 37 % 256) / 255.0, 1e-7);
	KT_CHECK(s->id[0] == 0 && s->id[2] == 2);
	if (labelled) {
		KT_CHECK(s->y && s->y[0] == 2 && s->y[1] == 0 && s->y[2] == 5);
		KT_CHECK(s->k == 6);
	} else {
		KT_CHECK(s->y == NULL && s->k == 0);
	}
}

static void
test_idx_roundtrip(void)
{
	static const unsigned char lab[3] = { 2, 0, 5 };
	unsigned char ib[64], lb[32];
	size_t il = idx_images(ib, 0x803, 3, 2, 3, 18);
	size_t ll = idx_labels(lb, 3, lab, 3);
	const char *ip, *lp;
	char dir[160];
	kdd_set s;
	kd_err e = { "", 0 };

	ip = put("tiny-images-idx3-ubyte", ib, il);
	lp = put("tiny-labels-idx1-ubyte", lb, ll);
	KT_CHECK(kdd_idx_load(ip, lp, &s, &e) == 0);
	check_tiny(&s, 1);
	kdd_free(&s);
	KT_CHECK(kdd_idx_load(ip, NULL, &s, &e) == 0);
	check_tiny(&s, 0);
	kdd_free(&s);
	/* kdd_load finds the labels beside the images */
	KT_CHECK(kdd_load(ip, NULL, &s, &e) == 0);
	check_tiny(&s, 1);
	kdd_free(&s);

	ip = put_gz("gz-images-idx3-ubyte.gz", ib, il);
	lp = put_gz("gz-labels-idx1-ubyte.gz", lb, ll);
	KT_CHECK(kdd_idx_load(ip, lp, &s, &e) == 0);
	check_tiny(&s, 1);
	kdd_free(&s);
	KT_CHECK(kdd_load(ip, NULL, &s, &e) == 0);
	check_tiny(&s, 1);
	kdd_free(&s);
	{
		kdd_load_opts o = { .csv = { .unlabelled = 1 } }; /* unlabelled */
		KT_CHECK(kdd_load(ip, &o, &s, &e) == 0);
		check_tiny(&s, 0);
		kdd_free(&s);
		o.csv.unlabelled = 0;
		o.csv.max_k = 5;
		KT_CHECK(kdd_load(ip, &o, &s, &e) == -1);
		KT_CHECK(strstr(e.msg, "label 5 is out of range (at most 4)") != NULL);
	}

	/* by content, whatever the name: no labels found */
	ip = put("pics.bin", ib, il);
	KT_CHECK(kdd_load(ip, NULL, &s, &e) == 0);
	check_tiny(&s, 0);
	kdd_free(&s);

	/* a directory with one images file (gzip images, plain labels) */
	snprintf(dir, sizeof dir, "%s/dir", tmpdir);
	KT_CHECK(mkdir(dir, 0700) == 0);
	put_gz("dir/x-images-idx3-ubyte.gz", ib, il);
	put("dir/x-labels-idx1-ubyte", lb, ll);
	KT_CHECK(kdd_load(dir, NULL, &s, &e) == 0);
	check_tiny(&s, 1);
	kdd_free(&s);
	put("dir/y-images-idx3-ubyte", ib, il);
	KT_CHECK(kdd_load(dir, NULL, &s, &e) == -1);
	KT_CHECK(strstr(e.msg, "2 IDX images files") && strstr(e.msg, "name one"));
}

/* idx_error: loading these images (gzip-compressed when gz) and labels
 * must fail with "'PATH'" + rest, PATH the labels' path when on_labels. */
static void
idx_error(const unsigned char *ib, size_t il, const unsigned char *lb,
          size_t ll, int gz, int on_labels, const char *rest, int line)
{
	const char *ip = gz ? put_gz("e-images.gz", ib, il) : put("e-images", ib, il);
	const char *lp = lb ? put("e-labels", lb, ll) : NULL;
	char want[600];
	kdd_set s;
	kd_err e = { "", 0 };

	if (kdd_idx_load(ip, lp, &s, &e) != -1)
		kt_fail(__FILE__, line, "kdd_idx_load accepted bad input");
	snprintf(want, sizeof want, "'%s'%s", on_labels ? lp : ip, rest);
	check_msg(e.msg, want, line);
	if (s.x || s.y || s.n)
		kt_fail(__FILE__, line, "set not zeroed on failure");
}
#define IDX_ERROR(ib, il, lb, ll, gz, on_labels, rest) \
	idx_error((ib), (il), (lb), (ll), (gz), (on_labels), (rest), __LINE__)

static void
test_idx_errors(void)
{
	static const unsigned char lab[3] = { 1, 2, 3 };
	unsigned char ib[64], lb[32];
	char want[400];
	kdd_set s;
	kd_err e = { "", 0 };
	const char *ip, *lp;
	size_t il, ll;

	il = idx_images(ib, 0x802, 3, 2, 3, 18);
	IDX_ERROR(ib, il, NULL, 0, 0, 0,
	          ": bad magic 0x00000802 (not an IDX images file)");
	il = idx_images(ib, 0x803, 3, 2, 3, 18);
	IDX_ERROR(ib, 12, NULL, 0, 0, 0, ": truncated IDX header");
	IDX_ERROR(ib, 2, NULL, 0, 0, 0, ": truncated IDX header");
	IDX_ERROR(ib, il - 4, NULL, 0, 0, 0,
	          ": truncated: 3 images of 2x3 need 34 bytes, the file has 30");
	IDX_ERROR(ib, il - 4, NULL, 0, 1, 0, ": truncated after 2 of 3 images");
	{
		unsigned char more[80];
		memcpy(more, ib, il);
		more[il] = 7;
		IDX_ERROR(more, il + 1, NULL, 0, 0, 0,
		          ": unexpected data after 3 images");
		IDX_ERROR(more, il + 1, NULL, 0, 1, 0,
		          ": unexpected data after 3 images");
	}
	il = idx_images(ib, 0x803, 0, 2, 3, 0);
	IDX_ERROR(ib, il, NULL, 0, 0, 0, ": no images");
	il = idx_images(ib, 0x803, 3, 0, 3, 0);
	IDX_ERROR(ib, il, NULL, 0, 0, 0, ": bad image size 0x3");
	il = idx_images(ib, 0x803, 0x80000000u, 1000, 1000, 0);
	IDX_ERROR(ib, il, NULL, 0, 1, 0,
	          ": 2147483648 images of 1000x1000 are too many pixels");
	il = idx_images(ib, 0x803, 70000, 28, 28, 0);
	IDX_ERROR(ib, il, NULL, 0, 0, 0, ": truncated: 70000 images of 28x28 "
	          "need 54880016 bytes, the file has 16");
	IDX_ERROR(ib, il, NULL, 0, 1, 0, ": truncated after 0 of 70000 images");

	il = idx_images(ib, 0x803, 3, 2, 3, 18);
	ll = idx_labels(lb, 3, lab, 2);
	IDX_ERROR(ib, il, lb, ll, 0, 1, ": truncated after 2 of 3 labels");
	IDX_ERROR(ib, il, ib, il, 0, 1, ": an IDX images file, not labels");
	ll = idx_labels(lb, 3, lab, 3);
	IDX_ERROR(lb, ll, NULL, 0, 0, 0, ": an IDX labels file, not images");

	ll = idx_labels(lb, 2, lab, 2);
	ip = put("m-images", ib, il);
	lp = put("m-labels", lb, ll);
	KT_CHECK(kdd_idx_load(ip, lp, &s, &e) == -1);
	snprintf(want, sizeof want, "'%s' has 3 images but '%s' has 2 labels",
	         ip, lp);
	CHECK_MSG(e, want);
	KT_CHECK(e.code == KD_EMISMATCH);
}

static void
test_load_dispatch(void)
{
	/* the zstd magic, then a frame descriptor with the checksum flag */
	static const unsigned char zst[8] = { 0x28, 0xB5, 0x2F, 0xFD, 0x04, 0, 0, 0 };
	static const unsigned char lab[10] = { 0, 0, 8, 1, 0, 0, 0, 2, 1, 0 };
	kdd_set s;
	kd_err e = { "", 0 };
	char want[300];
	const char *p;

	p = puts_file("d.csv", "1,2,0\n3,4,1\n");
	KT_CHECK(kdd_load(p, NULL, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.d == 2 && s.k == 2);
	kdd_free(&s);
	p = put_gz("d.csv.gz", "1,2,0\n3,4,1\n", 12);
	KT_CHECK(kdd_load(p, NULL, &s, &e) == 0);
	KT_CHECK(s.n == 2 && s.d == 2 && s.k == 2);
	kdd_free(&s);
	p = puts_file("short.csv", "1");
	{
		kdd_load_opts o = { .csv = { .unlabelled = 1 } };
		KT_CHECK(kdd_load(p, &o, &s, &e) == 0);
		KT_CHECK(s.n == 1 && s.d == 1 && s.x[0] == 1);
		kdd_free(&s);
	}

	p = put("s.kd", zst, sizeof zst);
	KT_CHECK(kdd_load(p, NULL, &s, &e) == -1);
	snprintf(want, sizeof want, "'%s': truncated in the header", p); /* read as a kd stream */
	CHECK_MSG(e, want);

	p = put("l-labels-idx1-ubyte", lab, sizeof lab);
	KT_CHECK(kdd_load(p, NULL, &s, &e) == -1);
	snprintf(want, sizeof want, "'%s': an IDX labels file; give the images file", p);
	CHECK_MSG(e, want);

	KT_CHECK(kdd_load("fashion-mnist:validation", NULL, &s, &e) == -1);
	CHECK_MSG(e, "unknown data set 'fashion-mnist:validation' (use "
	          "fashion-mnist:train or fashion-mnist:test)");

	p = tpath("absent");
	KT_CHECK(kdd_load(p, NULL, &s, &e) == -1);
	snprintf(want, sizeof want, "cannot open '%s': No such file or directory", p);
	CHECK_MSG(e, want);
	KT_CHECK(s.n == 0 && s.x == NULL);
}

static void
test_fashion_mnist(void)
{
	kdd_set s;
	kd_err e = { "", 0 };
	float lo = 1, hi = 0;
	size_t count[10] = { 0 };
	int labels_ok = 1;

	KT_CHECK(kdd_load("fashion-mnist:test", NULL, &s, &e) == 0);
	if (e.msg[0])
		printf("# %s\n", e.msg);
	KT_CHECK(s.n == 10000 && s.d == 784 && s.k == 10);
	KT_CHECK(s.width == 28 && s.height == 28);
	if (s.n != 10000 || !s.y)
		goto out;
	KT_CHECK(s.y[0] == 9); /* ankle boot */
	KT_CHECK(s.id[9999] == 9999);
	for (size_t i = 0; i < s.n * s.d; i++) {
		lo = s.x[i] < lo ? s.x[i] : lo;
		hi = s.x[i] > hi ? s.x[i] : hi;
	}
	KT_CHECK(lo == 0.0f && hi == 1.0f);
	for (size_t i = 0; i < s.n; i++) {
		if (s.y[i] < 0 || s.y[i] > 9)
			labels_ok = 0;
		else
			count[s.y[i]]++;
	}
	KT_CHECK(labels_ok);
	for (int c = 0; c < 10; c++)
		KT_CHECK(count[c] == 1000);
	kdd_free(&s);

	/* the same files through their path, and their directory */
	KT_CHECK(kdd_load(FMNIST "/t10k-images-idx3-ubyte.gz", NULL, &s, &e) == 0);
	KT_CHECK(s.n == 10000 && s.k == 10 && s.y && s.y[0] == 9);
	kdd_free(&s);
	KT_CHECK(kdd_load(FMNIST, NULL, &s, &e) == -1);
	KT_CHECK(strstr(e.msg, "name one") != NULL);
out:
	kdd_free(&s);
}

/* make_set: n rows of d features, x[i][j] = i + j / 1000, y = i % 3. */
static void
make_set(kdd_set *s, size_t n, size_t d)
{
	kd_err e = { "", 0 };

	KT_CHECK(kdd_alloc(s, n, d, 1, &e) == 0);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d; j++)
			s->x[i * d + j] = (float)i + (float)j / 1000.0f;
		s->y[i] = (int32_t)(i % 3);
		s->id[i] = 100 + i;
	}
	s->k = 3;
}

static void
test_subset(void)
{
	static const uint32_t idx[4] = { 4, 0, 4, 2 };
	static const uint32_t bad[2] = { 1, 5 };
	kdd_set s, t;
	kd_err e = { "", 0 };

	make_set(&s, 5, 2);
	s.width = 2;
	s.height = 1;
	KT_CHECK(kdd_subset(&s, idx, 4, &t, &e) == 0);
	KT_CHECK(t.n == 4 && t.d == 2 && t.k == 3 && t.width == 2 && t.height == 1);
	KT_CHECK(t.id[0] == 104 && t.id[1] == 100 && t.id[2] == 104 && t.id[3] == 102);
	KT_CHECK(t.x[0] == 4.0f && t.x[3] == s.x[1] && t.x[6] == 2.0f);
	KT_CHECK(t.y[0] == 1 && t.y[1] == 0 && t.y[3] == 2);
	kdd_free(&t);
	KT_CHECK(kdd_subset(&s, bad, 2, &t, &e) == -1);
	CHECK_MSG(e, "row 5 out of range: the set has 5 rows");
	KT_CHECK(t.x == NULL);
	KT_CHECK(kdd_subset(&s, idx, 0, &t, &e) == 0);
	KT_CHECK(t.n == 0 && t.y != NULL && t.k == 3);
	kdd_free(&t);
	kdd_free(&s);
}

static void
test_split(void)
{
	kdd_set s, tr, va, tr2, va2;
	kd_err e = { "", 0 };
	int seen[100] = { 0 }, ordered = 1, same = 1, differ = 0;

	make_set(&s, 100, 3);
	KT_CHECK(kdd_split(&s, 20, 7, &tr, &va, &e) == 0);
	KT_CHECK(va.n == 20 && tr.n == 80 && va.d == 3 && tr.k == 3);
	for (size_t i = 0; i < va.n; i++)
		seen[va.id[i] - 100]++;
	for (size_t i = 0; i < tr.n; i++)
		seen[tr.id[i] - 100]++;
	for (int i = 0; i < 100; i++)
		KT_CHECK(seen[i] == 1);
	for (size_t i = 1; i < va.n; i++)
		ordered &= va.id[i - 1] < va.id[i];
	for (size_t i = 1; i < tr.n; i++)
		ordered &= tr.id[i - 1] < tr.id[i];
	KT_CHECK(ordered);
	for (size_t i = 0; i < tr.n; i++) {
		size_t r = tr.id[i] - 100;
		KT_CHECK(tr.x[i * 3 + 2] == s.x[r * 3 + 2] && tr.y[i] == s.y[r]);
	}

	/* the same seed, the same split; another seed, another */
	KT_CHECK(kdd_split(&s, 20, 7, &tr2, &va2, &e) == 0);
	for (size_t i = 0; i < 20; i++)
		same &= va.id[i] == va2.id[i];
	KT_CHECK(same);
	kdd_free(&tr2);
	kdd_free(&va2);
	KT_CHECK(kdd_split(&s, 20, 8, &tr2, &va2, &e) == 0);
	for (size_t i = 0; i < 20; i++)
		differ |= va.id[i] != va2.id[i];
	KT_CHECK(differ);
	kdd_free(&tr2);
	kdd_free(&va2);
	kdd_free(&tr);
	kdd_free(&va);

	KT_CHECK(kdd_split(&s, 0, 1, &tr, &va, &e) == 0);
	KT_CHECK(tr.n == 100 && va.n == 0 && va.y != NULL && va.k == 3);
	KT_CHECK(tr.id[0] == 100 && tr.id[99] == 199);
	kdd_free(&tr);
	kdd_free(&va);
	KT_CHECK(kdd_split(&s, 100, 1, &tr, &va, &e) == 0);
	KT_CHECK(tr.n == 0 && va.n == 100);
	kdd_free(&tr);
	kdd_free(&va);
	KT_CHECK(kdd_split(&s, 101, 1, &tr, &va, &e) == -1);
	CHECK_MSG(e, "cannot hold out 101 rows for validation from a set of 100");
	kdd_free(&s);
}

static void
test_moments(void)
{
	/* by hand: column 0 = 1, 2, 4: mean 7/3, variance (16/9 + 1/9 + 25/9)/3
	 * = 14/9; column 1 = 1000, 1000, 1003: mean 1001, variance 6/3 = 2 */
	static float x[6] = { 1, 1000, 2, 1000, 4, 1003 };
	kdd_set s = { .n = 3, .d = 2, .x = x };
	float mean[1100], sd[1100];
	kdd_set w;

	kdd_moments(&s, mean, sd);
	KT_NEAR(mean[0], 7.0 / 3.0, 1e-6);
	KT_NEAR(sd[0], sqrt(14.0 / 9.0), 1e-6);
	KT_NEAR(mean[1], 1001.0, 1e-4);
	KT_NEAR(sd[1], sqrt(2.0), 1e-6);

	/* more columns than one block of 1024; a large offset; constant columns */
	make_set(&w, 4, 1100);
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 1100; j++)
			w.x[i * 1100 + j] = j == 1050 ? 1e6f + (float)(i % 2) : (float)j;
	kdd_moments(&w, mean, sd);
	for (size_t j = 0; j < 1100; j++) {
		if (j == 1050)
			continue;
		KT_NEAR(mean[j], (double)j, 1e-6);
		KT_NEAR(sd[j], 0.0, 1e-9);
	}
	KT_NEAR(mean[1050], 1e6 + 0.5, 1e-3);
	KT_NEAR(sd[1050], 0.5, 1e-9);
	kdd_free(&w);

	s.n = 0;
	mean[0] = sd[0] = 9;
	kdd_moments(&s, mean, sd);
	KT_CHECK(mean[0] == 0 && sd[0] == 0);
}

int
main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/kd-test-data-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	KT_RUN(test_parse_float);
	KT_RUN(test_csv_basic);
	KT_RUN(test_csv_label_columns);
	KT_RUN(test_csv_line_ends);
	KT_RUN(test_csv_quoted);
	KT_RUN(test_csv_errors);
	KT_RUN(test_csv_wide);
	KT_RUN(test_csv_gzip);
	KT_RUN(test_csv_chunks);
	KT_RUN(test_csv_reader);
	KT_RUN(test_csv_stdin);
	KT_RUN(test_idx_roundtrip);
	KT_RUN(test_idx_errors);
	KT_RUN(test_load_dispatch);
	if (access(FMNIST "/t10k-images-idx3-ubyte.gz", R_OK) == 0 &&
	    access(FMNIST "/t10k-labels-idx1-ubyte.gz", R_OK) == 0)
		KT_RUN(test_fashion_mnist);
	else
		kt_skip("test_fashion_mnist", "no " FMNIST);
	KT_RUN(test_subset);
	KT_RUN(test_split);
	KT_RUN(test_moments);
	for (int i = nmade - 1; i >= 0; i--)
		unlink(made[i]);
	{
		char dir[160];
		snprintf(dir, sizeof dir, "%s/dir", tmpdir);
		rmdir(dir);
	}
	rmdir(tmpdir);
	return kt_done();
}
