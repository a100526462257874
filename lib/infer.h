/* infer.h: run a trained model over a data set and write its logits as a
 * kd stream (the work behind kd-teacher -m). */
#ifndef KD_INFER_H
#define KD_INFER_H

#include "data.h"
#include "kd_err.h"

typedef struct kdi_opts {
	int           inputs;   /* carry each row's inputs in the stream */
	int           no_label; /* leave the labels out even when DATA has them */
	kdd_load_opts load;     /* how to read DATA */
	uint64_t      shard;    /* with shards > 0: run only part shard (1 to
	                           shards) of the rows, by row number */
	uint64_t      shards;   /* 0: all rows */
	size_t        layer;    /* 0: the logits; L >= 1: instead, the
	                           activations of hidden layer L (after its
	                           ReLU) as a features stream */
	int           mirror;   /* average each image's logits with those of
	                           its mirror image (left to right): for a
	                           model trained with --flip; images only */
	/* progress, when set: called after each batch with the rows done
	 * and the rows to do (of this shard) */
	void        (*progress)(size_t done, size_t total, void *ctx);
	void         *progress_ctx;
} kdi_opts;

/* kdi_opts_init: no inputs, labels when the data has them. */
void kdi_opts_init(kdi_opts *o);

/* kdi_run: load the model at model_path and the data spec (see kdd_load;
 * a CSV whose rows have as many fields as the model has inputs is read
 * as inputs only, unless o->load.csv says otherwise),
 * and write one record per row to out_path (NULL or "-": stdout, refused
 * when a terminal; else atomically): row id, label, the K logits at T=1,
 * inputs as asked (as bytes/255 when every input is one, else float32).
 * Class names come from the model, else from the data. The header
 * carries the model's and the data set's fingerprints. When the rows'
 * ids are 0 to n-1 (files), the header gives n as the data set's rows.
 * With o->shards = N, only part I = o->shard of the rows is run: n = qN +
 * r rows in row order, q + 1 to each of the first r parts, q to the
 * others. The N parts joined with cat, in order, hold the same records as one
 * run over all rows, and in any order every row once (kds_check_rows).
 * With o->mirror, each row's logits are the mean of the model's logits on
 * the image and on its mirror image; refused when DATA is not images.
 * With o->layer = L, each record holds the sizes[L] activations of hidden
 * layer L instead of the logits, in a stream of kind KDP_FEATURES, without
 * class names (not with mirror). 0 or -1. */
int kdi_run(const char *model_path, const char *data, const char *out_path,
            const kdi_opts *o, kd_err *e);

#endif
