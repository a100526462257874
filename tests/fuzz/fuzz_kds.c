/* fuzz_kds: the kd stream reader (kds_open_fp, kds_read) on any bytes.
 * The first byte says what the rest is:
 *   bit 0 clear  the stream's bytes as they are (zstd frames): mutations
 *                mostly meet zstd's checks
 *   bit 0 set    the decompressed content (header, records, trailer),
 *                compressed here with a valid checksum so that mutations
 *                reach the parser; with bit 1 also set, cut into two zstd
 *                frames at the fraction of it that byte 1 says
 * Every record the reader accepts is also softened at two temperatures, as
 * kd-soften would, and the result must be valid probabilities: a record
 * the reader lets through must never make a downstream tool produce NaN. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <zstd.h>

#include "data.h"
#include "fuzz.h"
#include "kds.h"
#include "prob.h"

/* frame: append src (n bytes) to *out as one zstd frame with a checksum */
static void
frame(ZSTD_CCtx *c, const uint8_t *src, size_t n, uint8_t *out, size_t cap,
      size_t *len)
{
	size_t r = ZSTD_compress2(c, out + *len, cap - *len, src, n);
	if (ZSTD_isError(r))
		abort();
	*len += r;
}

/* compress: the content in as one or two zstd frames, in a new buffer */
static uint8_t *
compress(const uint8_t *in, size_t n, int split, uint8_t at, size_t *len)
{
	static ZSTD_CCtx *c;
	size_t cap = 2 * ZSTD_compressBound(n) + 64, cut = n * at / 256;
	uint8_t *out = malloc(cap);

	if (!c) {
		c = ZSTD_createCCtx();
		ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1);
		ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	}
	if (!c || !out)
		abort();
	*len = 0;
	if (split) {
		frame(c, in, cut, out, cap, len);
		frame(c, in + cut, n - cut, out, cap, len);
	} else {
		frame(c, in, n, out, cap, len);
	}
	return out;
}

/* whole: the stream as kdd_stream_load reads it */
static void
whole(const uint8_t *data, size_t size)
{
	static fz_file f = { -1, "" };
	kdd_set set;
	float *values;
	kds_header h;
	kd_err e;

	if (kdd_stream_load(fz_put(&f, data, size), &set, &values, &h, &e))
		return;
	if (set.n == 0 || set.k != h.k || set.d != h.dim)
		abort();
	kds_header_free(&h);
	kdd_free(&set);
	free(values);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double temps[] = { 1.0, 8.0 };
	kd_err e;
	kds_reader *r;
	kds_record rec;
	float *p = NULL;
	uint8_t *z = NULL, mode;
	size_t bad;
	FILE *fp;

	if (size < 2)
		return 0;
	mode = data[0];
	if (mode & 1) {
		z = compress(data + 2, size - 2, mode & 2, data[1], &size);
		data = z;
	} else {
		data += 2;
		size -= 2;
	}
	if (mode & 4) {
		whole(data, size);
		free(z);
		return 0;
	}
	/* fmemopen may refuse an empty buffer */
	fp = size ? fmemopen((void *)data, size, "rb") : fopen("/dev/null", "rb");
	if (!fp)
		abort();
	r = kds_open_fp(fp, "fuzz", &e);
	if (r) {
		const kds_header *h = kds_header_of(r);
		if (!(p = malloc(4 * (size_t)h->k)))
			abort();
		for (uint32_t c = 0; c < h->k; c++)
			(void)kds_class_name(h, c);
		while (kds_read(r, &rec, &e) == 1) {
			if (rec.label >= (int32_t)h->k || (h->has_label && rec.label < 0))
				abort();
			for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++) {
				kdp_soften(h->kind, rec.values, h->k, temps[t], 0, p);
				if (kdp_check(KDP_PROBS, p, h->k, &bad)) {
					fprintf(stderr, "record %llu softened at T=%g is not valid probabilities (value %zu)\n",
					        (unsigned long long)kds_count(r), temps[t], bad);
					abort();
				}
			}
			for (uint32_t j = 0; rec.inputs && j < h->dim; j++)
				if (!isfinite(rec.inputs[j]))
					abort();
		}
		kds_close(r);
	}
	free(p);
	free(z);
	fclose(fp);
	return 0;
}
