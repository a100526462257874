/* train.h: the training loop shared by kd-teacher and kd-student.
 *
 * Minibatch SGD with momentum over a data set held in memory, with a
 * learning rate that falls by epoch (geometrically or on a cosine), the
 * regularisers of mlp.h (dropout, max-norm, weight decay), random image
 * shifts (jitter) and mirrors (flip), mixup of pairs of rows with their
 * labels, and one of three objectives: cross-entropy with hard labels,
 * distillation (soft targets at T, scaled by T^2, optionally mixed with
 * hard labels), or regression on the teacher's logits. After every
 * epoch the model is scored on a validation set; the parameters of the
 * best epoch are kept. A loss that turns non-finite or explodes stops
 * training with an error that says so. The library never prints:
 * progress goes to a callback. */
#ifndef KD_TRAIN_H
#define KD_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "kd_err.h"
#include "mlp.h"

enum kdt_loss {
	KDT_HARD = 0,    /* cross-entropy with the labels */
	KDT_DISTILL = 1, /* alpha * T^2 * CE(targets, softmax(z/T)) + (1-alpha) * CE(labels) */
	KDT_MSE = 2      /* 0.5 * |z - target logits|^2 (Ba & Caruana 2014) */
};

/* kdt_reduce_fn: the one collective operation of data-parallel training
 * (kdt_opts.workers > 1): replace f (nf floats) and s (ns doubles) by
 * their sums over all the workers, in place, leaving every worker with the
 * same sums, bit for bit. Every worker calls it at the same points of the
 * loop with the same counts (nf may be 0, f then NULL). 0, or -1 with e
 * set; the caller must then make sure no other worker waits forever (an
 * MPI program aborts the job). ctx is kdt_opts.reduce_ctx. */
typedef int (*kdt_reduce_fn)(float *f, size_t nf, double *s, size_t ns,
                             void *ctx, kd_err *e);

/* what the best epoch is chosen by (kdt_opts.select) */
enum kdt_select {
	KDT_BY_ERROR = 0, /* the validation error rate; the first epoch of
	                   * the lowest wins */
	KDT_BY_LOSS = 1   /* the validation cross-entropy (mean -log p of the
	                   * label, or of the targets' argmax without labels):
	                   * smooth where few rows make the error coarse */
};

enum kdt_schedule {
	KDT_GEOMETRIC = 0, /* lr * (lr_end / lr)^f */
	KDT_COSINE = 1     /* lr_end + (lr - lr_end) * (1 + cos(pi f)) / 2 */
};

typedef struct kdt_opts {
	size_t   epochs;     /* passes over the training rows */
	size_t   batch;      /* rows per step */
	double   lr;         /* learning rate of the first epoch */
	double   lr_end;     /* learning rate of the last epoch */
	int      schedule;   /* enum kdt_schedule: how the rate goes from lr to
	                      * lr_end (kdt_lr) */
	size_t   warmup;     /* 0, or epochs over which the rate rises linearly
	                      * to the schedule's: over the S steps of those
	                      * epochs, step s (from 0) takes (s+1)/S of it
	                      * (kdt_step_lr); at most epochs */
	kdm_opts reg;        /* momentum, dropout, max-norm, weight decay */
	int      jitter;     /* largest random shift in pixels (needs image shape) */
	int      flip;       /* mirror each image left to right with probability
	                      * 1/2 (after the shift; needs image shape) */
	double   mixup;      /* 0, or a of mixup (Zhang et al. 2018): each step
	                      * trains on lam * x_i + (1 - lam) * x_p(i) with
	                      * the labels mixed alike, lam ~ Beta(a, a) and p
	                      * a random permutation of the step's rows (after
	                      * jitter and flip; kdt_mixup); hard labels only */
	uint64_t seed;       /* shuffles, dropout masks and shifts */
	int      loss;       /* enum kdt_loss */
	double   T;          /* temperature of the soft targets (KDT_DISTILL) */
	double   alpha;      /* weight of the soft loss (KDT_DISTILL), [0,1] */
	int      keep_best;  /* restore the parameters of the best validation epoch */
	int      select;     /* enum kdt_select: what "best" means */
	size_t   hint_layer; /* with kdt_data.hint: the student's hidden layer
	                      * (1 to n_layers - 1) that the hint's regressor
	                      * reads (kdt_fit) */
	double   hint_weight;/* the hint loss's weight B (kdl_hint), >= 0 */
	int      hint_only;  /* 1: the hint is the whole loss (the targets' and
	                      * labels' part left out): the first stage of
	                      * FitNets, which trains the layers up to
	                      * hint_layer; needs a hint. The validation rows
	                      * are not scored (no classifier yet): patience
	                      * follows the training loss, as without them */
	size_t   patience;   /* 0, or stop once this many epochs have passed
	                      * without a new best validation score or,
	                      * without validation rows, without a training
	                      * loss 1e-4 below the lowest so far */
	double   ema;        /* 0, or the decay D of an exponential moving average
	                      * of the parameters, updated after every step t
	                      * (from 0) with the decay min(D, (1+t)/(10+t));
	                      * validation scores the average, and the average
	                      * is the model kept */
	const char *checkpoint; /* save the state here after each epoch (ckpt.h), or NULL */
	const char *resume;     /* start from the state saved here, or NULL */
	/* data-parallel training: 0 or 1 worker is a plain run. With W > 1
	 * workers, each holding the same data and options, one step takes a
	 * global batch of W * batch rows of the (common) shuffle; worker w
	 * takes rows [w*batch, (w+1)*batch) of it, and the gradients, summed
	 * with reduce, are divided by the global batch's rows: the same
	 * steps as one worker with W times the batch, to float rounding
	 * (sums taken in another order), but for dropout masks, jitter
	 * shifts, flips and mixup draws, which each worker draws from its own
	 * generator (seeded from seed, worker and epoch); mixup pairs rows
	 * within each worker's part of the step. Validation rows are shared
	 * out and the errors summed. Only worker 0 writes checkpoints; every
	 * worker resumes from the same file. */
	size_t   workers;    /* W, the workers of a data-parallel run */
	size_t   worker;     /* this worker, 0 .. W-1 */
	kdt_reduce_fn reduce;/* sums across the workers (required when W > 1) */
	void    *reduce_ctx; /* passed to reduce */
} kdt_opts;

/* kdt_opts_init: sensible defaults: 30 epochs, batch 128, lr 0.05 to
 * 0.0005, SGD with momentum 0.9, no regularisation, hard labels,
 * keep_best by validation error, no early stop. */
void kdt_opts_init(kdt_opts *o);

/* kdt_steps_per_epoch: the steps of one epoch of o over n training rows
 * (every worker of a data-parallel run takes --batch rows a step) */
size_t kdt_steps_per_epoch(const kdt_opts *o, size_t n);

/* what the callback is told, during and after each epoch */
typedef struct kdt_progress {
	size_t epoch, epochs;  /* current epoch, from 1, and the total */
	size_t done, total;    /* training rows done in this epoch, and in one */
	double loss;           /* mean training loss so far in this epoch */
	double lr;             /* learning rate of the last step (of this
	                        * epoch's, kdt_lr, past any warm-up) */
	double samples_per_s;  /* training speed this epoch */
	double eta_s;          /* estimated seconds left for the whole run */
	int    end_of_epoch;   /* 1: the epoch is over and val_* are set */
	double val_error;      /* validation error rate, or -1 without one */
	double val_loss;       /* validation cross-entropy (see kdt_select) */
	size_t val_n;          /* validation rows */
	int    best;           /* 1: this epoch is the best so far */
	int    stopped;        /* 1: this is the last epoch: --patience
	                        * epochs passed without a new best */
	int    val_vs_teacher; /* 1: val_error is disagreement with the targets' argmax */
} kdt_progress;

typedef void (*kdt_report_fn)(const kdt_progress *p, void *ctx);

/* the training material: rows x (and labels y, when used) of train, and
 * for KDT_DISTILL / KDT_MSE the targets (n,K) row-aligned with train:
 * probabilities at T, or logits. val may be NULL or empty; val_targets
 * (val->n, K) are used when val has no labels. */
typedef struct kdt_data {
	const kdd_set *train;
	const float   *targets;
	const kdd_set *val;
	const float   *val_targets;
	const float   *hint;     /* NULL, or (train->n, hint_dim) a teacher's
	                          * hidden-layer features for a hint (FitNets,
	                          * Romero et al. 2015), row-aligned with train */
	size_t         hint_dim; /* F, the features per row */
} kdt_data;

/* kdt_fit with a hint (d->hint): each step adds to the loss
 *   hint_weight * kdl_hint(h W_r^T + b_r, features)
 * where h (B, H) is m's hidden layer hint_layer (kdm_train_hidden) and the
 * regressor W_r (F, H), b_r (F), is trained with m by the same optimizer
 * (its momentum and decay; no dropout, max-norm or best-epoch keeping)
 * from kdm_new(H, NULL, 0, F, seed ^ KDT_HINT_SEED), and then dropped: m
 * alone is the result. The checkpoint carries the regressor and its
 * optimizer state. */
#define KDT_HINT_SEED 0x68696e74ULL /* "hint" */

/* kdt_fit: train m in place. Calls report (when not NULL) every few
 * hundred rows and at the end of each epoch. With o->checkpoint, saves
 * the state there at the end of each epoch (before the report); with
 * o->resume, starts from the state saved there by the same run (ckpt.h).
 * 0, or -1 with e set: bad options or data, out of memory, divergence
 * ("training diverged in epoch 3: the loss became nan; try a smaller learning rate
 * (now 0.05)"), or a checkpoint that cannot be written or resumed. */
int kdt_fit(kdm_model *m, const kdt_data *d, const kdt_opts *o,
            kdt_report_fn report, void *ctx, kd_err *e);

/* kdt_mixup: one step's mixup, as kdt_fit does it: draws lam ~
 * Beta(a, a) (kdr_beta), then a permutation p of 0..B-1 (kdr_shuffle of
 * perm filled with 0..B-1), both from r in that order, and writes
 *   out (B,D) = lam * X[b] + (1 - lam) * X[p[b]]
 *   tg  (B,K) = lam * onehot(y[b]) + (1 - lam) * onehot(y[p[b]])
 * perm (B) is left holding p. X and out must not overlap; labels are in
 * [0, K). Returns lam. */
double kdt_mixup(kdr_rng *r, double a, const float *X, const int32_t *y,
                 size_t B, size_t D, size_t K, uint32_t *perm, float *out,
                 float *tg);

/* kdt_lr: the learning rate of epoch ep (from 0) of o->epochs under
 * o->schedule, with f = ep / (epochs - 1) (0 for a single epoch): lr in
 * the first epoch, lr_end in the last. */
double kdt_lr(const kdt_opts *o, size_t ep);

/* kdt_step_lr: the rate of step s (from 0) of epoch ep, epochs being
 * steps long: kdt_lr(o, ep), times (g+1)/(o->warmup * steps) while the
 * run's step g = ep * steps + s is within the warm-up. */
double kdt_step_lr(const kdt_opts *o, size_t ep, size_t s, size_t steps);

/* kdt_error_rate: the fraction of rows of s that m classifies wrongly:
 * against s's labels, or against the argmax of targets (n,K) when s has
 * no labels. -1 with e set on failure. With loss not NULL, *loss is the
 * mean cross-entropy -log softmax(z)[c] against the same classes c. */
double kdt_error_rate(const kdm_model *m, const kdd_set *s,
                      const float *targets, double *loss, kd_err *e);

/* kdt_standardize: set m's standardisation to the mean and standard
 * deviation of each feature over s. 0 or -1. */
int kdt_standardize(kdm_model *m, const kdd_set *s, kd_err *e);

/* kdt_fingerprint: a CRC-32 of what must be the same to resume a run
 * from its checkpoint (ckpt.h stores it): the options of o (all but the
 * checkpoint paths), the model's layer sizes and standardisation, and the
 * training and validation data of d (values as this host stores them). */
uint32_t kdt_fingerprint(const kdm_model *m, const kdt_data *d,
                         const kdt_opts *o);

/* kdt_split: hold out nval rows of s (a random choice drawn from seed,
 * each part kept in file order) as *va, the rest as *tr; with targets
 * (s->n, K) not NULL, *ttr and *tva get the matching rows (free() them).
 * nval 0 gives an empty *va. 0, or -1 with e set (nval >= s->n). */
int kdt_split(const kdd_set *s, const float *targets, size_t K, size_t nval,
              uint64_t seed, kdd_set *tr, float **ttr, kdd_set *va,
              float **tva, kd_err *e);

#endif
