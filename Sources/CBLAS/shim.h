#include <cblas.h>

/* LAPACK's Cholesky solve, exported by libopenblas (Fortran calling convention; no LAPACKE header needed).
 * Solves A·X = B for symmetric positive-definite A (n×n, column-major), overwriting B with X. */
void sposv_(const char *uplo, const int *n, const int *nrhs, float *a, const int *lda, float *b, const int *ldb, int *info);

/* LAPACK's Cholesky factorization and the inverse from it (symmetric positive-definite A, n×n). */
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info);
