/* test_model.c: the .kdm model file: a bit-identical round trip, the
 * layout byte by byte, and every way kdmod_load must refuse a bad file, with
 * files written by hand in a temporary directory. */
#include "model.h"
#include "kdtest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

static char dir[256]; /* the temporary directory of this run */

/* tpath: a path in the temporary directory (a static buffer per call
 * site is enough: callers copy or use it at once) */
static const char *
tpath(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
	return buf;
}

static int
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	if (fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* read_file: the whole file in a new buffer, its size in *n */
static unsigned char *
read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p;
	long sz;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	p = malloc(sz > 0 ? (size_t)sz : 1);
	*n = fread(p, 1, (size_t)sz, f);
	fclose(f);
	return p;
}

/* count_entries: files in the temporary directory, . and .. aside */
static int
count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void
le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* fix_crc: recompute the trailing CRC-32 of a model image of n bytes */
static void
fix_crc(unsigned char *p, size_t n)
{
	le32(p + n - 4, (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)(n - 4)));
}

/* sample: a small model with standardisation and names */
static kdm_model *
sample(void)
{
	size_t hidden[2] = {5, 3};
	float mean[4] = {1.5f, -2, 0, 1e-30f}, sd[4] = {2, 0.5f, 0, 3e7f};
	const char *names[3] = {"zero", "\xc3\xa9t\xc3\xa9", "two"};
	kdm_model *m = kdm_new(4, hidden, 2, 3, 12, NULL);

	kdm_set_standardize(m, mean, sd, NULL);
	kdm_set_name_list(m, names, NULL);
	m->b[1][2] = -0.0f; /* the sign of zero must survive too */
	m->b[0][0] = 1e-40f; /* and a subnormal */
	return m;
}

/* expect_fail: loading path fails with a message containing want */
static void
expect_fail(const char *path, const char *want, int line)
{
	kd_err e = {{0}, 0};
	kdm_model *m = kdmod_load(path, &e);

	if (m || !strstr(e.msg, want)) {
		printf("# line %d: want '%s', got %s '%s'\n", line, want,
		       m ? "a model" : "error", e.msg);
		kt_fail(__FILE__, line, "load refused with the right message");
	}
	kdm_free(m);
}
#define EXPECT_FAIL(path, want) expect_fail(path, want, __LINE__)

/* expect_bytes_fail: write n bytes of p as a file and expect_fail it */
static void
expect_bytes_fail(const void *p, size_t n, const char *want, int line)
{
	char b[512];
	tpath(b, sizeof b, "bad.kdm");
	if (write_file(b, p, n) < 0) {
		kt_fail(__FILE__, line, "write the bad file");
		return;
	}
	expect_fail(b, want, line);
	unlink(b);
}
#define EXPECT_BYTES_FAIL(p, n, want) expect_bytes_fail(p, n, want, __LINE__)

static void
test_round_trip(void)
{
	char path[512];
	kd_err e = {{0}, 0};
	kdm_model *m = sample(), *r;

	tpath(path, sizeof path, "m.kdm");
	KT_CHECK(kdmod_save(m, path, &e) == 0);
	r = kdmod_load(path, &e);
	KT_CHECK(r != NULL);
	if (!r) {
		printf("# %s\n", e.msg);
		kdm_free(m);
		return;
	}
	KT_CHECK(r->n_layers == 3 && r->D == 4 && r->K == 3);
	KT_CHECK(memcmp(r->sizes, m->sizes, 4 * sizeof *r->sizes) == 0);
	KT_CHECK(r->nparams == m->nparams);
	KT_CHECK(memcmp(r->params, m->params, m->nparams * 4) == 0);
	KT_CHECK(r->standardize == 1);
	KT_CHECK(memcmp(r->mean, m->mean, 4 * 4) == 0);
	KT_CHECK(memcmp(r->std, m->std, 4 * 4) == 0);
	KT_CHECK(memcmp(r->istd, m->istd, 4 * 4) == 0);
	KT_CHECK(r->names_len == m->names_len);
	KT_CHECK(r->names && memcmp(r->names, m->names, m->names_len) == 0);
	KT_CHECK(!strcmp(kdm_name(r, 1), "\xc3\xa9t\xc3\xa9"));
	KT_CHECK(signbit(r->b[1][2]) && r->b[0][0] == 1e-40f);
	/* the same predictions */
	{
		float X[8] = {1, 2, 3, 4, -1, 0, 2, 1e8f}, z1[6], z2[6];
		kdm_ws *w1 = kdm_ws_new(m, 2), *w2 = kdm_ws_new(r, 2);
		kdm_forward(m, w1, X, 2, z1);
		kdm_forward(r, w2, X, 2, z2);
		KT_CHECK(memcmp(z1, z2, sizeof z1) == 0);
		kdm_ws_free(w1);
		kdm_ws_free(w2);
	}
	kdm_free(r);

	/* no standardisation, no names; saving over an existing file */
	kdm_set_standardize(m, NULL, NULL, NULL);
	kdm_set_names(m, NULL, 0, NULL);
	KT_CHECK(kdmod_save(m, path, &e) == 0);
	r = kdmod_load(path, &e);
	KT_CHECK(r && !r->standardize && !r->names && r->names_len == 0);
	KT_CHECK(r && memcmp(r->params, m->params, m->nparams * 4) == 0);
	kdm_free(r);
	KT_CHECK(count_entries() == 1); /* no temporary left behind */
	unlink(path);
	kdm_free(m);
}

/* the bytes on disk, field by field, as MODEL-FORMAT.md describes them */
static void
test_layout(void)
{
	char path[512];
	kdm_model *m = sample();
	unsigned char *p;
	size_t n, np = 4 * 5 + 5 + 5 * 3 + 3 + 3 * 3 + 3, o;
	struct stat st;
	mode_t old = umask(022);

	tpath(path, sizeof path, "layout.kdm");
	KT_CHECK(kdmod_save(m, path, NULL) == 0);
	umask(old);
	KT_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	p = read_file(path, &n);
	KT_CHECK(p != NULL);
	if (!p)
		return;
	/* header 16 + widths 4*4 + names length 8 + mean, std 2*4*4 +
	 * params + names "zero\0" "été\0" "two\0" + CRC */
	KT_CHECK(n == 16 + 16 + 8 + 32 + 4 * np + 5 + 6 + 4 + 4);
	KT_CHECK(!memcmp(p, "KDM\x1a", 4));
	KT_CHECK(get32(p + 4) == 1);
	KT_CHECK(get32(p + 8) == 3); /* standardize | names */
	KT_CHECK(get32(p + 12) == 3);
	KT_CHECK(get32(p + 16) == 4 && get32(p + 20) == 5 && get32(p + 24) == 3 &&
	         get32(p + 28) == 3);
	KT_CHECK(get32(p + 32) == 15 && get32(p + 36) == 0);
	o = 40;
	{
		float v;
		uint32_t u = get32(p + o); /* mean[0] = 1.5 */
		memcpy(&v, &u, 4);
		KT_CHECK(v == 1.5f);
		u = get32(p + o + 16); /* std[0] = 2 */
		memcpy(&v, &u, 4);
		KT_CHECK(v == 2.0f);
		u = get32(p + o + 32); /* W_0[0][0] */
		memcpy(&v, &u, 4);
		KT_CHECK(v == m->W[0][0]);
	}
	o = 40 + 32 + 4 * np;
	KT_CHECK(!memcmp(p + o, "zero\0\xc3\xa9t\xc3\xa9\0two\0", 15));
	KT_CHECK(get32(p + n - 4) ==
	         (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)(n - 4)));
	free(p);
	unlink(path);
	kdm_free(m);
}

/* a good image of the sample model, for the rejection tests */
static unsigned char *
good_image(size_t *n)
{
	char path[512];
	kdm_model *m = sample();
	unsigned char *p;

	tpath(path, sizeof path, "good.kdm");
	kdmod_save(m, path, NULL);
	p = read_file(path, n);
	unlink(path);
	kdm_free(m);
	return p;
}

static void
test_reject_basic(void)
{
	char path[512], msg[600];
	size_t n;
	unsigned char *p = good_image(&n), *q = malloc(n + 1);

	tpath(path, sizeof path, "missing.kdm");
	snprintf(msg, sizeof msg, "cannot open '%s': No such file", path);
	EXPECT_FAIL(path, msg);
	EXPECT_FAIL(dir, "Is a directory");

	EXPECT_BYTES_FAIL(p, 0, "not a kd model file");
	EXPECT_BYTES_FAIL("KD", 2, "not a kd model file");
	EXPECT_BYTES_FAIL("hello, world, this is text\n", 27, "not a kd model file");
	memcpy(q, p, n);
	q[3] = 0x1b;
	EXPECT_BYTES_FAIL(q, n, "not a kd model file");

	/* another version, by name; the whole message as specified */
	memcpy(q, p, n);
	le32(q + 4, 7);
	tpath(path, sizeof path, "bad.kdm");
	snprintf(msg, sizeof msg, "'%s': model format version 7 is not "
	         "supported (this kd reads version 1)", path);
	EXPECT_BYTES_FAIL(q, n, msg);
	le32(q + 4, 0);
	EXPECT_BYTES_FAIL(q, n, "version 0 is not supported");

	/* trailing garbage */
	memcpy(q, p, n);
	q[n] = 0;
	EXPECT_BYTES_FAIL(q, n + 1, "trailing garbage");

	/* a flipped byte in the data */
	memcpy(q, p, n);
	q[n / 2] ^= 0x40;
	snprintf(msg, sizeof msg, "'%s': checksum mismatch, file is corrupt", path);
	EXPECT_BYTES_FAIL(q, n, msg);
	/* in the checksum itself */
	memcpy(q, p, n);
	q[n - 1] ^= 1;
	EXPECT_BYTES_FAIL(q, n, "checksum mismatch");

	/* unknown flags, even with a good checksum */
	memcpy(q, p, n);
	q[8] |= 4;
	fix_crc(q, n);
	EXPECT_BYTES_FAIL(q, n, "unknown model flags 0x7");
	/* names that do not match K, with a good checksum */
	memcpy(q, p, n);
	q[n - 4 - 1 - 4] = 'X'; /* the NUL after "été" */
	fix_crc(q, n);
	EXPECT_BYTES_FAIL(q, n, "bad class names");
	/* a negative std, with a good checksum */
	memcpy(q, p, n);
	q[40 + 16 + 3] |= 0x80;
	fix_crc(q, n);
	EXPECT_BYTES_FAIL(q, n, "bad standardisation");
	free(p);
	free(q);
}

/* truncation at many offsets: every cut is refused, as truncated once
 * the magic is whole */
static void
test_reject_truncated(void)
{
	size_t n, bad = 0;
	unsigned char *p = good_image(&n);
	char path[512];

	tpath(path, sizeof path, "cut.kdm");
	for (size_t cut = 1; cut < n; cut++) {
		kd_err e = {{0}, 0};
		kdm_model *m;
		write_file(path, p, cut);
		m = kdmod_load(path, &e);
		if (m || !strstr(e.msg, cut < 4 ? "not a kd model file"
		                                 : "truncated")) {
			printf("# cut at %zu: %s\n", cut, e.msg);
			bad++;
		}
		kdm_free(m);
	}
	KT_CHECK(bad == 0);
	unlink(path);
	free(p);
}

/* every single flipped byte is refused; past the header, as a checksum
 * mismatch */
static void
test_reject_flipped(void)
{
	size_t n, bad = 0, hdr = 16 + 16 + 8;
	unsigned char *p = good_image(&n);
	char path[512];

	tpath(path, sizeof path, "flip.kdm");
	for (size_t i = 0; i < n; i++) {
		kd_err e = {{0}, 0};
		kdm_model *m;
		p[i] ^= 0xA5;
		write_file(path, p, n);
		p[i] ^= 0xA5;
		m = kdmod_load(path, &e);
		if (m || (i >= hdr && !strstr(e.msg, "checksum mismatch"))) {
			printf("# flip at %zu: %s\n", i, e.msg);
			bad++;
		}
		kdm_free(m);
	}
	KT_CHECK(bad == 0);
	unlink(path);
	free(p);
}

/* header: version 1, flags, L, widths[L+1], names length; padded with a
 * few bytes so only the sizes can be wrong */
static size_t
header(unsigned char *p, uint32_t flags, uint32_t L, const uint32_t *w,
       uint64_t names_len)
{
	size_t o = 16;
	memcpy(p, "KDM\x1a", 4);
	le32(p + 4, 1);
	le32(p + 8, flags);
	le32(p + 12, L);
	for (uint32_t l = 0; l <= L && l <= 70; l++, o += 4)
		le32(p + o, w[l]);
	le32(p + o, (uint32_t)names_len);
	le32(p + o + 4, (uint32_t)(names_len >> 32));
	o += 8;
	memset(p + o, 0, 64);
	return o + 64;
}

/* absurd sizes are refused by name, and sizes too big for the file are
 * refused as truncation, without allocating what the header claims */
static void
test_reject_sizes(void)
{
	unsigned char p[16 + 4 * 72 + 8 + 64];
	uint32_t w[72];
	size_t n;

	for (int i = 0; i < 72; i++)
		w[i] = 1u << 20;
	n = header(p, 0, 64, w, 0);
	EXPECT_BYTES_FAIL(p, n, "parameters is too many");
	n = header(p, 0, 65, w, 0);
	EXPECT_BYTES_FAIL(p, n, "65 weight layers is out of range (1 to 64)");
	n = header(p, 0, 0, w, 0);
	EXPECT_BYTES_FAIL(p, n, "0 weight layers is out of range");
	w[1] = (1u << 20) + 1;
	n = header(p, 0, 2, w, 0);
	EXPECT_BYTES_FAIL(p, n, "layer width 1048577 is out of range");
	w[1] = 0;
	n = header(p, 0, 2, w, 0);
	EXPECT_BYTES_FAIL(p, n, "layer width 0 is out of range");
	w[0] = (1u << 24) + 1;
	w[1] = 10;
	n = header(p, 0, 1, w, 0);
	EXPECT_BYTES_FAIL(p, n, "input dimension 16777217 is out of range");
	w[0] = 0xFFFFFFFFu;
	n = header(p, 0, 1, w, 0);
	EXPECT_BYTES_FAIL(p, n, "input dimension 4294967295 is out of range");
	/* valid but huge: 2^24 inputs, 127 units, 2 outputs is under 2^31
	 * parameters; the file is tiny, so it is truncated, and nothing of
	 * that size was allocated (ASan would notice an 8 GB calloc) */
	w[0] = 1u << 24;
	w[1] = 127;
	w[2] = 2;
	n = header(p, 1, 2, w, 0);
	EXPECT_BYTES_FAIL(p, n, "truncated model file");
	/* names: too long, or without their flag */
	w[0] = 2;
	w[1] = 2;
	n = header(p, 2, 1, w, (uint64_t)1 << 40);
	EXPECT_BYTES_FAIL(p, n, "bytes of class names is too many");
	n = header(p, 2, 1, w, 0xFFFFFFFFFFFFFFFFull);
	EXPECT_BYTES_FAIL(p, n, "bytes of class names is too many");
	n = header(p, 0, 1, w, 4);
	EXPECT_BYTES_FAIL(p, n, "without the names flag");
	/* a well-formed 2-2 model is 16+8+8 + 6*4 + 4 = 60 bytes; the header
	 * above padded to 96 is trailing garbage */
	n = header(p, 0, 1, w, 0);
	EXPECT_BYTES_FAIL(p, n, "trailing garbage");
	fix_crc(p, 60);
	{
		kd_err e = {{0}, 0};
		char path[512];
		kdm_model *m;
		tpath(path, sizeof path, "tiny.kdm");
		write_file(path, p, 60);
		m = kdmod_load(path, &e);
		KT_CHECK(m && m->D == 2 && m->K == 2 && m->params[0] == 0.0f);
		kdm_free(m);
		unlink(path);
	}
}

/* a model read through a pipe (e.g. bash's <(...)) */
static void
test_load_from_pipe(void)
{
	char path[512];
	size_t n;
	unsigned char *p = good_image(&n);

	tpath(path, sizeof path, "fifo");
	KT_CHECK(mkfifo(path, 0600) == 0);
	for (int round = 0; round < 2; round++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			/* only async-signal-safe calls in the child */
			int fd = open(path, O_WRONLY);
			if (fd >= 0 && round == 0 && write(fd, p, n) != (ssize_t)n)
				_exit(1);
			_exit(fd >= 0 && close(fd) == 0 ? 0 : 1);
		}
		kd_err e = {{0}, 0};
		kdm_model *m = kdmod_load(path, &e);
		int st;
		waitpid(pid, &st, 0);
		if (round == 0) {
			KT_CHECK(m && m->K == 3 && !strcmp(kdm_name(m, 2), "two"));
		} else {
			KT_CHECK(!m && strstr(e.msg, "not a kd model file"));
		}
		kdm_free(m);
	}
	unlink(path);
	free(p);
}

/* a failed save leaves no temporary file behind */
static void
test_save_failures(void)
{
	char path[512], sub[512];
	kdm_model *m = sample();
	kd_err e = {{0}, 0};

	tpath(path, sizeof path, "no/such/dir/m.kdm");
	KT_CHECK(kdmod_save(m, path, &e) == -1);
	KT_CHECK(strstr(e.msg, "cannot create a temporary file for") != NULL);
	KT_CHECK(strstr(e.msg, "No such file or directory") != NULL);
	/* a directory is refused before anything is written */
	tpath(sub, sizeof sub, "adir");
	KT_CHECK(mkdir(sub, 0700) == 0);
	tpath(path, sizeof path, "adir/x");
	KT_CHECK(mkdir(path, 0700) == 0);
	KT_CHECK(kdmod_save(m, sub, &e) == -1);
	KT_CHECK(strstr(e.msg, "Is a directory") != NULL);
	KT_CHECK(count_entries() == 1); /* adir alone */
	rmdir(path);
	rmdir(sub);
	kdm_free(m);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof dir, "%s/kd-test-model.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	KT_RUN(test_round_trip);
	KT_RUN(test_layout);
	KT_RUN(test_reject_basic);
	KT_RUN(test_reject_truncated);
	KT_RUN(test_reject_flipped);
	KT_RUN(test_reject_sizes);
	KT_RUN(test_load_from_pipe);
	KT_RUN(test_save_failures);
	if (count_entries() != 0)
		printf("# files left in %s\n", dir);
	rmdir(dir);
	return kt_done();
}
