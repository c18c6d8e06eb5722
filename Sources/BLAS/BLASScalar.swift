import CBLAS

/// A floating-point type OpenBLAS has a GEMM for: Float (sgemm, training) and Double (dgemm, the
/// finite-difference gradient check).
public protocol BLASScalar: BinaryFloatingPoint, Sendable {
    /// Row-major C ← α·op(A)·op(B) + β·C on raw pointers; callers check shapes (see `BLAS.gemm`).
    static func rawGEMM(
        _ transA: BLAS.Transpose, _ transB: BLAS.Transpose, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: BLASScalar {
    public static func rawGEMM(
        _ transA: BLAS.Transpose, _ transB: BLAS.Transpose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, transA.cValue, transB.cValue, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Double: BLASScalar {
    public static func rawGEMM(
        _ transA: BLAS.Transpose, _ transB: BLAS.Transpose, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, transA.cValue, transB.cValue, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension BLAS {
    /// Generic row-major GEMM: `C ← α·op(A)·op(B) + β·C`, shapes as in `sgemm`.
    /// Shapes: op(A) (m, k) · op(B) (k, n) → C (m, n).
    public static func gemm<T: BLASScalar>(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
        alpha: T = 1, a: UnsafePointer<T>, b: UnsafePointer<T>, beta: T = 0, c: UnsafeMutablePointer<T>
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<(m * n) { c[i] = beta == 0 ? 0 : beta * c[i] }
            return
        }
        T.rawGEMM(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: transA == .none ? k : m,
                  b: b, ldb: transB == .none ? n : k, beta: beta, c: c, ldc: n)
    }
}
