/* test_kdcat.c: streams to and from CSV (kdcat.h), checked against text
 * and probabilities worked by hand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdcat.h"
#include "kdtest.h"
#include "prob.h"

/* a temporary file holding text, its path in path (64 bytes) */
static int
put_file(char *path, const char *text)
{
	int fd;
	FILE *f;

	strcpy(path, "/tmp/test_kdcat.XXXXXX");
	if ((fd = mkstemp(path)) < 0 || !(f = fdopen(fd, "w")))
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* read_all: the whole of f from its start, into buf (cap bytes) */
static char *
read_all(FILE *f, char *buf, size_t cap)
{
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	return buf;
}

/* import_to: CSV text imported with o into a stream file, its path in
 * spath; 0 or -1 with e set */
static int
import_to(const char *text, const kdcat_import_opts *o, char *spath, kd_err *e)
{
	char cpath[64];
	FILE *s;
	int rc;

	if (put_file(cpath, text) || put_file(spath, ""))
		return -1;
	s = fopen(spath, "wb");
	rc = s ? kdcat_import(cpath, o, s, spath, e) : -1;
	if (s)
		fclose(s);
	unlink(cpath);
	return rc;
}

/* plain rows with a label column in, kd-cat's CSV out, to the bit */
static void
test_import_export(void)
{
	kdcat_import_opts o;
	kd_err e = { { 0 }, 0 };
	char spath[64], buf[1024];
	FILE *out = tmpfile();

	kdcat_import_opts_init(&o);
	o.label_col = 3;
	KT_CHECK(import_to("1.5,-2,1\n0.1,1e-3,0\n", &o, spath, &e) == 0);
	KT_CHECK(out && kdcat_export(spath, 0, out, &e) == 0);
	if (out)
		KT_CHECK(!strcmp(read_all(out, buf, sizeof buf),
		                 "#kd-stream,kind=logits,temperature=1\n"
		                 "id,label,z0,z1\n"
		                 "0,1,1.5,-2\n"
		                 "1,0,0.100000001,0.00100000005\n"));
	unlink(spath);
	if (out)
		fclose(out);
}

/* kd-cat's own text reads back with its kind, temperature and names */
static void
test_header_round_trip(void)
{
	const char *text = "#kd-stream,kind=probs,temperature=4,names,\"a \"\"b\"\"\",\"c\"\n"
	                   "id,label,p0,p1\n"
	                   "7,1,0.25,0.75\n";
	kdcat_import_opts o;
	kd_err e = { { 0 }, 0 };
	char spath[64], buf[1024];
	FILE *out = tmpfile();

	kdcat_import_opts_init(&o);
	KT_CHECK(import_to(text, &o, spath, &e) == 0);
	KT_CHECK(out && kdcat_export(spath, 0, out, &e) == 0);
	if (out)
		KT_CHECK(!strcmp(read_all(out, buf, sizeof buf), text));
	unlink(spath);
	if (out)
		fclose(out);
}

/* --top: logits (0, ln 3, ln 6) are probabilities 0.1, 0.3, 0.6; at
 * T = 2 a stream holding p^(1/2) normalised gives the same (the
 * temperature undone) */
static void
test_top_by_hand(void)
{
	kdcat_import_opts o;
	kd_err e = { { 0 }, 0 };
	char spath[64], text[256], buf[1024];
	FILE *out = tmpfile();
	double q[3] = { sqrt(0.1), sqrt(0.3), sqrt(0.6) }, s = q[0] + q[1] + q[2];

	kdcat_import_opts_init(&o);
	o.label_col = 1;
	snprintf(text, sizeof text, "2,0,%.17g,%.17g\n", log(3.0), log(6.0));
	KT_CHECK(import_to(text, &o, spath, &e) == 0);
	KT_CHECK(out && kdcat_top(spath, 2, out, &e) == 0);
	if (out)
		KT_CHECK(!strcmp(read_all(out, buf, sizeof buf),
		                 "id,label,class1,p1,class2,p2\n0,2,2,0.6000,1,0.3000\n"));
	unlink(spath);
	kdcat_import_opts_init(&o);
	o.kind = KDP_PROBS;
	o.temp = 2;
	o.temp_given = 1;
	snprintf(text, sizeof text, "%.17g,%.17g,%.17g\n", q[0] / s, q[1] / s, q[2] / s);
	KT_CHECK(import_to(text, &o, spath, &e) == 0);
	if (out) {
		rewind(out);
		KT_CHECK(ftruncate(fileno(out), 0) == 0);
	}
	KT_CHECK(out && kdcat_top(spath, 3, out, &e) == 0);
	if (out)
		KT_CHECK(!strcmp(read_all(out, buf, sizeof buf),
		                 "id,label,class1,p1,class2,p2,class3,p3\n0,,2,0.6000,1,0.3000,0,0.1000\n"));
	KT_CHECK(out && kdcat_top(spath, 4, out, &e) == -1);
	unlink(spath);
	if (out)
		fclose(out);
}

/* a bad row is named by file, line and column */
static void
test_import_errors(void)
{
	kdcat_import_opts o;
	kd_err e = { { 0 }, 0 };
	char spath[64];

	kdcat_import_opts_init(&o);
	KT_CHECK(import_to("1,2\n3,x\n", &o, spath, &e) == -1);
	KT_CHECK(strstr(e.msg, ":2:2:") != NULL);
	unlink(spath);
	KT_CHECK(import_to("1,2\n3\n", &o, spath, &e) == -1);
	KT_CHECK(strstr(e.msg, ":2") != NULL);
	unlink(spath);
}

int
main(void)
{
	KT_RUN(test_import_export);
	KT_RUN(test_header_round_trip);
	KT_RUN(test_top_by_hand);
	KT_RUN(test_import_errors);
	return kt_done();
}
