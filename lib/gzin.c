/* gzin.c: reading kd's input files through zlib, gzip or plain alike,
 * in chunks (see gzin.h). */
#include "gzin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* display: the name errors give path: 'stdin' for "-". */
const char *
kdz_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

/* gz_trailing: for the regular file on fd (read with pread, so its offset
 * is left where it was), -1 with e set when it is gzip data followed by bytes that are
 * not another gzip member, which zlib's gzread would silently ignore;
 * else 0 (plain files, and unreadable ones, are left to the reader) */
static int
gz_trailing(int fd, const char *path, kd_err *e)
{
	unsigned char in[1 << 16], out[1 << 16];
	z_stream z;
	ssize_t got;
	long long pos = 0; /* bytes of the file before in[0] */
	int rc = 0, zr = Z_OK, member = 1;

	got = pread(fd, in, 2, 0);
	if (got != 2 || in[0] != 0x1f || in[1] != 0x8b)
		return 0;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return 0;
	for (;;) {
		if (z.avail_in == 0) {
			got = pread(fd, in, sizeof in, pos);
			if (got <= 0)
				break; /* the end (a cut member is the reader's to report) */
			z.next_in = in;
			z.avail_in = (uInt)got;
		}
		if (!member) {
			/* after a member: another one, or nothing, may follow */
			if (z.next_in[0] != 0x1f || (z.avail_in > 1 && z.next_in[1] != 0x8b)) {
				kd_err_set(e, KD_EFORMAT, "'%s': data after the end of the gzip stream "
				           "(at byte %lld), not another gzip member", kdz_name(path),
				           pos + (long long)(z.next_in - in));
				rc = -1;
				break;
			}
			inflateReset(&z);
			member = 1;
		}
		z.next_out = out;
		z.avail_out = sizeof out;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			member = 0;
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			break; /* corrupt: the reader says so */
		if (z.avail_in == 0)
			pos += got;
	}
	inflateEnd(&z);
	return rc;
}

/* open_input: a gz reader on path ("-" = a duplicate of standard input, so
 * closing it leaves fd 0 open). *size gets the file size for a regular
 * file, else -1. Directories are refused here: open() succeeds on them and
 * the first read would fail with a less helpful message. */
gzFile
kdz_open(const char *path, long long *size, kd_err *e)
{
	struct stat st;
	gzFile gz;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = dup(0);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		kd_err_set(e, KD_EIO, "cannot open '%s': %s", kdz_name(path),
		           strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		kd_err_set(e, KD_EIO, "cannot open '%s': %s", kdz_name(path),
		           strerror(errno));
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		kd_err_set(e, KD_EIO, "cannot open '%s': %s", kdz_name(path),
		           strerror(EISDIR));
		close(fd);
		return NULL;
	}
	if (size)
		*size = S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
	if (S_ISREG(st.st_mode) && gz_trailing(fd, path, e)) {
		close(fd);
		return NULL;
	}
	gz = gzdopen(fd, "rb");
	if (!gz) {
		kd_err_set(e, KD_ENOMEM, "cannot open '%s': out of memory",
		           kdz_name(path));
		close(fd);
		return NULL;
	}
	gzbuffer(gz, 1u << 17);
	return gz;
}

/* binary_kind: what the 4 bytes at b begin, when a file kd knows that is
 * not text (a CSV reader names it instead of parsing it), else NULL */
const char *
kdz_binary_kind(const unsigned char *b)
{
	if (!memcmp(b, "\x28\xB5\x2F\xFD", 4))
		return "zstd-compressed (a kd stream?)";
	if (!memcmp(b, "KDM\x1a", 4))
		return "a kd model";
	if (!memcmp(b, "KDK\x1a", 4))
		return "a kd checkpoint";
	if (!memcmp(b, "\0\0\x08\x03", 4))
		return "an IDX images file";
	if (!memcmp(b, "\0\0\x08\x01", 4))
		return "an IDX labels file";
	return NULL;
}

/* gz_fail: set e for a read error on gz (a zlib error or errno). */
void
kdz_fail(gzFile gz, const char *path, kd_err *e)
{
	int zerr = Z_OK;
	const char *msg = gzerror(gz, &zerr);

	if (zerr == Z_BUF_ERROR) { /* zlib's "unexpected end of file" */
		kd_err_set(e, KD_EFORMAT, "'%s': truncated (the gzip data ends early)", kdz_name(path));
		return;
	}
	if (zerr == Z_ERRNO) {
		msg = strerror(errno);
	} else if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": ")) {
		/* zlib puts the gzdopen pseudo-name "<fd:N>: " in front */
		msg = strstr(msg, ": ") + 2;
	}
	kd_err_set(e, zerr == Z_MEM_ERROR ? KD_ENOMEM : KD_EIO,
	           "cannot read '%s': %s", kdz_name(path), msg);
}

/* read_full: read up to n bytes into buf; returns the count (< n only at
 * the end of the data, or before an error) or -1 with e set. A gzip
 * stream cut short counts as an error, not as the end (gzread reports it
 * only through gzerror): the bytes before the cut are returned first, and
 * the next call fails with KD_EFORMAT. */
long long
kdz_read(gzFile gz, void *buf, size_t n, const char *path, kd_err *e)
{
	unsigned char *p = buf;
	size_t done = 0;

	while (done < n) {
		size_t want = n - done;
		int got;

		if (want > (1u << 30))
			want = 1u << 30;
		got = gzread(gz, p + done, (unsigned)want);
		if (got < 0) {
			kdz_fail(gz, path, e);
			return -1;
		}
		if (got == 0) {
			int zerr = Z_OK;
			gzerror(gz, &zerr);
			if (zerr != Z_OK && done > 0)
				break; /* the bytes before the error first: the
				          next call reports it (zlib keeps it) */
			if (zerr != Z_OK) {
				kdz_fail(gz, path, e);
				return -1;
			}
			break;
		}
		done += (size_t)got;
	}
	return (long long)done;
}

