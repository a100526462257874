/* blas.h: the one door to matrix products in kd.
 *
 * Every matrix product in kd goes through kdb_sgemm, which calls OpenBLAS's
 * cblas_sgemm; kdb_sgemm_ref computes the same thing in plain C with double
 * accumulation, as the independent reference the unit tests compare against.
 * All matrices are row-major. */
#ifndef KD_BLAS_H
#define KD_BLAS_H

#include <stddef.h>

/* values for the transA and transB arguments */
enum {
	KDB_N = 0, /* use the matrix as stored */
	KDB_T = 1  /* use its transpose */
};

/* kdb_sgemm: C = alpha * op(A) * op(B) + beta * C, row-major.
 *
 *   op(A) is (M,K): A is stored (M,K) with lda >= K when transA is KDB_N,
 *                   and (K,M) with lda >= M when transA is KDB_T.
 *   op(B) is (K,N): B is stored (K,N) with ldb >= N when transB is KDB_N,
 *                   and (N,K) with ldb >= K when transB is KDB_T.
 *   C is (M,N) with ldc >= N.
 *
 * lda, ldb, ldc are row strides in floats. As in BLAS, when beta is 0 the
 * input C is not read (NaN in C does not propagate). M, N or K may be 0;
 * K == 0 gives C = beta * C. Sizes that do not fit in an int (OpenBLAS's
 * index type) fall back to kdb_sgemm_ref. C must not overlap A or B. */
void kdb_sgemm(int transA, int transB, size_t M, size_t N, size_t K,
               float alpha, const float *A, size_t lda,
               const float *B, size_t ldb,
               float beta, float *C, size_t ldc);

/* kdb_sgemm_ref: the same as kdb_sgemm, in plain C: each element of
 * op(A) * op(B) is summed in double, then scaled and rounded once. Slow;
 * meant for tests. */
void kdb_sgemm_ref(int transA, int transB, size_t M, size_t N, size_t K,
                   float alpha, const float *A, size_t lda,
                   const float *B, size_t ldb,
                   float beta, float *C, size_t ldc);

/* kdb_set_threads: let OpenBLAS use n threads; n <= 0 means one per core.
 * Process-wide (OpenBLAS keeps it globally); call it from the tool, once,
 * before any product. */
void kdb_set_threads(int n);

/* kdb_core: the name of the kernels OpenBLAS runs ("Haswell",
 * "SkylakeX", ...). */
const char *kdb_core(void);

/* kdb_get_threads: the number of threads OpenBLAS uses now. */
int kdb_get_threads(void);

#endif
