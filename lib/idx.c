/* idx.c: IDX files (Fashion-MNIST's images and labels) for data.h
 * (kdd_idx_load). */
#include "data.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gzin.h"

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
	long long got = kdz_read(gz, h, hlen, path, e);
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
	long long got = kdz_read(gz, &c, 1, path, e);

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
	gzFile gz = kdz_open(path, &fsize, e);

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
	tmp = malloc(KDZ_CHUNK);
	if (!x || !tmp)
		goto nomem;
	for (int v = 0; v < 256; v++)
		lut[v] = (float)v / 255.0f;
	while (done < total) {
		size_t want = total - done < KDZ_CHUNK ? (size_t)(total - done) : KDZ_CHUNK;
		got = kdz_read(gz, tmp, want, path, e);
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
	gzFile gz = kdz_open(path, &fsize, e);

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
	got = kdz_read(gz, raw, n, path, e);
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
	/* what idx_images and idx_labels filled (data.c's kdd_free, which
	 * calls in here, is not called back) */
	free(out->x);
	free(out->y);
	free(out->id);
	free(out->names);
	memset(out, 0, sizeof *out);
	return -1;
}

