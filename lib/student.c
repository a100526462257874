/* student.c: the student's training material (see student.h). */
#include "student.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kds.h"
#include "prob.h"
#include "train.h"

/* row_of: "line L of 'spec'" for row i of CSV data d, else "row i+1 of 'spec'" */
static const char *
row_of(const kdd_set *d, size_t i, const char *spec, char *buf, size_t n)
{
	if (d->line && i < d->n)
		snprintf(buf, n, "line %zu of '%s'", d->line[i], spec);
	else
		snprintf(buf, n, "row %zu of '%s'", i + 1, spec);
	return buf;
}

/* load_data: data set spec into d as lo says; but when the stream knows
 * its data set's fingerprint, a CSV read with its last field as the
 * label that fails or gives other inputs is read again as inputs only,
 * and kept when that matches (or, for a stream without labels, when the
 * first reading failed): rows without a label column need no option, and
 * a labelled stream takes its labels from itself */
static int
load_data(const kdd_set *set, uint64_t data_fp, const char *spec,
          const kdd_load_opts *lo, kdd_set *d, kd_err *e)
{
	kdd_load_opts again = *lo;
	kd_err first;
	int rc = kdd_load(spec, lo, d, e);

	if (!data_fp || lo->csv.unlabelled || lo->csv.label_col ||
	    (rc == 0 && (!d->y || kdd_fingerprint(d) == data_fp)))
		return rc;
	first = *e;
	if (rc == 0)
		kdd_free(d);
	again.csv.unlabelled = 1;
	if (kdd_load(spec, &again, d, e) == 0) {
		/* kept when it matches, or when the first reading failed (its
		 * mismatch is then told by the caller) */
		if ((rc != 0 && !set->y) || kdd_fingerprint(d) == data_fp)
			return 0;
		kdd_free(d);
	}
	if (rc == 0) /* the first reading stands; its mismatch is told below */
		return kdd_load(spec, lo, d, e);
	*e = first;
	return -1;
}

/* attach_data: take the inputs (and labels, when the stream has none)
 * of data set spec for the rows of set, matched by id, label and count,
 * then by the data fingerprint data_fp (when known): the same rows with
 * other inputs */
static int
attach_data(kdd_set *set, const char *stream, uint64_t data_fp, const char *spec,
            const kdd_load_opts *lo, kd_err *e)
{
	kdd_set d;
	char at[KD_ERR_MAX / 2];

	if (load_data(set, data_fp, spec, lo, &d, e))
		return -1;
	for (size_t i = 0; i < set->n && i < d.n; i++)
		if (set->id[i] != d.id[i]) {
			kd_err_set(e, KD_EMISMATCH, "'%s': record %zu has row id %llu, but %s has id %llu",
			           stream, i + 1, (unsigned long long)set->id[i],
			           row_of(&d, i, spec, at, sizeof at), (unsigned long long)d.id[i]);
			goto fail;
		}
	if (set->n != d.n) {
		kd_err_set(e, KD_EMISMATCH, "'%s' has %zu records, '%s' has %zu rows (first unmatched: row %zu)",
		           stream, set->n, spec, d.n, (set->n < d.n ? set->n : d.n) + 1);
		goto fail;
	}
	/* for CSV a row id is only a position: the labels of both must agree
	 * too, or rows in another order would pair targets with wrong inputs */
	for (size_t i = 0; set->y && d.y && i < set->n; i++)
		if (set->y[i] != d.y[i]) {
			kd_err_set(e, KD_EMISMATCH, "'%s': record %zu has label %ld, but %s "
			           "has label %ld: the rows are not the stream's, or not in its order",
			           stream, i + 1, (long)set->y[i], row_of(&d, i, spec, at, sizeof at),
			           (long)d.y[i]);
			goto fail;
		}
	if (set->d && set->d != d.d) {
		kd_err_set(e, KD_EMISMATCH, "the stream's inputs have %zu features, '%s' has %zu",
		           set->d, spec, d.d);
		goto fail;
	}
	if (data_fp && data_fp != kdd_fingerprint(&d)) {
		kd_err_set(e, KD_EMISMATCH, "'%s' was made from another data set than '%s' "
		           "(its data fingerprint differs: other inputs)", stream, spec);
		goto fail;
	}
	free(set->x);
	set->x = d.x;
	set->d = d.d;
	set->width = d.width;
	set->height = d.height;
	d.x = NULL;
	if (!set->y && d.y) {
		set->y = d.y;
		d.y = NULL;
	}
	if (!set->names_len && d.names_len) {
		set->names = d.names;
		set->names_len = d.names_len;
		d.names = NULL;
		d.names_len = 0;
	}
	kdd_free(&d);
	return 0;
fail:
	kdd_free(&d);
	return -1;
}

int
kdst_load(const kdst_in *in, int loss, const kdd_load_opts *lo,
          kdd_set *set, float **targets, size_t *K, double *T, kd_err *e)
{
	kds_header h;
	float *v = NULL;
	const char *name = (!in->targets || !strcmp(in->targets, "-")) ? "stdin" : in->targets;

	*targets = NULL;
	if (kdd_stream_load(in->targets, set, &v, &h, e))
		return -1;
	*K = h.k;
	if (h.kind == KDP_FEATURES) {
		kd_err_set(e, KD_EUSAGE, "'%s' holds the features of a hidden layer (kd-teacher -m "
		           "--layer), not targets to distil", name);
		goto fail;
	}
	if (in->data) {
		if (attach_data(set, name, h.data_fp, in->data, lo, e))
			goto fail;
	} else if (set->d == 0) {
		kd_err_set(e, KD_EUSAGE, "'%s': the stream carries no inputs: the data set it "
		           "was made from is needed, or a stream that carries them", name);
		goto fail;
	}
	if (loss == KDT_MSE) {
		if (h.kind != KDP_LOGITS) {
			kd_err_set(e, KD_EUSAGE, "'%s': the loss mse-logits needs a logits stream, this one holds %s",
			           name, kdp_kind_name(h.kind));
			goto fail;
		}
		*T = 1.0;
	} else {
		/* targets as probabilities at the stream's temperature, or
		 * a logits stream softened at soften_T */
		double t = 1.0;
		if (h.kind == KDP_LOGITS && in->soften_T > 0)
			t = in->soften_T;
		else if (h.kind != KDP_LOGITS && in->soften_T > 0 && in->soften_T != h.temp) {
			kd_err_set(e, KD_EUSAGE, "'%s' is already at temperature %g; -T %g applies to logits streams",
			           name, h.temp, in->soften_T);
			goto fail;
		}
		for (size_t i = 0; i < set->n; i++)
			kdp_soften(h.kind, v + i * h.k, h.k, t, 0, v + i * h.k);
		*T = h.kind == KDP_LOGITS ? h.temp * t : h.temp;
	}
	*targets = v;
	kds_header_free(&h);
	return 0;
fail:
	free(v);
	kds_header_free(&h);
	kdd_free(set);
	return -1;
}

int
kdst_load_hint(const char *path, const kdd_set *set, float **feat, size_t *F,
               kd_err *e)
{
	kdd_set h;
	kds_header hd;
	float *v = NULL;
	const char *name = !strcmp(path, "-") ? "stdin" : path;
	int rc = -1;

	*feat = NULL;
	if (kdd_stream_load(path, &h, &v, &hd, e))
		return -1;
	if (hd.kind != KDP_FEATURES) {
		kd_err_set(e, KD_EUSAGE, "'%s' is a stream of %s, not the features of a hidden "
		           "layer (kd-teacher -m MODEL --layer L writes them)", name, kdp_kind_name(hd.kind));
		goto done;
	}
	for (size_t i = 0; i < h.n && i < set->n; i++) {
		if (h.id[i] != set->id[i]) {
			kd_err_set(e, KD_EMISMATCH, "'%s': record %zu has row id %llu, the targets' "
			           "record %zu has id %llu: the hint must come from the same rows, "
			           "in the same order", name, i + 1, (unsigned long long)h.id[i],
			           i + 1, (unsigned long long)set->id[i]);
			goto done;
		}
		if (h.y && set->y && h.y[i] != set->y[i]) {
			kd_err_set(e, KD_EMISMATCH, "'%s': record %zu (row id %llu) has label %ld, "
			           "the targets' has label %ld", name, i + 1,
			           (unsigned long long)h.id[i], (long)h.y[i], (long)set->y[i]);
			goto done;
		}
	}
	if (h.n != set->n) {
		kd_err_set(e, KD_EMISMATCH, "'%s' has %zu records, the targets %zu (first unmatched: "
		           "record %zu)", name, h.n, set->n, (h.n < set->n ? h.n : set->n) + 1);
		goto done;
	}
	*feat = v;
	*F = hd.k;
	v = NULL;
	rc = 0;
done:
	free(v);
	kds_header_free(&hd);
	kdd_free(&h);
	return rc;
}

void
kdst_hint_rows(const kdd_set *all, float *feat, size_t F, const kdd_set *part)
{
	size_t j = 0;

	/* part's rows come in all's order, so row i of part is at or after
	 * row i of all: copying forward never overwrites a row still to come */
	for (size_t i = 0; i < part->n; i++) {
		while (j < all->n && all->id[j] != part->id[i])
			j++;
		if (j == all->n)
			break; /* not a subset: cannot happen after kdt_split */
		if (j != i)
			memmove(feat + i * F, feat + j * F, F * sizeof *feat);
		j++;
	}
}
