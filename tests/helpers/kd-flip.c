/* kd-flip: write copies of a file, each with one byte changed, for tests
 * only.
 *
 *   kd-flip FILE DIR [FIRST [STEP]]
 *
 * For each offset AT = FIRST, FIRST+STEP, ... below FILE's size, writes
 * DIR/AT: FILE with the byte at AT xored with 0x5a (so it always
 * changes), and prints AT on a line. One process for what a shell loop
 * of cp, od and dd did in six a byte. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage(void)
{
	printf("Usage: kd-flip FILE DIR [FIRST [STEP]]\n"
	       "Write DIR/AT for each byte offset AT (from FIRST, every STEP): FILE\n"
	       "with that byte xored with 0x5a (tests only).\n");
}

static long
number(const char *s, long min)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min) {
		fprintf(stderr, "kd-flip: '%s' is not a number of at least %ld\n", s, min);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	FILE *f;
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0, got;
	long first = 0, step = 1;
	char path[4096];

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage();
		return 0;
	}
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "kd-flip: usage: kd-flip FILE DIR [FIRST [STEP]]\n");
		return 2;
	}
	if (argc > 3)
		first = number(argv[3], 0);
	if (argc > 4)
		step = number(argv[4], 1);
	if (!(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "kd-flip: '%s': %s\n", argv[1], strerror(errno));
		return 1;
	}
	do {
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap = cap ? 2 * cap : 4096);
			if (!nb) {
				fprintf(stderr, "kd-flip: out of memory\n");
				return 1;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		fprintf(stderr, "kd-flip: '%s': read error\n", argv[1]);
		return 1;
	}
	fclose(f);
	for (size_t at = (size_t)first; at < n; at += (size_t)step) {
		FILE *o;
		snprintf(path, sizeof path, "%s/%zu", argv[2], at);
		buf[at] ^= 0x5a;
		if (!(o = fopen(path, "wb")) || fwrite(buf, 1, n, o) != n || fclose(o)) {
			fprintf(stderr, "kd-flip: '%s': %s\n", path, strerror(errno));
			return 1;
		}
		buf[at] ^= 0x5a;
		printf("%zu\n", at);
	}
	free(buf);
	return 0;
}
