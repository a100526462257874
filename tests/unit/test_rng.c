/* test_rng.c: the gamma and beta draws of lib/rng.c, by their moments
 * over many draws: Gamma(a) has mean a and variance a; Beta(a, b) has
 * mean a/(a+b) and variance ab / ((a+b)^2 (a+b+1)). The tolerances are
 * six standard errors of each estimate (from the fourth moments). */
#include "rng.h"
#include "kdtest.h"

enum { N = 200000 };

/* moments: the mean and variance of N draws, in doubles */
static void
moments(const double *v, double *mean, double *var)
{
	double s = 0.0, q = 0.0;
	for (size_t i = 0; i < N; i++)
		s += v[i];
	*mean = s / N;
	for (size_t i = 0; i < N; i++)
		q += (v[i] - *mean) * (v[i] - *mean);
	*var = q / (N - 1);
}

static double draws[N];

static void
check_gamma(double a, uint64_t seed)
{
	kdr_rng r;
	double mean, var;
	/* standard errors: sqrt(a/N) for the mean; for the variance,
	 * sqrt((mu4 - a^2)/N) with mu4 = 3a^2 + 6a */
	double se_m = sqrt(a / N), se_v = sqrt((2.0 * a * a + 6.0 * a) / N);
	int positive = 1;

	kdr_init(&r, seed);
	for (size_t i = 0; i < N; i++) {
		draws[i] = kdr_gamma(&r, a);
		if (!(draws[i] > 0.0))
			positive = 0;
	}
	moments(draws, &mean, &var);
	printf("# Gamma(%g): mean %.5f var %.5f\n", a, mean, var);
	KT_CHECK(positive);
	KT_NEAR(mean, a, 6 * se_m);
	KT_NEAR(var, a, 6 * se_v);
}

static void
test_gamma_moments(void)
{
	check_gamma(0.3, 1); /* the u^(1/a) branch */
	check_gamma(1.0, 2);
	check_gamma(4.5, 3);
}

static void
check_beta(double a, double b, uint64_t seed)
{
	kdr_rng r;
	double mean, var, s = a + b;
	double m = a / s, v = a * b / (s * s * (s + 1));
	int inside = 1;

	kdr_init(&r, seed);
	for (size_t i = 0; i < N; i++) {
		draws[i] = kdr_beta(&r, a, b);
		if (!(draws[i] >= 0.0 && draws[i] <= 1.0))
			inside = 0;
	}
	moments(draws, &mean, &var);
	printf("# Beta(%g, %g): mean %.5f var %.5f (want %.5f %.5f)\n", a, b, mean, var, m, v);
	KT_CHECK(inside);
	/* a value in [0, 1] has |x - m| <= 1, so the variance's fourth
	 * moment is at most v: its standard error at most sqrt(v / N) */
	KT_NEAR(mean, m, 6 * sqrt(v / N));
	KT_NEAR(var, v, 6 * sqrt(v / N));
}

static void
test_beta_moments(void)
{
	check_beta(0.2, 0.2, 4); /* mixup's usual shape: most draws near 0 or 1 */
	check_beta(1.0, 1.0, 5); /* uniform */
	check_beta(2.0, 5.0, 6);
}

int
main(void)
{
	KT_RUN(test_gamma_moments);
	KT_RUN(test_beta_moments);
	return kt_done();
}
