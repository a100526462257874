/* kd-student: train a small model on the soft targets of a kd stream.
 * Built with -DKD_MPI (make MPI=1) it is kd-student-mpi, which trains one
 * student on the processes of `mpirun -np P` (tools/kd_mpi.h). */
#ifdef KD_MPI
#define _GNU_SOURCE /* sched_getaffinity and CPU_COUNT, in kd_mpi.h */
#endif
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "cli.h"
#include "cli_train.h"
#include "kd_err.h"
#include "student.h"
#ifdef KD_MPI
#include "kd_mpi.h"
#endif

static void
usage(void)
{
	printf(
#ifdef KD_MPI
	       "Usage: mpirun -np P kd-student-mpi -o MODEL --targets FILE [options] [DATA]\n"
	       "Train a (small) model on the targets of a kd stream, on P processes.\n"
#else
	       "Usage: kd-student -o MODEL [options] [DATA] < TARGETS\n"
	       "Train a (small) model on the targets of a kd stream read from stdin.\n"
#endif
	       "\n"
	       "The default loss is the cross-entropy between the stream's probabilities\n"
	       "at its temperature T and the student's softmax(z/T), scaled by T^2\n"
	       "(Hinton et al. 2015); with --alpha A below 1 it is mixed with the\n"
	       "cross-entropy against the hard labels at T=1: A*soft + (1-A)*hard.\n"
	       "A logits stream is softened at -T first. --loss mse-logits regresses the\n"
	       "teacher's logits instead (Ba & Caruana 2014). The trained student runs\n"
	       "at T=1. The inputs come from the stream (kd-teacher --inputs), or from\n"
	       "DATA, whose rows must match the stream's row ids one for one.\n"
	       "\n"
	       "DATA is a CSV file (numbers, the label last unless --label-col; gzip read\n"
	       "directly; a bad row stops the run with 'file':line:column: and why),\n"
	       "Fashion-MNIST IDX files (fashion-mnist:train, fashion-mnist:test, or a\n"
	       "*-images-idx3-ubyte.gz path, its labels file beside it; pixels scaled to\n"
	       "[0, 1], the ten class names kept), or a kd stream that carries inputs.\n"
	       "The target stream is never read from a terminal. kd-teacher --shard\n"
	       "parts joined with cat in any order are taken as the whole data set (a\n"
	       "row missing or repeated is refused), but trained in the stream's order:\n"
	       "another order gives another shuffle, so another student, and with DATA\n"
	       "is refused (its rows, ids and labels, must come in the stream's order).\n"
	       "\n"
	       "Options:\n"
	       "  -o, --output MODEL   the model file to write (atomically; required)\n"
	       "  -T, --temperature T  soften a logits stream at T (default: the\n"
	       "                       stream's own temperature)\n"
	       "      --alpha A        weight of the soft loss, in [0, 1] (default 0.5\n"
	       "                       when the stream or DATA has labels, else 1)\n"
	       "      --loss L         soft (default) or mse-logits\n"
	       "      --targets FILE   read the target stream from FILE, not stdin\n"
	       "      --hint FILE      also learn a teacher's hidden layer (FitNets): the\n"
	       "                       features stream of kd-teacher -m MODEL --layer L\n"
	       "                       over the same rows, in the same order\n"
	       "      --hint-layer L   the student's hidden layer that learns it, through\n"
	       "                       a linear map trained with it and then dropped\n"
	       "                       (default 1, the first)\n"
	       "      --hint-weight B  add B times the mean squared error between the\n"
	       "                       map's outputs and the features to the loss\n"
	       "                       (default 1; 0 trains the map alone)\n"
	       "      --hint-only      learn the hint alone, not the targets: FitNets'\n"
	       "                       first stage, which trains the layers up to\n"
	       "                       --hint-layer; the last epoch is kept, and\n"
	       "                       --patience counts epochs without a lower loss\n"
	       "      --init MODEL     start from MODEL's parameters (its shape and\n"
	       "                       standardisation), e.g. the first stage's\n"
	       "  -h, --help           show this help and exit\n"
	       "  -V, --version        show the version and exit\n"
	       "\n"
	       "Defaults: --hidden 800,800 and no dropout (the paper's student; but\n"
	       "--input-dropout 0.2 --dropout 0.5 --max-norm 3.5 on a data set too small\n"
	       "for validation rows with under a tenth of a row per parameter), AdamW at\n"
	       "a rate set by the data for 6000 steps with validation rows, 1200 without\n"
	       "(below); with --optimizer sgd, --lr 0.02 to 0.0002.\n"
	       "Soften at T = 8 (kd-soften -T 8) with ten classes or more, at T = 3\n"
	       "with two or three (chosen on validation rows; in between, try both).\n"
#ifdef KD_MPI
	       "\n"
	       "kd-student-mpi: data-parallel training under `mpirun -np P`. Every process\n"
	       "reads the whole target stream (--targets FILE is required: stdin reaches\n"
	       "one process only) and DATA, and holds all of it in memory; each step\n"
	       "takes P x --batch rows of a shuffle that all draw alike from --seed,\n"
	       "process r trains on rows [r*B, (r+1)*B) of them (B = --batch), and the\n"
	       "gradients are summed with MPI_Allreduce and divided by the step's rows\n"
	       "(a process left none by the last, shorter step adds zeros): the student\n"
	       "is the one kd-student trains with --batch P*B, to float rounding\n"
	       "(without dropout or jitter, whose masks and shifts each process draws\n"
	       "for itself, from the seed, its rank and the epoch). The validation rows\n"
	       "are shared out and their scores summed, so every process keeps the same\n"
	       "epoch. Rank 0 alone prints progress, ending with the time the sums took,\n"
	       "and writes the model and the checkpoints; --resume needs the same P\n"
	       "(the checkpoint records it, and every process reads it). Before training\n"
	       "the processes compare a fingerprint of their options and data, after it\n"
	       "a CRC of their parameters; a difference, or an error on any process,\n"
	       "ends them all with status 1 (MPI_Abort). BLAS threads default to the\n"
	       "cores each process may use (mpirun pins each process to one core when\n"
	       "it starts two or fewer). As root, Open MPI needs mpirun --allow-run-as-root\n"
	       "(or OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1); across\n"
	       "machines (mpirun --hostfile) the tool, the stream and DATA must be at the\n"
	       "same paths on every one.\n"
#endif
	       "\n%s"
	       "\n"
	       "Exit status: 0 on success, 1 on an error (its message names the file,\n"
	       "line or record), 2 on bad usage. Files are written atomically (a\n"
	       "temporary file, then a rename): a failed run never leaves half a file.\n"
	       "\n"
	       "Examples:\n"
	       "  kd-teacher -m teacher.kdm --inputs train.csv | kd-soften -T 8 | kd-student -o student.kdm\n"
	       "  kd-soften -T 8 t.kd | kd-student -o s.kdm --alpha 0.9 fashion-mnist:train\n"
	       "  kd-student -o s.kdm --loss mse-logits --targets t.kd\n",
	       kdc_train_help);
}

enum { O_ALPHA = 2000, O_LOSS, O_TARGETS, O_HINT, O_HINT_LAYER, O_HINT_WEIGHT, O_HINT_ONLY,
       O_INIT };

/* --hint-weight's default: chosen on validation rows by make hints
 * (pipelines/results/CHOICES.md) */
#define KD_DEFAULT_HINT_WEIGHT 1.0

/* --alpha's default with labels: the soft loss half the objective, chosen
 * with T = 2, 4, 8 on the validation rows of make tabular's data sets
 * (pipelines/results/CHOICES.md) */
#define KD_DEFAULT_ALPHA 0.5

static const struct option longopts[] = {
	KDC_TRAIN_LONGOPTS,
	{ "temperature", required_argument, NULL, 'T' },
	{ "alpha", required_argument, NULL, O_ALPHA },
	{ "loss", required_argument, NULL, O_LOSS },
	{ "targets", required_argument, NULL, O_TARGETS },
	{ "hint", required_argument, NULL, O_HINT },
	{ "hint-layer", required_argument, NULL, O_HINT_LAYER },
	{ "hint-weight", required_argument, NULL, O_HINT_WEIGHT },
	{ "hint-only", no_argument, NULL, O_HINT_ONLY },
	{ "init", required_argument, NULL, O_INIT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char **argv)
{
	kdc_train_cfg cfg;
	kdst_in in;
	kdd_set all, tr, va;
	float *targets, *ttr, *tva, *hint = NULL;
	const char *hint_path = NULL;
	size_t F = 0;
	int hint_opt = 0;
	size_t K;
	kdt_data d;
	kd_err e;
	int c, alpha_given = 0;
#ifdef KD_MPI
	kdm_model *m;
	int rank;
#endif

	kdc_choose_core(argv); /* may run the program again: before all else */
	kdc_init(argv[0]);
	kdc_train_defaults(&cfg, "800,800");
	cfg.t.loss = KDT_DISTILL;
	/* the paper's student has no regularisation; on a small data set
	 * (no validation rows) with few rows per parameter, whose teacher
	 * saw the very rows it labels, the teacher's dropout (CHOICES.md) */
	cfg.reg_few = (kdc_reg){ 0.2f, 0.5f, 3.5f };
	cfg.reg_few_small = 1;
	cfg.steps *= 2; /* 6,000 steps with validation rows, 1,200 without */
	cfg.steps_short *= 2;
	cfg.sgd_lr = 0.02;
	cfg.sgd_lr_end = 0.0002;
	cfg.t.hint_layer = 1;
	cfg.t.hint_weight = KD_DEFAULT_HINT_WEIGHT;
	memset(&in, 0, sizeof in);
	in.targets = "-";
	while ((c = getopt_long(argc, argv, "o:T:qhV", longopts, NULL)) != -1) {
		if (kdc_train_opt(&cfg, c, optarg))
			continue;
		switch (c) {
		case 'T': in.soften_T = kdc_double("-T", optarg, 0, 1e6, 1); break;
		case O_ALPHA:
			cfg.t.alpha = kdc_double("--alpha", optarg, 0, 1, 0);
			alpha_given = 1;
			break;
		case O_LOSS:
			if (!strcmp(optarg, "soft"))
				cfg.t.loss = KDT_DISTILL;
			else if (!strcmp(optarg, "mse-logits"))
				cfg.t.loss = KDT_MSE;
			else
				kdc_usage_error("--loss: '%s' is not soft or mse-logits", optarg);
			break;
		case O_TARGETS: in.targets = optarg; break;
		case O_HINT: hint_path = optarg; break;
		case O_HINT_LAYER:
			cfg.t.hint_layer = (size_t)kdc_long("--hint-layer", optarg, 1, KDM_MAX_LAYERS);
			hint_opt = O_HINT_LAYER;
			break;
		case O_HINT_WEIGHT:
			cfg.t.hint_weight = kdc_double("--hint-weight", optarg, 0, 1e6, 0);
			hint_opt = O_HINT_WEIGHT;
			break;
		case O_HINT_ONLY:
			cfg.t.hint_only = 1;
			cfg.t.keep_best = 0; /* no classifier to score yet */
			hint_opt = O_HINT_ONLY;
			break;
		case O_INIT: cfg.init = optarg; break;
		case 'h': usage(); kdc_close_stdout(); return 0;
		case 'V': kdc_version();
		default: kdc_bad_option(argv);
		}
	}
	if (argc - optind > 1)
		kdc_usage_error("one DATA argument at most");
	if (!cfg.output)
		kdc_usage_error("%s needs -o MODEL", kdc_prog());
	in.data = optind < argc ? argv[optind] : NULL;
	if (hint_opt && !hint_path)
		kdc_usage_error("--%s needs --hint FILE", hint_opt == O_HINT_LAYER ? "hint-layer" :
		                hint_opt == O_HINT_ONLY ? "hint-only" : "hint-weight");
	if (hint_path && !cfg.init && cfg.t.hint_layer > cfg.n_hidden)
		kdc_usage_error("--hint-layer %zu: the student has %zu hidden layer%s", cfg.t.hint_layer,
		                cfg.n_hidden, cfg.n_hidden == 1 ? "" : "s");
	if (hint_path && !strcmp(hint_path, "-") && !strcmp(in.targets, "-"))
		kdc_usage_error("--hint - and the targets cannot both be stdin: give one as a file");
	{
		const char *ins[3] = { in.targets, in.data, hint_path };
		kdc_train_not_inputs(&cfg, ins, hint_path ? 3 : 2);
		if (cfg.init && !strcmp(cfg.init, "-"))
			kdc_usage_error("--init needs a model file, not stdin");
	}
#ifdef KD_MPI
	if (!strcmp(in.targets, "-"))
		kdc_usage_error("give the targets as --targets FILE: under mpirun stdin reaches one process only");
	rank = kdmpi_start(&cfg, argv[0]);
#endif
	kdc_train_setup(&cfg);
	if (kdst_load(&in, cfg.t.loss, &cfg.load, &all, &targets, &K, &cfg.t.T, &e))
		kdc_fail(&e);
	/* half the hard labels' loss by default, where there are labels */
	if (!alpha_given)
		cfg.t.alpha = all.y ? KD_DEFAULT_ALPHA : 1.0;
	if (cfg.t.alpha < 1.0 && cfg.t.loss == KDT_DISTILL && !all.y)
		kdc_die("--alpha %g mixes in hard labels, and neither the stream nor the data has any",
		        cfg.t.alpha);
	if (hint_path && kdst_load_hint(hint_path, &all, &hint, &F, &e))
		kdc_fail(&e);
	kdc_holdout(&cfg, &all, targets, K, &tr, &ttr, &va, &tva);
	memset(&d, 0, sizeof d);
	if (hint) {
		kdst_hint_rows(&all, hint, F, &tr);
		d.hint = hint;
		d.hint_dim = F;
	}
	d.train = &tr;
	d.targets = ttr;
	d.val = &va;
	d.val_targets = tva;
#ifdef KD_MPI
	m = kdc_train_fit(&cfg, &d, K, all.names, all.names_len);
	kdmpi_same_params(m);
	if (rank == 0 && kdmod_save(m, cfg.output, &e))
		kdc_fail(&e);
	kdmpi_end(&cfg, m->nparams);
	kdm_free(m);
#else
	kdc_train_model(&cfg, &d, K, all.names, all.names_len);
#endif
	kdd_free(&all);
	kdd_free(&tr);
	kdd_free(&va);
	free(targets);
	free(ttr);
	free(tva);
	free(hint);
	return 0;
}
