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
