/* kd-eval: score models and streams against the labels and a teacher. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "cli.h"
#include "data.h"
#include "eval.h"
#include "report.h"
#include "model.h"

static void
usage(void)
{
	printf("Usage: kd-eval [options] STREAM...\n"
	       "       kd-eval [options] -m MODEL [-m MODEL...] [STREAM...] DATA\n"
	       "       kd-eval --similar [-T TEMP] [--json] [--plot FILE.png] [STREAM]\n"
	       "Score models and streams against the labels and against a teacher;\n"
	       "or show which classes a teacher holds alike.\n"
	       "\n"
	       "Each candidate, a kd stream of class scores (logits, probabilities or\n"
	       "log-probabilities, at any temperature: scores are taken back to T=1) or a\n"
	       "model run over the labelled data set DATA, gets a row of the table:\n"
	       "errors, accuracy, negative log-likelihood (NLL, natural log), Brier score,\n"
	       "and expected calibration error (ECE, 15 equal-width confidence bins).\n"
	       "With a teacher, also the top-1 agreement with it and the mean\n"
	       "KL(teacher || candidate) at T=1; rows are matched by position and must\n"
	       "have the same ids. When neither candidate nor teacher carries labels,\n"
	       "only agreement and KL are reported. Zero probabilities in probability\n"
	       "streams count as 1e-45 in the NLL (at most 103.6 nats per row).\n"
	       "\n"
	       "DATA (with -m or --teacher-model) is the last operand: a CSV file, the\n"
	       "label last unless --label-col (gzip read directly; a bad row stops the\n"
	       "run with 'file':line:column: and why), Fashion-MNIST IDX files\n"
	       "(fashion-mnist:test, or a *-images-idx3-ubyte.gz path, its labels file\n"
	       "beside it; the ten class names kept), or a kd stream that carries\n"
	       "inputs. Candidates appear in the order given. Streams are read in\n"
	       "constant memory, never from a terminal. A stream may be kd-teacher\n"
	       "--shard parts joined with cat, in any order (the teacher's the same):\n"
	       "a row missing or repeated is an error naming the row. DATA may be\n"
	       "CSV rows as wide as the models' inputs, without labels: then only\n"
	       "the agreement with a --teacher-model is scored.\n"
	       "\n"
	       "--similar reads one labelled stream (stdin without STREAM: a\n"
	       "teacher's logits, or its soft targets) and prints the dark knowledge\n"
	       "in it: for each true class c, the mean probability its rows give\n"
	       "every class j at temperature TEMP (each row of the matrix sums to\n"
	       "1), the class most like c, and the ten pairs of classes held most\n"
	       "alike (the mean of the two entries).\n"
	       "TEMP is the stream's own temperature unless -T gives another (the\n"
	       "stream is softened, as kd-soften does, to reach it). --plot draws\n"
	       "the matrix as a heat map with the class names.\n"
	       "\n"
	       "Options:\n"
	       "  -m, --model MODEL        a model to score on DATA (repeatable)\n"
	       "  -t, --teacher STREAM     the reference stream to compare with\n"
	       "      --teacher-model M    the reference as a model run on DATA\n"
	       "  -n, --name NAME          the next candidate's name in the report\n"
	       "                           (repeatable, in candidate order; default: its file)\n"
	       "      --json               one JSON object per candidate per line\n"
	       "      --confusion          the confusion matrix and per-class errors\n"
	       "                           (with the class names, when known)\n"
	       "      --bins               the calibration bins\n"
	       "      --plot FILE.png      draw reliability diagrams and confusion matrices\n"
	       "                           (with gnuplot), one row per labelled candidate\n"
	       "      --similar            how alike the teacher holds the classes (above)\n"
	       "  -T, --temperature TEMP   with --similar: the temperature of the matrix\n"
	       "      --label-col N        DATA's column N (from 1) holds the label\n"
	       "      --header             DATA's first line is a header\n"
	       "  -h, --help               show this help and exit\n"
	       "  -V, --version            show the version and exit\n"
	       "\n"
	       "Exit status: 0 on success, 1 on an error (its message names the file,\n"
	       "line or record), 2 on bad usage.\n"
	       "\n"
	       "Examples:\n"
	       "  kd-eval --name teacher --name student teacher.test.kd student.test.kd\n"
	       "  kd-eval -m student.kdm --teacher-model teacher.kdm --json fashion-mnist:test\n"
	       "  kd-eval --confusion --plot eval.png -m teacher.kdm fashion-mnist:test\n"
	       "  kd-teacher -m teacher.kdm fashion-mnist:test | kd-eval --similar -T 8 --plot alike.png\n");
}

typedef struct cand {
	const char *path; /* the stream or model file */
	int model;        /* 1: a model run over DATA */
} cand;

/* similar_main: kd-eval --similar on the one stream of cands (others:
 * set when an option of scoring was given too) */
static int
similar_main(const cand *cands, size_t nc, const char **names, size_t nn, int json,
             const char *plot, double temp, int others)
{
	kd_err e = { { 0 }, 0 };
	const char *path = nc ? cands[0].path : "-";
	kde_sim s;

	if (others)
		kdc_usage_error("--similar reads one stream: -m, --teacher, --teacher-model, "
		                "--confusion and --bins do not go with it");
	if (nc > 1)
		kdc_usage_error("--similar reads one stream (%zu given)", nc);
	if (nn > 1)
		kdc_usage_error("%zu names for one stream", nn);
	if (plot && !strcmp(plot, "-"))
		kdc_usage_error("--plot needs a file name");
	if (plot)
		kdc_not_input("--plot", plot, &path, 1);
	if (kde_similar(path, temp, nn ? names[0] : !strcmp(path, "-") ? "stdin" : NULL,
	                &s, &e))
		kdc_fail(&e);
	if (plot && kdrep_sim_plot(plot, &s, &e))
		kdc_fail(&e);
	if (json)
		kdrep_sim_json(stdout, &s);
	else
		kdrep_sim_table(stdout, &s);
	kdc_close_stdout();
	kde_sim_free(&s);
	free((void *)cands);
	free(names);
	return 0;
}

int
main(int argc, char **argv)
{
	enum { O_TMODEL = 256, O_JSON, O_CONF, O_BINS, O_PLOT, O_LABEL, O_HEADER, O_SIMILAR };
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "teacher", required_argument, NULL, 't' },
		{ "teacher-model", required_argument, NULL, O_TMODEL },
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, O_JSON },
		{ "confusion", no_argument, NULL, O_CONF },
		{ "bins", no_argument, NULL, O_BINS },
		{ "plot", required_argument, NULL, O_PLOT },
		{ "label-col", required_argument, NULL, O_LABEL },
		{ "header", no_argument, NULL, O_HEADER },
		{ "similar", no_argument, NULL, O_SIMILAR },
		{ "temperature", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	cand *cands = calloc((size_t)argc, sizeof *cands);
	const char **names = calloc((size_t)argc, sizeof *names);
	const char *teacher = NULL, *tmodel_path = NULL, *plot = NULL, *data_spec = NULL;
	size_t nc = 0, nn = 0, nmodels = 0, nstdin = 0;
	int c, json = 0, similar = 0;
	double temp = 0.0;
	kdrep_opts ro = { NULL, 0, 0 };
	kdd_load_opts lo;
	kdd_set data;
	kdm_model **models, *tmodel = NULL;
	kde_result *res;
	kd_err e = { { 0 }, 0 };

	kdc_choose_core(argv); /* may run the program again: before all else */
	kdc_init(argv[0]);
	memset(&lo, 0, sizeof lo);
	memset(&data, 0, sizeof data);
	if (!cands || !names)
		kdc_die("out of memory");
	/* "-" first: operands come back in place (as 1), so that streams
	 * and models keep the order of the command line */
	while ((c = getopt_long(argc, argv, "-m:t:n:T:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 1: cands[nc++] = (cand){ optarg, 0 }; break;
		case 'm': cands[nc++] = (cand){ optarg, 1 }; nmodels++; break;
		case 't': teacher = optarg; break;
		case O_TMODEL: tmodel_path = optarg; break;
		case 'n': names[nn++] = optarg; break;
		case O_JSON: json = 1; break;
		case O_CONF: ro.confusion = 1; break;
		case O_BINS: ro.bins = 1; break;
		case O_PLOT: plot = optarg; break;
		case O_LABEL: lo.csv.label_col = (size_t)kdc_long("--label-col", optarg, 1, 1 << 22); break;
		case O_HEADER: lo.csv.header = 1; break;
		case O_SIMILAR: similar = 1; break;
		case 'T': temp = kdc_double("-T", optarg, 0.0, 1e6, 1); break;
		case 'h':
			usage();
			free(cands);
			free(names);
			kdc_close_stdout();
			return 0;
		case 'V': kdc_version();
		default: kdc_bad_option(argv);
		}
	}
	for (; optind < argc; optind++) /* after "--" */
		cands[nc++] = (cand){ argv[optind], 0 };

	if (similar)
		return similar_main(cands, nc, names, nn, json, plot, temp,
		                    nmodels || teacher || tmodel_path || ro.confusion || ro.bins);
	if (temp != 0.0)
		kdc_usage_error("-T goes with --similar");
	if (teacher && tmodel_path)
		kdc_usage_error("--teacher and --teacher-model do not go together");
	if (nmodels || tmodel_path) {
		/* DATA is the last operand */
		size_t i = nc;
		while (i > 0 && cands[i - 1].model)
			i--;
		if (i == 0)
			kdc_usage_error("-m and --teacher-model need a DATA operand");
		data_spec = cands[i - 1].path;
		memmove(cands + i - 1, cands + i, (nc - i) * sizeof *cands);
		nc--;
		nstdin += !strcmp(data_spec, "-");
	}
	if (nc == 0)
		kdc_usage_error("nothing to score (give a stream, or -m MODEL and DATA)");
	if (nn > nc)
		kdc_usage_error("%zu names for %zu candidates", nn, nc);
	for (size_t i = 0; i < nc; i++)
		nstdin += !cands[i].model && !strcmp(cands[i].path, "-");
	if (teacher && !strcmp(teacher, "-")) {
		nstdin++;
		if (nc > 1)
			kdc_usage_error("a teacher on stdin is read once: give one candidate, or the teacher as a file");
	}
	if (nstdin > 1)
		kdc_usage_error("standard input can be read only once");
	if (plot && !strcmp(plot, "-"))
		kdc_usage_error("--plot needs a file name");
	if (plot) {
		const char *fixed[3] = { data_spec, teacher, tmodel_path };
		kdc_not_input("--plot", plot, fixed, 3);
		for (size_t i = 0; i < nc; i++)
			kdc_not_input("--plot", plot, &cands[i].path, 1);
	}

	if (!(models = calloc(nc, sizeof *models)) || !(res = calloc(nc, sizeof *res)))
		kdc_die("out of memory");
	for (size_t i = 0; i < nc; i++)
		if (cands[i].model && !(models[i] = kdmod_load(cands[i].path, &e)))
			kdc_fail(&e);
	if (tmodel_path && !(tmodel = kdmod_load(tmodel_path, &e)))
		kdc_fail(&e);
	/* CSV rows as wide as the models' inputs are new rows, unlabelled */
	lo.csv.features = tmodel ? tmodel->D : 0;
	for (size_t i = 0; i < nc; i++)
		if (models[i] && !lo.csv.features)
			lo.csv.features = models[i]->D;
	if (data_spec && kdd_load(data_spec, &lo, &data, &e))
		kdc_fail(&e);
	ro.teacher = teacher ? (strcmp(teacher, "-") ? teacher : "stdin") : tmodel_path;

	for (size_t i = 0; i < nc; i++) {
		const char *name = i < nn ? names[i] : strcmp(cands[i].path, "-") ? cands[i].path : "stdin";
		kde_src *s, *t = NULL;

		s = cands[i].model ? kde_src_model(models[i], cands[i].path, &data, data_spec, &e)
		                   : kde_src_stream(cands[i].path, &e);
		if (!s)
			kdc_fail(&e);
		if (teacher && !(t = kde_src_stream(teacher, &e)))
			kdc_fail(&e);
		if (tmodel && !(t = kde_src_model(tmodel, tmodel_path, &data, data_spec, &e)))
			kdc_fail(&e);
		if (kde_eval(s, t, name, ro.confusion || plot, &res[i], &e))
			kdc_fail(&e);
		kde_src_free(s);
		kde_src_free(t);
	}

	if (plot && kdrep_plot(plot, res, nc, &e))
		kdc_fail(&e);
	if (json)
		kdrep_json(stdout, res, nc, &ro);
	else
		kdrep_table(stdout, res, nc, &ro);
	kdc_close_stdout();

	for (size_t i = 0; i < nc; i++) {
		kde_result_free(&res[i]);
		kdm_free(models[i]);
	}
	kdm_free(tmodel);
	kdd_free(&data);
	free(res);
	free(models);
	free(names);
	free(cands);
	return 0;
}
