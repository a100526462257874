/* kd-gen: a deterministic data generator for tests (like zstd's datagen).
 *
 *   kd-gen blobs --rows N --features D --classes K --seed S
 *                [--sep X] [--scale X] [--no-label] [--header]
 *
 * writes N rows of CSV to stdout: K Gaussian blobs in D dimensions, unit
 * noise around class centres drawn from the seed, the class (0..K-1) in
 * the last column. --sep is the typical distance between two centres in
 * noise standard deviations (default 4: a small MLP gets most rows right,
 * not all); no two centres are closer than half of it when room allows.
 * --scale multiplies every feature, to test standardisation of raw columns
 * in the thousands. The same arguments always give the same bytes. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: kd-gen blobs [--rows N] [--features D] [--classes K] [--seed S]\n"
	    "                    [--sep X] [--scale X] [--no-label] [--header]\n"
	    "Write deterministic test data as CSV: K Gaussian blobs in D dimensions\n"
	    "(defaults: 1000 rows, 2 features, 3 classes, seed 1, sep 4, scale 1),\n"
	    "the class in the last column.\n");
}

static void
die_usage(const char *what, const char *arg)
{
	fprintf(stderr, "kd-gen: %s '%s'\n", what, arg);
	usage(stderr);
	exit(2);
}

/* count: a whole number in [lo, hi] from option opt. */
static unsigned long long
count(const char *opt, const char *s, unsigned long long lo,
      unsigned long long hi)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || v < lo || v > hi) {
		char what[64];
		snprintf(what, sizeof what, "bad value for --%s:", opt);
		die_usage(what, s);
	}
	return v;
}

/* real: a finite number from option opt. */
static double
real(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v)) {
		char what[64];
		snprintf(what, sizeof what, "bad value for --%s:", opt);
		die_usage(what, s);
	}
	return v;
}

/* dist2: squared distance between two points of d coordinates. */
static double
dist2(const double *a, const double *b, size_t d)
{
	double s = 0;
	for (size_t j = 0; j < d; j++)
		s += (a[j] - b[j]) * (a[j] - b[j]);
	return s;
}

/* centres: K centres of D coordinates, each N(0, sep^2 / (2D)) so that two
 * lie sep apart on average; each is redrawn (up to 100 times, keeping the
 * best) while closer than sep/2 to an earlier one. */
static void
centres(kdr_rng *r, double *c, size_t k, size_t d, double sep)
{
	double sd = sep / sqrt(2.0 * (double)d), want = sep * sep / 4;
	double *cand = malloc(d * sizeof *cand);

	if (!cand) {
		fprintf(stderr, "kd-gen: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < k; i++) {
		double best = -1;
		for (int t = 0; t < 100; t++) {
			double near = INFINITY;
			for (size_t j = 0; j < d; j++)
				cand[j] = sd * kdr_normal(r);
			for (size_t p = 0; p < i; p++) {
				double q = dist2(cand, c + p * d, d);
				near = q < near ? q : near;
			}
			if (near > best) {
				best = near;
				memcpy(c + i * d, cand, d * sizeof *cand);
			}
			if (near >= want)
				break;
		}
	}
	free(cand);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rows", required_argument, NULL, 'n' },
		{ "features", required_argument, NULL, 'd' },
		{ "classes", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 's' },
		{ "sep", required_argument, NULL, 'p' },
		{ "scale", required_argument, NULL, 'x' },
		{ "no-label", no_argument, NULL, 'L' },
		{ "header", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long long rows = 1000, d = 2, k = 3, seed = 1;
	double sep = 4, scale = 1, *c;
	int label = 1, header = 0, ch;
	kdr_rng r;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "blobs") != 0) {
		if (argc < 2) {
			usage(stderr);
			return 2;
		}
		die_usage("unknown generator", argv[1]);
	}
	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': rows = count("rows", optarg, 0, 1ULL << 40); break;
		case 'd': d = count("features", optarg, 1, 1ULL << 22); break;
		case 'k': k = count("classes", optarg, 1, 1ULL << 20); break;
		case 's': seed = count("seed", optarg, 0, UINT64_MAX); break;
		case 'p': sep = real("sep", optarg); break;
		case 'x': scale = real("scale", optarg); break;
		case 'L': label = 0; break;
		case 'H': header = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		die_usage("unexpected argument", argv[optind]);
	if (sep < 0)
		die_usage("bad value for --sep:", "negative");

	c = malloc((size_t)(k * d) * sizeof *c);
	if (!c) {
		fprintf(stderr, "kd-gen: out of memory\n");
		return 1;
	}
	kdr_init(&r, seed);
	centres(&r, c, (size_t)k, (size_t)d, sep);

	if (header) {
		for (unsigned long long j = 0; j < d; j++)
			printf("%sx%llu", j ? "," : "", j + 1);
		printf(label ? ",label\n" : "\n");
	}
	for (unsigned long long i = 0; i < rows; i++) {
		size_t cls = (size_t)kdr_below(&r, k);
		const double *m = c + cls * d;
		for (unsigned long long j = 0; j < d; j++)
			printf("%s%.6g", j ? "," : "", (m[j] + kdr_normal(&r)) * scale);
		if (label)
			printf(",%zu", cls);
		putchar('\n');
		if (ferror(stdout))
			break;
	}
	free(c);
	/* a full disk or a closed pipe is an error, not success */
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		fprintf(stderr, "kd-gen: write error: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
