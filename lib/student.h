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

#endif
