/* blas.c: kdb_sgemm over OpenBLAS, and its plain-C reference (see blas.h). */
#include "blas.h"

#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* fits: every size can be passed as an OpenBLAS index */
static int
fits(size_t M, size_t N, size_t K, size_t lda, size_t ldb, size_t ldc)
{
	return M <= INT_MAX && N <= INT_MAX && K <= INT_MAX &&
	       lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX;
}

/* scale_c: C = beta * C for C (M,N) with stride ldc; beta 0 writes zeros
 * without reading C. */
static void
scale_c(size_t M, size_t N, float beta, float *C, size_t ldc)
{
	for (size_t i = 0; i < M; i++) {
		float *c = C + i * ldc;
		if (beta == 0.0f)
			for (size_t j = 0; j < N; j++)
				c[j] = 0.0f;
		else if (beta != 1.0f)
			for (size_t j = 0; j < N; j++)
				c[j] *= beta;
	}
}

void
kdb_sgemm(int transA, int transB, size_t M, size_t N, size_t K,
          float alpha, const float *A, size_t lda,
          const float *B, size_t ldb,
          float beta, float *C, size_t ldc)
{
	if (M == 0 || N == 0)
		return;
	if (K == 0) {
		/* cblas would reject lda 0 and print to stderr; nothing to
		 * multiply anyway */
		scale_c(M, N, beta, C, ldc);
		return;
	}
	if (!fits(M, N, K, lda, ldb, ldc)) {
		kdb_sgemm_ref(transA, transB, M, N, K, alpha, A, lda, B, ldb,
		              beta, C, ldc);
		return;
	}
	cblas_sgemm(CblasRowMajor,
	            transA == KDB_T ? CblasTrans : CblasNoTrans,
	            transB == KDB_T ? CblasTrans : CblasNoTrans,
	            (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb,
	            beta, C, (int)ldc);
}

void
kdb_sgemm_ref(int transA, int transB, size_t M, size_t N, size_t K,
              float alpha, const float *A, size_t lda,
              const float *B, size_t ldb,
              float beta, float *C, size_t ldc)
{
	/* op(A)[i][k] is A[i*lda + k] or A[k*lda + i]; likewise for B */
	size_t ai = transA == KDB_T ? 1 : lda, ak = transA == KDB_T ? lda : 1;
	size_t bk = transB == KDB_T ? 1 : ldb, bj = transB == KDB_T ? ldb : 1;

	for (size_t i = 0; i < M; i++) {
		for (size_t j = 0; j < N; j++) {
			double s = 0.0;
			for (size_t k = 0; k < K; k++)
				s += (double)A[i * ai + k * ak] *
				     (double)B[k * bk + j * bj];
			s *= alpha;
			if (beta != 0.0f)
				s += (double)beta * C[i * ldc + j];
			C[i * ldc + j] = (float)s;
		}
	}
}

void
kdb_set_threads(int n)
{
	if (n <= 0)
		n = openblas_get_num_procs();
	if (n < 1)
		n = 1;
	openblas_set_num_threads(n);
}

const char *
kdb_core(void)
{
	return openblas_get_corename();
}

int
kdb_get_threads(void)
{
	return openblas_get_num_threads();
}
