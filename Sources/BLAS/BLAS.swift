import CBLAS

/// Safe entry points into OpenBLAS. Callers pass Swift buffers with their shapes; shapes are checked
/// before any C call, so a wrong size is a precondition failure in Swift, never a read out of bounds in C.
public enum BLAS {
    /// Sets the number of OpenBLAS worker threads for the whole process.
    ///
    /// OpenBLAS's thread pool is process-wide C state, so this is the one place that changes it; the CLI
    /// calls it once from `--threads`. On 2-vCPU machines 1 thread is fastest (see PLATFORM.md).
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Whether an operand is used as stored or transposed.
    public enum Transpose: Sendable {
        case none, transposed
        var cValue: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
    }

    /// Single-precision general matrix product on row-major buffers.
    ///
    /// ```
    /// C ← α · op(A) · op(B) + β · C
    /// ```
    /// Shapes: op(A) (m, k) · op(B) (k, n) → C (m, n). Stored A is (m, k) or (k, m) when transposed;
    /// stored B is (k, n) or (n, k). All buffers are dense row-major with no padding.
    public static func sgemm(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>,
        beta: Float = 0, c: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative dimension")
        precondition(a.count >= m * k, "A holds \(a.count) floats, needs \(m * k)")
        precondition(b.count >= k * n, "B holds \(b.count) floats, needs \(k * n)")
        precondition(c.count >= m * n, "C holds \(c.count) floats, needs \(m * n)")
        guard m > 0, n > 0 else { return }
        if k == 0 {  // OpenBLAS would still scale C by β; do the same without calling it.
            for i in 0..<(m * n) { c[i] = beta == 0 ? 0 : beta * c[i] }
            return
        }
        let lda = transA == .none ? k : m
        let ldb = transB == .none ? n : k
        cblas_sgemm(
            CblasRowMajor, transA.cValue, transB.cValue, Int32(m), Int32(n), Int32(k),
            alpha, a.baseAddress, Int32(lda), b.baseAddress, Int32(ldb), beta, c.baseAddress, Int32(n))
    }

    /// Reference twin of `sgemm`: the same contract as a plain triple loop, for tests.
    public static func sgemmReference(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: [Float], b: [Float], beta: Float = 0, c: inout [Float]
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    let aValue = transA == .none ? a[i * k + p] : a[p * m + i]
                    let bValue = transB == .none ? b[p * n + j] : b[j * k + p]
                    sum += aValue * bValue
                }
                c[i * n + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * n + j])
            }
        }
    }
}

extension BLAS {
    /// Solves A·x = b for a symmetric positive-definite A by Cholesky factorization (LAPACK `sposv`).
    ///
    /// Shapes: a (n, n), destroyed (its factor is written over it); b (n), replaced by x. A symmetric
    /// matrix reads the same in row- and column-major order, so row-major buffers are fine.
    /// - Returns: false when A is not positive definite (b is then unspecified).
    public static func solvePositiveDefinite(_ a: UnsafeMutableBufferPointer<Float>, _ b: UnsafeMutableBufferPointer<Float>, n: Int) -> Bool {
        precondition(a.count >= n * n && b.count >= n, "sposv: buffers smaller than n")
        guard n > 0 else { return true }
        var uplo = CChar(UInt8(ascii: "U"))
        var size = Int32(n)
        var rightHandSides: Int32 = 1
        var leading = Int32(n)
        var leadingB = Int32(n)
        var info: Int32 = 0
        sposv_(&uplo, &size, &rightHandSides, a.baseAddress, &leading, b.baseAddress, &leadingB, &info)
        return info == 0
    }
}

extension BLAS {
    /// `sgemm` on sub-matrices of larger row-major buffers: row r of A starts at a + r·lda, and so on.
    ///
    /// ```
    /// C ← α · op(A) · op(B) + β · C
    /// ```
    /// Shapes: op(A) (m, k) · op(B) (k, n) → C (m, n), with leading dimensions lda ≥ columns of stored A,
    /// ldb ≥ columns of stored B, ldc ≥ n. Each buffer must reach its last element.
    public static func sgemm(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafeBufferPointer<Float>, lda: Int, b: UnsafeBufferPointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutableBufferPointer<Float>, ldc: Int
    ) {
        precondition(m > 0 && n > 0 && k > 0, "strided sgemm needs positive dimensions")
        let (aRows, aColumns) = transA == .none ? (m, k) : (k, m)
        let (bRows, bColumns) = transB == .none ? (k, n) : (n, k)
        precondition(lda >= aColumns && ldb >= bColumns && ldc >= n, "leading dimension smaller than a row")
        precondition(a.count >= (aRows - 1) * lda + aColumns, "A holds \(a.count) floats, too few for \(aRows) rows of stride \(lda)")
        precondition(b.count >= (bRows - 1) * ldb + bColumns, "B holds \(b.count) floats, too few for \(bRows) rows of stride \(ldb)")
        precondition(c.count >= (m - 1) * ldc + n, "C holds \(c.count) floats, too few for \(m) rows of stride \(ldc)")
        cblas_sgemm(
            CblasRowMajor, transA.cValue, transB.cValue, Int32(m), Int32(n), Int32(k),
            alpha, a.baseAddress, Int32(lda), b.baseAddress, Int32(ldb), beta, c.baseAddress, Int32(ldc))
    }
}

extension BLAS {
    /// Inverts a symmetric positive-definite A in place (LAPACK `spotrf` then `spotri`): A ← A⁻¹, both
    /// triangles filled.
    ///
    /// Shapes: a (n, n). A symmetric matrix reads the same in row- and column-major order.
    /// - Returns: false when A is not positive definite (a is then unspecified).
    /// - Complexity: n³ flops (n³/3 for the factor, 2n³/3 for the inverse).
    public static func invertPositiveDefinite(_ a: UnsafeMutableBufferPointer<Float>, n: Int) -> Bool {
        precondition(a.count >= n * n, "spotri: buffer smaller than n²")
        guard n > 0 else { return true }
        var uplo = CChar(UInt8(ascii: "U"))
        var size = Int32(n)
        var leading = Int32(n)
        var info: Int32 = 0
        spotrf_(&uplo, &size, a.baseAddress, &leading, &info)
        guard info == 0 else { return false }
        spotri_(&uplo, &size, a.baseAddress, &leading, &info)
        guard info == 0 else { return false }
        // LAPACK filled the upper triangle in column-major order, which is the lower one of this row-major
        // buffer: mirror it into the other half.
        for row in 0..<n {
            for column in (row + 1)..<n { a[row * n + column] = a[column * n + row] }
        }
        return true
    }
}
