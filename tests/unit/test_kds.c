/* test_kds.c: the kd stream format, its reader's rejections, and softmax. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "kdtest.h"
#include "kds.h"
#include "le.h"
#include "prob.h"

/* ---- softmax against hand-computed values ---- */

static void
test_softmax_hand_values(void)
{
	float z[3] = { 1, 2, 3 }, p[3], lp[3];
	/* e^1, e^2, e^3 = 2.71828, 7.38906, 20.08554; sum 30.19288 */
	kdp_softmax(z, 3, 1.0, p);
	KT_NEAR(p[0], 0.0900, 5e-5);
	KT_NEAR(p[1], 0.2447, 5e-5);
	KT_NEAR(p[2], 0.6652, 5e-5);
	/* at T=2: e^0.5, e^1, e^1.5 = 1.64872, 2.71828, 4.48169; sum 8.84869 */
	kdp_softmax(z, 3, 2.0, p);
	KT_NEAR(p[0], 0.1863, 5e-5);
	KT_NEAR(p[1], 0.3072, 5e-5);
	KT_NEAR(p[2], 0.5065, 5e-5);
	kdp_log_softmax(z, 3, 1.0, lp);
	KT_NEAR(lp[2], log(0.66524096), 1e-6);
}

static void
test_softmax_extremes(void)
{
	float z[4] = { 1e4f, -1e4f, 0.0f, 5e3f }, p[4], lp[4];
	float big[2] = { 3e38f, -3e38f };
	double sum = 0;

	kdp_softmax(z, 4, 1e5, p);
	for (int i = 0; i < 4; i++) {
		KT_CHECK(isfinite(p[i]) && p[i] > 0);
		sum += p[i];
	}
	KT_NEAR(sum, 1.0, 1e-6);
	/* at T = 1e5 the logits differ by at most 0.2: nearly uniform */
	KT_NEAR(p[0], exp(0.1) / (exp(0.1) + exp(-0.1) + 1 + exp(0.05)), 1e-6);
	kdp_softmax(z, 4, 1.0, p);
	KT_NEAR(p[0], 1.0, 1e-7);
	KT_CHECK(p[1] == 0.0f);
	kdp_log_softmax(z, 4, 1.0, lp);
	KT_NEAR(lp[1], -2e4, 1e-1);
	kdp_softmax(big, 2, 1e-6, p);
	KT_CHECK(p[0] == 1.0f && p[1] == 0.0f);
	kdp_softmax(big, 2, 1e6, p);
	KT_CHECK(isfinite(p[0]) && isfinite(p[1]));
}

static void
test_soften_kinds_agree(void)
{
	/* softening logits, their probabilities or their log-probabilities
	 * at T must give the same distribution: p^(1/T) normalised */
	float z[5] = { 0.3f, -1.2f, 2.5f, 0.0f, 1.1f }, p[5], lp[5], a[5], b[5], c[5];
	kdp_softmax(z, 5, 1.0, p);
	kdp_log_softmax(z, 5, 1.0, lp);
	kdp_soften(KDP_LOGITS, z, 5, 3.0, 0, a);
	kdp_soften(KDP_PROBS, p, 5, 3.0, 0, b);
	kdp_soften(KDP_LOGPROBS, lp, 5, 3.0, 0, c);
	for (int i = 0; i < 5; i++) {
		KT_NEAR(a[i], b[i], 1e-6);
		KT_NEAR(a[i], c[i], 1e-6);
	}
	/* a zero probability stays zero and gives -inf in log form */
	float q[3] = { 0.5f, 0.5f, 0.0f }, r[3];
	kdp_soften(KDP_PROBS, q, 3, 2.0, 0, r);
	KT_CHECK(r[2] == 0.0f);
	KT_NEAR(r[0], 0.5, 1e-7);
	kdp_soften(KDP_PROBS, q, 3, 2.0, 1, r);
	KT_CHECK(isinf(r[2]) && r[2] < 0);
}

static void
test_check(void)
{
	float ok[2] = { 0.25f, 0.75f }, off[2] = { 0.5f, 0.6f }, nan2[2] = { NAN, 0.0f };
	float lp[2] = { -INFINITY, 0.0f };
	size_t bad = 99;
	KT_CHECK(kdp_check(KDP_PROBS, ok, 2, &bad) == 0);
	KT_CHECK(kdp_check(KDP_PROBS, off, 2, &bad) == -1 && bad == 2);
	KT_CHECK(kdp_check(KDP_LOGITS, nan2, 2, &bad) == -1 && bad == 0);
	KT_CHECK(kdp_check(KDP_LOGPROBS, lp, 2, &bad) == 0);
	KT_CHECK(kdp_check(KDP_LOGITS, lp, 2, &bad) == -1 && bad == 0);
}

/* ---- helpers: streams in memory ---- */

typedef struct membuf {
	char  *data;
	size_t len;
} membuf;

/* write_stream: n records of a K-class stream into m; labels and inputs
 * as asked; values are logits id*0.5 - k */
static void
write_stream(membuf *m, uint32_t K, uint64_t first_id, int n, int labels, int in_type,
             uint32_t dim)
{
	FILE *fp = open_memstream(&m->data, &m->len);
	kds_header h;
	kd_err e;
	kds_writer *w;
	float v[64], x[64];

	kds_header_init(&h, K, KDP_LOGITS);
	h.has_label = labels;
	h.input_type = in_type;
	h.dim = dim;
	w = kds_create(fp, "mem", &h, &e);
	KT_CHECK(w != NULL);
	for (int i = 0; i < n; i++) {
		kds_record r;
		for (uint32_t k = 0; k < K; k++)
			v[k] = (float)(first_id + (uint64_t)i) * 0.5f - (float)k;
		for (uint32_t j = 0; j < dim; j++)
			x[j] = (float)((i * 7 + (int)j) % 256) / 255.0f;
		r.id = first_id + (uint64_t)i;
		r.label = (int32_t)(((uint64_t)i + first_id) % K);
		r.values = v;
		r.inputs = x;
		KT_CHECK(kds_write(w, &r, &e) == 0);
	}
	KT_CHECK(kds_finish(w, &e) == 0);
	kds_writer_free(w);
	fclose(fp);
}

/* read_all: read the stream in buf; returns records read, or -1 with e */
static long
read_all(const void *buf, size_t len, kd_err *e)
{
	FILE *fp;
	kds_reader *r;
	kds_record rec;
	long n = 0;
	int got;

	if (len == 0)
		fp = fopen("/dev/null", "rb");
	else
		fp = fmemopen((void *)buf, len, "rb");
	r = kds_open_fp(fp, "t.kd", e);
	if (!r) {
		fclose(fp);
		return -1;
	}
	while ((got = kds_read(r, &rec, e)) == 1)
		n++;
	kds_close(r);
	fclose(fp);
	return got < 0 ? -1 : n;
}

static void
test_round_trip(void)
{
	membuf m;
	kd_err e;
	FILE *fp;
	kds_reader *r;
	kds_record rec;
	int i = 0, got;

	write_stream(&m, 3, 100, 50, 1, KDS_IN_F32, 5);
	fp = fmemopen(m.data, m.len, "rb");
	r = kds_open_fp(fp, "t.kd", &e);
	KT_CHECK(r != NULL);
	KT_CHECK(kds_header_of(r)->k == 3 && kds_header_of(r)->has_label == 1);
	KT_CHECK(kds_header_of(r)->dim == 5 && kds_header_of(r)->temp == 1.0);
	while ((got = kds_read(r, &rec, &e)) == 1) {
		KT_CHECK(rec.id == (uint64_t)(100 + i));
		KT_CHECK(rec.label == (100 + i) % 3);
		KT_CHECK(rec.values[2] == (float)(100 + i) * 0.5f - 2.0f);
		KT_CHECK(rec.inputs[4] == (float)((i * 7 + 4) % 256) / 255.0f);
		i++;
	}
	KT_CHECK(got == 0);
	KT_CHECK(i == 50 && kds_count(r) == 50);
	kds_close(r);
	fclose(fp);
	free(m.data);

	/* bytes/255 inputs come back exactly */
	write_stream(&m, 2, 0, 10, 0, KDS_IN_U8, 6);
	KT_CHECK(read_all(m.data, m.len, &e) == 10);
	free(m.data);

	/* an empty stream (no records) is valid */
	write_stream(&m, 4, 0, 0, 0, KDS_IN_NONE, 0);
	KT_CHECK(read_all(m.data, m.len, &e) == 0);
	free(m.data);
}

static void
test_names(void)
{
	char *data;
	size_t len;
	FILE *fp = open_memstream(&data, &len);
	kds_header h;
	kd_err e;
	kds_writer *w;
	kds_reader *r;
	char names[] = "cat\0dog\0bird";

	kds_header_init(&h, 3, KDP_PROBS);
	h.names = names;
	h.names_len = sizeof names;
	h.temp = 8.0;
	w = kds_create(fp, "mem", &h, &e);
	KT_CHECK(w && kds_finish(w, &e) == 0);
	kds_writer_free(w);
	fclose(fp);
	fp = fmemopen(data, len, "rb");
	r = kds_open_fp(fp, "t.kd", &e);
	KT_CHECK(r != NULL);
	KT_CHECK(!strcmp(kds_class_name(kds_header_of(r), 2), "bird"));
	KT_CHECK(kds_header_of(r)->temp == 8.0 && kds_header_of(r)->kind == KDP_PROBS);
	kds_close(r);
	fclose(fp);
	free(data);

	/* two names for three classes is refused when writing */
	h.names_len = 8;
	fp = open_memstream(&data, &len);
	KT_CHECK(kds_create(fp, "mem", &h, &e) == NULL);
	KT_CHECK(strstr(e.msg, "class names") != NULL);
	fclose(fp);
	free(data);
}

static void
test_concatenation(void)
{
	membuf a, b;
	kd_err e;
	char *both;

	write_stream(&a, 3, 0, 20, 1, KDS_IN_NONE, 0);
	write_stream(&b, 3, 20, 30, 1, KDS_IN_NONE, 0);
	both = malloc(a.len + b.len);
	memcpy(both, a.data, a.len);
	memcpy(both + a.len, b.data, b.len);
	KT_CHECK(read_all(both, a.len + b.len, &e) == 50);
	/* a shard cut short inside the second part is still detected */
	KT_CHECK(read_all(both, a.len + b.len - 3, &e) == -1);
	KT_CHECK(strstr(e.msg, "truncated") != NULL);
	free(both);
	free(b.data);

	/* a part with another header is refused */
	write_stream(&b, 4, 20, 5, 1, KDS_IN_NONE, 0);
	both = malloc(a.len + b.len);
	memcpy(both, a.data, a.len);
	memcpy(both + a.len, b.data, b.len);
	KT_CHECK(read_all(both, a.len + b.len, &e) == -1);
	KT_CHECK(strstr(e.msg, "differs in number of classes") != NULL);
	KT_CHECK(strstr(e.msg, "after record 20") != NULL);
	free(both);
	free(a.data);
	free(b.data);
}

static void
test_truncation_everywhere(void)
{
	membuf m;
	kd_err e;
	int all_rejected = 1;

	write_stream(&m, 3, 0, 200, 1, KDS_IN_F32, 4);
	for (size_t cut = 0; cut < m.len; cut++) {
		long n = read_all(m.data, cut, &e);
		if (n != -1) {
			printf("# cut at %zu of %zu read %ld records without error\n", cut, m.len, n);
			all_rejected = 0;
		}
	}
	KT_CHECK(all_rejected);
	KT_CHECK(read_all(m.data, 0, &e) == -1);
	KT_CHECK(strstr(e.msg, "'t.kd': empty input") != NULL);
	KT_CHECK(read_all(m.data, m.len - 1, &e) == -1);
	KT_CHECK(strstr(e.msg, "'t.kd': truncated") != NULL);
	free(m.data);
}

/* digest: FNV-1a over every decoded field of every record; 0 on error */
static uint64_t
digest(const void *buf, size_t len)
{
	FILE *fp = fmemopen((void *)buf, len, "rb");
	kd_err e;
	kds_reader *r = kds_open_fp(fp, "t.kd", &e);
	kds_record rec;
	uint64_t hsh = 1469598103934665603ULL;
	int got = -1;

	if (r) {
		while ((got = kds_read(r, &rec, &e)) == 1) {
			const unsigned char *p = (const unsigned char *)rec.values;
			for (size_t i = 0; i < 4 * kds_header_of(r)->k; i++)
				hsh = (hsh ^ p[i]) * 1099511628211ULL;
			hsh = (hsh ^ rec.id) * 1099511628211ULL;
			hsh = (hsh ^ (uint64_t)(uint32_t)rec.label) * 1099511628211ULL;
		}
		kds_close(r);
	}
	fclose(fp);
	return got == 0 ? hsh : 0;
}

static void
test_flipped_bytes(void)
{
	/* a flipped bit either makes the stream unreadable or leaves every
	 * decoded value as it was: zstd's entropy tables have bits that do
	 * not change the output, and the frame checksum (XXH64 of the
	 * content) catches every flip that does */
	membuf m;
	int silent = 0, harmless = 0;
	uint64_t want;

	write_stream(&m, 3, 0, 100, 1, KDS_IN_NONE, 0);
	want = digest(m.data, m.len);
	KT_CHECK(want != 0);
	for (size_t at = 0; at < m.len; at++) {
		for (int bit = 0; bit < 8; bit++) {
			uint64_t got;
			m.data[at] ^= (char)(1 << bit);
			got = digest(m.data, m.len);
			if (got == want)
				harmless++;
			else if (got != 0) {
				printf("# flipping bit %d of byte %zu changed the data silently\n", bit, at);
				silent++;
			}
			m.data[at] ^= (char)(1 << bit);
		}
	}
	printf("# %d of %zu flips left the content unchanged\n", harmless, 8 * m.len);
	KT_CHECK(silent == 0);
	KT_CHECK(digest(m.data, m.len) == want);
	free(m.data);
}

static void
test_checksum_required(void)
{
	/* the same content in a zstd frame without a content checksum (as
	 * `zstd --no-check` writes it) is refused: a changed byte in it could
	 * otherwise change the data unnoticed; a frame with one reads */
	membuf m;
	kd_err e;
	size_t n, cap, z;
	char *content, *again;
	ZSTD_CCtx *c = ZSTD_createCCtx();

	write_stream(&m, 3, 0, 20, 1, KDS_IN_NONE, 0);
	n = ZSTD_getFrameContentSize(m.data, m.len);
	if (n == ZSTD_CONTENTSIZE_UNKNOWN || n == ZSTD_CONTENTSIZE_ERROR)
		n = 1 << 16;
	content = malloc(n);
	n = ZSTD_decompress(content, n, m.data, m.len);
	KT_CHECK(!ZSTD_isError(n));
	cap = ZSTD_compressBound(n);
	again = malloc(cap);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
	z = ZSTD_compress2(c, again, cap, content, n);
	KT_CHECK(!ZSTD_isError(z));
	KT_CHECK(read_all(again, z, &e) == -1);
	KT_CHECK(strstr(e.msg, "a zstd frame without a content checksum") != NULL);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	z = ZSTD_compress2(c, again, cap, content, n);
	KT_CHECK(read_all(again, z, &e) == 20);
	ZSTD_freeCCtx(c);
	free(again);
	free(content);
	free(m.data);
}

/* ---- hand-made raw streams: what a hostile writer could send ---- */

static void
le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* raw_header: a valid version 1 header (40 bytes, no rows field: kd
 * still reads version 1), K classes of `kind`, labels */
static size_t
raw_header(unsigned char *p, uint32_t K, int kind)
{
	double t = 1.0;
	uint64_t tu;
	memset(p, 0, 40);
	memcpy(p, "KDS\x1a", 4);
	p[4] = 1;
	p[6] = (unsigned char)kind;
	p[7] = 1;
	le32(p + 8, K);
	memcpy(&tu, &t, 8);
	le64(p + 28, tu);
	return 40;
}

static size_t
raw_record(unsigned char *p, uint64_t id, uint32_t label, const float *v, uint32_t K)
{
	p[0] = 'R';
	le64(p + 1, id);
	le32(p + 9, label);
	memcpy(p + 13, v, 4 * K);
	return 13 + 4 * (size_t)K;
}

static size_t
raw_trailer(unsigned char *p, uint64_t n)
{
	p[0] = 'E';
	le64(p + 1, n);
	return 9;
}

/* expect_raw: compress raw bytes as a kd writer would and expect the
 * reader to fail with a message containing want */
static void
expect_raw(const unsigned char *raw, size_t n, const char *want)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(n), len;
	char *z = malloc(cap);
	kd_err e;

	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	len = ZSTD_compress2(c, z, cap, raw, n);
	KT_CHECK(!ZSTD_isError(len));
	e.msg[0] = 0;
	KT_CHECK(read_all(z, len, &e) == -1);
	if (!strstr(e.msg, want)) {
		printf("# expected '%s' in: %s\n", want, e.msg);
		KT_CHECK(!"message as expected");
	}
	free(z);
	ZSTD_freeCCtx(c);
}

/* the fingerprints: kd_hash64 against values from an independent
 * implementation (Python, the same arithmetic on big integers), their
 * place in the header, and version 2 streams read with both 0 */
static void
test_fingerprints(void)
{
	static const unsigned char v2[] = {
		'K', 'D', 'S', 0x1a, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
		0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 'E', 0, 0, 0, 0, 0, 0, 0, 0 };
	membuf m;
	kds_header h;
	kds_writer *w;
	kds_reader *r;
	kd_err e;
	FILE *fp;
	char *z;
	size_t zlen;
	ZSTD_CCtx *c;
	unsigned char raw[128];

	KT_CHECK(kd_hash64(KD_HASH64_START, "abcdefghij", 10) == 0xda09b2ed37c65a03ull);
	KT_CHECK(kd_hash64(KD_HASH64_START, "abcdefgh", 8) == 0x264664bc14a540deull);
	KT_CHECK(kd_hash64(KD_HASH64_START, "", 0) == KD_HASH64_START);

	fp = open_memstream(&m.data, &m.len);
	kds_header_init(&h, 2, KDP_LOGITS);
	h.model_fp = 0x1122334455667788ull;
	h.data_fp = 0x99aabbccddeeff01ull;
	KT_CHECK((w = kds_create(fp, "mem", &h, &e)) != NULL);
	KT_CHECK(kds_finish(w, &e) == 0);
	kds_writer_free(w);
	fclose(fp);
	/* the content: model at 48, data at 56, little-endian */
	KT_CHECK(ZSTD_decompress(raw, sizeof raw, m.data, m.len) == 64 + 9);
	KT_CHECK(raw[4] == 3 && raw[48] == 0x88 && raw[55] == 0x11 && raw[56] == 0x01 && raw[63] == 0x99);
	fp = fmemopen(m.data, m.len, "rb");
	KT_CHECK((r = kds_open_fp(fp, "t.kd", &e)) != NULL);
	KT_CHECK(kds_header_of(r)->model_fp == h.model_fp && kds_header_of(r)->data_fp == h.data_fp);
	KT_CHECK(kds_version(r) == 3);
	kds_close(r);
	fclose(fp);
	free(m.data);

	/* version 2: rows 7 at 40, no fingerprints, an empty part */
	c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	z = malloc(ZSTD_compressBound(sizeof v2));
	zlen = ZSTD_compress2(c, z, ZSTD_compressBound(sizeof v2), v2, sizeof v2);
	KT_CHECK(!ZSTD_isError(zlen));
	fp = fmemopen(z, zlen, "rb");
	KT_CHECK((r = kds_open_fp(fp, "t.kd", &e)) != NULL);
	KT_CHECK(kds_version(r) == 2 && kds_header_of(r)->rows == 7);
	KT_CHECK(kds_header_of(r)->model_fp == 0 && kds_header_of(r)->data_fp == 0);
	kds_close(r);
	fclose(fp);
	free(z);
	ZSTD_freeCCtx(c);
}

static void
test_rejections(void)
{
	unsigned char raw[512];
	float v[3] = { 0.2f, 0.3f, 0.5f }, nanv[3] = { 0.1f, NAN, 0.2f };
	size_t n;

	/* not zstd at all */
	{
		kd_err e;
		const char *txt = "id,label,p0\n1,0,1\n";
		KT_CHECK(read_all(txt, strlen(txt), &e) == -1);
		KT_CHECK(strstr(e.msg, "not a kd stream (not zstd-compressed)") != NULL);
	}
	n = raw_header(raw, 3, KDP_PROBS);
	memcpy(raw, "KDX\x1a", 4);
	expect_raw(raw, n, "not a kd stream (bad magic)");

	n = raw_header(raw, 3, KDP_PROBS);
	raw[4] = 7;
	expect_raw(raw, n, "stream format version 7 is not supported (this kd reads versions 1 to 4)");

	n = raw_header(raw, 0, KDP_PROBS);
	expect_raw(raw, n, "bad header: number of classes 0 out of range");

	n = raw_header(raw, 0xFFFFFFFFu, KDP_PROBS);
	expect_raw(raw, n, "bad header: number of classes 4294967295 out of range");

	n = raw_header(raw, 3, KDP_PROBS);
	raw[12] = KDS_IN_F32;
	le32(raw + 16, 0x7FFFFFFFu);
	expect_raw(raw, n, "bad header: input dimension 2147483647 out of range");

	n = raw_header(raw, 3, KDP_PROBS);
	le32(raw + 36, 0x40000000u);
	expect_raw(raw, n, "class names of 1073741824 bytes");

	n = raw_header(raw, 3, 9);
	expect_raw(raw, n, "unknown value kind 9");

	n = raw_header(raw, 3, KDP_PROBS);
	{
		double t = NAN;
		uint64_t tu;
		memcpy(&tu, &t, 8);
		le64(raw + 28, tu);
	}
	expect_raw(raw, n, "temperature nan out of range");

	/* a NaN value in record 2 */
	n = raw_header(raw, 3, KDP_PROBS);
	n += raw_record(raw + n, 0, 1, v, 3);
	n += raw_record(raw + n, 1, 1, nanv, 3);
	n += raw_trailer(raw + n, 2);
	expect_raw(raw, n, "'t.kd': record 2: value 2 (nan) is not valid probs");

	/* probabilities that do not sum to 1 */
	n = raw_header(raw, 3, KDP_PROBS);
	n += raw_record(raw + n, 0, 1, nanv + 2, 1 + 0 * 3); /* placeholder */
	{
		float bad[3] = { 0.5f, 0.5f, 0.5f };
		n = raw_header(raw, 3, KDP_PROBS);
		n += raw_record(raw + n, 0, 1, bad, 3);
		n += raw_trailer(raw + n, 1);
	}
	expect_raw(raw, n, "record 1: probabilities do not sum to 1");

	/* label out of range */
	n = raw_header(raw, 3, KDP_PROBS);
	n += raw_record(raw + n, 0, 3, v, 3);
	n += raw_trailer(raw + n, 1);
	expect_raw(raw, n, "'t.kd': record 1: label 3 out of range (0 to 2)");

	/* the trailer's count disagrees */
	n = raw_header(raw, 3, KDP_PROBS);
	n += raw_record(raw + n, 0, 1, v, 3);
	n += raw_trailer(raw + n, 5);
	expect_raw(raw, n, "counts 5 records, the part holds 1");

	/* no trailer: a frame that ends after a whole record */
	n = raw_header(raw, 3, KDP_PROBS);
	n += raw_record(raw + n, 0, 1, v, 3);
	expect_raw(raw, n, "'t.kd': truncated at record 2");

	/* a bad record tag */
	n = raw_header(raw, 3, KDP_PROBS);
	n += raw_record(raw + n, 0, 1, v, 3);
	raw[40] = 'Q';
	expect_raw(raw, n, "bad record tag");

	/* garbage after a complete stream is not a second stream */
	n = raw_header(raw, 3, KDP_PROBS);
	n += raw_trailer(raw + n, 0);
	memcpy(raw + n, "junk", 4);
	expect_raw(raw, n + 4, "truncated in the header of a concatenated part");
}

static void
test_writer_refuses(void)
{
	char *data;
	size_t len;
	FILE *fp = open_memstream(&data, &len);
	kds_header h;
	kd_err e;
	kds_writer *w;
	float v[2] = { NAN, 1.0f }, p[2] = { 0.5f, 0.5f }, x[1] = { 0.3f };
	kds_record r = { 1, 0, v, x };

	kds_header_init(&h, 2, KDP_LOGITS);
	h.input_type = KDS_IN_U8;
	h.dim = 1;
	w = kds_create(fp, "out.kd", &h, &e);
	KT_CHECK(w != NULL);
	KT_CHECK(kds_write(w, &r, &e) == -1);
	KT_CHECK(strstr(e.msg, "'out.kd': record 1: value 1 (nan) is not valid logits") != NULL);
	r.values = p;
	x[0] = 0.3f; /* 76.5/255: not a byte value */
	KT_CHECK(kds_write(w, &r, &e) == -1);
	KT_CHECK(strstr(e.msg, "is not a byte value") != NULL);
	kds_writer_free(w);
	fclose(fp);
	free(data);

	kds_header_init(&h, 2, KDP_LOGITS);
	h.temp = 0.0;
	fp = open_memstream(&data, &len);
	KT_CHECK(kds_create(fp, "out.kd", &h, &e) == NULL);
	KT_CHECK(strstr(e.msg, "temperature 0 out of range") != NULL);
	fclose(fp);
	free(data);
}

static void
test_constant_memory_window(void)
{
	/* a long stream read record by record never needs more than one
	 * record's window: read 20000 records of K=50 through a reader and
	 * check the count; the window size is checked indirectly by ASan
	 * runs and directly by bench/ (peak RSS at 1e4 and 1e6 records) */
	membuf m;
	kd_err e;
	write_stream(&m, 50, 0, 20000, 0, KDS_IN_NONE, 0);
	KT_CHECK(read_all(m.data, m.len, &e) == 20000);
	free(m.data);
}

int
main(void)
{
	KT_RUN(test_softmax_hand_values);
	KT_RUN(test_softmax_extremes);
	KT_RUN(test_soften_kinds_agree);
	KT_RUN(test_check);
	KT_RUN(test_round_trip);
	KT_RUN(test_fingerprints);
	KT_RUN(test_names);
	KT_RUN(test_concatenation);
	KT_RUN(test_truncation_everywhere);
	KT_RUN(test_flipped_bytes);
	KT_RUN(test_checksum_required);
	KT_RUN(test_rejections);
	KT_RUN(test_writer_refuses);
	KT_RUN(test_constant_memory_window);
	return kt_done();
}
