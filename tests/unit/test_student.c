/* test_student.c: a student's targets and inputs (student.h): a logits
 * stream softened by hand at its T and at another, the same stream's rows
 * with their inputs from a data set (matched by id and label), and the
 * mismatches that must be refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"
#include "kds.h"
#include "kdtest.h"
#include "prob.h"
#include "student.h"
#include "train.h"

static char dir[64], sp[128], cp[128];

/* a stream of 3 rows, 2 classes: logits (0, ln 3), (ln 3, 0), (0, 0);
 * labels 1, 0, 1; inputs carried when with_inputs */
static int
write_stream(const char *path, int with_inputs, int first_label)
{
	kd_err e = { { 0 }, 0 };
	FILE *f = fopen(path, "wb");
	kds_header h;
	kds_writer *w;
	float z[3][2] = { { 0, (float)log(3.0) }, { (float)log(3.0), 0 }, { 0, 0 } };
	float x[3][2] = { { 1, 2 }, { 3, 4 }, { 5, 6 } };
	int rc = -1;

	if (!f)
		return -1;
	kds_header_init(&h, 2, KDP_LOGITS);
	h.has_label = 1;
	if (with_inputs) {
		h.input_type = KDS_IN_F32;
		h.dim = 2;
	}
	if ((w = kds_create(f, path, &h, &e))) {
		rc = 0;
		for (uint64_t i = 0; i < 3 && !rc; i++) {
			kds_record r = { i, i == 0 ? first_label : (int32_t)((i + 1) % 2), z[i],
			                 with_inputs ? x[i] : NULL };
			rc = kds_write(w, &r, &e);
		}
		rc = rc || kds_finish(w, &e);
		kds_writer_free(w);
	}
	fclose(f);
	return rc;
}

static void
test_soft_targets(void)
{
	kdst_in in = { sp, NULL, 0 };
	kdd_load_opts lo;
	kdd_set set;
	float *tg = NULL;
	size_t K = 0;
	double T = 0;
	kd_err e = { { 0 }, 0 };

	memset(&lo, 0, sizeof lo);
	KT_CHECK(write_stream(sp, 1, 1) == 0);
	KT_CHECK(kdst_load(&in, KDT_DISTILL, &lo, &set, &tg, &K, &T, &e) == 0);
	if (!tg)
		return;
	/* at the stream's T = 1: softmax (0, ln 3) = (1/4, 3/4) */
	KT_CHECK(K == 2 && T == 1 && set.n == 3);
	KT_NEAR(tg[0], 0.25, 1e-6);
	KT_NEAR(tg[1], 0.75, 1e-6);
	KT_NEAR(tg[2], 0.75, 1e-6);
	KT_NEAR(tg[4], 0.5, 1e-6);
	KT_CHECK(set.y[0] == 1 && set.y[1] == 0 && set.y[2] == 1);
	KT_CHECK(set.x[2] == 3 && set.x[5] == 6);
	free(tg);
	kdd_free(&set);
	/* softened at T = 2: (1, sqrt 3) / (1 + sqrt 3) */
	in.soften_T = 2;
	KT_CHECK(kdst_load(&in, KDT_DISTILL, &lo, &set, &tg, &K, &T, &e) == 0);
	if (!tg)
		return;
	KT_CHECK(T == 2);
	KT_NEAR(tg[0], 1 / (1 + sqrt(3.0)), 1e-6);
	free(tg);
	kdd_free(&set);
	/* mse-logits: the logits themselves */
	in.soften_T = 0;
	KT_CHECK(kdst_load(&in, KDT_MSE, &lo, &set, &tg, &K, &T, &e) == 0);
	if (!tg)
		return;
	KT_NEAR(tg[1], log(3.0), 1e-6);
	free(tg);
	kdd_free(&set);
}

/* inputs from a data set, matched to the stream by id and label */
static void
test_inputs_from_data(void)
{
	kdst_in in = { sp, cp, 0 };
	kdd_load_opts lo;
	kdd_set set;
	float *tg = NULL;
	size_t K = 0;
	double T = 0;
	kd_err e = { { 0 }, 0 };
	FILE *f;

	memset(&lo, 0, sizeof lo);
	KT_CHECK(write_stream(sp, 0, 1) == 0);
	if ((f = fopen(cp, "w"))) {
		fputs("1,2,1\n3,4,0\n5,6,1\n", f);
		fclose(f);
	}
	KT_CHECK(kdst_load(&in, KDT_DISTILL, &lo, &set, &tg, &K, &T, &e) == 0);
	if (tg) {
		KT_CHECK(set.n == 3 && set.d == 2 && set.x[4] == 5);
		free(tg);
		kdd_free(&set);
	}
	/* the stream's first label differs from the data's: refused */
	KT_CHECK(write_stream(sp, 0, 0) == 0);
	KT_CHECK(kdst_load(&in, KDT_DISTILL, &lo, &set, &tg, &K, &T, &e) == -1);
	KT_CHECK(strstr(e.msg, "label") != NULL);
	/* a stream without inputs and no data */
	in.data = NULL;
	KT_CHECK(kdst_load(&in, KDT_DISTILL, &lo, &set, &tg, &K, &T, &e) == -1);
	KT_CHECK(strstr(e.msg, "no inputs") != NULL);
	/* data with fewer rows than the stream */
	KT_CHECK(write_stream(sp, 0, 1) == 0);
	if ((f = fopen(cp, "w"))) {
		fputs("1,2,1\n3,4,0\n", f);
		fclose(f);
	}
	in.data = cp;
	KT_CHECK(kdst_load(&in, KDT_DISTILL, &lo, &set, &tg, &K, &T, &e) == -1);
	KT_CHECK(e.msg[0] != '\0');
}

int
main(void)
{
	strcpy(dir, "/tmp/test_student.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(sp, sizeof sp, "%s/t.kd", dir);
	snprintf(cp, sizeof cp, "%s/x.csv", dir);
	KT_RUN(test_soft_targets);
	KT_RUN(test_inputs_from_data);
	unlink(sp);
	unlink(cp);
	rmdir(dir);
	return kt_done();
}
