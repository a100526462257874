/* cli_train.c: the shared command line of the two trainers (cli_train.h). */
#include "cli_train.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas.h"
#include "cli.h"
#include "model.h"

/* The defaults of a run that names no length or rate, chosen on the
 * validation rows of scikit-learn's bundled data sets and Fashion-MNIST
 * (pipelines/results/CHOICES.md has the figures). */
#ifndef KDC_ADAM_LR
#define KDC_ADAM_LR       0.001 /* with validation rows: a long run, stopped */
#endif
#ifndef KDC_ADAM_LR_SHORT
#define KDC_ADAM_LR_SHORT 0.003 /* without: a run of fixed length */
#endif
#ifndef KDC_VAL_MIN
#define KDC_VAL_MIN       5000  /* rows below which none are held out */
#endif
#ifndef KDC_AUTO_STEPS
#define KDC_AUTO_STEPS    3000  /* steps a run may take with validation rows ... */
#endif
#ifndef KDC_AUTO_STEPS_SHORT
#define KDC_AUTO_STEPS_SHORT 600 /* ... or without them ... */
#endif
#ifndef KDC_AUTO_MIN_EP
#define KDC_AUTO_MIN_EP   20    /* ... in at least this many epochs ... */
#endif
#ifndef KDC_AUTO_MAX_EP
#define KDC_AUTO_MAX_EP   200   /* ... and at most this many */
#endif
#ifndef KDC_AUTO_PAT_STEPS
#define KDC_AUTO_PAT_STEPS 75   /* patience: the epochs of this many steps ... */
#endif
#ifndef KDC_AUTO_PAT_EP
#define KDC_AUTO_PAT_EP   10    /* ... and at least this many */
#endif
/* regularisation by rows per parameter: under a tenth of a row per
 * parameter, the tool's reg_few (the paper's dropout for a teacher), else
 * its reg_many (kd-teacher: hidden dropout 0.2; a 64-64 net on 9,000
 * Fashion-MNIST rows gained 2 points, CHOICES.md) */
#define KDC_REG_RATIO 0.1
#define STR_(x) #x
#define STR(x) STR_(x)

const char kdc_train_help[] =
	"Training options (shared by kd-teacher train and kd-student):\n"
	"      --hidden W1,W2,...  hidden layer widths (0 or '' for none)\n"
	"      --epochs N          passes over the training rows (default: enough\n"
	"                          for the tool's steps, above, at least " STR(KDC_AUTO_MIN_EP) " and\n"
	"                          at most " STR(KDC_AUTO_MAX_EP) " epochs, with --patience)\n"
	"      --patience N        stop once N epochs have passed without a better\n"
	"                          validation score (without validation rows: a\n"
	"                          training loss 1e-4 below the lowest); 0: never;\n"
	"                          default: 0 with --epochs, else the epochs of\n"
	"                          " STR(KDC_AUTO_PAT_STEPS) " steps, at least " STR(KDC_AUTO_PAT_EP) "\n"
	"      --select S          what makes an epoch the best, the one kept:\n"
	"                          loss (validation cross-entropy; default) or\n"
	"                          error (validation error rate)\n"
	"      --optimizer O       adam (AdamW; default) or sgd (with --momentum)\n"
	"      --batch N           rows per step (default 128)\n"
	"      --lr X              learning rate of the first epoch (default: adam\n"
	"                          " STR(KDC_ADAM_LR) " with validation rows, " STR(KDC_ADAM_LR_SHORT) " without;\n"
	"                          sgd the tool's own, below)\n"
	"      --lr-end X          learning rate of the last epoch (default: adam\n"
	"                          --lr, sgd --lr / 100)\n"
	"      --schedule S        how the rate falls from --lr to --lr-end over the\n"
	"                          epochs: geometric (default) or cosine, which\n"
	"                          stays high longer: at the fraction f of the run,\n"
	"                          lr_end + (lr - lr_end)(1 + cos(pi f))/2\n"
	"      --warmup N          raise the rate linearly, step by step, from\n"
	"                          near 0 to the schedule's over the first N\n"
	"                          epochs (default 0: off; progress shows the rate\n"
	"                          of each epoch's last step); it keeps alive the\n"
	"                          hidden units that a distilled student's first\n"
	"                          steps at full rate (T^2-scaled) can kill\n"
	"      --momentum X        SGD momentum in [0, 1) (default 0.9)\n"
	"      --input-dropout P   drop each input with probability P\n"
	"      --dropout P         drop each hidden unit with probability P\n"
	"      --max-norm C        cap each unit's incoming weight norm at C (0: off)\n"
	"      --weight-decay X    L2 penalty on the weights\n"
	"      --jitter N          shift images by up to N pixels at random\n"
	"      --flip              mirror half the images left to right at random\n"
	"      --ema D             keep a moving average of the weights (decay D per\n"
	"                          step, less over the first steps, e.g. 0.999;\n"
	"                          0: off): validation scores it, checkpoints\n"
	"                          carry it, and it is the model saved\n"
	"      --mixup A           train on mixed pairs of rows and of their labels,\n"
	"                          lam*x1 + (1-lam)*x2 with lam ~ Beta(A, A), e.g.\n"
	"                          0.2 (Zhang et al. 2018; 0: off); hard labels\n"
	"                          only: kd-student refuses it, as the targets of\n"
	"                          a mixed row are not the mix of its targets\n"
	"      --seed N            seed of every random choice (default 1); a run\n"
	"                          is repeatable for a given --threads\n"
	"      --val N|FILE        hold out N random rows (default: none when there\n"
	"                          are under " STR(KDC_VAL_MIN) " rows, else a tenth, at most 5000;\n"
	"                          0: none), or score on the data in FILE; the best\n"
	"                          epoch (--select) is the one kept, the last\n"
	"                          without validation rows\n"
	"      --val-seed N        seed of the choice of the N held-out rows\n"
	"                          (default: --seed); runs of several seeds\n"
	"                          can so hold out the same rows, say those\n"
	"                          their teacher held out\n"
	"      --threads N         BLAS threads (default: all cores)\n"
	"      --standardize, --no-standardize\n"
	"                          scale each feature by its training mean and\n"
	"                          deviation, kept in the model (default: on,\n"
	"                          except for images)\n"
	"      --label-col N       CSV: column N (from 1) is the label (default last)\n"
	"      --header            CSV: skip the first line\n"
	"      --rows N            use only the first N rows of the data\n"
	"      --checkpoint FILE   save the training state to FILE (atomically) at\n"
	"                          the end of every epoch; a run stopped in any way\n"
	"                          (^C, kill, crash) leaves the last complete one\n"
	"                          (and no model)\n"
	"      --resume FILE       go on from checkpoint FILE to the same model file,\n"
	"                          byte for byte, as a run never stopped: give the\n"
	"                          same data and options (--threads too);\n"
	"                          checkpoints go on to FILE unless --checkpoint\n"
	"                          names another\n"
	"  -q, --quiet             no progress on stderr\n"
	"\n"
	"Progress: a line an epoch on stderr (loss, validation error and loss,\n"
	"rate, samples/s, time left; a live line on a terminal). A student's loss\n"
	"is shown as alpha T^2 KL(targets || student) + (1 - alpha) times the\n"
	"hard cross-entropy: the soft cross-entropy less the targets' entropy,\n"
	"which it can never go below (the same gradient), so that it nears 0\n"
	"and compares across temperatures. The validation loss is the\n"
	"cross-entropy at T=1 against the rows' labels (or, without, the\n"
	"teacher's classes). A loss that\n"
	"becomes NaN or explodes stops the run without a model ('training\n"
	"diverged in epoch N: ...; try a smaller learning rate'). When more than a fifth\n"
	"of a hidden layer's units never fire at the end on the validation rows\n"
	"(the training rows if under 500 are held out), a warning says so (dead\n"
	"ReLUs, which learn no more); the model is still written.\n";

static void
parse_hidden(kdc_train_cfg *cfg, const char *s)
{
	cfg->n_hidden = 0;
	if (!*s || !strcmp(s, "0"))
		return; /* "--hidden 0" or "": no hidden layer */
	for (const char *p = s;;) {
		size_t len = strcspn(p, ",");
		char tok[32];
		long long w;
		if (len == 0 || len >= sizeof tok)
			kdc_usage_error("--hidden: '%s' is not a list of widths like 800,800", s);
		memcpy(tok, p, len);
		tok[len] = '\0';
		w = kdc_long("--hidden", tok, 0, 1 << 20);
		if (w == 0)
			kdc_usage_error("--hidden: a layer of 0 units");
		if (cfg->n_hidden == KDM_MAX_LAYERS - 1)
			kdc_usage_error("--hidden: at most %d hidden layers", KDM_MAX_LAYERS - 1);
		cfg->hidden[cfg->n_hidden++] = (size_t)w;
		if (!p[len])
			break;
		p += len + 1;
	}
}

void
kdc_train_defaults(kdc_train_cfg *cfg, const char *hidden)
{
	memset(cfg, 0, sizeof *cfg);
	kdt_opts_init(&cfg->t);
	cfg->val = NULL; /* as kdc_holdout says, from the data's size */
	cfg->standardize = -1;
	cfg->t.reg.optimizer = KDM_ADAM;
	cfg->t.select = KDT_BY_LOSS;
	cfg->sgd_lr = cfg->t.lr;
	cfg->sgd_lr_end = cfg->t.lr_end;
	cfg->steps = KDC_AUTO_STEPS;
	cfg->steps_short = KDC_AUTO_STEPS_SHORT;
	parse_hidden(cfg, hidden);
}

const char *
kdc_train_opt_name(int c)
{
	static const struct option opts[] = { KDC_TRAIN_LONGOPTS, { NULL, 0, NULL, 0 } };
	for (const struct option *o = opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

int
kdc_train_opt(kdc_train_cfg *cfg, int c, const char *a)
{
	kdt_opts *t = &cfg->t;

	/* what running a model (kd-teacher -m) takes too: the rest trains */
	if (!cfg->train_only && c != KDC_OPT_THREADS && c != KDC_OPT_LABEL_COL &&
	    c != KDC_OPT_HEADER && c != KDC_OPT_ROWS && c >= KDC_OPT_FIRST && c < KDC_OPT_LAST)
		cfg->train_only = c;
	switch (c) {
	case KDC_OPT_HIDDEN:
		parse_hidden(cfg, a);
		cfg->given |= KDC_GIVEN_HIDDEN;
		break;
	case KDC_OPT_EPOCHS:
		t->epochs = (size_t)kdc_long("--epochs", a, 1, 100000);
		cfg->given |= KDC_GIVEN_EPOCHS;
		break;
	case KDC_OPT_PATIENCE:
		t->patience = (size_t)kdc_long("--patience", a, 0, 100000);
		cfg->given |= KDC_GIVEN_PATIENCE;
		break;
	case KDC_OPT_OPTIMIZER:
		if (!strcmp(a, "adam"))
			t->reg.optimizer = KDM_ADAM;
		else if (!strcmp(a, "sgd"))
			t->reg.optimizer = KDM_SGD;
		else
			kdc_usage_error("--optimizer: '%s' is not adam or sgd", a);
		break;
	case KDC_OPT_SELECT:
		if (!strcmp(a, "loss"))
			t->select = KDT_BY_LOSS;
		else if (!strcmp(a, "error"))
			t->select = KDT_BY_ERROR;
		else
			kdc_usage_error("--select: '%s' is not loss or error", a);
		break;
	case KDC_OPT_BATCH: t->batch = (size_t)kdc_long("--batch", a, 1, 1 << 20); break;
	case KDC_OPT_LR:
		t->lr = kdc_double("--lr", a, 0, 100, 1);
		cfg->given |= KDC_GIVEN_LR;
		break;
	case KDC_OPT_LR_END:
		t->lr_end = kdc_double("--lr-end", a, 0, 100, 1);
		cfg->given |= KDC_GIVEN_LR_END;
		break;
	case KDC_OPT_MOMENTUM: t->reg.momentum = (float)kdc_double("--momentum", a, 0, 0.9999, 0); break;
	case KDC_OPT_IN_DROP:
		t->reg.input_dropout = (float)kdc_double("--input-dropout", a, 0, 0.95, 0);
		cfg->given |= KDC_GIVEN_IN_DROP;
		break;
	case KDC_OPT_DROP:
		t->reg.dropout = (float)kdc_double("--dropout", a, 0, 0.95, 0);
		cfg->given |= KDC_GIVEN_DROP;
		break;
	case KDC_OPT_MAXNORM:
		t->reg.maxnorm = (float)kdc_double("--max-norm", a, 0, 1e6, 0);
		cfg->given |= KDC_GIVEN_MAXNORM;
		break;
	case KDC_OPT_WD: t->reg.weight_decay = (float)kdc_double("--weight-decay", a, 0, 1, 0); break;
	case KDC_OPT_JITTER: t->jitter = (int)kdc_long("--jitter", a, 0, 64); break;
	case KDC_OPT_FLIP: t->flip = 1; break;
	case KDC_OPT_SCHEDULE:
		if (!strcmp(a, "geometric"))
			t->schedule = KDT_GEOMETRIC;
		else if (!strcmp(a, "cosine"))
			t->schedule = KDT_COSINE;
		else
			kdc_usage_error("--schedule: '%s' is not geometric or cosine", a);
		break;
	case KDC_OPT_WARMUP: t->warmup = (size_t)kdc_long("--warmup", a, 0, 100000); break;
	case KDC_OPT_MIXUP: t->mixup = kdc_double("--mixup", a, 0, 100, 0); break;
	case KDC_OPT_EMA: t->ema = kdc_double("--ema", a, 0, 0.999999, 0); break;
	case KDC_OPT_SEED: t->seed = (uint64_t)kdc_long("--seed", a, 0, (1LL << 62)); break;
	case KDC_OPT_VAL: cfg->val = a; break;
	case KDC_OPT_VAL_SEED:
		cfg->val_seed = (uint64_t)kdc_long("--val-seed", a, 0, (1LL << 62));
		cfg->val_seeded = 1;
		break;
	case KDC_OPT_THREADS: cfg->threads = (int)kdc_long("--threads", a, 1, 1024); break;
	case KDC_OPT_STD: cfg->standardize = 1; break;
	case KDC_OPT_NOSTD: cfg->standardize = 0; break;
	case KDC_OPT_LABEL_COL: cfg->load.csv.label_col = (size_t)kdc_long("--label-col", a, 1, 1 << 22); break;
	case KDC_OPT_HEADER: cfg->load.csv.header = 1; break;
	case KDC_OPT_ROWS: cfg->load.max_rows = (size_t)kdc_long("--rows", a, 1, 1LL << 40); break;
	case KDC_OPT_CHECKPOINT:
	case KDC_OPT_RESUME:
		if (!*a || !strcmp(a, "-"))
			kdc_usage_error("%s needs a file name", c == KDC_OPT_RESUME ? "--resume" : "--checkpoint");
		if (c == KDC_OPT_RESUME) {
			t->resume = a;
			if (t->checkpoint)
				break;
		}
		t->checkpoint = a;
		break;
	case 'o': cfg->output = a; break;
	case 'q': cfg->quiet = 1; break;
	default: return 0;
	}
	return 1;
}

void
kdc_train_setup(kdc_train_cfg *cfg)
{
	kdt_opts *t = &cfg->t;

	if ((cfg->given & KDC_GIVEN_EPOCHS) && t->warmup > t->epochs)
		kdc_usage_error("--warmup %zu is longer than the run (--epochs %zu)",
		                t->warmup, t->epochs);
	kdb_set_threads(cfg->threads);
}

void
kdc_train_not_inputs(const kdc_train_cfg *cfg, const char *const *ins, size_t n)
{
	const char *opts[2] = { "-o", "--checkpoint" };
	const char *outs[2] = { cfg->output, cfg->t.checkpoint };

	for (int i = 0; i < 2; i++) {
		kdc_not_input(opts[i], outs[i], ins, n);
		kdc_not_input(opts[i], outs[i], &cfg->val, 1);
	}
	kdc_not_input("-o", cfg->output, &cfg->t.resume, 1);
	kdc_not_input("-o", cfg->output, &cfg->t.checkpoint, 1);
}

void
kdc_holdout(const kdc_train_cfg *cfg, const kdd_set *all, const float *targets,
            size_t K, kdd_set *train, float **ttrain, kdd_set *val, float **tval)
{
	char dflt[32];
	const char *s = cfg->val;
	kd_err e;
	size_t digits;

	if (!s) {
		snprintf(dflt, sizeof dflt, "%zu", all->n < KDC_VAL_MIN ? (size_t)0 :
		         all->n >= 50000 ? (size_t)5000 : all->n / 10);
		s = dflt;
	}
	digits = strspn(s, "0123456789");

	if (*s && !s[digits]) {
		size_t nval = (size_t)kdc_long("--val", s, 0, 1LL << 40);
		if (nval >= all->n)
			kdc_die("--val %zu: the data has only %zu rows", nval, all->n);
		if (kdt_split(all, targets, K, nval, cfg->val_seeded ? cfg->val_seed : cfg->t.seed,
		              train, ttrain, val, tval, &e))
			kdc_fail(&e);
		return;
	}
	/* a validation file: every training row trains */
	kdd_set none;
	if (kdd_load(s, &cfg->load, val, &e))
		kdc_fail(&e);
	if (!val->y)
		kdc_die("'%s': validation data must be labelled", s);
	if (val->d != all->d)
		kdc_die("'%s' has %zu features, the training data %zu", s, val->d, all->d);
	if (kdt_split(all, targets, K, 0, cfg->t.seed, train, ttrain, &none, tval, &e))
		kdc_fail(&e);
	kdd_free(&none); /* the empty part of a split of 0 rows */
	if (targets) {
		free(*tval);
		*tval = NULL;
	}
}

static void
fmt_time(char *buf, size_t n, double s)
{
	if (s < 0 || s > 1e7)
		snprintf(buf, n, "?");
	else if (s >= 3600)
		snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
	else if (s >= 60)
		snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, n, "%ds", (int)s);
}

void
kdc_report(const kdt_progress *p, void *ctx)
{
	const kdc_train_cfg *cfg = ctx;
	int tty = isatty(STDERR_FILENO);
	char eta[32], val[64] = "";

	if (cfg && cfg->quiet)
		return;
	if (!p->end_of_epoch && !tty)
		return;
	fmt_time(eta, sizeof eta, p->eta_s);
	if (p->end_of_epoch && p->val_error >= 0)
		snprintf(val, sizeof val, "  val %s %6.2f%% loss %.4f%s",
		         p->val_vs_teacher ? "disagree" : "err", 100.0 * p->val_error,
		         p->val_loss, p->best ? " *" : "  ");
	if (!p->end_of_epoch) {
		fprintf(stderr, "\r%s: epoch %zu/%zu  %3.0f%%  loss %.4f  %.0f samples/s  %s left   ",
		        kdc_prog(), p->epoch, p->epochs, 100.0 * (double)p->done / (double)p->total,
		        p->loss, p->samples_per_s, eta);
		fflush(stderr);
		return;
	}
	fprintf(stderr, "%s%s: epoch %zu/%zu  loss %.4f%s  lr %.3g  %.0f samples/s  %s left%s\n",
	        tty ? "\r" : "", kdc_prog(), p->epoch, p->epochs, p->loss, val, p->lr,
	        p->samples_per_s, p->stopped ? "0s" : eta, tty ? "          " : "");
	if (p->stopped)
		fprintf(stderr, "%s: stopped early: no better %s in the last epochs (--patience)\n",
		        kdc_prog(), p->val_error >= 0 ? "validation score" : "training loss");
}

/* the fewest rows on which a unit that never fires is taken for dead */
#define DEAD_MIN_ROWS 500

/* warn_dead: warn of each hidden layer of m in which more than a fifth of
 * the units never fire on the rows of s (called what): dead ReLUs, which
 * pass nothing and learn no more. Not being able to look is no error. */
static void
warn_dead(const kdm_model *m, const kdd_set *s, const char *what)
{
	size_t H = kdm_hidden_units(m), B = 256;
	unsigned char *live;
	kdm_ws *ws;
	int ok;

	if (!H || !s || !s->n || !s->x)
		return;
	live = calloc(H, 1);
	ws = kdm_ws_new(m, B);
	ok = live && ws;
	for (size_t i = 0; ok && i < s->n; i += B)
		ok = !kdm_live_units(m, ws, s->x + i * s->d, s->n - i < B ? s->n - i : B, live);
	for (size_t l = 1, off = 0; ok && l < m->n_layers; off += m->sizes[l++]) {
		size_t dead = 0;
		for (size_t u = 0; u < m->sizes[l]; u++)
			dead += !live[off + u];
		if (dead * 5 > m->sizes[l])
			kdc_warn("%zu of %zu units of hidden layer %zu never fire on the %zu %s rows "
			         "(dead ReLUs, which learn no more; often the first steps were too large: "
			         "a --warmup, a lower --lr, or for a student a lower -T, may keep "
			         "them alive)",
			         dead, m->sizes[l], l, s->n, what);
	}
	kdm_ws_free(ws);
	free(live);
}

/* ceil(a / b), b > 0 */
static size_t
div_up(size_t a, size_t b)
{
	return a / b + (a % b != 0);
}

void
kdc_run_length(const kdc_train_cfg *cfg, kdt_opts *o, size_t n, int val)
{
	unsigned given = cfg->given;
	size_t spe = kdt_steps_per_epoch(o, n);
	int adam = o->reg.optimizer == KDM_ADAM;

	/* rates not given are the optimizer's; --lr alone keeps the rate
	 * constant under Adam, and falls a hundredfold under SGD */
	if (!(given & KDC_GIVEN_LR))
		o->lr = !adam ? cfg->sgd_lr : val ? KDC_ADAM_LR : KDC_ADAM_LR_SHORT;
	if (!(given & KDC_GIVEN_LR_END))
		o->lr_end = adam ? o->lr : o->lr * (cfg->sgd_lr_end / cfg->sgd_lr);
	if (!spe)
		return;
	if (!(given & KDC_GIVEN_EPOCHS)) {
		size_t ep = div_up(val ? cfg->steps : cfg->steps_short, spe);
		o->epochs = ep < KDC_AUTO_MIN_EP ? KDC_AUTO_MIN_EP :
		            ep > KDC_AUTO_MAX_EP ? KDC_AUTO_MAX_EP : ep;
	}
	if (!(given & KDC_GIVEN_PATIENCE)) {
		size_t pat = div_up(KDC_AUTO_PAT_STEPS, spe);
		o->patience = (given & KDC_GIVEN_EPOCHS) ? 0 :
		              pat < KDC_AUTO_PAT_EP ? KDC_AUTO_PAT_EP : pat;
	}
}

void
kdc_reg_defaults(const kdc_train_cfg *cfg, kdt_opts *o, size_t n, size_t nparams,
                 int val)
{
	int few = (double)n < KDC_REG_RATIO * (double)nparams && !(cfg->reg_few_small && val);
	const kdc_reg *r = few ? &cfg->reg_few : &cfg->reg_many;
	if (!(cfg->given & KDC_GIVEN_IN_DROP))
		o->reg.input_dropout = r->input_dropout;
	if (!(cfg->given & KDC_GIVEN_DROP))
		o->reg.dropout = r->dropout;
	if (!(cfg->given & KDC_GIVEN_MAXNORM))
		o->reg.maxnorm = r->maxnorm;
}

/* init_model: the model of --init, checked against the data (D inputs,
 * K classes) and the --hidden widths when given */
static kdm_model *
init_model(const kdc_train_cfg *cfg, size_t D, size_t K)
{
	kd_err e;
	kdm_model *m = kdmod_load(cfg->init, &e);
	int same = 1;

	if (!m)
		kdc_fail(&e);
	if (m->D != D || m->K != K)
		kdc_die("--init '%s': the model has %zu inputs and %zu classes, the data %zu and %zu",
		        cfg->init, m->D, m->K, D, K);
	if (cfg->given & KDC_GIVEN_HIDDEN) {
		same = m->n_layers == cfg->n_hidden + 1;
		for (size_t l = 0; same && l < cfg->n_hidden; l++)
			same = m->sizes[l + 1] == cfg->hidden[l];
	}
	if (!same)
		kdc_die("--init '%s': its hidden layers are not those of --hidden", cfg->init);
	return m;
}

kdm_model *
kdc_train_fit(const kdc_train_cfg *cfg, const kdt_data *d, size_t K,
              const char *names, size_t names_len)
{
	const kdd_set *t = d->train;
	kdt_opts o = cfg->t;
	/* dead units are looked for on the validation rows when there are
	 * enough of them that a unit silent on all is likely dead, else on
	 * the training rows, and not at all on fewer rows than that */
	const kdd_set *look = d->val && d->val->n >= DEAD_MIN_ROWS ? d->val :
	                      t->n >= DEAD_MIN_ROWS ? t : NULL;
	kdm_model *m;
	kd_err e;
	int std = cfg->standardize;

	if (cfg->init) {
		m = init_model(cfg, t->d, K);
		std = 0; /* the model's own standardisation stays */
	} else if (!(m = kdm_new(t->d, cfg->hidden, cfg->n_hidden, K, cfg->t.seed, &e))) {
		kdc_fail(&e);
	}
	/* names that do not fit K classes are dropped, not fatal */
	if (names_len && kdm_set_names(m, names, names_len, &e))
		kdc_warn("class names dropped: %s", e.msg);
	if (std < 0)
		std = !(t->width && t->height);
	if (std && kdt_standardize(m, t, &e))
		kdc_fail(&e);
	kdc_reg_defaults(cfg, &o, t->n, m->nparams, d->val && d->val->n);
	kdc_run_length(cfg, &o, t->n, d->val && d->val->n);
	if (o.warmup > o.epochs)
		kdc_usage_error("--warmup %zu is longer than the run (%zu epochs)",
		                o.warmup, o.epochs);
	if (kdt_fit(m, d, &o, kdc_report, (void *)cfg, &e))
		kdc_fail(&e);
	/* the workers of a data-parallel run hold the same model and
	 * validation rows: the first speaks for them all */
	if (cfg->t.worker == 0 && look)
		warn_dead(m, look, look == t ? "training" : "validation");
	return m;
}

void
kdc_train_model(const kdc_train_cfg *cfg, const kdt_data *d, size_t K,
                const char *names, size_t names_len)
{
	kdm_model *m = kdc_train_fit(cfg, d, K, names, names_len);
	kd_err e;

	if (kdmod_save(m, cfg->output, &e))
		kdc_fail(&e);
	kdm_free(m);
}
