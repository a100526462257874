/* kds_write.c: the kd stream writer (format: STREAM-FORMAT.md; the reader
 * and the headers are kds.c). Records are encoded into a staging buffer
 * and compressed into one zstd frame a stream, written as they come. */
#include "kds.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "kds_wire.h"
#include "le.h"
#include "prob.h"

/* put_f32s: n floats little-endian: a bulk copy on little-endian hosts,
 * byte by byte elsewhere */
static void
put_f32s(unsigned char *p, const float *v, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, v, n * 4);
#else
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &v[i], 4);
		kd_put_u32(p + 4 * i, u);
	}
#endif
}

static void
header_encode(const kds_header *h, unsigned char *p)
{
	memcpy(p, KDS_MAGIC, 4);
	kd_put_u16(p + 4, h->kind == KDP_FEATURES ? KDS_VERSION_FEATURES : KDS_VERSION);
	p[6] = (unsigned char)h->kind;
	p[7] = (unsigned char)(h->has_label ? 1 : 0);
	kd_put_u32(p + 8, h->k);
	p[12] = (unsigned char)h->input_type;
	p[13] = p[14] = p[15] = 0;
	kd_put_u32(p + 16, h->dim);
	kd_put_u32(p + 20, h->width);
	kd_put_u32(p + 24, h->height);
	kd_put_f64(p + 28, h->temp);
	kd_put_u32(p + 36, h->names_len);
	kd_put_u64(p + 40, h->rows);
	kd_put_u64(p + 48, h->model_fp);
	kd_put_u64(p + 56, h->data_fp);
	if (h->names_len)
		memcpy(p + KDS_HEADER_FIXED, h->names, h->names_len);
}

/* ---- writer ---- */

struct kds_writer {
	FILE          *fp;
	char          *name;
	ZSTD_CCtx     *cctx;
	kds_header     h;
	unsigned char *stage;   /* encoded records waiting for zstd */
	size_t         stage_len, stage_cap;
	unsigned char *out;     /* compressed bytes waiting for fwrite */
	size_t         out_cap;
	size_t         rec_size;
	uint64_t       count;
	int            failed;
	int            finished;
};

static int
write_err(kds_writer *w, kd_err *e)
{
	w->failed = 1;
	if (errno == EPIPE)
		kd_err_set(e, KD_EPIPE, "'%s': broken pipe", w->name);
	else
		kd_err_set(e, KD_EIO, "'%s': write error: %s", w->name, strerror(errno));
	return -1;
}

/* push: compress the staged bytes (mode ZSTD_e_continue or ZSTD_e_end)
 * and write what comes out. */
static int
push(kds_writer *w, ZSTD_EndDirective mode, kd_err *e)
{
	ZSTD_inBuffer in = { w->stage, w->stage_len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { w->out, w->out_cap, 0 };
		left = ZSTD_compressStream2(w->cctx, &out, &in, mode);
		if (ZSTD_isError(left)) {
			w->failed = 1;
			kd_err_set(e, KD_EIO, "'%s': compression failed: %s", w->name,
			           ZSTD_getErrorName(left));
			return -1;
		}
		if (out.pos && fwrite(w->out, 1, out.pos, w->fp) != out.pos)
			return write_err(w, e);
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	w->stage_len = 0;
	return 0;
}

static int
stage(kds_writer *w, const void *p, size_t n, kd_err *e)
{
	if (w->stage_len + n > w->stage_cap && push(w, ZSTD_e_continue, e))
		return -1;
	memcpy(w->stage + w->stage_len, p, n);
	w->stage_len += n;
	return 0;
}

kds_writer *
kds_create(FILE *fp, const char *name, const kds_header *h, kd_err *e)
{
	kds_writer *w;
	unsigned char *hb;
	size_t rs;

	if (kds_header_check(h, e))
		return NULL;
	w = calloc(1, sizeof *w);
	if (!w) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return NULL;
	}
	w->fp = fp;
	w->name = strdup(name ? name : "stdout");
	w->cctx = ZSTD_createCCtx();
	rs = kds_record_size(h);
	w->rec_size = rs;
	w->stage_cap = ZSTD_CStreamInSize();
	if (w->stage_cap < rs)
		w->stage_cap = rs;
	if (w->stage_cap < KDS_HEADER_FIXED + h->names_len)
		w->stage_cap = KDS_HEADER_FIXED + h->names_len;
	w->stage = malloc(w->stage_cap);
	w->out_cap = ZSTD_CStreamOutSize();
	w->out = malloc(w->out_cap);
	if (!w->name || !w->cctx || !w->stage || !w->out ||
	    kds_header_copy(&w->h, h, e)) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		kds_writer_free(w);
		return NULL;
	}
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, 1);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	hb = w->stage;
	header_encode(h, hb);
	w->stage_len = KDS_HEADER_FIXED + h->names_len;
	return w;
}

int
kds_write(kds_writer *w, const kds_record *rec, kd_err *e)
{
	const kds_header *h = &w->h;
	unsigned char *p;
	size_t bad;

	if (w->failed || w->finished) {
		kd_err_set(e, KD_EUSAGE, "'%s': write after %s", w->name,
		           w->failed ? "an error" : "finish");
		return -1;
	}
	if (h->has_label && (rec->label < 0 ||
	                     (uint32_t)rec->label >= (h->kind == KDP_FEATURES ? KDS_MAX_LABEL : h->k))) {
		kd_err_set(e, KD_ERANGE, "'%s': record %llu: label %ld out of range (0 to %lu)",
		           w->name, (unsigned long long)w->count + 1, (long)rec->label,
		           (unsigned long)(h->kind == KDP_FEATURES ? KDS_MAX_LABEL : h->k) - 1);
		return -1;
	}
	if (h->rows && rec->id >= h->rows) {
		kd_err_set(e, KD_ERANGE, "'%s': record %llu: row id %llu out of range (the header says %llu rows)",
		           w->name, (unsigned long long)w->count + 1,
		           (unsigned long long)rec->id, (unsigned long long)h->rows);
		return -1;
	}
	if (kdp_check(h->kind, rec->values, h->k, &bad)) {
		if (bad < h->k)
			kd_err_set(e, KD_ERANGE, "'%s': record %llu: value %zu (%g) is not valid %s",
			           w->name, (unsigned long long)w->count + 1, bad + 1,
			           (double)rec->values[bad], kdp_kind_name(h->kind));
		else
			kd_err_set(e, KD_ERANGE, "'%s': record %llu: %s do not sum to 1",
			           w->name, (unsigned long long)w->count + 1,
			           h->kind == KDP_PROBS ? "probabilities" : "exp(log-probabilities)");
		return -1;
	}
	if (w->stage_len + w->rec_size > w->stage_cap && push(w, ZSTD_e_continue, e))
		return -1;
	p = w->stage + w->stage_len;
	p[0] = KDS_TAG_RECORD;
	kd_put_u64(p + 1, rec->id);
	p += 9;
	if (h->has_label) {
		kd_put_u32(p, (uint32_t)rec->label);
		p += 4;
	}
	put_f32s(p, rec->values, h->k);
	p += 4 * (size_t)h->k;
	if (h->input_type == KDS_IN_F32) {
		for (uint32_t i = 0; i < h->dim; i++)
			if (!isfinite(rec->inputs[i])) {
				kd_err_set(e, KD_ERANGE, "'%s': record %llu: input %lu is not finite",
				           w->name, (unsigned long long)w->count + 1, (unsigned long)i + 1);
				return -1;
			}
		put_f32s(p, rec->inputs, h->dim);
	} else if (h->input_type == KDS_IN_U8) {
		for (uint32_t i = 0; i < h->dim; i++) {
			float x = rec->inputs[i] * 255.0f;
			long b = lrintf(x);
			if (!(b >= 0 && b <= 255 && fabsf(x - (float)b) < 1e-3f)) {
				kd_err_set(e, KD_ERANGE, "'%s': record %llu: input %lu (%g) is not a byte value / 255",
				           w->name, (unsigned long long)w->count + 1, (unsigned long)i + 1,
				           (double)rec->inputs[i]);
				return -1;
			}
			p[i] = (unsigned char)b;
		}
	}
	w->stage_len += w->rec_size;
	w->count++;
	return 0;
}

int
kds_finish(kds_writer *w, kd_err *e)
{
	unsigned char t[KDS_TRAILER_SIZE];

	if (w->failed || w->finished) {
		kd_err_set(e, KD_EUSAGE, "'%s': finish after %s", w->name,
		           w->failed ? "an error" : "finish");
		return -1;
	}
	t[0] = KDS_TAG_TRAILER;
	kd_put_u64(t + 1, w->count);
	if (stage(w, t, sizeof t, e) || push(w, ZSTD_e_end, e))
		return -1;
	if (fflush(w->fp))
		return write_err(w, e);
	w->finished = 1;
	return 0;
}

uint64_t
kds_writer_count(const kds_writer *w)
{
	return w->count;
}

void
kds_writer_free(kds_writer *w)
{
	if (!w)
		return;
	ZSTD_freeCCtx(w->cctx);
	kds_header_free(&w->h);
	free(w->stage);
	free(w->out);
	free(w->name);
	free(w);
}
