/* student.h: what kd-student trains on, read from a target stream (and
 * optionally a data set holding the inputs). */
#ifndef KD_STUDENT_H
#define KD_STUDENT_H

#include "data.h"
#include "kd_err.h"

typedef struct kdst_in {
	const char *targets;  /* the target stream ("-": stdin) */
	const char *data;     /* a data set with the inputs, or NULL: the stream's */
	double      soften_T; /* soften a logits stream at this T (0: its own T) */
} kdst_in;

/* kdst_load: read the target stream and the inputs into *set (rows in
 * stream order, ids from the stream, labels from the stream or else from
 * the data) and *targets (n,K; free() it): for loss KDT_DISTILL the
 * probabilities at temperature *T (a logits stream is softened at
 * soften_T, default its own temperature), for KDT_MSE the logits (the
 * stream must hold logits). With data, its rows must match the stream's
 * ids and count: a mismatch names the first bad row. 0 or -1. */
int kdst_load(const kdst_in *in, int loss, const kdd_load_opts *lo,
              kdd_set *set, float **targets, size_t *K, double *T, kd_err *e);

/* kdst_load_hint: the features stream at path (kd-teacher -m --layer:
 * kind KDP_FEATURES; "-" is stdin) for the rows of set, which must be its
 * records one for one: the same ids in the same order, the same labels
 * where both have them. *feat (set->n, *F) gets the features (free() it).
 * 0, or -1 with e naming the stream and the first record that differs. */
int kdst_load_hint(const char *path, const kdd_set *set, float **feat,
                   size_t *F, kd_err *e);

/* kdst_hint_rows: keep the features of part's rows only: feat (all->n, F)
 * row-aligned with all becomes (part->n, F) row-aligned with part, in
 * place. part holds some of all's rows, in all's order, by id (as
 * kdt_split leaves them). */
void kdst_hint_rows(const kdd_set *all, float *feat, size_t F,
                    const kdd_set *part);

#endif
