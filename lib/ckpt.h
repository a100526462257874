/* ckpt.h: training checkpoints, so that an interrupted kd-teacher train or
 * kd-student can go on where it stopped (--checkpoint, --resume).
 *
 * A checkpoint holds everything the training loop of train.c carries from
 * one epoch to the next: the parameters, the momentum velocities, the
 * random generator, the row order the next shuffle starts from, the best
 * parameters and validation error so far, the moving average of the
 * parameters (--ema), Adam's second moments, the best epoch (for
 * --patience), the first epoch's loss (for the divergence check), and
 * the hint's regressor with its optimizer state (kd-student --hint).
 * Resumed with the same data, options and BLAS
 * thread count, a run ends with the same model, bit for bit, as one that
 * was never stopped. The file format is lib/CHECKPOINT-FORMAT.md: magic,
 * version, a fingerprint of the run, the state, a CRC-32; it is written
 * atomically (lib/out.h), so a stop while saving leaves the previous
 * checkpoint whole. */
#ifndef KD_CKPT_H
#define KD_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "kd_err.h"
#include "rng.h"

#define KDCKPT_FORMAT_VERSION 1

/* the state of a run between two epochs; the arrays belong to the caller */
typedef struct kdckpt_state {
	uint32_t  fingerprint; /* the run's fingerprint (kdt_fingerprint): a
	                          checkpoint of another run is refused */
	uint64_t  epoch;       /* epochs done */
	uint64_t  epochs;      /* epochs of the whole run */
	kdr_rng   rng;         /* the generator after those epochs */
	double    first_loss;  /* mean training loss of epoch 1 */
	double    best_err;    /* lowest validation error so far (inf: none) */
	size_t    n;           /* training rows */
	uint32_t *order;       /* (n) the row order the next shuffle permutes */
	size_t    nparams;     /* parameters of the model */
	float    *params;      /* (nparams) the model's parameters */
	float    *vel;         /* (nparams) momentum velocities, or Adam's
	                          first moments */
	float    *sq;          /* (nparams) Adam's second moments, or NULL
	                          under SGD */
	float    *best;        /* (nparams) parameters of the best epoch, or
	                          NULL when the run keeps none */
	float    *avg;         /* (nparams) the moving average of the
	                          parameters (--ema), or NULL */
	int       patience;    /* 1: the run stops early, and best_epoch
	                          is saved */
	uint64_t  best_epoch;  /* the epoch of best_err (0: none yet) */
	size_t    nhint;       /* parameters of the hint's regressor
	                          (kd-student --hint), 0 without one */
	float    *hint;        /* (nhint) the regressor's parameters */
	float    *hint_vel;    /* (nhint) its velocities or first moments */
	float    *hint_sq;     /* (nhint) its second moments (when sq is set) */
} kdckpt_state;

/* kdckpt_save: write s to path, atomically. 0, or -1 with e set. */
int kdckpt_save(const char *path, const kdckpt_state *s, kd_err *e);

/* kdckpt_load: read the checkpoint at path into s, whose fingerprint,
 * epochs, n, nparams and arrays (best NULL or not) say what the run
 * expects; the rest of s is filled in. A checkpoint of another run, of
 * another format version, truncated, with trailing bytes, failing its
 * CRC or holding an impossible state is refused with a message. 0 or -1
 * (the arrays may then be partly overwritten). */
int kdckpt_load(const char *path, kdckpt_state *s, kd_err *e);

#endif
