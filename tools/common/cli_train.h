/* cli_train.h: the command line that kd-teacher train and kd-student
 * share: the training options, their help text, validation hold-out, and
 * the progress report on stderr. Like cli.h, this module prints and exits;
 * the training itself is lib/train.h. The defaults by data size are
 * chosen in pipelines/results/CHOICES.md. */
#ifndef KD_CLI_TRAIN_H
#define KD_CLI_TRAIN_H

#include <getopt.h>

#include "data.h"
#include "mlp.h"
#include "train.h"

/* a tool's default regularisation (kdc_train_cfg.reg_few, reg_many) */
typedef struct kdc_reg {
	float input_dropout, dropout, maxnorm;
} kdc_reg;

typedef struct kdc_train_cfg {
	kdt_opts    t;                       /* the training loop's options */
	size_t      hidden[KDM_MAX_LAYERS];  /* hidden layer widths */
	size_t      n_hidden;
	const char *val;        /* "N" rows held out, or a data file */
	int         val_seeded; /* 1: val_seed chooses the held-out rows */
	uint64_t    val_seed;   /* (else the run's seed, t.seed, does) */
	int         threads;    /* BLAS threads, 0 = all cores */
	int         quiet;      /* no progress */
	int         standardize;/* 1 on, 0 off, -1 on unless the data are images */
	kdd_load_opts load;     /* how to read CSV data */
	const char *output;     /* model file to write */
	const char *init;       /* a model whose parameters (and shape and
	                           standardisation) the run starts from, or NULL */
	unsigned    given;      /* KDC_GIVEN_* bits: options on the command line */
	int         train_only; /* the first option given that only training
	                         * takes (its code), or 0 */
	double      sgd_lr, sgd_lr_end; /* the tool's rates under --optimizer sgd */
	kdc_reg     reg_few;    /* regularisation not given on the command line:
	                           with fewer training rows than KDC_REG_RATIO
	                           times the model's parameters ... */
	kdc_reg     reg_many;   /* ... and with as many or more */
	int         reg_few_small; /* 1: reg_few only without validation rows
	                           (a data set under KDC_VAL_MIN rows), reg_many
	                           with them */
	size_t      steps, steps_short; /* the run's budget of steps with and
	                           without validation rows (--epochs not given) */
} kdc_train_cfg;

/* which options the command line gave (kdc_train_cfg.given): the others
 * take defaults that depend on the optimizer or the data (kdc_train_fit) */
enum {
	KDC_GIVEN_EPOCHS = 1, KDC_GIVEN_LR = 2, KDC_GIVEN_LR_END = 4,
	KDC_GIVEN_PATIENCE = 8, KDC_GIVEN_IN_DROP = 16, KDC_GIVEN_DROP = 32,
	KDC_GIVEN_MAXNORM = 64, KDC_GIVEN_HIDDEN = 128
};

/* option codes of the shared options, above any single-letter option */
enum {
	KDC_OPT_FIRST = 1000,
	KDC_OPT_HIDDEN = KDC_OPT_FIRST, KDC_OPT_EPOCHS, KDC_OPT_BATCH, KDC_OPT_LR,
	KDC_OPT_LR_END, KDC_OPT_MOMENTUM, KDC_OPT_IN_DROP, KDC_OPT_DROP,
	KDC_OPT_MAXNORM, KDC_OPT_WD, KDC_OPT_JITTER, KDC_OPT_SEED, KDC_OPT_VAL,
	KDC_OPT_THREADS, KDC_OPT_STD, KDC_OPT_NOSTD, KDC_OPT_LABEL_COL,
	KDC_OPT_HEADER, KDC_OPT_ROWS, KDC_OPT_CHECKPOINT, KDC_OPT_RESUME, KDC_OPT_FLIP, KDC_OPT_EMA, KDC_OPT_MIXUP, KDC_OPT_SCHEDULE, KDC_OPT_WARMUP, KDC_OPT_VAL_SEED,
	KDC_OPT_OPTIMIZER, KDC_OPT_PATIENCE, KDC_OPT_SELECT, KDC_OPT_LAST
};

/* KDC_TRAIN_LONGOPTS: the shared entries of a struct option table */
#define KDC_TRAIN_LONGOPTS \
	{ "hidden", required_argument, NULL, KDC_OPT_HIDDEN }, \
	{ "epochs", required_argument, NULL, KDC_OPT_EPOCHS }, \
	{ "batch", required_argument, NULL, KDC_OPT_BATCH }, \
	{ "lr", required_argument, NULL, KDC_OPT_LR }, \
	{ "lr-end", required_argument, NULL, KDC_OPT_LR_END }, \
	{ "momentum", required_argument, NULL, KDC_OPT_MOMENTUM }, \
	{ "input-dropout", required_argument, NULL, KDC_OPT_IN_DROP }, \
	{ "dropout", required_argument, NULL, KDC_OPT_DROP }, \
	{ "max-norm", required_argument, NULL, KDC_OPT_MAXNORM }, \
	{ "weight-decay", required_argument, NULL, KDC_OPT_WD }, \
	{ "jitter", required_argument, NULL, KDC_OPT_JITTER }, \
	{ "flip", no_argument, NULL, KDC_OPT_FLIP }, \
	{ "ema", required_argument, NULL, KDC_OPT_EMA }, \
	{ "mixup", required_argument, NULL, KDC_OPT_MIXUP }, \
	{ "schedule", required_argument, NULL, KDC_OPT_SCHEDULE }, \
	{ "warmup", required_argument, NULL, KDC_OPT_WARMUP }, \
	{ "optimizer", required_argument, NULL, KDC_OPT_OPTIMIZER }, \
	{ "patience", required_argument, NULL, KDC_OPT_PATIENCE }, \
	{ "select", required_argument, NULL, KDC_OPT_SELECT }, \
	{ "seed", required_argument, NULL, KDC_OPT_SEED }, \
	{ "val", required_argument, NULL, KDC_OPT_VAL }, \
	{ "val-seed", required_argument, NULL, KDC_OPT_VAL_SEED }, \
	{ "threads", required_argument, NULL, KDC_OPT_THREADS }, \
	{ "standardize", no_argument, NULL, KDC_OPT_STD }, \
	{ "no-standardize", no_argument, NULL, KDC_OPT_NOSTD }, \
	{ "label-col", required_argument, NULL, KDC_OPT_LABEL_COL }, \
	{ "header", no_argument, NULL, KDC_OPT_HEADER }, \
	{ "rows", required_argument, NULL, KDC_OPT_ROWS }, \
	{ "checkpoint", required_argument, NULL, KDC_OPT_CHECKPOINT }, \
	{ "resume", required_argument, NULL, KDC_OPT_RESUME }, \
	{ "output", required_argument, NULL, 'o' }, \
	{ "quiet", no_argument, NULL, 'q' }

/* kdc_train_help: the shared options' help, to print after a tool's own */
extern const char kdc_train_help[];

/* kdc_train_defaults: cfg = the training defaults plus these hidden
 * widths (a comma list like "1200,1200"). */
void kdc_train_defaults(kdc_train_cfg *cfg, const char *hidden);

/* kdc_train_opt: apply option c (with its argument) to cfg; 1 when it
 * was a shared option, 0 otherwise; bad values exit 2. */
int kdc_train_opt(kdc_train_cfg *cfg, int c, const char *arg);

/* kdc_train_opt_name: the long name of shared option code c */
const char *kdc_train_opt_name(int c);

/* kdc_train_setup: after option parsing: checks that span options
 * (exit 2), BLAS threads. */
void kdc_train_setup(kdc_train_cfg *cfg);

/* kdc_train_not_inputs: before any work: exit 2 when -o or --checkpoint
 * names one of the n inputs ins (as kdc_not_input), the --val file, or
 * (for -o) the checkpoint being resumed */
void kdc_train_not_inputs(const kdc_train_cfg *cfg, const char *const *ins, size_t n);

/* kdc_holdout: split all into *train and *val as cfg->val says (a row
 * count, or a file to load), with targets (all->n, K) split alike when
 * given. Exits 1 with a message on failure. */
void kdc_holdout(const kdc_train_cfg *cfg, const kdd_set *all,
                 const float *targets, size_t K, kdd_set *train,
                 float **ttrain, kdd_set *val, float **tval);

/* kdc_report: a kdt_report_fn printing progress to stderr: a live line
 * when stderr is a terminal, a plain line per epoch otherwise; ctx is the
 * kdc_train_cfg (quiet: nothing). */
void kdc_report(const kdt_progress *p, void *ctx);

/* kdc_train_model: the shared end of both trainers: make the model (D
 * inputs, K classes, cfg's hidden widths and seed, class names and
 * standardisation from train; or cfg->init's model, whose shape must then
 * fit the data and any --hidden given), fit it (for the epochs and patience that
 * kdc_run_length gives, when not given), save it to cfg->output. Exits 1
 * with a message on failure. */
void kdc_train_model(const kdc_train_cfg *cfg, const kdt_data *d, size_t K,
                     const char *names, size_t names_len);

/* kdc_run_length: o's rates, epochs and patience for n training rows
 * (val: some rows are held out for validation), where the command line
 * named none: the optimizer's rates (Adam's higher without validation,
 * where the run's length is fixed); epochs for cfg->steps steps
 * (steps_short without validation rows) within [KDC_AUTO_MIN_EP,
 * KDC_AUTO_MAX_EP]; a patience of the epochs of KDC_AUTO_PAT_STEPS
 * steps, at least KDC_AUTO_PAT_EP (none after --epochs N alone, which
 * then runs N). */
void kdc_run_length(const kdc_train_cfg *cfg, kdt_opts *o, size_t n, int val);

/* kdc_reg_defaults: o's input dropout, dropout and max-norm where the
 * command line named none: cfg->reg_few for fewer than KDC_REG_RATIO
 * training rows (n) per parameter (nparams) (with cfg->reg_few_small,
 * only when there are no validation rows: val 0), else cfg->reg_many. */
void kdc_reg_defaults(const kdc_train_cfg *cfg, kdt_opts *o, size_t n, size_t nparams,
                      int val);

/* kdc_train_fit: kdc_train_model without the saving: the trained model
 * (kdm_free it); for a caller with more to do before it writes, such as a
 * data-parallel worker (only the first writes). Exits 1 on failure. */
kdm_model *kdc_train_fit(const kdc_train_cfg *cfg, const kdt_data *d, size_t K,
                         const char *names, size_t names_len);

#endif
