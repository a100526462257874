/* infer.c: model inference to a kd stream (see infer.h). */
#include "infer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kds.h"
#include "mlp.h"
#include "model.h"
#include "out.h"
#include "prob.h"

#define BATCH 256

void
kdi_opts_init(kdi_opts *o)
{
	memset(o, 0, sizeof *o);
}

/* all_bytes: 1 when every value of x is b/255 for a byte b */
static int
all_bytes(const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		float s = x[i] * 255.0f;
		if (!(s >= 0.0f && s <= 255.0f) || (float)lrintf(s) / 255.0f != x[i])
			return 0;
	}
	return 1;
}

int
kdi_run(const char *model_path, const char *data, const char *out_path,
        const kdi_opts *o, kd_err *e)
{
	kdm_model *m = NULL;
	kdm_ws *ws = NULL;
	kdd_set s;
	kds_header h;
	kds_writer *w = NULL;
	kdout_file out = { 0 };
	float *logits = NULL, *mx = NULL, *mz = NULL;
	int rc = -1, opened = 0;
	size_t first = 0, end, V;

	memset(&s, 0, sizeof s);
	if (!(m = kdmod_load(model_path, e)))
		return -1;
	{
		kdd_load_opts lo = o->load;
		if (!lo.csv.features)
			lo.csv.features = m->D; /* new rows, without labels */
		if (kdd_load(data, &lo, &s, e))
			goto done;
	}
	end = s.n;
	if (s.d != m->D) {
		kd_err_set(e, KD_EMISMATCH, "'%s' has %zu features, model '%s' takes %zu",
		           data, s.d, model_path, m->D);
		goto done;
	}
	if (o->mirror && !kdd_is_image(&s)) {
		kd_err_set(e, KD_EUSAGE, "'%s': mirrored rows need images, and its rows are %zu "
		           "numbers without an image shape", data, s.d);
		goto done;
	}
	if (o->layer && (o->layer >= m->n_layers || o->mirror)) {
		if (o->mirror)
			kd_err_set(e, KD_EUSAGE, "a hidden layer's features are not mirrored");
		else
			kd_err_set(e, KD_EUSAGE, "'%s' has no hidden layer %zu (it has %zu)", model_path,
			           o->layer, m->n_layers - 1);
		goto done;
	}
	/* the values of a record: the logits, or a hidden layer's units */
	V = o->layer ? m->sizes[o->layer] : m->K;
	kds_header_init(&h, (uint32_t)V, o->layer ? KDP_FEATURES : KDP_LOGITS);
	h.model_fp = kdmod_fingerprint(m);
	h.data_fp = kdd_fingerprint(&s); /* of all rows, for every shard */
	h.rows = s.n;
	for (size_t i = 0; i < s.n; i++)
		if (s.id[i] != i) { /* e.g. a stream of some rows: not known */
			h.rows = 0;
			break;
		}
	if (o->shards) {
		if (o->shard < 1 || o->shard > o->shards) {
			kd_err_set(e, KD_EUSAGE, "shard %llu of %llu: shards are numbered 1 to %llu",
			           (unsigned long long)o->shard, (unsigned long long)o->shards,
			           (unsigned long long)o->shards);
			goto done;
		}
		/* n = qN + rem: the first rem parts get q + 1 rows, the
		 * others q, in row order */
		{
			uint64_t q = s.n / o->shards, rem = s.n % o->shards, i = o->shard - 1;
			first = (size_t)(i * q + (i < rem ? i : rem));
			end = first + (size_t)(q + (i < rem ? 1 : 0));
		}
	}
	h.has_label = s.y && !o->no_label;
	if (h.has_label)
		for (size_t i = 0; i < s.n; i++)
			if ((size_t)s.y[i] >= m->K) {
				kdd_label_range(&s, data, i, m->K, model_path, e);
				goto done;
			}
	if (o->inputs) {
		h.dim = (uint32_t)s.d;
		h.input_type = all_bytes(s.x, s.n * s.d) ? KDS_IN_U8 : KDS_IN_F32;
		if (s.width * s.height == s.d) {
			h.width = (uint32_t)s.width;
			h.height = (uint32_t)s.height;
		}
	}
	if (o->layer) {
		/* features name no classes */
	} else if (m->names_len) {
		h.names = m->names;
		h.names_len = (uint32_t)m->names_len;
	} else if (s.names_len) {
		kd_err ignore;
		h.names = s.names;
		h.names_len = (uint32_t)s.names_len;
		if (kds_header_check(&h, &ignore)) { /* names not for K classes */
			h.names = NULL;
			h.names_len = 0;
		}
	}
	ws = kdm_ws_new(m, BATCH);
	logits = malloc(BATCH * V * sizeof *logits);
	if (o->mirror) {
		mx = malloc(BATCH * s.d * sizeof *mx);
		mz = malloc(BATCH * m->K * sizeof *mz);
	}
	if (!ws || !logits || (o->mirror && (!mx || !mz))) {
		kd_err_set(e, KD_ENOMEM, "out of memory");
		goto done;
	}
	if (kdout_open(&out, out_path, 1, e))
		goto done;
	opened = 1;
	if (!(w = kds_create(out.fp, out.name, &h, e)))
		goto done;
	for (size_t i = first; i < end; i += BATCH) {
		size_t B = end - i < BATCH ? end - i : BATCH;
		if (o->layer)
			kdm_hidden(m, ws, s.x + i * s.d, B, o->layer, logits);
		else
			kdm_forward(m, ws, s.x + i * s.d, B, logits);
		if (o->mirror) { /* logits = (z(x) + z(mirror x)) / 2 */
			memcpy(mx, s.x + i * s.d, B * s.d * sizeof *mx);
			kdm_mirror(mx, B, s.width, s.height);
			kdm_forward(m, ws, mx, B, mz);
			for (size_t j = 0; j < B * m->K; j++)
				logits[j] = 0.5f * (logits[j] + mz[j]);
		}
		for (size_t b = 0; b < B; b++) {
			kds_record r;
			if (kdm_logits_bad(logits + b * V, V, model_path, data, i + b,
			                   s.line ? s.line[i + b] : 0, e))
				goto done;
			r.id = s.id[i + b];
			r.label = h.has_label ? s.y[i + b] : -1;
			r.values = logits + b * V;
			r.inputs = s.x + (i + b) * s.d;
			if (kds_write(w, &r, e))
				goto done;
		}
		if (o->progress)
			o->progress(i + B - first, end - first, o->progress_ctx);
	}
	if (kds_finish(w, e) || kdout_commit(&out, e))
		goto done;
	opened = 0;
	rc = 0;
done:
	if (opened)
		kdout_abort(&out);
	kds_writer_free(w);
	kdm_ws_free(ws);
	kdm_free(m);
	kdd_free(&s);
	free(logits);
	free(mx);
	free(mz);
	return rc;
}
