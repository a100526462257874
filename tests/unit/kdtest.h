/* kdtest.h: a minimal unit-test harness that speaks TAP.
 *
 * Each test is a void function; KT_RUN(fn) runs it and prints "ok N - fn" or
 * "not ok N - fn" (TAP), so that tests/run counts unit and bats tests alike.
 * A failed check prints where and why (as a TAP comment) and marks the test
 * failed but lets it go on, so one run shows every broken check.
 *
 *   static void test_softmax(void) { KT_CHECK(x == 1); KT_NEAR(a, b, 1e-6); }
 *   int main(void) { KT_RUN(test_softmax); return kt_done(); }
 */
#ifndef KDTEST_H
#define KDTEST_H

#include <math.h>
#include <stdio.h>

static int kt_n, kt_failed_tests, kt_cur_failed;

static void
kt_fail(const char *file, int line, const char *what)
{
	kt_cur_failed = 1;
	printf("# %s:%d: check failed: %s\n", file, line, what);
	fflush(stdout);
}

#define KT_CHECK(cond) \
	do { if (!(cond)) kt_fail(__FILE__, __LINE__, #cond); } while (0)

/* KT_NEAR: |a - b| <= tol, and both finite (NaN never passes). */
#define KT_NEAR(a, b, tol) \
	do { \
		double kt_a_ = (a), kt_b_ = (b); \
		if (!(fabs(kt_a_ - kt_b_) <= (tol))) { \
			char kt_m_[256]; \
			snprintf(kt_m_, sizeof kt_m_, "%s = %.9g, %s = %.9g, tol %g", \
			         #a, kt_a_, #b, kt_b_, (double)(tol)); \
			kt_fail(__FILE__, __LINE__, kt_m_); \
		} \
	} while (0)

#define KT_RUN(fn) kt_run(#fn, fn)

static void
kt_run(const char *name, void (*fn)(void))
{
	kt_cur_failed = 0;
	fn();
	kt_n++;
	if (kt_cur_failed)
		kt_failed_tests++;
	printf("%sok %d - %s\n", kt_cur_failed ? "not " : "", kt_n, name);
	fflush(stdout);
}

static int
kt_done(void)
{
	printf("1..%d\n", kt_n);
	return kt_failed_tests ? 1 : 0;
}

#endif
