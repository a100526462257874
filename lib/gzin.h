/* gzin.h: kd's input files read through zlib's gz* functions, which take
 * gzip and plain files alike, in chunks of KDZ_CHUNK bytes; shared by the
 * CSV (csv.c) and IDX (idx.c) readers and the loader that chooses between
 * them (data.c). Messages name the file as given ('stdin' for "-"). */
#ifndef KD_GZIN_H
#define KD_GZIN_H

#include <stddef.h>
#include <zlib.h>

#include "kd_err.h"

#define KDZ_CHUNK ((size_t)1 << 16) /* bytes read from a file at a time */

/* kdz_name: the name messages give path: 'stdin' for "-" */
const char *kdz_name(const char *path);

/* kdz_open: a gz reader on path ("-": a duplicate of standard input, so
 * closing it leaves fd 0 open); *size (when not NULL) gets a regular
 * file's size, else -1. A directory is refused, and so is a gzip file
 * followed by bytes that are not another gzip member (zlib would ignore
 * them). NULL with e set on failure. */
gzFile kdz_open(const char *path, long long *size, kd_err *e);

/* kdz_read: up to n bytes into buf; the count (< n only at the end of the
 * data, or before an error) or -1 with e set. A gzip stream cut short is
 * an error, not the end: the bytes before the cut come first, and the
 * next call fails with KD_EFORMAT ("truncated"). */
long long kdz_read(gzFile gz, void *buf, size_t n, const char *path, kd_err *e);

/* kdz_fail: e = a read error on gz (zlib's, or errno's) */
void kdz_fail(gzFile gz, const char *path, kd_err *e);

/* kdz_binary_kind: what the 4 bytes at b begin when a file kd knows that
 * is not text (a kd stream, model or checkpoint, an IDX file), else NULL */
const char *kdz_binary_kind(const unsigned char *b);

#endif
