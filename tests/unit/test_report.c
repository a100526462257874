/* test_report.c: kd-eval's reports (tools/common/report.h): the JSON and
 * the table of results worked out by hand, and the gnuplot script's
 * quoting. */
#include "report.h"
#include "kdtest.h"

#include <stdlib.h>
#include <string.h>

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

/* Two rows of label 1, p = (0.3, 0.7) and (0.6, 0.4): one error in two,
 * NLL (-ln 0.7 - ln 0.4) / 2 = (0.356675 + 0.916291) / 2 = 0.636483, Brier ((0.09 + 0.09) + (0.36 +
 * 0.36)) / 2 = 0.45. */
static void
test_json_and_table(void)
{
	static const float p1[2] = { .3f, .7f }, p2[2] = { .6f, .4f };
	kdrep_opts o = { NULL, 0, 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	kde_result r;
	kd_err e;

	memset(&r, 0, sizeof r);
	KT_CHECK(kde_acc_init(&r.acc, 2, 1, 0, 0, &e) == 0);
	r.name = strdup("s.kdm");
	add_probs(&r.acc, p1, 1, NULL);
	add_probs(&r.acc, p2, 1, NULL);
	f = open_memstream(&buf, &len);
	KT_CHECK(kdrep_json(f, &r, 1, &o) == 0);
	fclose(f);
	KT_CHECK(strstr(buf, "\"model\":\"s.kdm\"") != NULL);
	KT_CHECK(strstr(buf, ",\"classes\":2,\"rows\":2,\"errors\":1") != NULL);
	KT_CHECK(strstr(buf, ",\"accuracy\":0.5") != NULL);
	KT_CHECK(strstr(buf, ",\"nll\":0.63648") != NULL);
	KT_CHECK(strstr(buf, ",\"brier\":0.45") != NULL);
	KT_CHECK(buf[len - 1] == '\n' && strchr(buf, '\n') == buf + len - 1);
	free(buf);
	f = open_memstream(&buf, &len);
	KT_CHECK(kdrep_table(f, &r, 1, &o) == 0);
	fclose(f);
	KT_CHECK(strstr(buf, "s.kdm") != NULL && strstr(buf, "50.00") != NULL);
	KT_CHECK(strstr(buf, "0.6365") != NULL);
	free(buf);
	kde_result_free(&r);
}

/* The gnuplot script quotes the output path and names, and refuses to
 * draw nothing. */
static void
test_plot_script(void)
{
	static const float p[2] = { .3f, .7f };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	kde_result r;
	kd_err e;

	memset(&r, 0, sizeof r);
	KT_CHECK(kde_acc_init(&r.acc, 2, 1, 0, 1, &e) == 0);
	r.name = strdup("it's \"x\"");
	add_probs(&r.acc, p, 1, NULL);
	KT_CHECK(kdrep_plot_script(f, &r, 1, &e) == 0);
	fclose(f);
	KT_CHECK(strstr(buf, "set output\n") != NULL);
	/* ' is 047, " 042: no quote of the name reaches gnuplot's reader */
	KT_CHECK(strstr(buf, "set title \"it\\047s \\042x\\042\"") != NULL);
	KT_CHECK(strstr(buf, "set multiplot layout 1,2\n") != NULL);
	free(buf);
	kde_result_free(&r);

	/* no labelled candidate */
	KT_CHECK(kde_acc_init(&r.acc, 2, 0, 1, 0, &e) == 0);
	f = open_memstream(&buf, &len);
	KT_CHECK(kdrep_plot_script(f, &r, 1, &e) == -1);
	KT_CHECK(!strcmp(e.msg, "nothing to plot: no candidate has labelled rows"));
	fclose(f);
	free(buf);
	kde_result_free(&r);
}

int
main(void)
{
	KT_RUN(test_json_and_table);
	KT_RUN(test_plot_script);
	return kt_done();
}
