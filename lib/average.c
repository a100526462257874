/* average.c: several streams' class distributions averaged into one
 * ensemble target (see average.h). */
#include "average.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kds.h"
#include "le.h"
#include "out.h"
#include "prob.h"

/* ensemble_fp: the fingerprint of the average: of each stream's model
 * with its weight, in any order (a sum), and of the mean's kind; 0 when a
 * stream's model is not known */
static uint64_t
ensemble_fp(kds_reader **r, const double *wt, int n, int geometric)
{
	uint64_t h = geometric ? 2 : 1;
	for (int i = 0; i < n; i++) {
		unsigned char w[8];
		uint64_t m = kds_header_of(r[i])->model_fp;
		if (!m)
			return 0;
		kd_put_f64(w, wt[i]);
		h += kd_hash64(m, w, 8);
	}
	return h ? h : 1;
}

int
kda_average(const char *const *paths, int n, const double *weights, int geometric,
            int out_log, const char *out_path, kd_err *e)
{
	kds_reader **r = NULL;
	kds_record *rec = NULL;
	kds_writer *w = NULL;
	kds_header h;
	kdout_file o = { 0 };
	double *wt = NULL, *acc = NULL;
	float *tmp = NULL, *outv = NULL;
	uint32_t K;
	int rc = -1, i, opened = 0;

	r = calloc((size_t)n, sizeof *r);
	rec = calloc((size_t)n, sizeof *rec);
	wt = malloc((size_t)n * sizeof *wt);
	if (!r || !rec || !wt) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++)
		wt[i] = weights ? weights[i] : 1.0 / n;

	for (i = 0; i < n; i++) {
		const kds_header *hi;
		if (!(r[i] = kds_open(paths[i], e)) || kds_scores_only(r[i], e))
			goto fail;
		kds_check_rows(r[i]); /* shards joined with cat: every row once */
		hi = kds_header_of(r[i]);
		if (i == 0)
			continue;
		if (hi->k != kds_header_of(r[0])->k) {
			kd_err_set(e, KD_EMISMATCH, "'%s' has %lu classes, '%s' has %lu", kds_name(r[i]),
			           (unsigned long)hi->k, kds_name(r[0]),
			           (unsigned long)kds_header_of(r[0])->k);
			goto fail;
		}
		if (hi->names_len && kds_header_of(r[0])->names_len &&
		    (hi->names_len != kds_header_of(r[0])->names_len ||
		     memcmp(hi->names, kds_header_of(r[0])->names, hi->names_len))) {
			kd_err_set(e, KD_EMISMATCH, "'%s' and '%s' name their classes differently",
			           kds_name(r[i]), kds_name(r[0]));
			goto fail;
		}
		if (hi->data_fp && kds_header_of(r[0])->data_fp &&
		    hi->data_fp != kds_header_of(r[0])->data_fp) {
			kd_err_set(e, KD_EMISMATCH, "'%s' and '%s' were made from different data sets "
			           "(their data fingerprints differ)", kds_name(r[i]), kds_name(r[0]));
			goto fail;
		}
		if (hi->temp != kds_header_of(r[0])->temp) {
			kd_err_set(e, KD_EMISMATCH, "'%s' is at temperature %g, '%s' at %g: soften them alike first",
			           kds_name(r[i]), hi->temp, kds_name(r[0]), kds_header_of(r[0])->temp);
			goto fail;
		}
	}
	/* the output header: the first stream's, with the labels of any
	 * labelled stream and the inputs of the first stream that has them */
	h = *kds_header_of(r[0]);
	for (i = 0; i < n; i++)
		if (kds_header_of(r[i])->has_label)
			h.has_label = 1;
	for (i = 0; i < n && kds_header_of(r[i])->input_type == KDS_IN_NONE; i++)
		;
	int in_src = i < n ? i : -1;
	if (in_src >= 0) {
		const kds_header *hs = kds_header_of(r[in_src]);
		h.input_type = hs->input_type;
		h.dim = hs->dim;
		h.width = hs->width;
		h.height = hs->height;
	}
	h.kind = out_log ? KDP_LOGPROBS : KDP_PROBS;
	h.model_fp = ensemble_fp(r, wt, n, geometric);
	for (i = 0; i < n; i++)
		if (kds_header_of(r[i])->data_fp)
			h.data_fp = kds_header_of(r[i])->data_fp;
	K = h.k;
	acc = malloc(K * sizeof *acc);
	tmp = malloc(K * sizeof *tmp);
	outv = malloc(K * sizeof *outv);
	if (!acc || !tmp || !outv) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		goto fail;
	}

	if (kdout_open(&o, out_path, 1, e))
		goto fail;
	opened = 1;
	if (!(w = kds_create(o.fp, o.name, &h, e)))
		goto fail;
	for (;;) {
		int got0 = 0;
		kds_record out;
		unsigned long long at = (unsigned long long)kds_count(r[0]) + 1;
		int32_t label = -1;

		for (i = 0; i < n; i++) {
			int g = kds_read(r[i], &rec[i], e);
			if (g < 0)
				goto fail;
			if (i == 0)
				got0 = g;
			else if (g != got0) {
				kd_err_set(e, KD_EMISMATCH, "'%s' ends after record %llu but '%s' goes on",
				           kds_name(r[g ? 0 : i]), at - 1, kds_name(r[g ? i : 0]));
				goto fail;
			}
		}
		if (!got0)
			break;
		for (i = 0; i < n; i++) {
			if (rec[i].id != rec[0].id) {
				kd_err_set(e, KD_EMISMATCH, "'%s': record %llu has row id %llu, '%s' has %llu",
				           kds_name(r[i]), at, (unsigned long long)rec[i].id,
				           kds_name(r[0]), (unsigned long long)rec[0].id);
				goto fail;
			}
			if (rec[i].label >= 0) {
				if (label >= 0 && rec[i].label != label) {
					kd_err_set(e, KD_EMISMATCH, "'%s': record %llu (row id %llu) has label %ld, another stream has %ld",
					           kds_name(r[i]), at, (unsigned long long)rec[i].id,
					           (long)rec[i].label, (long)label);
					goto fail;
				}
				label = rec[i].label;
			}
		}
		for (uint32_t k = 0; k < K; k++)
			acc[k] = 0.0;
		for (i = 0; i < n; i++) {
			if (wt[i] == 0.0)
				continue; /* 0 * log 0 would be NaN */
			kdp_soften(kds_header_of(r[i])->kind, rec[i].values, K, 1.0, geometric, tmp);
			for (uint32_t k = 0; k < K; k++)
				acc[k] += wt[i] * (double)tmp[k];
		}
		if (geometric) {
			/* acc holds mean log-probabilities: renormalise */
			for (uint32_t k = 0; k < K; k++)
				tmp[k] = acc[k] < -3e38 ? -INFINITY : (float)acc[k];
			kdp_soften(KDP_LOGPROBS, tmp, K, 1.0, out_log, outv);
		} else {
			for (uint32_t k = 0; k < K; k++)
				tmp[k] = (float)acc[k];
			kdp_soften(KDP_PROBS, tmp, K, 1.0, out_log, outv);
		}
		out.id = rec[0].id;
		out.label = label;
		out.values = outv;
		out.inputs = in_src >= 0 ? rec[in_src].inputs : NULL;
		if (kds_write(w, &out, e))
			goto fail;
	}
	if (kds_finish(w, e) || kdout_commit(&o, e))
		goto fail;
	rc = 0;
fail:
	kds_writer_free(w);
	if (rc && opened)
		kdout_abort(&o);
	for (i = 0; r && i < n; i++)
		kds_close(r[i]);
	free(r);
	free(rec);
	free(wt);
	free(acc);
	free(tmp);
	free(outv);
	return rc;
}
