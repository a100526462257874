/* average.h: an ensemble's target: the streams of several teachers over
 * the same rows merged, record by record, into one stream of their mean
 * distribution (the work behind kd-average). */
#ifndef KD_AVERAGE_H
#define KD_AVERAGE_H

#include "kd_err.h"

/* kda_average: read the n streams at paths ("-": stdin, once) in step and
 * write to out_path (NULL or "-": stdout, refused when a terminal; else
 * atomically) one record per row: the weighted mean of their
 * distributions at T=1 (weights NULL: 1/n each), arithmetic or, with
 * geometric, of the log-probabilities, renormalised; as log-probabilities
 * with out_log, else probabilities. The streams must agree on the class
 * count, class names (where both have them), temperature, data set (by
 * fingerprint), row ids, labels and length; the output takes the labels
 * of any labelled stream and the inputs of the first that has them, and
 * a fingerprint of the models and weights. Constant memory. 0, or -1
 * with e naming the file and record. */
int kda_average(const char *const *paths, int n, const double *weights, int geometric,
                int out_log, const char *out_path, kd_err *e);

#endif
