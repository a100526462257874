/* binfile.h: kd's own binary files (model files, checkpoints) written and
 * read through stdio, little-endian value by value, with a running CRC-32
 * of every byte (see le.h). The stream format has its own reader (kds). */
#ifndef KD_BINFILE_H
#define KD_BINFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <zlib.h>

#include "kd_err.h"

typedef struct kdbin_writer {
	FILE *f;         /* where the bytes go (a temporary file, see out.h) */
	uLong crc;       /* CRC-32 of every byte written so far */
	int err;         /* a write failed: later writes do nothing */
	int saved_errno; /* the failed write's errno (EIO when it set none) */
} kdbin_writer;

/* kdbin_writer_init: a writer to f, its CRC at the start. */
void kdbin_writer_init(kdbin_writer *w, FILE *f);

/* kdbin_write: n bytes of p; kdbin_write_u32, kdbin_write_u64: one value;
 * kdbin_write_u32s: n 4-byte values at v (uint32_t, or float by their
 * bits). All little-endian, added to the CRC; nothing once w->err. */
void kdbin_write(kdbin_writer *w, const void *p, size_t n);
void kdbin_write_u32(kdbin_writer *w, uint32_t v);
void kdbin_write_u64(kdbin_writer *w, uint64_t v);
void kdbin_write_u32s(kdbin_writer *w, const void *v, size_t n);

/* kdbin_write_crc: the CRC-32 of everything written so far, as the file's
 * last 4 bytes (little-endian). */
void kdbin_write_crc(kdbin_writer *w);

typedef struct kdbin_reader {
	FILE *f;          /* NULL reads as an empty file */
	const char *path; /* for messages */
	const char *what; /* "model file", "checkpoint": for messages */
	uLong crc;        /* CRC-32 of every byte read so far */
	kd_err *e;
} kdbin_reader;

/* kdbin_reader_init: a reader of f, its CRC at the start. */
void kdbin_reader_init(kdbin_reader *r, FILE *f, const char *path, const char *what,
                       kd_err *e);

/* kdbin_read: exactly n bytes into p, added to the CRC; kdbin_read_u32s: n
 * little-endian 4-byte values into v (uint32_t or float). 0, or -1 with
 * r->e set: "'PATH': truncated WHAT" on a short file, or the I/O error. */
int kdbin_read(kdbin_reader *r, void *p, size_t n);
int kdbin_read_u32s(kdbin_reader *r, void *v, size_t n);

/* kdbin_read_crc: read the 4-byte CRC-32 that kdbin_write_crc wrote and
 * compare it with the CRC of everything read before it. 0, or -1 with
 * r->e set: truncated as kdbin_read, or "'PATH': checksum mismatch, file is
 * corrupt". */
int kdbin_read_crc(kdbin_reader *r);

/* kdbin_open_file: fopen path for reading and fstat it; a directory is
 * refused (EISDIR). *st gets what fstat says. NULL with e set. */
FILE *kdbin_open_file(const char *path, struct stat *st, kd_err *e);

#endif
