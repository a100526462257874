/* model.c: the .kdm model file, written and read field by field in
 * little-endian order (see MODEL-FORMAT.md and model.h). */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "binfile.h"
#include "le.h"
#include "out.h"

static const unsigned char MAGIC[4] = {'K', 'D', 'M', 0x1a};

enum {
	FLAG_STANDARDIZE = 1u << 0, /* mean and std follow the header */
	FLAG_NAMES = 1u << 1,       /* class names follow the parameters */
	FLAGS_KNOWN = FLAG_STANDARDIZE | FLAG_NAMES
};

/* write_model: every field of m, then the CRC-32 */
static void
write_model(kdbin_writer *w, const kdm_model *m)
{
	uint32_t flags = (m->standardize ? FLAG_STANDARDIZE : 0) |
	                 (m->names ? FLAG_NAMES : 0);

	kdbin_write(w, MAGIC, 4);
	kdbin_write_u32(w, KDM_FORMAT_VERSION);
	kdbin_write_u32(w, flags);
	kdbin_write_u32(w, (uint32_t)m->n_layers);
	for (size_t l = 0; l <= m->n_layers; l++)
		kdbin_write_u32(w, (uint32_t)m->sizes[l]);
	kdbin_write_u64(w, m->names ? (uint64_t)m->names_len : 0);
	if (m->standardize) {
		kdbin_write_u32s(w, m->mean, m->D);
		kdbin_write_u32s(w, m->std, m->D);
	}
	kdbin_write_u32s(w, m->params, m->nparams);
	if (m->names)
		kdbin_write(w, m->names, m->names_len);
	/* the checksum covers everything before it, so it is written last */
	kdbin_write_crc(w);
}


int
kdmod_save(const kdm_model *m, const char *path, kd_err *e)
{
	kdbin_writer w;
	kdout_file o;

	if (kdout_open(&o, path, 1, e))
		return -1;
	kdbin_writer_init(&w, o.fp);
	write_model(&w, m);
	if (w.err) {
		kd_err_set(e, KD_EIO, "cannot write '%s': %s", o.name,
		           strerror(w.saved_errno));
		kdout_abort(&o);
		return -1;
	}
	return kdout_commit(&o, e);
}

/* ---- reading ---- */

/* parse: the model in r->f, whose size is `size` bytes. Every size in
 * the header is checked, and the total they imply compared with the real
 * size, before anything big is allocated. */
static kdm_model *
parse(kdbin_reader *r, uint64_t size)
{
	const char *path = r->path;
	kd_err *e = r->e;
	unsigned char hd[16], b[8];
	size_t sizes[KDM_MAX_LAYERS + 1], L;
	uint64_t np, names_len, hdr, expect;
	uint32_t version, flags;
	kdm_model *m = NULL;
	char *names = NULL;
	kd_err sub = {{0}, 0};

	if (size == 0) {
		kd_err_set(e, KD_EFORMAT, "'%s': not a kd model file (empty)",
		           path);
		return NULL;
	}
	if (kdbin_read(r, hd, size < 16 ? (size_t)size : 16) < 0)
		return NULL;
	if (size < 4 || memcmp(hd, MAGIC, 4) != 0) {
		kd_err_set(e, KD_EFORMAT, "'%s': not a kd model file", path);
		return NULL;
	}
	if (size < 8)
		goto truncated;
	version = kd_get_u32(hd + 4);
	if (version != KDM_FORMAT_VERSION) {
		kd_err_set(e, KD_EFORMAT, "'%s': model format version %lu is "
		           "not supported (this kd reads version %d)", path,
		           (unsigned long)version, KDM_FORMAT_VERSION);
		return NULL;
	}
	if (size < 16)
		goto truncated;
	flags = kd_get_u32(hd + 8);
	if (flags & ~(uint32_t)FLAGS_KNOWN) {
		kd_err_set(e, KD_EFORMAT, "'%s': unknown model flags 0x%lx",
		           path, (unsigned long)flags);
		return NULL;
	}
	L = kd_get_u32(hd + 12);
	if (L < 1 || L > KDM_MAX_LAYERS) {
		kd_err_set(e, KD_ERANGE, "'%s': %zu weight layers is out of "
		           "range (1 to %d)", path, L, KDM_MAX_LAYERS);
		return NULL;
	}
	hdr = 16 + 4 * (uint64_t)(L + 1) + 8;
	if (size < hdr + 4)
		goto truncated;
	for (size_t l = 0; l <= L; l++) {
		if (kdbin_read(r, b, 4) < 0)
			return NULL;
		sizes[l] = kd_get_u32(b);
	}
	if (kdm_check_sizes(sizes, L, &np, &sub) < 0) {
		kd_err_set(e, sub.code, "'%s': %s", path, sub.msg);
		return NULL;
	}
	if (kdbin_read(r, b, 8) < 0)
		return NULL;
	names_len = kd_get_u64(b);
	if (!(flags & FLAG_NAMES) && names_len != 0) {
		kd_err_set(e, KD_EFORMAT, "'%s': %llu bytes of class names "
		           "without the names flag", path,
		           (unsigned long long)names_len);
		return NULL;
	}
	if (names_len > KDM_MAX_NAMES_LEN) {
		kd_err_set(e, KD_ERANGE, "'%s': %llu bytes of class names is "
		           "too many (at most %llu)", path,
		           (unsigned long long)names_len,
		           (unsigned long long)KDM_MAX_NAMES_LEN);
		return NULL;
	}
	/* every term is bounded above, so no overflow in 64 bits */
	expect = hdr + (flags & FLAG_STANDARDIZE ? 8 * (uint64_t)sizes[0] : 0) +
	         4 * np + names_len + 4;
	if (size < expect) {
		kd_err_set(e, KD_EFORMAT, "'%s': truncated model file (%llu "
		           "bytes, expected %llu)", path,
		           (unsigned long long)size, (unsigned long long)expect);
		return NULL;
	}
	if (size > expect) {
		kd_err_set(e, KD_EFORMAT, "'%s': trailing garbage after the "
		           "model (%llu bytes, expected %llu)", path,
		           (unsigned long long)size, (unsigned long long)expect);
		return NULL;
	}

	m = kdm_alloc(sizes, L, &sub);
	if (!m) {
		kd_err_set(e, sub.code, "'%s': %s", path, sub.msg);
		return NULL;
	}
	if (flags & FLAG_STANDARDIZE)
		if (kdbin_read_u32s(r, m->mean, m->D) < 0 || kdbin_read_u32s(r, m->std, m->D) < 0)
			goto fail;
	if (kdbin_read_u32s(r, m->params, m->nparams) < 0)
		goto fail;
	if (flags & FLAG_NAMES) {
		names = malloc(names_len ? (size_t)names_len : 1);
		if (!names) {
			kd_err_set(e, KD_ENOMEM, "'%s': out of memory for class "
			           "names", path);
			goto fail;
		}
		if (kdbin_read(r, names, (size_t)names_len) < 0)
			goto fail;
	}
	if (kdbin_read_crc(r) < 0)
		goto fail;
	/* the checksum held, so what fails below was written this way */
	if (flags & FLAG_STANDARDIZE) {
		/* mean and std were read in place; this validates them and
		 * derives 1/std (copying each value onto itself) */
		if (kdm_set_standardize(m, m->mean, m->std, &sub) < 0) {
			kd_err_set(e, sub.code, "'%s': bad standardisation: %s",
			           path, sub.msg);
			goto fail;
		}
	}
	if (flags & FLAG_NAMES) {
		if (kdm_set_names(m, names, (size_t)names_len, &sub) < 0) {
			kd_err_set(e, sub.code, "'%s': bad class names: %s",
			           path, sub.msg);
			goto fail;
		}
	}
	free(names);
	return m;

truncated:
	kd_err_set(e, KD_EFORMAT, "'%s': truncated model file (%llu bytes)",
	           path, (unsigned long long)size);
	return NULL;
fail:
	free(names);
	kdm_free(m);
	return NULL;
}

/* slurp: all of f (not a regular file, so its size is unknown) into a new
 * buffer, at most `limit` bytes; -1 with errno set on failure, E2BIG past
 * the limit */
static int
slurp(FILE *f, uint64_t limit, unsigned char **out, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap), *nb;

	if (!buf)
		return -1;
	for (;;) {
		size_t got;
		if (n == cap) {
			if (cap > limit) {
				free(buf);
				errno = E2BIG;
				return -1;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				free(buf);
				if (!errno)
					errno = EIO;
				return -1;
			}
			break;
		}
	}
	*out = buf;
	*len = n;
	return 0;
}

kdm_model *
kdmod_load(const char *path, kd_err *e)
{
	unsigned char *mem = NULL;
	struct stat st;
	uint64_t size;
	kdm_model *m;
	kdbin_reader r;
	FILE *f = kdbin_open_file(path, &st, e);

	if (!f)
		return NULL;
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		/* a pipe: its size is only known once it is all read. The
		 * largest valid model bounds what we accept. */
		uint64_t limit = 16 + 4 * (KDM_MAX_LAYERS + 1) + 8 +
		                 8 * (uint64_t)KDM_MAX_D + 4 * KDM_MAX_PARAMS +
		                 KDM_MAX_NAMES_LEN + 4;
		size_t len;
		errno = 0;
		if (slurp(f, limit, &mem, &len) < 0) {
			if (errno == E2BIG)
				kd_err_set(e, KD_EFORMAT, "'%s': too large for "
				           "a model file", path);
			else
				kd_err_set(e, KD_EIO, "cannot read '%s': %s",
				           path, strerror(errno));
			fclose(f);
			return NULL;
		}
		fclose(f);
		m = kdmod_load_mem(mem, len, path, e);
		free(mem);
		return m;
	}
	kdbin_reader_init(&r, f, path, "model file", e);
	m = parse(&r, size);
	fclose(f);
	return m;
}

kdm_model *
kdmod_load_mem(const void *buf, size_t len, const char *name, kd_err *e)
{
	FILE *f = NULL;
	kdm_model *m;
	kdbin_reader r;

	/* fmemopen refuses a size of 0 on some systems; parse reads nothing
	 * from an empty file anyway */
	if (len) {
		f = fmemopen((void *)buf, len, "rb");
		if (!f) {
			kd_err_set(e, KD_ENOMEM, "cannot read '%s': %s", name,
			           strerror(errno));
			return NULL;
		}
	}
	kdbin_reader_init(&r, f, name, "model file", e);
	m = parse(&r, len);
	if (f)
		fclose(f);
	return m;
}

uint64_t
kdmod_fingerprint(const kdm_model *m)
{
	unsigned char u[8];
	uint64_t h = KD_HASH64_START;

	for (size_t l = 0; l <= m->n_layers; l++) {
		kd_put_u64(u, m->sizes[l]);
		h = kd_hash64(h, u, 8);
	}
	h = kd_hash64(h, m->params, m->nparams * sizeof *m->params);
	kd_put_u64(u, (uint64_t)m->standardize);
	h = kd_hash64(h, u, 8);
	if (m->standardize) {
		h = kd_hash64(h, m->mean, m->D * sizeof *m->mean);
		h = kd_hash64(h, m->std, m->D * sizeof *m->std);
	}
	h = kd_hash64(h, m->names ? m->names : "", m->names_len);
	return h ? h : 1;
}
