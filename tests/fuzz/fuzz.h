/* fuzz.h: what the fuzz targets share: the input as a file that a path
 * names, for readers that open a path (kdmod_load, kdd_csv_load,
 * kdd_idx_load). The file is an anonymous memory file (memfd), reused from
 * one input to the next and named "/proc/self/fd/N", so no disk is
 * touched and nothing is left behind. */
#ifndef KD_FUZZ_H
#define KD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_file {
	int fd;        /* the memfd, -1 before first use */
	char path[32]; /* "/proc/self/fd/N" */
} fz_file;

/* fz_put: f holds exactly the n bytes at p; its path is returned. */
static inline const char *
fz_put(fz_file *f, const uint8_t *p, size_t n)
{
	size_t done = 0;

	if (f->fd < 0) {
		f->fd = memfd_create("kd-fuzz", 0);
		if (f->fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
	}
	if (ftruncate(f->fd, 0) < 0)
		abort();
	while (done < n) {
		ssize_t w = pwrite(f->fd, p + done, n - done, (off_t)done);
		if (w <= 0)
			abort();
		done += (size_t)w;
	}
	return f->path;
}

#endif
