import BLAS
import TestSupport
import Testing

@Suite struct BLASTests {
    /// sgemm must match its naive twin on random shapes, including empty, unit and non-square ones,
    /// for every combination of transposes and for β ≠ 0.
    @Test(arguments: [(0, 3, 2), (1, 1, 1), (3, 0, 4), (2, 5, 0), (7, 3, 5), (16, 9, 33), (1, 64, 1)])
    func sgemmMatchesReference(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SeededFloats(seed: UInt64(m * 10_000 + n * 100 + k))
        for transA in [BLAS.Transpose.none, .transposed] {
            for transB in [BLAS.Transpose.none, .transposed] {
                let a = rng.array(m * k)
                let b = rng.array(k * n)
                let c0 = rng.array(m * n)
                var expected = c0
                BLAS.sgemmReference(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &expected)
                var actual = c0
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        actual.withUnsafeMutableBufferPointer { c in
                            BLAS.sgemm(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: c)
                        }
                    }
                }
                let maxDiff = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
                #expect(maxDiff < 1e-4, "m=\(m) n=\(n) k=\(k) \(transA) \(transB): maxdiff \(maxDiff)")
            }
        }
    }

    @Test func threadCountIsSettable() {
        BLAS.setThreadCount(1)
        #expect(BLAS.threadCount == 1)
    }
}

@Suite struct StridedSGEMMTests {
    /// The strided sgemm on sub-matrices (columns 3..<3+k of rows with stride 11, as attention reads one
    /// head's Q, K, V in place) equals the dense sgemm on copies of those sub-matrices.
    @Test(arguments: [(1, 1, 1), (4, 5, 3), (7, 2, 6)])
    func subMatricesMatchDenseCopies(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SeededFloats(seed: UInt64(m * 100 + n * 10 + k))
        let stride = 11, offset = 3
        let a = rng.array(max(m, n, k) * stride), b = rng.array(max(m, n, k) * stride)
        func block(_ x: [Float], rows: Int, columns: Int) -> [Float] {
            (0..<rows).flatMap { r in x[(r * stride + offset)..<(r * stride + offset + columns)] }
        }
        for transB in [BLAS.Transpose.none, .transposed] {
            let denseA = block(a, rows: m, columns: k)
            let denseB = transB == .none ? block(b, rows: k, columns: n) : block(b, rows: n, columns: k)
            var expected = [Float](repeating: 0, count: m * n)
            BLAS.sgemmReference(.none, transB, m: m, n: n, k: k, alpha: 0.5, a: denseA, b: denseB, c: &expected)
            var c = [Float](repeating: 7, count: m * 9)  // C rows of stride 9; columns n..<9 stay 7
            a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    c.withUnsafeMutableBufferPointer { cb in
                        BLAS.sgemm(
                            .none, transB, m: m, n: n, k: k, alpha: 0.5,
                            a: UnsafeBufferPointer(rebasing: ab[offset...]), lda: stride,
                            b: UnsafeBufferPointer(rebasing: bb[offset...]), ldb: stride, c: cb, ldc: 9)
                    }
                }
            }
            let actual = (0..<m).flatMap { r in c[(r * 9)..<(r * 9 + n)] }
            #expect(zip(actual, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(transB)")
            #expect((0..<m).allSatisfy { r in c[(r * 9 + n)..<(r * 9 + 9)].allSatisfy { $0 == 7 } })
        }
    }
}
