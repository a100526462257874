/* kd-teacher: train the cumbersome model, or run any trained model over a
 * data set and write its logits as a kd stream. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "cli.h"
#include "text.h"
#include "cli_train.h"
#include "infer.h"

static void
usage(void)
{
	printf("Usage: kd-teacher train -o MODEL [options] DATA\n"
	       "       kd-teacher -m MODEL [--inputs] [-o FILE] DATA\n"
	       "Train a (big, regularised) model on labelled data, or run a trained model\n"
	       "over a data set and write its logits as a kd stream.\n"
	       "\n"
	       "DATA is a CSV file (numbers, the label last unless --label-col; gzip read\n"
	       "directly; a bad row stops the run with 'file':line:column: and why),\n"
	       "Fashion-MNIST IDX files as Debian's dataset-fashion-mnist installs them\n"
	       "(fashion-mnist:train, fashion-mnist:test, or a *-images-idx3-ubyte.gz\n"
	       "path, its labels file beside it; pixels scaled to [0, 1], the ten class\n"
	       "names kept), or a kd stream that carries inputs (kd-teacher -m --inputs).\n"
	       "\n"
	       "kd-teacher train writes the model to MODEL (atomically). Defaults are the\n"
	       "teacher of Hinton et al. (2015): --hidden 1200,1200 --input-dropout 0.2\n"
	       "--dropout 0.5 --max-norm 3.5 (--dropout 0.2 where there are a tenth as\n"
	       "many training rows as parameters or more), and --jitter 2 for 28x28\n"
	       "images, trained with AdamW at a rate and for as long as the data need\n"
	       "(3000 steps with validation rows, 600 without; --lr, --epochs and\n"
	       "--patience below); --optimizer sgd trains with momentum, --lr 0.05 to\n"
	       "0.0005. The paper's recipe: --optimizer sgd --select error --epochs N.\n"
	       "\n"
	       "kd-teacher -m writes one record per row of DATA to stdout (never to a\n"
	       "terminal) or -o FILE: the row id, the label when DATA has labels, the\n"
	       "model's K logits (T=1) and, with --inputs, the row's inputs, so that a\n"
	       "student can train from the stream alone. Any trained model can be run\n"
	       "this way.\n"
	       "\n"
	       "Options of -m:\n"
	       "  -m, --model MODEL    the model to run\n"
	       "      --inputs         carry the inputs in the stream\n"
	       "      --no-label       do not carry labels (an unlabelled transfer set);\n"
	       "                       without it, CSV rows with as many fields as the\n"
	       "                       model has inputs are read as new rows, unlabelled\n"
	       "      --layer L        write the activations of hidden layer L (from 1,\n"
	       "                       after its ReLU) instead of the logits: a stream\n"
	       "                       of kind features, for a student's hints; the\n"
	       "                       tools that take class scores refuse it\n"
	       "      --mirror         give each image the mean of the logits of the image\n"
	       "                       and of its mirror image (left to right): test-time\n"
	       "                       augmentation for a model trained with --flip\n"
	       "      --shard I/N      run only part I of N of the rows (by row number:\n"
	       "                       each row in exactly one part); the N parts joined\n"
	       "                       with cat in order hold the records of one run;\n"
	       "                       joined in any order, kd-average, kd-student and\n"
	       "                       kd-eval take them as the whole data set and refuse\n"
	       "                       a row missing or repeated, naming it (kd-student\n"
	       "                       trains in the stream's order, and with DATA needs\n"
	       "                       it: join them 1 to N); a part alone can still be\n"
	       "                       softened (kd-soften) and printed (kd-cat)\n"
	       "  -o, --output FILE    write to FILE (atomically) instead of stdout\n"
	       "      --threads N      BLAS threads (default: all cores)\n"
	       "      --label-col N, --header, --rows N   as below\n"
	       "Option of train:\n"
	       "      --classes K      the model's classes (default: the largest label\n"
	       "                       plus one, refused when a class below has no row)\n"
	       "      --class-names A,B,...  the classes' names, label 0 first, one a\n"
	       "                       class (kd-cat --top and kd-export show them;\n"
	       "                       Fashion-MNIST's come with the data)\n"
	       "  -h, --help           show this help and exit\n"
	       "  -V, --version        show the version and exit\n"
	       "\n%s"
	       "\n"
	       "Exit status: 0 on success, 1 on an error (its message names the file,\n"
	       "line or record), 2 on bad usage. Files are written atomically (a\n"
	       "temporary file, then a rename): a failed run never leaves half a file.\n"
	       "\n"
	       "Examples:\n"
	       "  kd-teacher train -o teacher.kdm --epochs 60 fashion-mnist:train\n"
	       "  kd-teacher train -o teacher.kdm --hidden 512,512 data.csv\n"
	       "  kd-teacher -m teacher.kdm --inputs train.csv | kd-soften -T 8 | kd-student -o s.kdm\n",
	       kdc_train_help);
}

enum { O_INPUTS = 2000, O_NOLABEL, O_SHARD, O_MIRROR, O_CLASSES, O_CLASS_NAMES, O_LAYER };

/* parse_shard: "I/N" with 1 <= I <= N */
static void
parse_shard(const char *a, kdi_opts *run)
{
	char *end;
	unsigned long long i, n;

	errno = 0;
	i = strtoull(a, &end, 10);
	if (end == a || *end != '/' || a[0] == '-')
		kdc_usage_error("--shard wants I/N, as in 2/4, not '%s'", a);
	a = end + 1;
	n = strtoull(a, &end, 10);
	if (end == a || *end || a[0] == '-' || errno)
		kdc_usage_error("--shard wants I/N, as in 2/4, not '%s'", a);
	if (n < 1 || i < 1 || i > n)
		kdc_usage_error("--shard %llu/%llu: I must be 1 to N", i, n);
	run->shard = i;
	run->shards = n;
}

/* class_count: the model's classes: --classes K when given (at least the
 * largest label plus one), else the largest label of the training rows
 * all (from file path) and the validation rows va (from file vpath, when
 * one) plus one, refused when a class below it has no training row: a
 * stray label must not make a model of a million classes */
static size_t
class_count(const kdd_set *all, const char *path, const kdd_set *va,
            const char *vpath, size_t classes)
{
	int from_val = va->k > all->k;
	size_t K = from_val ? va->k : all->k, empty = kdd_empty_class(all, K);
	const kdd_set *s = from_val ? va : all;
	const char *where = from_val ? vpath : path;

	if (classes) {
		if (classes < K)
			kdc_usage_error("--classes %zu: '%s' has label %zu", classes, where, K - 1);
		return classes;
	}
	if (empty == K)
		return K;
	if (s->kline)
		kdc_die("'%s':%zu: label %zu leaves class %zu with no training row (give "
		        "--classes %zu if such classes are meant)", where, s->kline, K - 1, empty, K);
	kdc_die("'%s': label %zu leaves class %zu with no training row (give --classes %zu "
	        "if such classes are meant)", where, K - 1, empty, K);
}

static const struct option longopts[] = {
	KDC_TRAIN_LONGOPTS,
	{ "model", required_argument, NULL, 'm' },
	{ "inputs", no_argument, NULL, O_INPUTS },
	{ "no-label", no_argument, NULL, O_NOLABEL },
	{ "shard", required_argument, NULL, O_SHARD },
	{ "mirror", no_argument, NULL, O_MIRROR },
	{ "layer", required_argument, NULL, O_LAYER },
	{ "classes", required_argument, NULL, O_CLASSES },
	{ "class-names", required_argument, NULL, O_CLASS_NAMES },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* names_blob: --class-names LIST (comma-separated, one a class) as all's
 * class names, replacing the data's; bad usage unless LIST holds K names,
 * each not empty, of UTF-8 without control characters */
static void
names_blob(const char *list, size_t K, kdd_set *all)
{
	size_t len = strlen(list) + 1, n = 1;
	char *blob = malloc(len);
	const char *bad;
	kd_err e;

	if (!blob)
		kdc_die("out of memory");
	memcpy(blob, list, len);
	for (size_t i = 0; i + 1 < len; i++)
		if (blob[i] == ',') {
			blob[i] = '\0';
			n++;
		}
	if (n != K)
		kdc_usage_error("--class-names gives %zu names for %zu classes", n, K);
	for (size_t i = 0; i < len; i++)
		if (!blob[i] && (i == 0 || !blob[i - 1]))
			kdc_usage_error("--class-names: a name is empty");
	if ((bad = kdx_names_bad(blob, len)))
		kdc_usage_error("--class-names: a name holds %s", bad);
	if (kdd_set_names(all, blob, len, &e))
		kdc_fail(&e);
	free(blob);
}

int
main(int argc, char **argv)
{
	kdc_train_cfg cfg;
	kdi_opts run;
	const char *model = NULL;
	int c, train = 0;
	size_t classes = 0; /* --classes K, or 0: the labels say */
	const char *class_names = NULL; /* --class-names, or NULL */
	kd_err e;

	kdc_choose_core(argv); /* may run the program again: before all else */
	kdc_init(argv[0]);
	kdc_train_defaults(&cfg, "1200,1200");
	cfg.reg_few = (kdc_reg){ 0.2f, 0.5f, 3.5f }; /* the paper's teacher */
	cfg.reg_many = (kdc_reg){ 0.2f, 0.2f, 3.5f };
	cfg.t.jitter = -1; /* 2 for 28x28 images, else 0 */
	kdi_opts_init(&run);
	if (argc > 1 && !strcmp(argv[1], "train")) {
		train = 1;
		argv++;
		argc--;
	}
	while ((c = getopt_long(argc, argv, "m:o:qhV", longopts, NULL)) != -1) {
		if (kdc_train_opt(&cfg, c, optarg))
			continue;
		switch (c) {
		case 'm': model = optarg; break;
		case O_INPUTS: run.inputs = 1; break;
		case O_NOLABEL: run.no_label = 1; break;
		case O_SHARD: parse_shard(optarg, &run); break;
		case O_MIRROR: run.mirror = 1; break;
		case O_LAYER: run.layer = (size_t)kdc_long("--layer", optarg, 1, 64); break;
		case O_CLASSES: classes = (size_t)kdc_long("--classes", optarg, 1, KDD_MAX_K); break;
		case O_CLASS_NAMES: class_names = optarg; break;
		case 'h': usage(); kdc_close_stdout(); return 0;
		case 'V': kdc_version();
		default: kdc_bad_option(argv);
		}
	}
	if (argc - optind != 1)
		kdc_usage_error("one DATA argument expected");
	kdc_train_setup(&cfg);
	{
		const char *ins[2] = { argv[optind], model };
		kdc_train_not_inputs(&cfg, ins, 2);
	}

	if (!train) {
		if (!model)
			kdc_usage_error("say 'kd-teacher train' to train, or -m MODEL to run a model");
		if (classes || class_names)
			kdc_usage_error("--classes and --class-names go with kd-teacher train");
		if (cfg.train_only)
			kdc_usage_error("--%s goes with kd-teacher train, not -m",
			                kdc_train_opt_name(cfg.train_only));
		run.load = cfg.load;
		if (!cfg.quiet)
			run.progress = kdc_rows_progress;
		if (kdi_run(model, argv[optind], cfg.output, &run, &e))
			kdc_fail(&e);
		return 0;
	}
	if (model)
		kdc_usage_error("-m runs a model; kd-teacher train makes one");
	if (run.shards || run.inputs || run.no_label || run.mirror || run.layer)
		kdc_usage_error("--shard, --inputs, --no-label, --mirror and --layer go with -m MODEL");
	if (!cfg.output)
		kdc_usage_error("kd-teacher train needs -o MODEL");
	{
		kdd_set all, tr, va;
		kdt_data d;
		size_t K;
		if (kdd_load(argv[optind], &cfg.load, &all, &e))
			kdc_fail(&e);
		if (!all.y)
			kdc_die("'%s': a teacher needs labelled data", argv[optind]);
		if (cfg.t.jitter < 0)
			cfg.t.jitter = (all.width == 28 && all.height == 28) ? 2 : 0;
		kdc_holdout(&cfg, &all, NULL, 0, &tr, NULL, &va, NULL);
		memset(&d, 0, sizeof d);
		d.train = &tr;
		d.val = &va;
		K = class_count(&all, argv[optind], &va, cfg.val, classes);
		if (class_names)
			names_blob(class_names, K, &all);
		kdc_train_model(&cfg, &d, K, all.names, all.names_len);
		kdd_free(&all);
		kdd_free(&tr);
		kdd_free(&va);
	}
	return 0;
}
