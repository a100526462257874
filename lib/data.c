/* data.c: data sets (see data.h): the loader that chooses CSV (csv.c),
 * IDX (idx.c) or a kd stream by content, kd streams as data, and whole
 * sets (subsets, splits, moments, fingerprints).
 *
 * All input goes through zlib's gz* functions (gzin.h), which read gzip
 * files and plain files alike, in fixed-size chunks: nothing is read whole
 * into one buffer, and memory grows with the rows kept, not with the file. */
#include "data.h"
#include "kds.h"

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

#include "gzin.h"
#include "le.h"
#include "rng.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

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
	gzFile gz = kdz_open(path, NULL, e);
	long long got;

	if (!gz)
		return -1;
	got = kdz_read(gz, magic, 4, path, e);
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
		           "(a stream used as data must carry its rows' inputs)", path);
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
