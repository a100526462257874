/* binfile.c: little-endian values through stdio with a running CRC-32
 * (see binfile.h). */
#include "binfile.h"

#include <errno.h>
#include <string.h>

#include "le.h"

void
kdbin_writer_init(kdbin_writer *w, FILE *f)
{
	w->f = f;
	w->crc = crc32(0L, Z_NULL, 0);
	w->err = 0;
	w->saved_errno = 0;
}

void
kdbin_write(kdbin_writer *w, const void *p, size_t n)
{
	if (w->err || n == 0)
		return;
	if (fwrite(p, 1, n, w->f) != n) {
		w->err = 1;
		w->saved_errno = errno ? errno : EIO;
		return;
	}
	w->crc = kd_crc32(w->crc, p, n);
}

void
kdbin_write_u32(kdbin_writer *w, uint32_t v)
{
	unsigned char b[4];
	kd_put_u32(b, v);
	kdbin_write(w, b, 4);
}

void
kdbin_write_u64(kdbin_writer *w, uint64_t v)
{
	unsigned char b[8];
	kd_put_u64(b, v);
	kdbin_write(w, b, 8);
}

/* through a small buffer, so that v is never touched */
void
kdbin_write_u32s(kdbin_writer *w, const void *v, size_t n)
{
	unsigned char buf[4096];
	const unsigned char *src = v;

	while (n > 0 && !w->err) {
		size_t c = n > sizeof buf / 4 ? sizeof buf / 4 : n;
		for (size_t i = 0; i < c; i++) {
			uint32_t u;
			memcpy(&u, src + 4 * i, 4);
			kd_put_u32(buf + 4 * i, u);
		}
		kdbin_write(w, buf, 4 * c);
		src += 4 * c;
		n -= c;
	}
}

void
kdbin_write_crc(kdbin_writer *w)
{
	kdbin_write_u32(w, (uint32_t)w->crc);
}

void
kdbin_reader_init(kdbin_reader *r, FILE *f, const char *path, const char *what,
                  kd_err *e)
{
	r->f = f;
	r->path = path;
	r->what = what;
	r->crc = crc32(0L, Z_NULL, 0);
	r->e = e;
}

int
kdbin_read(kdbin_reader *r, void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (!r->f || fread(p, 1, n, r->f) != n) {
		if (r->f && ferror(r->f))
			kd_err_set(r->e, KD_EIO, "cannot read '%s': %s", r->path,
			           strerror(errno ? errno : EIO));
		else
			kd_err_set(r->e, KD_EFORMAT, "'%s': truncated %s", r->path, r->what);
		return -1;
	}
	r->crc = kd_crc32(r->crc, p, n);
	return 0;
}

int
kdbin_read_u32s(kdbin_reader *r, void *v, size_t n)
{
	unsigned char *dst = v;

	if (kdbin_read(r, v, 4 * n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint32_t u = kd_get_u32(dst + 4 * i);
		memcpy(dst + 4 * i, &u, 4);
	}
	return 0;
}

int
kdbin_read_crc(kdbin_reader *r)
{
	uint32_t want = (uint32_t)r->crc;
	unsigned char b[4];

	if (kdbin_read(r, b, 4))
		return -1;
	if (kd_get_u32(b) != want) {
		kd_err_set(r->e, KD_EFORMAT, "'%s': checksum mismatch, file is corrupt", r->path);
		return -1;
	}
	return 0;
}

FILE *
kdbin_open_file(const char *path, struct stat *st, kd_err *e)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		kd_err_set(e, KD_EIO, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), st) < 0) {
		kd_err_set(e, KD_EIO, "cannot read '%s': %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	if (S_ISDIR(st->st_mode)) {
		kd_err_set(e, KD_EIO, "cannot read '%s': %s", path, strerror(EISDIR));
		fclose(f);
		return NULL;
	}
	return f;
}
