/* test_eval.c: kd-eval's metrics against answers worked out by hand, the
 * temperature taken back to T=1, a model scored directly and through its
 * logit stream, row matching with a teacher, and the gnuplot script. */
#include "eval.h"
#include "kdtest.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kds.h"
#include "mlp.h"
#include "prob.h"

static char dir[256]; /* the temporary directory of this run */

static const char *
tpath(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
	return buf;
}

/* add_probs: one row of probabilities p (K) to a, as log-probabilities */
static void
add_probs(kde_acc *a, const float *p, int32_t y, const float *t)
{
	float lp[8], tlp[8];
	for (size_t k = 0; k < a->K; k++) {
		lp[k] = logf(p[k]);
		if (t)
			tlp[k] = logf(t[k]);
	}
	kde_acc_add(a, lp, y, t ? tlp : NULL);
}

/* write_stream: n records of K values of `kind` at temperature temp to
 * path; labels (NULL: unlabelled), ids (NULL: 0..n-1). 0 or -1. */
static int
write_stream(const char *path, uint32_t K, int kind, double temp,
             const int32_t *labels, const uint64_t *ids, const float *v,
             size_t n)
{
	FILE *f = fopen(path, "wb");
	kds_header h;
	kds_writer *w;
	kd_err e;
	int rc = 0;

	if (!f)
		return -1;
	kds_header_init(&h, K, kind);
	h.temp = temp;
	h.has_label = labels != NULL;
	if (!(w = kds_create(f, path, &h, &e))) {
		fclose(f);
		return -1;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		kds_record r;
		r.id = ids ? ids[i] : i;
		r.label = labels ? labels[i] : -1;
		r.values = (float *)v + i * K;
		r.inputs = NULL;
		rc = kds_write(w, &r, &e);
	}
	if (!rc)
		rc = kds_finish(w, &e);
	if (rc)
		printf("# write_stream: %s\n", e.msg);
	kds_writer_free(w);
	return fclose(f) || rc ? -1 : 0;
}

/* eval_paths: score the stream at cpath against tpath (NULL: none) */
static int
eval_paths(const char *cpath, const char *tpath_, kde_result *r, kd_err *e)
{
	kde_src *c = kde_src_stream(cpath, e), *t = NULL;
	int rc = -1;
	if (c && (!tpath_ || (t = kde_src_stream(tpath_, e))))
		rc = kde_eval(c, t, "x", 1, r, e);
	kde_src_free(c);
	kde_src_free(t);
	return rc;
}

/* Every row right: 3 classes, 5 rows, labels 0 1 2 0 0.
 *   p                    conf  bin (conf*15)
 *   .75 .15 .10   y=0    .75   11 (11.25)
 *   .20 .70 .10   y=1    .70   10 (10.5)
 *   .05 .05 .90   y=2    .90   13 (13.5)
 *   .62 .30 .08   y=0    .62    9 (9.3)
 *   .78 .12 .10   y=0    .78   11 (11.7)
 * Each bin's accuracy is 1, so ECE = mean(1 - conf)
 *   = (.25 + .30 + .10 + .38 + .22) / 5 = 1.25 / 5 = 0.25;
 * bin 11 holds 2 rows of mean confidence (.75 + .78) / 2 = .765.
 * NLL = -(ln .75 + ln .7 + ln .9 + ln .62 + ln .78) / 5
 *     = (.287682 + .356675 + .105361 + .478036 + .248461) / 5 = .295243.
 * Brier rows: .25^2+.15^2+.1^2 = .095; .2^2+.3^2+.1^2 = .14;
 *   .05^2+.05^2+.1^2 = .015; .38^2+.3^2+.08^2 = .2408;
 *   .22^2+.12^2+.1^2 = .0728; mean = .5636 / 5 = .11272. */
static void
test_all_right(void)
{
	static const float p[5][3] = {
		{ .75f, .15f, .10f }, { .20f, .70f, .10f }, { .05f, .05f, .90f },
		{ .62f, .30f, .08f }, { .78f, .12f, .10f }
	};
	static const int32_t y[5] = { 0, 1, 2, 0, 0 };
	kde_acc a;
	kde_summary s;
	kd_err e;

	KT_CHECK(kde_acc_init(&a, 3, 1, 0, 1, &e) == 0);
	for (int i = 0; i < 5; i++)
		add_probs(&a, p[i], y[i], NULL);
	kde_acc_summary(&a, &s);
	KT_CHECK(a.rows == 5);
	KT_CHECK(a.errors == 0);
	KT_NEAR(s.accuracy, 1.0, 0);
	KT_NEAR(s.ece, 0.25, 1e-6);
	KT_NEAR(s.nll, 0.2952429, 1e-6);
	KT_NEAR(s.brier, 0.11272, 1e-6);
	KT_CHECK(isnan(s.agreement) && isnan(s.kl));
	KT_CHECK(a.bins[11].count == 2 && a.bins[11].correct == 2);
	KT_NEAR(a.bins[11].conf_sum / 2, 0.765, 1e-6);
	KT_CHECK(a.bins[9].count == 1 && a.bins[10].count == 1 && a.bins[13].count == 1);
	KT_CHECK(a.bins[12].count == 0 && a.bins[14].count == 0 && a.bins[0].count == 0);
	KT_CHECK(a.class_rows[0] == 3 && a.class_rows[1] == 1 && a.class_rows[2] == 1);
	for (int t = 0; t < 3; t++) {
		KT_CHECK(a.class_errors[t] == 0);
		for (int c = 0; c < 3; c++)
			KT_CHECK(a.confusion[t * 3 + c] == (uint64_t)(t == c ? a.class_rows[t] : 0));
	}
	kde_acc_free(&a);
}

/* Two classes, half wrong (p written as (p0, p1)):
 *   (.30, .70) y=1  right  conf .70  bin 10 (10.5)   -ln p_y = -ln .70
 *   (.65, .35) y=1  wrong  conf .65  bin  9 (9.75)   -ln .35
 *   (.90, .10) y=0  right  conf .90  bin 13 (13.5)   -ln .90
 *   (.15, .85) y=0  wrong  conf .85  bin 12 (12.75)  -ln .15
 * NLL = (.356675 + 1.049822 + .105361 + 1.897120) / 4 = .852244
 * Brier: .3^2+.3^2 = .18; .65^2+.65^2 = .845; .1^2+.1^2 = .02;
 *   .85^2+.85^2 = 1.445; mean = 2.49 / 4 = .6225
 * ECE: one row per bin: (|1-.7| + |0-.65| + |1-.9| + |0-.85|) / 4
 *   = (.3 + .65 + .1 + .85) / 4 = 1.9 / 4 = .475
 * confusion [[1,1],[1,1]], per-class errors 1 and 1. */
static void
test_two_classes(void)
{
	static const float p[4][2] = { { .30f, .70f }, { .65f, .35f }, { .90f, .10f }, { .15f, .85f } };
	static const int32_t y[4] = { 1, 1, 0, 0 };
	kde_acc a;
	kde_summary s;
	kd_err e;

	KT_CHECK(kde_acc_init(&a, 2, 1, 0, 1, &e) == 0);
	for (int i = 0; i < 4; i++)
		add_probs(&a, p[i], y[i], NULL);
	kde_acc_summary(&a, &s);
	KT_CHECK(a.errors == 2);
	KT_NEAR(s.accuracy, 0.5, 0);
	KT_NEAR(s.nll, 0.8522444, 1e-6);
	KT_NEAR(s.brier, 0.6225, 1e-6);
	KT_NEAR(s.ece, 0.475, 1e-6);
	KT_CHECK(a.bins[9].count == 1 && a.bins[9].correct == 0);
	KT_CHECK(a.bins[10].count == 1 && a.bins[10].correct == 1);
	KT_CHECK(a.bins[12].count == 1 && a.bins[12].correct == 0);
	KT_CHECK(a.bins[13].count == 1 && a.bins[13].correct == 1);
	for (int i = 0; i < 4; i++)
		KT_CHECK(a.confusion[i] == 1);
	KT_CHECK(a.class_errors[0] == 1 && a.class_errors[1] == 1);
	kde_acc_free(&a);
}

/* A candidate equal to its teacher agrees on every row with KL 0; then
 * KL by hand: KL((.5,.5) || (.9,.1)) = .5 ln(.5/.9) + .5 ln(.5/.1)
 * = .510826 (argmax 0 both: the first on a tie), and
 * KL((.2,.8) || (.6,.4)) = .2 ln(.2/.6) + .8 ln(.8/.4) = .334795
 * (argmax 1 and 0: disagree); mean .422810, agreement 1/2. */
static void
test_teacher(void)
{
	static const float p[3][3] = { { .2f, .5f, .3f }, { .6f, .3f, .1f }, { .1f, .1f, .8f } };
	static const float a2[2][2] = { { .9f, .1f }, { .6f, .4f } };
	static const float t2[2][2] = { { .5f, .5f }, { .2f, .8f } };
	kde_acc a;
	kde_summary s;
	kd_err e;

	KT_CHECK(kde_acc_init(&a, 3, 0, 1, 0, &e) == 0);
	for (int i = 0; i < 3; i++)
		add_probs(&a, p[i], -1, p[i]);
	kde_acc_summary(&a, &s);
	KT_CHECK(s.agreement == 1.0);
	KT_CHECK(s.kl == 0.0);
	KT_CHECK(isnan(s.accuracy) && isnan(s.nll) && isnan(s.ece));
	kde_acc_free(&a);

	KT_CHECK(kde_acc_init(&a, 2, 0, 1, 0, &e) == 0);
	for (int i = 0; i < 2; i++)
		add_probs(&a, a2[i], -1, t2[i]);
	kde_acc_summary(&a, &s);
	KT_NEAR(s.agreement, 0.5, 0);
	KT_NEAR(s.kl, 0.4228105, 1e-6);
	kde_acc_free(&a);
}

static void
test_bins(void)
{
	KT_CHECK(kde_bin_of(0.0) == 0);
	KT_CHECK(kde_bin_of(0.01) == 0);
	KT_CHECK(kde_bin_of(0.5) == 7);
	KT_CHECK(kde_bin_of(0.99) == 14);
	KT_CHECK(kde_bin_of(1.0) == 14);
	KT_CHECK(kde_bin_of(0.2) == 2); /* (2/15, 3/15]: closed on the right */
	KT_CHECK(kde_bin_of(0.2000001) == 3);
}

/* A logit stream and the same stream softened at T=4 (probabilities and
 * log-probabilities, temperature 4 in the header) score alike: kd-eval
 * takes scores back to T=1. */
static void
test_temperature_undone(void)
{
	enum { N = 50, K = 4 };
	float z[N * K], pt[N * K], lpt[N * K];
	int32_t y[N];
	char p1[300], p2[300], p3[300];
	kde_result r1, r2, r3;
	kde_summary s1, s2, s3;
	kd_err e;
	uint32_t st = 12345;

	for (int i = 0; i < N * K; i++) {
		st = st * 1103515245u + 12345u;
		z[i] = (float)((st >> 8) % 2000) / 200.0f - 5.0f;
	}
	for (int i = 0; i < N; i++) {
		y[i] = i % K;
		kdp_soften(KDP_LOGITS, z + i * K, K, 4.0, 0, pt + i * K);
		kdp_soften(KDP_LOGITS, z + i * K, K, 4.0, 1, lpt + i * K);
	}
	KT_CHECK(!write_stream(tpath(p1, sizeof p1, "z.kd"), K, KDP_LOGITS, 1.0, y, NULL, z, N));
	KT_CHECK(!write_stream(tpath(p2, sizeof p2, "p4.kd"), K, KDP_PROBS, 4.0, y, NULL, pt, N));
	KT_CHECK(!write_stream(tpath(p3, sizeof p3, "lp4.kd"), K, KDP_LOGPROBS, 4.0, y, NULL, lpt, N));
	KT_CHECK(!eval_paths(p1, NULL, &r1, &e));
	KT_CHECK(!eval_paths(p2, NULL, &r2, &e));
	KT_CHECK(!eval_paths(p3, p1, &r3, &e));
	kde_acc_summary(&r1.acc, &s1);
	kde_acc_summary(&r2.acc, &s2);
	kde_acc_summary(&r3.acc, &s3);
	KT_CHECK(r1.acc.rows == N && r2.acc.rows == N);
	KT_CHECK(r1.acc.errors == r2.acc.errors && r1.acc.errors == r3.acc.errors);
	KT_NEAR(s1.nll, s2.nll, 1e-5);
	KT_NEAR(s1.brier, s2.brier, 1e-5);
	KT_NEAR(s1.ece, s2.ece, 1e-5);
	KT_NEAR(s1.nll, s3.nll, 1e-5);
	KT_NEAR(s3.agreement, 1.0, 0);
	KT_NEAR(s3.kl, 0.0, 1e-6);
	kde_result_free(&r2);
	/* the same probabilities with a header that says T=1 are another,
	 * flatter distribution, with another NLL (lower here: the labels
	 * are random) */
	KT_CHECK(!write_stream(p2, K, KDP_PROBS, 1.0, y, NULL, pt, N));
	KT_CHECK(!eval_paths(p2, NULL, &r2, &e));
	kde_acc_summary(&r2.acc, &s2);
	KT_CHECK(fabs(s2.nll - s1.nll) > 0.1);
	kde_result_free(&r1);
	kde_result_free(&r2);
	kde_result_free(&r3);
}

/* A probability of 0 costs -log(1e-45) = 103.6 nats; logits are not
 * floored: a logit 200 below the other costs 200 nats. */
static void
test_floor(void)
{
	static const float p[2] = { 1.0f, 0.0f }, z[2] = { 0.0f, -200.0f };
	static const int32_t y[1] = { 1 };
	char a[300], b[300];
	kde_result r;
	kde_summary s;
	kd_err e;

	KT_CHECK(!write_stream(tpath(a, sizeof a, "zero.kd"), 2, KDP_PROBS, 1.0, y, NULL, p, 1));
	KT_CHECK(!write_stream(tpath(b, sizeof b, "far.kd"), 2, KDP_LOGITS, 1.0, y, NULL, z, 1));
	KT_CHECK(!eval_paths(a, NULL, &r, &e));
	kde_acc_summary(&r.acc, &s);
	KT_NEAR(s.nll, 103.6163, 1e-3);
	KT_NEAR(s.brier, 2.0, 1e-9);
	kde_result_free(&r);
	KT_CHECK(!eval_paths(b, NULL, &r, &e));
	kde_acc_summary(&r.acc, &s);
	KT_NEAR(s.nll, 200.0, 1e-3);
	kde_result_free(&r);
}

/* A model scored directly equals the stream of its logits, written one
 * row at a time (600 rows: the model source crosses batch boundaries). */
static void
test_model_source(void)
{
	enum { N = 600, D = 5, K = 4 };
	size_t hidden[1] = { 7 };
	kdm_model *m;
	kdm_ws *ws;
	kdd_set data;
	float *z = malloc(N * K * sizeof *z);
	char p[300];
	kde_src *src;
	kde_result r1, r2;
	kde_summary s1, s2;
	kd_err e;
	uint32_t st = 7;

	memset(&data, 0, sizeof data);
	m = kdm_new(D, hidden, 1, K, 5, &e);
	KT_CHECK(m && z && kdd_alloc(&data, N, D, 1, &e) == 0);
	if (!m || !z || !data.x)
		return;
	for (size_t i = 0; i < N * D; i++) {
		st = st * 1103515245u + 12345u;
		data.x[i] = (float)((st >> 8) % 1000) / 250.0f - 2.0f;
	}
	for (size_t i = 0; i < N; i++) {
		data.y[i] = (int32_t)(i * 7 % K);
		data.id[i] = 1000 + i;
	}
	data.k = K;
	ws = kdm_ws_new(m, 1);
	for (size_t i = 0; i < N; i++)
		KT_CHECK(kdm_forward(m, ws, data.x + i * D, 1, z + i * K) == 0);
	KT_CHECK(!write_stream(tpath(p, sizeof p, "m.kd"), K, KDP_LOGITS, 1.0, data.y, data.id, z, N));
	KT_CHECK(!eval_paths(p, NULL, &r1, &e));
	src = kde_src_model(m, "m.kdm", &data, "data.csv", &e);
	KT_CHECK(src && kde_src_k(src) == K && kde_src_labelled(src));
	{
		kde_src *t = kde_src_stream(p, &e);
		KT_CHECK(t && !kde_eval(src, t, "m", 1, &r2, &e));
		kde_src_free(t);
	}
	kde_acc_summary(&r1.acc, &s1);
	kde_acc_summary(&r2.acc, &s2);
	KT_CHECK(r1.acc.rows == N && r2.acc.rows == N);
	KT_CHECK(r1.acc.errors == r2.acc.errors);
	KT_NEAR(s1.nll, s2.nll, 1e-5);
	KT_NEAR(s1.brier, s2.brier, 1e-5);
	KT_NEAR(s1.ece, s2.ece, 1e-5);
	KT_NEAR(s2.agreement, 1.0, 0);
	KT_NEAR(s2.kl, 0.0, 1e-6);
	KT_CHECK(!memcmp(r1.acc.confusion, r2.acc.confusion, K * K * sizeof *r1.acc.confusion));
	kde_result_free(&r1);
	kde_result_free(&r2);
	kde_src_free(src);

	/* a data set of another width, a label the model does not have */
	data.d = D - 1;
	KT_CHECK(!kde_src_model(m, "m.kdm", &data, "data.csv", &e));
	KT_CHECK(!strcmp(e.msg, "'data.csv' has 4 features, model 'm.kdm' takes 5"));
	data.d = D;
	data.y[3] = K;
	KT_CHECK(!kde_src_model(m, "m.kdm", &data, "data.csv", &e));
	KT_CHECK(!strcmp(e.msg, "'data.csv': row 4: label 4, but model 'm.kdm' has 4 classes"));
	kdm_ws_free(ws);
	kdm_free(m);
	kdd_free(&data);
	free(z);
}

/* check_fails: kde_eval of c against t fails with message `want`, in
 * which @ stands for the temporary directory */
static void
check_fails(const char *c, const char *t, const char *want, int line)
{
	char full[1024];
	size_t n = 0;
	kde_result r;
	kd_err e;

	for (const char *p = want; *p && n < sizeof full - sizeof dir - 1; p++) {
		if (*p == '@') {
			memcpy(full + n, dir, strlen(dir));
			n += strlen(dir);
		} else {
			full[n++] = *p;
		}
	}
	full[n] = '\0';
	if (!eval_paths(c, t, &r, &e)) {
		kt_fail(__FILE__, line, "kde_eval succeeded");
		kde_result_free(&r);
	} else if (strcmp(e.msg, full)) {
		printf("# got:  %s\n# want: %s\n", e.msg, full);
		kt_fail(__FILE__, line, "message");
	}
}

static void
test_mismatch(void)
{
	static const float v[3 * 3] = { 1, 2, 3, 3, 2, 1, 0, 0, 1 };
	static const int32_t y[3] = { 2, 0, 2 }, y2[3] = { 2, 1, 2 };
	static const uint64_t ids[3] = { 0, 1, 7 };
	char a[300], b[300], k2[300], sh[300], id[300], un[300], lb[300];
	kde_result r;
	kde_summary s;
	kd_err e;

	KT_CHECK(!write_stream(tpath(a, sizeof a, "a.kd"), 3, KDP_LOGITS, 1.0, y, NULL, v, 3));
	KT_CHECK(!write_stream(tpath(b, sizeof b, "b.kd"), 3, KDP_LOGITS, 1.0, y, NULL, v, 3));
	KT_CHECK(!write_stream(tpath(k2, sizeof k2, "k2.kd"), 2, KDP_LOGITS, 1.0, NULL, NULL, v, 3));
	KT_CHECK(!write_stream(tpath(sh, sizeof sh, "short.kd"), 3, KDP_LOGITS, 1.0, y, NULL, v, 2));
	KT_CHECK(!write_stream(tpath(id, sizeof id, "ids.kd"), 3, KDP_LOGITS, 1.0, y, ids, v, 3));
	KT_CHECK(!write_stream(tpath(un, sizeof un, "unl.kd"), 3, KDP_LOGITS, 1.0, NULL, NULL, v, 3));
	KT_CHECK(!write_stream(tpath(lb, sizeof lb, "lab.kd"), 3, KDP_LOGITS, 1.0, y2, NULL, v, 3));

	check_fails(k2, a, "'@/k2.kd' has 2 classes, the teacher '@/a.kd' has 3", __LINE__);
	check_fails(sh, a, "'@/short.kd' ends after record 2 but the teacher '@/a.kd' goes on", __LINE__);
	check_fails(a, sh, "the teacher '@/short.kd' ends after record 2 but '@/a.kd' goes on", __LINE__);
	check_fails(id, a, "'@/ids.kd': record 3 has row id 7, the teacher '@/a.kd' has 2", __LINE__);
	check_fails(un, NULL, "'@/unl.kd': no labels to score against", __LINE__);
	check_fails(lb, a, "'@/lab.kd': record 2 has label 1, the teacher '@/a.kd' has 0", __LINE__);

	/* an unlabelled candidate takes the teacher's labels */
	KT_CHECK(!eval_paths(un, b, &r, &e));
	kde_acc_summary(&r.acc, &s);
	KT_CHECK(r.acc.labelled && r.acc.errors == 0 && s.agreement == 1.0);
	kde_result_free(&r);
	/* neither labelled: agreement and KL only */
	KT_CHECK(!eval_paths(un, un, &r, &e));
	kde_acc_summary(&r.acc, &s);
	KT_CHECK(!r.acc.labelled && isnan(s.accuracy) && s.agreement == 1.0 && s.kl == 0.0);
	kde_result_free(&r);
}

int
main(void)
{
	char cmd[300];

	snprintf(dir, sizeof dir, "%s/kd-test-eval.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	KT_RUN(test_all_right);
	KT_RUN(test_two_classes);
	KT_RUN(test_teacher);
	KT_RUN(test_bins);
	KT_RUN(test_temperature_undone);
	KT_RUN(test_floor);
	KT_RUN(test_model_source);
	KT_RUN(test_mismatch);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		printf("# could not remove %s\n", dir);
	return kt_done();
}
