/* kds.c: the kd stream's headers and reader (format: STREAM-FORMAT.md;
 * the writer is kds_write.c).
 *
 * The reader keeps one decompressed window: buf[pos..len) holds bytes not
 * yet parsed; fill() decompresses more until a whole header, record or
 * trailer is there. The window is bounded by the largest record the header
 * allows (itself bounded by KDS_MAX_K and KDS_MAX_DIM), so memory does not
 * grow with the number of records. */
#include "kds.h"
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "kds_wire.h"
#include "le.h"
#include "prob.h"

/* ---- little-endian codec: explicit, never a struct written whole ---- */

/* floats: a bulk copy on little-endian hosts, byte by byte elsewhere */
static void
get_f32s(const unsigned char *p, float *v, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(v, p, n * 4);
#else
	for (size_t i = 0; i < n; i++) {
		uint32_t u = kd_get_u32(p + 4 * i);
		memcpy(&v[i], &u, 4);
	}
#endif
}

/* ---- headers ---- */

void
kds_header_init(kds_header *h, uint32_t k, int kind)
{
	memset(h, 0, sizeof *h);
	h->k = k;
	h->kind = kind;
	h->temp = 1.0;
	h->input_type = KDS_IN_NONE;
}

static int
names_check(const char *names, uint32_t len, uint32_t k)
{
	uint32_t nul = 0;
	if (len == 0)
		return 0;
	if (!names || names[len - 1] != '\0')
		return -1;
	for (uint32_t i = 0; i < len; i++)
		nul += names[i] == '\0';
	return nul == k ? 0 : -1;
}

int
kds_header_check(const kds_header *h, kd_err *e)
{
	const char *bad;

	if (h->k < 1 || h->k > KDS_MAX_K) {
		kd_err_set(e, KD_ERANGE, "number of classes %lu out of range (1 to %u)",
		           (unsigned long)h->k, KDS_MAX_K);
		return -1;
	}
	if (h->kind < KDP_LOGITS || h->kind > KDP_FEATURES) {
		kd_err_set(e, KD_ERANGE, "unknown value kind %d", h->kind);
		return -1;
	}
	if (!(h->temp > 0.0 && h->temp <= KDS_MAX_TEMP)) {
		kd_err_set(e, KD_ERANGE, "temperature %g out of range (0, %g]",
		           h->temp, KDS_MAX_TEMP);
		return -1;
	}
	if (h->has_label != 0 && h->has_label != 1) {
		kd_err_set(e, KD_ERANGE, "bad label flag %d", h->has_label);
		return -1;
	}
	if (h->input_type < KDS_IN_NONE || h->input_type > KDS_IN_U8) {
		kd_err_set(e, KD_ERANGE, "unknown input type %d", h->input_type);
		return -1;
	}
	if ((h->input_type == KDS_IN_NONE) != (h->dim == 0) || h->dim > KDS_MAX_DIM) {
		kd_err_set(e, KD_ERANGE, "input dimension %lu out of range (1 to %u with inputs, 0 without)",
		           (unsigned long)h->dim, KDS_MAX_DIM);
		return -1;
	}
	if ((uint64_t)h->width * h->height != (h->width ? h->dim : 0)) {
		kd_err_set(e, KD_ERANGE, "image shape %lux%lu does not match %lu inputs",
		           (unsigned long)h->width, (unsigned long)h->height,
		           (unsigned long)h->dim);
		return -1;
	}
	if (h->kind == KDP_FEATURES && h->names_len) {
		kd_err_set(e, KD_ERANGE, "a features stream has no class names");
		return -1;
	}
	if (h->names_len > KDS_MAX_NAMES || names_check(h->names, h->names_len, h->k)) {
		kd_err_set(e, KD_ERANGE, "class names are not %lu NUL-terminated strings",
		           (unsigned long)h->k);
		return -1;
	}
	if (h->names_len && (bad = kdx_names_bad(h->names, h->names_len))) {
		kd_err_set(e, KD_ERANGE, "class names hold %s", bad);
		return -1;
	}
	return 0;
}

int
kds_header_copy(kds_header *dst, const kds_header *src, kd_err *e)
{
	*dst = *src;
	dst->names = NULL;
	if (src->names_len) {
		dst->names = malloc(src->names_len);
		if (!dst->names) {
			kd_err_set(e, KD_ENOMEM, "out of memory");
			return -1;
		}
		memcpy(dst->names, src->names, src->names_len);
	}
	return 0;
}

void
kds_header_free(kds_header *h)
{
	free(h->names);
	h->names = NULL;
	h->names_len = 0;
}

const char *
kds_class_name(const kds_header *h, uint32_t c)
{
	if (!h->names_len || c >= h->k)
		return NULL;
	return kdx_name_at(h->names, c);
}

size_t
kds_record_size(const kds_header *h)
{
	size_t in = h->input_type == KDS_IN_F32 ? 4 : h->input_type == KDS_IN_U8 ? 1 : 0;
	return 1 + 8 + (h->has_label ? 4 : 0) + 4 * (size_t)h->k + in * h->dim;
}

/* headers_equal: two segments of one stream must agree on everything */
static const char *
headers_differ(const kds_header *a, const kds_header *b)
{
	if (a->k != b->k) return "number of classes";
	if (a->kind != b->kind) return "value kind";
	if (a->temp != b->temp) return "temperature";
	if (a->has_label != b->has_label) return "labels";
	if (a->input_type != b->input_type || a->dim != b->dim) return "inputs";
	if (a->width != b->width || a->height != b->height) return "image shape";
	if (a->names_len != b->names_len ||
	    (a->names_len && memcmp(a->names, b->names, a->names_len)))
		return "class names";
	if (a->rows != b->rows) return "rows of the data set";
	if (a->model_fp != b->model_fp) return "the model that made it";
	if (a->data_fp != b->data_fp) return "the data set it was made from";
	return NULL;
}

/* ---- reader ---- */

struct kds_reader {
	FILE          *fp;
	int            own_fp;     /* close fp in kds_close */
	char          *name;       /* for messages */
	ZSTD_DCtx     *dctx;
	unsigned char *in;         /* compressed input buffer */
	size_t         in_cap;
	ZSTD_inBuffer  zin;
	int            eof;        /* fread saw the end of the file */
	int            frame_open; /* inside a zstd frame not yet complete */
	uint64_t       bytes_in;   /* compressed bytes read, to tell "empty" */
	unsigned char *buf;        /* decompressed window buf[pos..len) */
	size_t         pos, len, cap;
	kds_header     h;          /* header of the first segment */
	kds_header     seg;        /* header of a later segment, to compare */
	size_t         rec_size;
	uint64_t       count;      /* records returned in all */
	uint64_t       seg_count;  /* records in the current segment */
	int            segments;   /* segments started */
	int            in_segment; /* a header was read, its trailer not yet */
	int            failed;     /* a previous call failed: stay failed */
	float         *values;     /* k values of the current record */
	float         *inputs;     /* dim inputs of the current record */
	int            version;    /* format version of the first part */
	int            check_rows; /* kds_check_rows was called */
	struct run { uint64_t lo, hi; } *runs; /* row ids seen: [lo, hi), sorted */
	size_t         nruns, runs_cap, cur;   /* cur: the run last extended */
};

static int
grow(kds_reader *r, size_t need, kd_err *e)
{
	size_t cap = need + ZSTD_DStreamOutSize();
	unsigned char *b;
	if (cap <= r->cap)
		return 0;
	b = realloc(r->buf, cap);
	if (!b) {
		kd_err_set(e, KD_ENOMEM, "'%s': out of memory", r->name);
		return -1;
	}
	r->buf = b;
	r->cap = cap;
	return 0;
}

/* frame_start: at the start of a zstd frame, refuse one written without
 * a content checksum: every part carries one (STREAM-FORMAT.md), and
 * without it a changed byte could change the data unnoticed. Reads ahead
 * until the frame descriptor (byte 4) is in r->in; other data (not zstd,
 * a skippable frame, a cut) is left for ZSTD_decompressStream to judge. */
static int
frame_start(kds_reader *r, kd_err *e)
{
	const unsigned char *p;

	while (r->zin.size - r->zin.pos < 5 && !r->eof) {
		size_t have = r->zin.size - r->zin.pos, n;
		memmove(r->in, r->in + r->zin.pos, have);
		n = fread(r->in + have, 1, r->in_cap - have, r->fp);
		if (n == 0) {
			if (ferror(r->fp)) {
				kd_err_set(e, KD_EIO, "'%s': read error: %s",
				           r->name, strerror(errno));
				return -1;
			}
			r->eof = 1;
		}
		r->bytes_in += n;
		r->zin.src = r->in;
		r->zin.size = have + n;
		r->zin.pos = 0;
	}
	p = (const unsigned char *)r->zin.src + r->zin.pos;
	if (r->zin.size - r->zin.pos >= 5 && kd_get_u32(p) == ZSTD_MAGICNUMBER &&
	    !(p[4] & 0x04)) {
		kd_err_set(e, KD_EFORMAT, "'%s': corrupt data (a zstd frame without a content checksum)",
		           r->name);
		return -1;
	}
	return 0;
}

/* fill: make sure need bytes are in the window. Returns 1 when they are,
 * 0 when the input ended cleanly before any of them (between zstd frames,
 * nothing pending), -1 on an error or a stream cut short (KD_EFORMAT with
 * the message left for the caller to finish: *cut is set to 1). */
static int
fill(kds_reader *r, size_t need, int *cut, kd_err *e)
{
	*cut = 0;
	if (grow(r, need, e))
		return -1;
	while (r->len - r->pos < need) {
		ZSTD_outBuffer out;
		size_t ret;

		if (r->pos > 0 && r->cap - r->len < ZSTD_DStreamOutSize() / 2) {
			memmove(r->buf, r->buf + r->pos, r->len - r->pos);
			r->len -= r->pos;
			r->pos = 0;
		}
		if (r->zin.pos == r->zin.size && !r->eof) {
			size_t n = fread(r->in, 1, r->in_cap, r->fp);
			if (n == 0) {
				if (ferror(r->fp)) {
					kd_err_set(e, KD_EIO, "'%s': read error: %s",
					           r->name, strerror(errno));
					return -1;
				}
				r->eof = 1;
			}
			r->bytes_in += n;
			r->zin.src = r->in;
			r->zin.size = n;
			r->zin.pos = 0;
		}
		/* at the end of the input, a frame still open may have output
		 * buffered inside zstd: ask once more before calling it cut */
		if (r->zin.pos == r->zin.size && r->eof && !r->frame_open)
			goto ended;
		if (!r->frame_open && frame_start(r, e))
			return -1;
		out.dst = r->buf + r->len;
		out.size = r->cap - r->len;
		out.pos = 0;
		ret = ZSTD_decompressStream(r->dctx, &out, &r->zin);
		if (ZSTD_isError(ret)) {
			ZSTD_ErrorCode c = ZSTD_getErrorCode(ret);
			if (c == ZSTD_error_checksum_wrong)
				kd_err_set(e, KD_EFORMAT, "'%s': checksum mismatch, data is corrupt", r->name);
			else if (c == ZSTD_error_prefix_unknown && r->segments == 0)
				kd_err_set(e, KD_EFORMAT, "'%s': not a kd stream (not zstd-compressed)", r->name);
			else
				kd_err_set(e, KD_EFORMAT, "'%s': corrupt data (%s)", r->name,
				           ZSTD_getErrorName(ret));
			return -1;
		}
		if (out.pos == 0 && r->zin.pos == r->zin.size && r->eof) {
			r->frame_open = ret != 0;
			goto ended;
		}
		r->len += out.pos;
		r->frame_open = ret != 0;
	}
	return 1;
ended:
	if (r->len == r->pos && !r->frame_open)
		return 0;
	*cut = 1;
	kd_err_set(e, KD_EFORMAT, "'%s': truncated", r->name);
	return -1;
}

static int
parse_header(kds_reader *r, kds_header *h, kd_err *e)
{
	const unsigned char *p;
	int cut, rc;
	uint16_t version;

	rc = fill(r, KDS_HEADER_V1, &cut, e);
	if (rc == 0 || cut) {
		if (r->bytes_in == 0)
			kd_err_set(e, KD_EFORMAT, "'%s': empty input", r->name);
		else if (r->segments == 0)
			kd_err_set(e, KD_EFORMAT, "'%s': truncated in the header", r->name);
		else
			kd_err_set(e, KD_EFORMAT, "'%s': truncated in the header of a concatenated part after record %llu",
			           r->name, (unsigned long long)r->count);
		return -1;
	}
	if (rc < 0)
		return -1;
	p = r->buf + r->pos;
	if (memcmp(p, KDS_MAGIC, 4)) {
		kd_err_set(e, KD_EFORMAT, "'%s': not a kd stream (bad magic)", r->name);
		return -1;
	}
	version = kd_get_u16(p + 4);
	if (version < 1 || version > KDS_VERSION_FEATURES) {
		kd_err_set(e, KD_EFORMAT, "'%s': stream format version %u is not supported (this kd reads versions 1 to %d)",
		           r->name, version, KDS_VERSION_FEATURES);
		return -1;
	}
	if (version >= 2) {
		rc = fill(r, version >= 3 ? KDS_HEADER_FIXED : KDS_HEADER_V2, &cut, e);
		if (rc <= 0) {
			if (rc == 0 || cut)
				kd_err_set(e, KD_EFORMAT, "'%s': truncated in the header", r->name);
			return -1;
		}
		p = r->buf + r->pos;
	}
	if (r->segments == 0)
		r->version = version;
	memset(h, 0, sizeof *h);
	h->kind = p[6];
	if (h->kind == KDP_FEATURES && version < KDS_VERSION_FEATURES) {
		kd_err_set(e, KD_EFORMAT, "'%s': bad header (features in a version %u stream)",
		           r->name, version);
		return -1;
	}
	if (p[7] > 1 || p[13] || p[14] || p[15]) {
		kd_err_set(e, KD_EFORMAT, "'%s': bad header (unknown flags)", r->name);
		return -1;
	}
	h->has_label = p[7];
	h->k = kd_get_u32(p + 8);
	h->input_type = p[12];
	h->dim = kd_get_u32(p + 16);
	h->width = kd_get_u32(p + 20);
	h->height = kd_get_u32(p + 24);
	h->temp = kd_get_f64(p + 28);
	h->names_len = kd_get_u32(p + 36);
	h->rows = version >= 2 ? kd_get_u64(p + 40) : 0;
	h->model_fp = version >= 3 ? kd_get_u64(p + 48) : 0;
	h->data_fp = version >= 3 ? kd_get_u64(p + 56) : 0;
	if (h->names_len > KDS_MAX_NAMES) {
		kd_err_set(e, KD_EFORMAT, "'%s': bad header: class names of %lu bytes (at most %u)",
		           r->name, (unsigned long)h->names_len, KDS_MAX_NAMES);
		return -1;
	}
	/* check sizes before the names are read: nothing is allocated from
	 * a hostile header beyond the bounded limits */
	{
		kds_header t = *h;
		kd_err why;
		t.names_len = 0;
		t.names = NULL;
		if (kds_header_check(&t, &why)) {
			kd_err_set(e, KD_EFORMAT, "'%s': bad header: %s", r->name, why.msg);
			return -1;
		}
	}
	r->pos += version >= 3 ? KDS_HEADER_FIXED : version == 2 ? KDS_HEADER_V2 : KDS_HEADER_V1;
	if (h->names_len) {
		kd_err why;
		rc = fill(r, h->names_len, &cut, e);
		if (rc <= 0) {
			kd_err_set(e, KD_EFORMAT, "'%s': truncated in the header", r->name);
			return -1;
		}
		h->names = malloc(h->names_len);
		if (!h->names) {
			kd_err_set(e, KD_ENOMEM, "'%s': out of memory", r->name);
			return -1;
		}
		memcpy(h->names, r->buf + r->pos, h->names_len);
		r->pos += h->names_len;
		if (kds_header_check(h, &why)) {
			kd_err_set(e, KD_EFORMAT, "'%s': bad header: %s", r->name, why.msg);
			return -1;
		}
	}
	r->segments++;
	r->in_segment = 1;
	r->seg_count = 0;
	return 0;
}

kds_reader *
kds_open_fp(FILE *fp, const char *name, kd_err *e)
{
	kds_reader *r = calloc(1, sizeof *r);
	struct stat st;

	if (!r) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return NULL;
	}
	r->fp = fp;
	r->name = strdup(name ? name : "stdin");
	r->dctx = ZSTD_createDCtx();
	r->in_cap = ZSTD_DStreamInSize();
	r->in = malloc(r->in_cap);
	if (!r->name || !r->dctx || !r->in) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		goto fail;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		kd_err_set(e, KD_EIO, "'%s': is a directory", r->name);
		goto fail;
	}
	if (parse_header(r, &r->h, e))
		goto fail;
	r->rec_size = kds_record_size(&r->h);
	r->values = malloc(4 * (size_t)r->h.k);
	if (r->h.dim)
		r->inputs = malloc(4 * (size_t)r->h.dim);
	if (!r->values || (r->h.dim && !r->inputs)) {
		kd_err_set(e, KD_ENOMEM, "'%s': out of memory", r->name);
		goto fail;
	}
	return r;
fail:
	kds_close(r);
	return NULL;
}

kds_reader *
kds_open(const char *path, kd_err *e)
{
	FILE *fp;
	kds_reader *r;

	if (!path || !strcmp(path, "-")) {
		if (isatty(STDIN_FILENO)) {
			kd_err_set(e, KD_EUSAGE, "refusing to read a binary stream from a terminal "
			           "(pipe one in, or name a file)");
			return NULL;
		}
		return kds_open_fp(stdin, "stdin", e);
	}
	fp = fopen(path, "rb");
	if (!fp) {
		kd_err_set(e, KD_EIO, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	r = kds_open_fp(fp, path, e);
	if (!r) {
		fclose(fp);
		return NULL;
	}
	r->own_fp = 1;
	return r;
}

const kds_header *
kds_header_of(const kds_reader *r)
{
	return &r->h;
}

const char *
kds_name(const kds_reader *r)
{
	return r->name;
}

int
kds_version(const kds_reader *r)
{
	return r->version;
}

uint64_t
kds_count(const kds_reader *r)
{
	return r->count;
}

/* read_trailer: the trailer closing the current segment, at buf[pos]. */
static int
read_trailer(kds_reader *r, kd_err *e)
{
	int cut;
	uint64_t n;

	if (fill(r, KDS_TRAILER_SIZE, &cut, e) <= 0) {
		kd_err_set(e, KD_EFORMAT, "'%s': truncated in the trailer after record %llu",
		           r->name, (unsigned long long)r->count);
		return -1;
	}
	n = kd_get_u64(r->buf + r->pos + 1);
	if (n != r->seg_count) {
		kd_err_set(e, KD_EFORMAT, "'%s': trailer after record %llu counts %llu records, the part holds %llu",
		           r->name, (unsigned long long)r->count,
		           (unsigned long long)n, (unsigned long long)r->seg_count);
		return -1;
	}
	r->pos += KDS_TRAILER_SIZE;
	r->in_segment = 0;
	return 0;
}

static int
decode_record(kds_reader *r, kds_record *rec, kd_err *e)
{
	const kds_header *h = &r->h;
	const unsigned char *p = r->buf + r->pos + 1;
	unsigned long long at = (unsigned long long)r->count + 1;
	size_t bad;

	rec->id = kd_get_u64(p);
	p += 8;
	rec->label = -1;
	if (h->has_label) {
		uint32_t l = kd_get_u32(p);
		p += 4;
		if (l >= (h->kind == KDP_FEATURES ? KDS_MAX_LABEL : h->k)) {
			kd_err_set(e, KD_EFORMAT, "'%s': record %llu: label %lu out of range (0 to %lu)",
			           r->name, at, (unsigned long)l,
			           (unsigned long)(h->kind == KDP_FEATURES ? KDS_MAX_LABEL : h->k) - 1);
			return -1;
		}
		rec->label = (int32_t)l;
	}
	get_f32s(p, r->values, h->k);
	p += 4 * (size_t)h->k;
	if (kdp_check(h->kind, r->values, h->k, &bad)) {
		if (bad < h->k)
			kd_err_set(e, KD_EFORMAT, "'%s': record %llu: value %zu (%g) is not valid %s",
			           r->name, at, bad + 1, (double)r->values[bad], kdp_kind_name(h->kind));
		else
			kd_err_set(e, KD_EFORMAT, "'%s': record %llu: %s do not sum to 1",
			           r->name, at, h->kind == KDP_PROBS ? "probabilities" : "exp(log-probabilities)");
		return -1;
	}
	rec->values = r->values;
	rec->inputs = NULL;
	if (h->input_type == KDS_IN_F32) {
		get_f32s(p, r->inputs, h->dim);
		for (uint32_t i = 0; i < h->dim; i++)
			if (!isfinite(r->inputs[i])) {
				kd_err_set(e, KD_EFORMAT, "'%s': record %llu: input %lu is not finite",
				           r->name, at, (unsigned long)i + 1);
				return -1;
			}
		rec->inputs = r->inputs;
	} else if (h->input_type == KDS_IN_U8) {
		for (uint32_t i = 0; i < h->dim; i++)
			r->inputs[i] = (float)p[i] / 255.0f;
		rec->inputs = r->inputs;
	}
	return 0;
}

void
kds_check_rows(kds_reader *r)
{
	r->check_rows = r->h.rows > 0;
}

/* rows_add: note row id of record `at`; -1 when it is out of range,
 * already seen, or would make too many runs */
static int
rows_add(kds_reader *r, uint64_t id, unsigned long long at, kd_err *e)
{
	struct run *v = r->runs;
	size_t lo = 0, hi = r->nruns, i;

	if (id >= r->h.rows) {
		kd_err_set(e, KD_EFORMAT, "'%s': record %llu: row id %llu out of range (the data set has %llu rows, ids 0 to %llu)",
		           r->name, at, (unsigned long long)id,
		           (unsigned long long)r->h.rows, (unsigned long long)r->h.rows - 1);
		return -1;
	}
	/* the usual case: the next id of the run last extended */
	if (r->nruns && v[r->cur].hi == id &&
	    (r->cur + 1 == r->nruns || v[r->cur + 1].lo > id)) {
		i = r->cur;
		v[i].hi++;
		goto merge;
	}
	while (lo < hi) { /* i: the first run that starts after id */
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].lo <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo;
	if (i > 0 && v[i - 1].hi > id) {
		kd_err_set(e, KD_EMISMATCH, "'%s': record %llu: row id %llu comes twice",
		           r->name, at, (unsigned long long)id);
		return -1;
	}
	if (i > 0 && v[i - 1].hi == id) {
		i--;
		v[i].hi++;
		goto merge;
	}
	if (i < r->nruns && v[i].lo == id + 1) {
		v[i].lo = id;
		r->cur = i;
		return 0;
	}
	if (r->nruns == r->runs_cap) {
		size_t cap = r->runs_cap ? 2 * r->runs_cap : 16;
		if (r->nruns >= KDS_MAX_RUNS) {
			kd_err_set(e, KD_EFORMAT, "'%s': record %llu: row ids in more than %u separate runs: cannot check that every row comes once (write each shard's rows in order)",
			           r->name, at, KDS_MAX_RUNS);
			return -1;
		}
		v = realloc(r->runs, cap * sizeof *v);
		if (!v) {
			kd_err_set(e, KD_ENOMEM, "'%s': out of memory", r->name);
			return -1;
		}
		r->runs = v;
		r->runs_cap = cap;
	}
	memmove(v + i + 1, v + i, (r->nruns - i) * sizeof *v);
	v[i].lo = id;
	v[i].hi = id + 1;
	r->nruns++;
	r->cur = i;
	return 0;
merge:
	if (i + 1 < r->nruns && v[i + 1].lo == v[i].hi) {
		v[i].hi = v[i + 1].hi;
		memmove(v + i + 1, v + i + 2, (r->nruns - i - 2) * sizeof *v);
		r->nruns--;
	}
	r->cur = i;
	return 0;
}

/* rows_end: at the end of the stream, every row id 0 to rows-1 came */
static int
rows_end(kds_reader *r, kd_err *e)
{
	uint64_t missing;

	if (r->nruns == 1 && r->runs[0].lo == 0 && r->runs[0].hi == r->h.rows)
		return 0;
	missing = r->nruns == 0 || r->runs[0].lo > 0 ? 0 : r->runs[0].hi;
	kd_err_set(e, KD_EFORMAT, "'%s': row id %llu is missing (the data set has %llu rows, the stream %llu records): a shard left out?",
	           r->name, (unsigned long long)missing, (unsigned long long)r->h.rows,
	           (unsigned long long)r->count);
	return -1;
}

int
kds_read(kds_reader *r, kds_record *rec, kd_err *e)
{
	int cut, rc;

	if (r->failed) {
		kd_err_set(e, KD_EFORMAT, "'%s': read after an error", r->name);
		return -1;
	}
	for (;;) {
		unsigned char tag;

		if (!r->in_segment) {
			/* between segments: the end of the input, or another
			 * stream joined with cat whose header must match */
			const char *what;
			rc = fill(r, 1, &cut, e);
			if (rc == 0) {
				if (r->check_rows && rows_end(r, e))
					goto fail;
				return 0;
			}
			if (rc < 0)
				goto fail;
			kds_header_free(&r->seg);
			if (parse_header(r, &r->seg, e))
				goto fail;
			what = headers_differ(&r->h, &r->seg);
			if (what) {
				kd_err_set(e, KD_EMISMATCH, "'%s': concatenated stream after record %llu differs in %s",
				           r->name, (unsigned long long)r->count, what);
				goto fail;
			}
		}
		rc = fill(r, 1, &cut, e);
		if (rc <= 0) {
			kd_err_set(e, KD_EFORMAT, "'%s': truncated at record %llu",
			           r->name, (unsigned long long)r->count + 1);
			goto fail;
		}
		tag = r->buf[r->pos];
		if (tag == KDS_TAG_TRAILER) {
			if (read_trailer(r, e))
				goto fail;
			continue;
		}
		if (tag != KDS_TAG_RECORD) {
			kd_err_set(e, KD_EFORMAT, "'%s': corrupt data at record %llu (bad record tag)",
			           r->name, (unsigned long long)r->count + 1);
			goto fail;
		}
		rc = fill(r, r->rec_size, &cut, e);
		if (rc <= 0) {
			if (rc == 0 || cut)
				kd_err_set(e, KD_EFORMAT, "'%s': truncated at record %llu",
				           r->name, (unsigned long long)r->count + 1);
			goto fail;
		}
		if (decode_record(r, rec, e))
			goto fail;
		if (r->check_rows && rows_add(r, rec->id, (unsigned long long)r->count + 1, e))
			goto fail;
		r->pos += r->rec_size;
		r->count++;
		r->seg_count++;
		return 1;
	}
fail:
	r->failed = 1;
	return -1;
}

void
kds_close(kds_reader *r)
{
	if (!r)
		return;
	if (r->own_fp && r->fp)
		fclose(r->fp);
	ZSTD_freeDCtx(r->dctx);
	kds_header_free(&r->h);
	kds_header_free(&r->seg);
	free(r->in);
	free(r->buf);
	free(r->values);
	free(r->inputs);
	free(r->runs);
	free(r->name);
	free(r);
}

int
kds_scores_only(const kds_reader *r, kd_err *e)
{
	if (r->h.kind != KDP_FEATURES)
		return 0;
	kd_err_set(e, KD_EUSAGE, "'%s' holds the features of a hidden layer (kd-teacher -m "
	           "--layer), not class scores", r->name);
	return -1;
}
