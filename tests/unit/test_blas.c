/* test_blas.c: kdb_sgemm (OpenBLAS) against kdb_sgemm_ref (plain C). */
#include "blas.h"
#include "cli.h"
#include "rng.h"
#include "kdtest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* fill: n uniform values in [-1, 1) */
static void
fill(float *x, size_t n, kdr_rng *r)
{
	for (size_t i = 0; i < n; i++)
		x[i] = 2.0f * kdr_uniform(r) - 1.0f;
}

/* check_case: one product with padded leading dimensions; the padding of
 * C must come back untouched. */
static void
check_case(int ta, int tb, size_t M, size_t N, size_t K, float alpha,
           float beta, kdr_rng *r)
{
	/* stored shapes: A (M,K) or (K,M); B (K,N) or (N,K); pad each row */
	size_t arows = ta == KDB_T ? K : M, acols = ta == KDB_T ? M : K;
	size_t brows = tb == KDB_T ? N : K, bcols = tb == KDB_T ? K : N;
	size_t lda = acols + 3, ldb = bcols + 5, ldc = N + 2;
	float *A = malloc(sizeof *A * (arows * lda + 1));
	float *B = malloc(sizeof *B * (brows * ldb + 1));
	float *C1 = malloc(sizeof *C1 * (M * ldc + 1));
	float *C2 = malloc(sizeof *C2 * (M * ldc + 1));
	int bad = 0;

	KT_CHECK(A && B && C1 && C2);
	if (!A || !B || !C1 || !C2)
		goto out;
	fill(A, arows * lda, r);
	fill(B, brows * ldb, r);
	fill(C1, M * ldc, r);
	memcpy(C2, C1, sizeof *C1 * M * ldc);
	kdb_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc);
	kdb_sgemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);
	for (size_t i = 0; i < M; i++) {
		for (size_t j = 0; j < ldc; j++) {
			float a = C1[i * ldc + j], b = C2[i * ldc + j];
			/* K terms of size <= |alpha|, float rounding each */
			float tol = 1e-5f * (float)(K + 1) * (1.0f + fabsf(b));
			if (j >= N ? a != b : !(fabsf(a - b) <= tol))
				bad++;
		}
	}
	if (bad)
		printf("# ta %d tb %d M %zu N %zu K %zu: %d bad\n", ta, tb, M,
		       N, K, bad);
	KT_CHECK(bad == 0);
out:
	free(A);
	free(B);
	free(C1);
	free(C2);
}

static void
test_trans_combinations(void)
{
	static const size_t dims[][3] = {
		{1, 1, 1}, {3, 5, 7}, {17, 13, 29}, {64, 33, 100}, {129, 65, 31},
	};
	kdr_rng r;

	kdr_init(&r, 42);
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++)
			for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
				check_case(ta, tb, dims[d][0], dims[d][1],
				           dims[d][2], 1.0f, 0.0f, &r);
				check_case(ta, tb, dims[d][0], dims[d][1],
				           dims[d][2], -0.75f, 1.5f, &r);
				check_case(ta, tb, dims[d][0], dims[d][1],
				           dims[d][2], 2.0f, 1.0f, &r);
			}
}

/* beta 0 must not read C: NaN there must not come out */
static void
test_beta_zero_ignores_c(void)
{
	float A[6] = {1, 2, 3, 4, 5, 6};     /* (2,3) */
	float B[6] = {1, 0, 0, 1, 1, 1};     /* (3,2) */
	float C[4], R[4];

	for (int i = 0; i < 4; i++)
		C[i] = R[i] = NAN;
	kdb_sgemm(KDB_N, KDB_N, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
	kdb_sgemm_ref(KDB_N, KDB_N, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, R, 2);
	/* [1 2 3; 4 5 6] * [1 0; 0 1; 1 1] = [4 5; 10 11] */
	KT_NEAR(C[0], 4, 0);
	KT_NEAR(C[1], 5, 0);
	KT_NEAR(C[2], 10, 0);
	KT_NEAR(C[3], 11, 0);
	for (int i = 0; i < 4; i++)
		KT_NEAR(C[i], R[i], 0);
}

/* K == 0: C = beta * C, A and B never read */
static void
test_empty_inner(void)
{
	float C[3] = {1, 2, 3};

	kdb_sgemm(KDB_N, KDB_N, 1, 3, 0, 1.0f, NULL, 0, NULL, 3, 2.0f, C, 3);
	KT_NEAR(C[0], 2, 0);
	KT_NEAR(C[2], 6, 0);
	kdb_sgemm(KDB_T, KDB_N, 1, 3, 0, 1.0f, NULL, 1, NULL, 3, 0.0f, C, 3);
	KT_NEAR(C[1], 0, 0);
	kdb_sgemm(KDB_N, KDB_N, 0, 3, 4, 1.0f, NULL, 4, NULL, 3, 0.0f, C, 3);
	kdb_sgemm_ref(KDB_N, KDB_N, 1, 3, 0, 1.0f, NULL, 0, NULL, 3, 0.0f, C, 3);
	KT_NEAR(C[2], 0, 0);
}

static void
test_threads(void)
{
	int n = kdb_get_threads();

	KT_CHECK(n >= 1);
	kdb_set_threads(1);
	KT_CHECK(kdb_get_threads() == 1);
	kdb_set_threads(0);
	KT_CHECK(kdb_get_threads() >= 1);
	kdb_set_threads(n);
}

/* the kernels OpenBLAS runs after kdc_choose_core: with the user's
 * OPENBLAS_CORETYPE, those; without, AVX2 ones or better on a CPU that
 * has AVX2 and FMA (OpenBLAS alone picked SSE3 kernels on the virtual
 * Xeons kd is built on). KD_TEST_CORETYPE records, across the program's
 * second start, what the user had set ("-" for nothing). */
static void
test_core(void)
{
	const char *user = getenv("KD_TEST_CORETYPE"), *core = kdb_core();
	static const char *const old[] = {
		"Unknown", "Prescott", "Core2", "Penryn", "Dunnington",
		"Nehalem", "Sandybridge", "Atom"
	};

	KT_CHECK(user != NULL);
	KT_CHECK(core != NULL);
	if (!user || !core)
		return;
	if (strcmp(user, "-")) {
		KT_CHECK(!strcasecmp(core, user));
		return;
	}
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		for (size_t i = 0; i < sizeof old / sizeof *old; i++)
			KT_CHECK(strcasecmp(core, old[i]) != 0);
#else
	(void)old;
#endif
}

int
main(int argc, char **argv)
{
	(void)argc;
	if (!getenv("KD_TEST_CORETYPE")) {
		const char *u = getenv("OPENBLAS_CORETYPE");
		setenv("KD_TEST_CORETYPE", u ? u : "-", 1);
	}
	kdc_choose_core(argv);
	KT_RUN(test_core);
	KT_RUN(test_trans_combinations);
	KT_RUN(test_beta_zero_ignores_c);
	KT_RUN(test_empty_inner);
	KT_RUN(test_threads);
	return kt_done();
}
