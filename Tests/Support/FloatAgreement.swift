/// How tests compare floats that come out of two *different* computations.
///
/// OpenBLAS picks its kernels by CPU (AVX-512 on one machine, AVX2/FMA on another) and by shape (a 1-row
/// product and a 5-row product take different code paths), and each kernel sums in its own order. Two
/// mathematically equal results therefore agree only up to float32 rounding, and a test that asks for bit
/// equality passes on one machine and fails on the next. Tests compare such results with `agree` and, where a
/// ranking is what matters, with `rankAlike`. Results of the *same* computation on the same input (save →
/// load → score, the same seed twice) stay exact.
///
/// The default tolerance, 1e-5 relative to the largest magnitude in the pair, is what float32 rounding
/// allows for the dot products in this code base: a sum of K products carries an error of at most about
/// K·ε·Σ|xᵢyᵢ| (ε = 6e-8), and the largest K here (a 384-wide MiniLM hidden layer; 64-wide GCN embeddings)
/// keeps that under 3e-5 of the terms' scale, with several orders of magnitude to spare for the typical
/// (random-walk) error of √K·ε. A real bug (a wrong row, a missing term) moves values by far more.
public enum FloatAgreement {
    /// The largest |aᵢ − bᵢ| divided by max(1e-30, the largest |aᵢ| or |bᵢ|).
    public static func relativeDifference<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B) -> Float {
        precondition(a.count == b.count, "sizes \(a.count) ≠ \(b.count)")
        var worst: Float = 0
        var scale: Float = 1e-30
        for (x, y) in zip(a, b) {
            if x.isNaN != y.isNaN { return .infinity }
            if x.isNaN { continue }
            worst = max(worst, abs(x - y))
            scale = max(scale, abs(x), abs(y))
        }
        return worst / scale
    }

    /// True when `a` and `b` have the same length and agree elementwise within `tolerance`, relative to the
    /// largest magnitude in either (NaN only where the other is NaN too).
    public static func agree<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B, tolerance: Float = 1e-5) -> Bool {
        a.count == b.count && relativeDifference(a, b) <= tolerance
    }

    /// True when `b` ranks the indices the way `a` does, except among values that `a` itself cannot tell
    /// apart within `tolerance` (near-ties may swap between kernels).
    ///
    /// Walks `a`'s order from the highest value down and checks that no later index has a `b` value more
    /// than 2·tolerance (relative to the largest magnitude) above an earlier one: when both agree with the
    /// true values within the tolerance, only pairs that are within it in `a` can swap, by at most twice it.
    public static func rankAlike(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
        guard a.count == b.count else { return false }
        let scale = max(1e-30, (a + b).map(abs).max() ?? 0)
        let order = a.indices.sorted { a[$0] > a[$1] || (a[$0] == a[$1] && $0 < $1) }
        var floor = Float.infinity
        for index in order {
            let value = b[index]
            if value > floor + 2 * tolerance * scale { return false }
            floor = min(floor, value)
        }
        return true
    }
}
