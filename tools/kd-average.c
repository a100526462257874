/* kd-average: merge several teachers' streams into one ensemble target. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "average.h"
#include "kds.h"

static void
usage(void)
{
	printf("Usage: kd-average [-w W1,W2,...] [--geometric] [--log] [-o FILE] FILE...\n"
	       "Merge several teachers' kd streams into one ensemble target.\n"
	       "\n"
	       "The streams must describe the same rows in the same order: the same\n"
	       "number of classes, temperature, record count, row ids and labels\n"
	       "(a disagreement is an error naming the file and record). Logits,\n"
	       "probabilities and log-probabilities may be mixed. The output holds\n"
	       "the (weighted) arithmetic mean of the probabilities, or with\n"
	       "--geometric the normalised geometric mean (the mean of the\n"
	       "log-probabilities, renormalised). Inputs are taken from the first\n"
	       "stream that carries them. Runs in constant memory; '-' reads stdin.\n"
	       "A stream may be kd-teacher --shard parts joined with cat, in any order\n"
	       "(the same in every stream): a row missing or repeated is an error\n"
	       "naming the row. Streams are never read from or written to a terminal.\n"
	       "\n"
	       "Options:\n"
	       "  -w, --weights W1,W2,...  one non-negative weight per FILE (default: equal)\n"
	       "  -g, --geometric          normalised geometric mean instead of arithmetic\n"
	       "      --log                write log-probabilities instead of probabilities\n"
	       "  -o, --output FILE        write to FILE (atomically) instead of stdout\n"
	       "  -h, --help               show this help and exit\n"
	       "  -V, --version            show the version and exit\n"
	       "\n"
	       "Exit status: 0 on success, 1 on an error (its message names the file,\n"
	       "line or record), 2 on bad usage. -o FILE is written atomically (a\n"
	       "temporary file, then a rename): a failed run never leaves half a file.\n"
	       "\n"
	       "Examples:\n"
	       "  kd-average t1.kd t2.kd t3.kd > ensemble.kd\n"
	       "  kd-average --geometric -w 2,1,1 t1.kd t2.kd t3.kd | kd-soften -T 4 > e.kd\n");
}

/* parse_weights: n comma-separated weights, normalised to sum 1 */
static double *
parse_weights(const char *s, int n)
{
	double *w = calloc((size_t)n, sizeof *w), sum = 0.0;
	char *copy = strdup(s), *tok, *save = NULL;
	int i = 0;

	if (!w || !copy)
		kdc_die("out of memory");
	if (!*s || *s == ',' || strstr(s, ",,") || s[strlen(s) - 1] == ',')
		kdc_usage_error("-w: '%s' is not a list of weights like 2,1,1", s);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (i == n)
			kdc_usage_error("-w: %d weights for %d files", i + 1, n);
		w[i] = kdc_double("-w", tok, 0.0, 1e30, 0);
		sum += w[i++];
	}
	if (i != n)
		kdc_usage_error("-w: %d weights for %d files", i, n);
	if (!(sum > 0.0))
		kdc_usage_error("-w: the weights sum to 0");
	for (i = 0; i < n; i++)
		w[i] /= sum;
	free(copy);
	return w;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "weights", required_argument, NULL, 'w' },
		{ "geometric", no_argument, NULL, 'g' },
		{ "log", no_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *wopt = NULL, *outpath = NULL;
	int geometric = 0, out_log = 0, c, n, i, stdin_used = 0;
	kd_err e = { { 0 }, 0 };
	double *wt;

	kdc_init(argv[0]);
	while ((c = getopt_long(argc, argv, "w:go:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': wopt = optarg; break;
		case 'g': geometric = 1; break;
		case 'l': out_log = 1; break;
		case 'o': outpath = optarg; break;
		case 'h': usage(); kdc_close_stdout(); return 0;
		case 'V': kdc_version();
		default: kdc_bad_option(argv);
		}
	}
	n = argc - optind;
	if (n < 1)
		kdc_usage_error("no input streams");
	for (i = 0; i < n; i++)
		if (!strcmp(argv[optind + i], "-") && stdin_used++)
			kdc_usage_error("standard input ('-') given twice");
	kdc_not_input("-o", outpath, (const char *const *)argv + optind, (size_t)n);
	wt = wopt ? parse_weights(wopt, n) : NULL;
	if (kda_average((const char *const *)argv + optind, n, wt, geometric, out_log, outpath, &e))
		kdc_fail(&e);
	free(wt);
	return 0;
}
