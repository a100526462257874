/* test_infer.c: a model run over a data set into a stream (infer.h),
 * against the network computed here by hand in double precision; rows
 * without labels; shards that join into the whole. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infer.h"
#include "kds.h"
#include "kdtest.h"
#include "mlp.h"
#include "model.h"
#include "prob.h"

#define NIN 3
#define NK 2
#define NROWS 7

static char dir[64];

/* path_in: dir/name into buf (128 bytes) */
static const char *
path_in(char *buf, const char *name)
{
	snprintf(buf, 128, "%s/%s", dir, name);
	return buf;
}

/* forward_ref: the logits of m on x (upto = n_layers), or the
 * activations of hidden layer upto, by hand: layer by layer in double,
 * ReLU between layers, the standardisation first */
static void
forward_ref(const kdm_model *m, const float *x, size_t upto, double *z)
{
	double a[64], b[64];
	size_t n = m->D;

	for (size_t i = 0; i < n; i++)
		a[i] = m->standardize ? ((double)x[i] - m->mean[i]) * m->istd[i] : x[i];
	for (size_t l = 0; l < upto; l++) {
		size_t out = m->sizes[l + 1];
		for (size_t j = 0; j < out; j++) {
			double s = m->b[l][j];
			for (size_t i = 0; i < n; i++)
				s += (double)m->W[l][j * n + i] * a[i];
			b[j] = l + 1 < m->n_layers && s < 0 ? 0 : s;
		}
		memcpy(a, b, out * sizeof *a);
		n = out;
	}
	memcpy(z, a, n * sizeof *z);
}

/* rows: NROWS rows of NIN numbers, label last unless unlabelled */
static void
write_csv(const char *path, const float x[NROWS][NIN], int labelled)
{
	FILE *f = fopen(path, "w");

	for (size_t r = 0; f && r < NROWS; r++) {
		for (size_t i = 0; i < NIN; i++)
			fprintf(f, "%s%.9g", i ? "," : "", (double)x[r][i]);
		if (labelled)
			fprintf(f, ",%zu", r % NK);
		fputc('\n', f);
	}
	if (f)
		fclose(f);
}

static void
test_run(void)
{
	const size_t hidden[1] = { 4 };
	const float mean[NIN] = { 0.5f, -1.0f, 2.0f }, sd[NIN] = { 2.0f, 0.5f, 1.0f };
	float x[NROWS][NIN];
	char mp[128], lp[128], up[128], sp[128];
	kd_err e = { { 0 }, 0 };
	kdm_model *m = kdm_new(NIN, hidden, 1, NK, 3, &e);
	kdi_opts o;

	KT_CHECK(m && kdm_set_standardize(m, mean, sd, &e) == 0);
	if (!m)
		return;
	for (size_t r = 0; r < NROWS; r++)
		for (size_t i = 0; i < NIN; i++)
			x[r][i] = (float)((double)(r * 3 + i) * 0.7 - 4.0);
	KT_CHECK(kdmod_save(m, path_in(mp, "m.kdm"), &e) == 0);
	write_csv(path_in(lp, "l.csv"), (const float(*)[NIN])x, 1);
	write_csv(path_in(up, "u.csv"), (const float(*)[NIN])x, 0);
	for (int labelled = 1; labelled >= 0; labelled--) {
		kds_reader *rd;
		kds_record rec;
		size_t n = 0;
		int rc;
		kdi_opts_init(&o);
		o.inputs = 1;
		KT_CHECK(kdi_run(mp, labelled ? lp : up, path_in(sp, "s.kd"), &o, &e) == 0);
		rd = kds_open(sp, &e);
		KT_CHECK(rd != NULL);
		if (!rd)
			continue;
		KT_CHECK(kds_header_of(rd)->has_label == labelled);
		KT_CHECK(kds_header_of(rd)->k == NK && kds_header_of(rd)->dim == NIN);
		while ((rc = kds_read(rd, &rec, &e)) == 1) {
			double z[NK];
			forward_ref(m, x[n], m->n_layers, z);
			KT_CHECK(rec.id == n);
			if (labelled)
				KT_CHECK(rec.label == (int32_t)(n % NK));
			for (size_t k = 0; k < NK; k++)
				KT_NEAR(rec.values[k], z[k], 1e-5 * fmax(1.0, fabs(z[k])));
			for (size_t i = 0; i < NIN; i++)
				KT_CHECK(rec.inputs[i] == x[n][i]);
			n++;
		}
		KT_CHECK(rc == 0 && n == NROWS);
		kds_close(rd);
	}
	/* --layer 1: the hidden layer's 4 activations, as features */
	{
		kds_reader *rd;
		kds_record rec;
		size_t n = 0;
		kdi_opts_init(&o);
		o.layer = 1;
		KT_CHECK(kdi_run(mp, lp, sp, &o, &e) == 0);
		if ((rd = kds_open(sp, &e))) {
			KT_CHECK(kds_header_of(rd)->kind == KDP_FEATURES && kds_header_of(rd)->k == 4);
			while (kds_read(rd, &rec, &e) == 1) {
				double h[4];
				forward_ref(m, x[n], 1, h);
				for (size_t k = 0; k < 4; k++)
					KT_NEAR(rec.values[k], h[k], 1e-5 * fmax(1.0, fabs(h[k])));
				n++;
			}
			KT_CHECK(n == NROWS);
			kds_close(rd);
		}
		o.layer = 2; /* the output layer is not a hidden one */
		KT_CHECK(kdi_run(mp, lp, sp, &o, &e) == -1);
	}
	/* three shards: each row once, in row order, part by part */
	for (uint64_t part = 1; part <= 3; part++) {
		kds_reader *rd;
		kds_record rec;
		size_t n = 0, first = part == 1 ? 0 : part == 2 ? 3 : 5;
		kdi_opts_init(&o);
		o.shard = part;
		o.shards = 3;
		KT_CHECK(kdi_run(mp, lp, sp, &o, &e) == 0);
		if (!(rd = kds_open(sp, &e)))
			continue;
		while (kds_read(rd, &rec, &e) == 1)
			KT_CHECK(rec.id == first + n++);
		KT_CHECK(n == (part == 1 ? 3 : 2)); /* 7 = 3 + 2 + 2 */
		kds_close(rd);
	}
	/* data of other widths than the model's inputs */
	{
		FILE *f = fopen(lp, "w");
		if (f) {
			fputs("1,2\n3,4\n", f);
			fclose(f);
		}
	}
	KT_CHECK(kdi_run(mp, lp, sp, &o, &e) == -1);
	KT_CHECK(strstr(e.msg, "l.csv") != NULL);
	unlink(mp);
	unlink(lp);
	unlink(up);
	unlink(sp);
	kdm_free(m);
}

int
main(void)
{
	strcpy(dir, "/tmp/test_infer.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	KT_RUN(test_run);
	rmdir(dir);
	return kt_done();
}
