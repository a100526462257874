/* kd-soften: turn class scores into soft targets at a temperature T. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kds.h"
#include "out.h"
#include "prob.h"

static void
usage(void)
{
	printf("Usage: kd-soften -T TEMP [--smooth A] [-o FILE] [--log] [FILE]\n"
	       "Soften a kd stream into soft targets at temperature TEMP.\n"
	       "\n"
	       "Each record's class scores become softmax(z / TEMP) for logits, and\n"
	       "p^(1/TEMP), normalised, for probabilities and log-probabilities, so\n"
	       "any model's outputs can be softened; numerically stable for any\n"
	       "logits. Ids, labels and inputs pass through unchanged. The output\n"
	       "stream's temperature is the input's times TEMP, the one kd-student\n"
	       "trains at. Reads FILE, or standard input when FILE is absent or '-'.\n"
	       "\n"
	       "--smooth A first smooths probabilities (or log-probabilities) to\n"
	       "(p + A) / (1 + K A): a model without a softmax, such as a random\n"
	       "forest, gives classes a probability of exactly 0, which tempering\n"
	       "cannot lift (0^(1/T) is 0). With A = 1/n for a forest of n trees it\n"
	       "is Laplace's smoothing of the votes, one made-up vote per class.\n"
	       "Streams are never read from or written to a terminal.\n"
	       "\n"
	       "Options:\n"
	       "  -T, --temperature TEMP  temperature, in (0, 1e6] (required)\n"
	       "      --smooth A          add A to each probability and renormalise,\n"
	       "                          before tempering, A in (0, 1e6] (probability\n"
	       "                          and log-probability streams only)\n"
	       "      --log               write log-probabilities instead of probabilities\n"
	       "  -o, --output FILE       write to FILE (atomically) instead of stdout\n"
	       "  -h, --help              show this help and exit\n"
	       "  -V, --version           show the version and exit\n"
	       "\n"
	       "Exit status: 0 on success, 1 on an error (its message names the file,\n"
	       "line or record), 2 on bad usage. -o FILE is written atomically (a\n"
	       "temporary file, then a rename): a failed run never leaves half a file.\n"
	       "\n"
	       "Examples:\n"
	       "  kd-teacher -m teacher.kdm --inputs train.csv | kd-soften -T 8 | kd-student -o s.kdm\n"
	       "  kd-soften -T 2 --log probs.kd > soft-logp.kd\n"
	       "  kd-soften -T 2 --smooth 0.01 forest.kd > soft.kd   # 100 trees\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "temperature", required_argument, NULL, 'T' },
		{ "log", no_argument, NULL, 'l' },
		{ "smooth", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	double T = 0.0, smooth = 0.0;
	int out_log = 0, c;
	const char *outpath = NULL, *inpath = "-";
	kd_err e = { { 0 }, 0 };
	kds_reader *r;
	kds_writer *w;
	kds_header h;
	kds_record rec;
	kdout_file o;
	float *buf;

	kdc_init(argv[0]);
	while ((c = getopt_long(argc, argv, "T:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'T': T = kdc_double("-T", optarg, 0.0, 1e6, 1); break;
		case 'l': out_log = 1; break;
		case 's': smooth = kdc_double("--smooth", optarg, 0.0, 1e6, 1); break;
		case 'o': outpath = optarg; break;
		case 'h': usage(); kdc_close_stdout(); return 0;
		case 'V': kdc_version();
		default: kdc_bad_option(argv);
		}
	}
	if (T == 0.0)
		kdc_usage_error("a temperature is required (-T TEMP)");
	if (argc - optind > 1)
		kdc_usage_error("one input file at most");
	if (optind < argc)
		inpath = argv[optind];
	kdc_not_input("-o", outpath, &inpath, 1);

	if (!(r = kds_open(inpath, &e)) || kds_scores_only(r, &e))
		kdc_fail(&e);
	if (smooth > 0.0 && kds_header_of(r)->kind == KDP_LOGITS)
		kdc_die("'%s': --smooth goes with probabilities, and the stream holds logits "
		        "(a softmax gives no zeros to lift)", kds_name(r));
	h = *kds_header_of(r);
	h.kind = out_log ? KDP_LOGPROBS : KDP_PROBS;
	h.temp = kds_header_of(r)->temp * T;
	if (h.temp > KDS_MAX_TEMP)
		kdc_die("'%s': temperature %g times %g is above %g", kds_name(r),
		        kds_header_of(r)->temp, T, KDS_MAX_TEMP);
	if (!(buf = malloc(4 * (size_t)h.k)))
		kdc_die("out of memory");
	if (kdout_open(&o, outpath, 1, &e))
		kdc_fail(&e);
	if (!(w = kds_create(o.fp, o.name, &h, &e)))
		goto fail;
	while ((c = kds_read(r, &rec, &e)) == 1) {
		int kind = kds_header_of(r)->kind;
		if (smooth > 0.0) {
			kdp_smooth(kind, rec.values, h.k, smooth, buf);
			kind = KDP_PROBS;
			rec.values = buf;
		}
		kdp_soften(kind, rec.values, h.k, T, out_log, buf);
		rec.values = buf;
		if (kds_write(w, &rec, &e))
			goto fail;
	}
	if (c < 0 || kds_finish(w, &e) || kdout_commit(&o, &e))
		goto fail;
	kds_writer_free(w);
	kds_close(r);
	free(buf);
	return 0;
fail:
	kdout_abort(&o);
	kdc_fail(&e);
}
