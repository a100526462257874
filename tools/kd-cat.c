/* kd-cat: print a kd stream as CSV text, or turn CSV into a kd stream. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kdcat.h"
#include "kds.h"
#include "out.h"
#include "prob.h"

static void
usage(void)
{
	printf("Usage: kd-cat [--inputs | --info | --top N] [FILE]\n"
	       "       kd-cat --import [--kind KIND] [-T TEMP] [--label-col N] [--id-col N]\n"
	       "              [--header] [-o FILE] [FILE.csv]\n"
	       "Print a kd stream as CSV, or turn CSV rows of class scores into a stream.\n"
	       "\n"
	       "Without --import, FILE (or stdin) is printed as CSV: first a line of\n"
	       "what a row cannot say, '#kd-stream,kind=K,temperature=T' and, when\n"
	       "known, 'model=FINGERPRINT' and 'names,\"NAME\",...'; then the column names\n"
	       "'id,label,' and one per class (z0.. for logits, p0.. for probabilities,\n"
	       "lp0.. for log-probabilities) and, with --inputs, the input features\n"
	       "(x0..); then one line per record. The label is empty in unlabelled\n"
	       "streams. (Skip the first line with tail -n +2, or pandas' comment='#'.)\n"
	       "--info prints what the header says (kind, temperature, classes) and\n"
	       "counts the records instead.\n"
	       "\n"
	       "--import is how the outputs of any other model (a random forest's\n"
	       "probabilities, a PyTorch network's logits) come into kd. Every CSV row\n"
	       "holds K numbers (K taken from the first row), optionally a label column\n"
	       "and an id column; rows get ids 0, 1, ... in file order unless --id-col\n"
	       "is given. CSV printed by kd-cat is read back with its ids, labels, kind,\n"
	       "temperature, class names, model fingerprint and inputs (--kind and -T,\n"
	       "when given, must agree with it). The data set's row count and\n"
	       "fingerprint are not carried (the CSV may hold some of its rows).\n"
	       "gzip-compressed CSV is read directly.\n"
	       "Streams are never read from or written to a terminal.\n"
	       "\n"
	       "Options:\n"
	       "      --inputs         also print the input features\n"
	       "      --info           print the header and the record count\n"
	       "      --top N          print, per record, the N most probable classes\n"
	       "                       (names when the stream has them) and their\n"
	       "                       probabilities under the model's own distribution\n"
	       "                       (T = 1): 'id,label,class1,p1,...', for a person\n"
	       "                       or a spreadsheet; --top 1: the prediction\n"
	       "      --import         read CSV, write a kd stream\n"
	       "      --kind KIND      logits, probs or logprobs (--import; default logits)\n"
	       "  -T, --temperature T  temperature already applied to the values (default 1)\n"
	       "      --label-col N    column N (from 1) holds the class label\n"
	       "      --id-col N       column N (from 1) holds the row id\n"
	       "      --header         skip the first line (a header)\n"
	       "  -o, --output FILE    write to FILE (atomically) instead of stdout\n"
	       "  -h, --help           show this help and exit\n"
	       "  -V, --version        show the version and exit\n"
	       "\n"
	       "Exit status: 0 on success, 1 on an error (its message names the file,\n"
	       "line or record), 2 on bad usage. -o FILE is written atomically (a\n"
	       "temporary file, then a rename): a failed run never leaves half a file.\n"
	       "\n"
	       "Examples:\n"
	       "  kd-cat teacher.kd | head -3\n"
	       "  kd-cat --info soft.kd\n"
	       "  kd-teacher -m student.kdm new.csv | kd-cat --top 3\n"
	       "  kd-cat --import --kind probs --label-col 11 forest.csv > forest.kd\n");
}

int
main(int argc, char **argv)
{
	enum { O_INPUTS = 256, O_INFO, O_IMPORT, O_KIND, O_LABEL, O_ID, O_HEADER, O_TOP };
	static const struct option longopts[] = {
		{ "inputs", no_argument, NULL, O_INPUTS },
		{ "info", no_argument, NULL, O_INFO },
		{ "top", required_argument, NULL, O_TOP },
		{ "import", no_argument, NULL, O_IMPORT },
		{ "kind", required_argument, NULL, O_KIND },
		{ "temperature", required_argument, NULL, 'T' },
		{ "label-col", required_argument, NULL, O_LABEL },
		{ "id-col", required_argument, NULL, O_ID },
		{ "header", no_argument, NULL, O_HEADER },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c, import = 0, info = 0, inputs = 0;
	size_t top = 0;
	kdcat_import_opts io;
	const char *outpath = NULL, *inpath = "-";
	kd_err e = { { 0 }, 0 };

	kdcat_import_opts_init(&io);
	kdc_init(argv[0]);
	while ((c = getopt_long(argc, argv, "T:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case O_INPUTS: inputs = 1; break;
		case O_INFO: info = 1; break;
		case O_TOP: top = (size_t)kdc_long("--top", optarg, 1, KDS_MAX_K); break;
		case O_IMPORT: import = 1; break;
		case O_KIND:
			if ((io.kind = kdp_kind_parse(optarg)) < 0)
				kdc_usage_error("--kind: '%s' is not logits, probs or logprobs", optarg);
			break;
		case 'T':
			io.temp = kdc_double("-T", optarg, 0.0, KDS_MAX_TEMP, 1);
			io.temp_given = 1;
			break;
		case O_LABEL: io.label_col = (size_t)kdc_long("--label-col", optarg, 1, 1 << 22); break;
		case O_ID: io.id_col = (size_t)kdc_long("--id-col", optarg, 1, 1 << 22); break;
		case O_HEADER: io.skip_header = 1; break;
		case 'o': outpath = optarg; break;
		case 'h': usage(); kdc_close_stdout(); return 0;
		case 'V': kdc_version();
		default: kdc_bad_option(argv);
		}
	}
	if (argc - optind > 1)
		kdc_usage_error("one input file at most");
	if (optind < argc)
		inpath = argv[optind];
	if (import && (info || inputs || top))
		kdc_usage_error("--import does not go with --info, --inputs or --top");
	if (top && (info || inputs))
		kdc_usage_error("--top does not go with --info or --inputs");

	if (import) {
		kdout_file o;
		kdc_not_input("-o", outpath, &inpath, 1);
		if (kdout_open(&o, outpath, 1, &e))
			kdc_fail(&e);
		if (kdcat_import(inpath, &io, o.fp, o.name, &e) || kdout_commit(&o, &e)) {
			kdout_abort(&o);
			kdc_fail(&e);
		}
		return 0;
	}
	if (outpath)
		kdc_usage_error("-o goes with --import (CSV goes to stdout)");
	if (top ? kdcat_top(inpath, top, stdout, &e) :
	    info ? kdcat_info(inpath, stdout, &e) : kdcat_export(inpath, inputs, stdout, &e))
		kdc_fail(&e);
	kdc_close_stdout();
	return 0;
}
