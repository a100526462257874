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

#include "cli.h"

static void
usage(void)
{
	printf("Usage: kd-flip FILE DIR [FIRST [STEP]]\n"
	       "Write DIR/AT for each byte offset AT (from FIRST, every STEP): FILE\n"
	       "with that byte xored with 0x5a (tests only).\n");
}

int
main(int argc, char **argv)
{
	FILE *f;
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0, got;
	size_t first = 0, step = 1;
	char path[4096];

	kdc_init(argv[0]);
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage();
		return 0;
	}
	if (argc < 3 || argc > 5)
		kdc_usage_error("FILE and DIR, then FIRST and STEP if any");
	if (argc > 3)
		first = (size_t)kdc_long("FIRST", argv[3], 0, 1L << 40);
	if (argc > 4)
		step = (size_t)kdc_long("STEP", argv[4], 1, 1L << 40);
	if (!(f = fopen(argv[1], "rb")))
		kdc_die("'%s': %s", argv[1], strerror(errno));
	do {
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap = cap ? 2 * cap : 4096);
			if (!nb)
				kdc_die("out of memory");
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f))
		kdc_die("'%s': read error", argv[1]);
	fclose(f);
	for (size_t at = first; at < n; at += step) {
		FILE *o;
		snprintf(path, sizeof path, "%s/%zu", argv[2], at);
		buf[at] ^= 0x5a;
		if (!(o = fopen(path, "wb")) || fwrite(buf, 1, n, o) != n || fclose(o))
			kdc_die("'%s': %s", path, strerror(errno));
		buf[at] ^= 0x5a;
		printf("%zu\n", at);
	}
	free(buf);
	return 0;
}
