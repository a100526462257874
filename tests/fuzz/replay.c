/* replay: run a fuzz target's LLVMFuzzerTestOneInput on files, without
 * libFuzzer, so that the inputs kept in tests/fuzz/regress/ run in every
 * build (plain, asan, ubsan, valgrind) as regression tests.
 *
 *   replay-TARGET FILE|DIR...   (a directory: every file in it)
 *
 * Exits 0 when every input ran to its end; a crash or a sanitizer report
 * ends it otherwise. Prints one line per input on stdout. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* under AddressSanitizer, one allocation over 256 MiB is an error, as
 * -malloc_limit_mb=256 makes it under libFuzzer (tests/fuzz/run) */
const char *
__asan_default_options(void)
{
	return "max_allocation_size_mb=256:allocator_may_return_null=0";
}

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f) {
		perror(path);
		return -1;
	}
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			if (!(buf = realloc(buf, cap))) {
				perror("realloc");
				exit(2);
			}
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		perror(path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	printf("%s (%zu bytes)\n", path, n);
	fflush(stdout);
	/* a copy of exactly n bytes, so that reading past the end is caught */
	{
		uint8_t *exact = malloc(n ? n : 1);
		if (!exact)
			exit(2);
		memcpy(exact, buf, n);
		free(buf);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (!d) {
		perror(dir);
		return -1;
	}
	while ((de = readdir(d))) {
		size_t len;
		if (de->d_name[0] == '.')
			continue;
		len = strlen(dir) + strlen(de->d_name) + 2;
		if (!(names = realloc(names, (n + 1) * sizeof *names)) ||
		    !(names[n] = malloc(len)))
			exit(2);
		snprintf(names[n++], len, "%s/%s", dir, de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		if (run_file(names[i]))
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc |= run_dir(argv[i]);
		else
			rc |= run_file(argv[i]);
	}
	return rc ? 1 : 0;
}
