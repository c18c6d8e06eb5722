import BLAS
import Foundation

// The encoder's kernels: free functions over raw buffers and their dimensions, stateless. Each has a
// plain-loop twin in `Reference.swift`, and the tests compare the two.
//
// The code targets baseline x86-64 (SSE): SIMD16<Float> is four SSE registers, and no loop relies on a
// fused multiply-add (without an FMA target `addingProduct` would become a libm call, see PLATFORM.md).

typealias Vector = SIMD16<Float>

@inline(__always) func loadVector(_ p: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
}

@inline(__always) func storeVector(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
}

/// y[i] += α·x[i] over n floats.
@inline(__always) func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    let a = Vector(repeating: alpha)
    while i + 16 <= n {
        storeVector(loadVector(y + i) + a * loadVector(x + i), y + i)
        i += 16
    }
    while i < n {
        y[i] += alpha * x[i]
        i += 1
    }
}

// MARK: - Linear

/// A fully connected layer on row-major buffers, weights in PyTorch's (out, in) layout.
///
/// ```
/// Y = X · Wᵀ + 1·bᵀ
/// ```
/// Shapes: X (T, K) · Wᵀ (K, N) + b (N) → Y (T, N).
func linearForward(
    _ x: UnsafePointer<Float>, rows: Int, inFeatures k: Int,
    weight: [Float], bias: [Float], output y: UnsafeMutablePointer<Float>
) {
    let n = bias.count
    precondition(weight.count == n * k, "linear: W holds \(weight.count) floats, expected \(n)×\(k)")
    for row in 0..<rows { (y + row * n).update(from: bias, count: n) }
    weight.withUnsafeBufferPointer { w in
        BLAS.sgemm(
            .none, .transposed, m: rows, n: n, k: k, a: UnsafeBufferPointer(start: x, count: rows * k), b: w, beta: 1,
            c: UnsafeMutableBufferPointer(start: y, count: rows * n))
    }
}

// MARK: - LayerNorm

/// Residual add and layer normalization of each row, in place.
///
/// ```
/// h = x + r                      (r omitted when residual is nil)
/// x ← γ ⊙ (h − mean(h)) / √(var(h) + ε) + β        var: the biased (1/C) variance
/// ```
/// Shapes: x (T, C), r (T, C), γ (C), β (C).
func layerNormForward(
    _ x: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, rows: Int, width c: Int,
    scale: [Float], shift: [Float], epsilon: Float
) {
    precondition(scale.count == c && shift.count == c)
    scale.withUnsafeBufferPointer { gammaBuffer in
        shift.withUnsafeBufferPointer { betaBuffer in
            let gamma = gammaBuffer.baseAddress!, beta = betaBuffer.baseAddress!
            for row in 0..<rows {
                let h = x + row * c
                if let residual { axpy(1, residual + row * c, h, c) }
                var sum = Vector()
                var i = 0
                while i + 16 <= c { sum += loadVector(h + i); i += 16 }
                var total = sum.sum()
                while i < c { total += h[i]; i += 1 }
                let mean = total / Float(c)
                let m = Vector(repeating: mean)
                var squares = Vector()
                i = 0
                while i + 16 <= c {
                    let d = loadVector(h + i) - m
                    squares += d * d
                    i += 16
                }
                var variance = squares.sum()
                while i < c { variance += (h[i] - mean) * (h[i] - mean); i += 1 }
                variance /= Float(c)
                let inverse = 1 / (variance + epsilon).squareRoot()
                let s = Vector(repeating: inverse)
                i = 0
                while i + 16 <= c {
                    storeVector((loadVector(h + i) - m) * s * loadVector(gamma + i) + loadVector(beta + i), h + i)
                    i += 16
                }
                while i < c { h[i] = (h[i] - mean) * inverse * gamma[i] + beta[i]; i += 1 }
            }
        }
    }
}

// MARK: - GELU

/// erf(x) as a rational function of x (the odd/even polynomial pair Eigen and XLA use for float):
/// absolute error below 5e-7 on all of ℝ (checked against libm's erf in the tests).
@inline(__always) func erfApproximation(_ v: Vector) -> Vector {
    // Clamp to [-4, 4] with compare-and-blend: `clamped(lowerBound:upperBound:)` goes lane by lane through
    // `Float.maximum` and memory, which made GELU a third of the encoder's time.
    let upper = Vector(repeating: 4), lower = Vector(repeating: -4)
    let x = v.replacing(with: upper, where: v .> upper).replacing(with: lower, where: v .< lower)
    let x2 = x * x
    var p = Vector(repeating: -2.72614225801306e-10)
    p = p * x2 + Vector(repeating: 2.77068142495902e-08)
    p = p * x2 + Vector(repeating: -2.10102402082508e-06)
    p = p * x2 + Vector(repeating: -5.69250639462346e-05)
    p = p * x2 + Vector(repeating: -7.34990630326855e-04)
    p = p * x2 + Vector(repeating: -2.95459980854025e-03)
    p = p * x2 + Vector(repeating: -1.60960333262415e-02)
    p = p * x
    var q = Vector(repeating: -1.45660718464996e-05)
    q = q * x2 + Vector(repeating: -2.13374055278905e-04)
    q = q * x2 + Vector(repeating: -1.68282697438203e-03)
    q = q * x2 + Vector(repeating: -7.37332916720468e-03)
    q = q * x2 + Vector(repeating: -1.42647390514189e-02)
    return p / q
}

/// The exact (erf) GELU of BERT, in place.
///
/// ```
/// gelu(x) = x · Φ(x) = ½ · x · (1 + erf(x / √2))
/// ```
/// Shapes: x (n).
func geluForward(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    let half = Vector(repeating: 0.5), one = Vector(repeating: 1), invSqrt2 = Vector(repeating: 0.70710678118654752)
    var i = 0
    while i + 16 <= n {
        let v = loadVector(x + i)
        storeVector(half * v * (one + erfApproximation(v * invSqrt2)), x + i)
        i += 16
    }
    if i < n {  // the tail, through one padded vector
        var tail = Vector()
        for j in i..<n { tail[j - i] = x[j] }
        let g = half * tail * (one + erfApproximation(tail * invSqrt2))
        for j in i..<n { x[j] = g[j - i] }
    }
}

// MARK: - Attention

/// Multi-head self-attention over one sequence of a packed batch. All L tokens are real (a packed batch
/// has no padding), so every token attends to every token of its own sequence and to nothing else.
///
/// ```
/// for each head a (columns aD..<(a+1)D of Q, K, V):
///     P = softmax_rows(Q_a · K_aᵀ / √D)        (L, L)
///     ctx_a = P · V_a                           (L, D)
/// ```
/// Both products are sgemm calls that read Q, K and V in place (leading dimension 3C) and write ctx_a
/// into its columns of the context rows (leading dimension C): OpenBLAS's small-matrix path beat
/// hand-written SIMD16 loops here by about 5 % of the whole encoder's time.
/// Shapes: qkv (L, 3C) = [Q | K | V] rows of the sequence → context (L, C); scores: scratch of ≥ L·L floats.
func attentionForward(
    qkv: UnsafePointer<Float>, tokens l: Int, hidden c: Int, heads: Int,
    context: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>
) {
    let d = c / heads
    let stride = 3 * c
    let span = (l - 1) * stride + d
    let p = UnsafeMutableBufferPointer(start: scores, count: l * l)
    for head in 0..<heads {
        let q = UnsafeBufferPointer(start: qkv + head * d, count: span)
        let k = UnsafeBufferPointer(start: qkv + c + head * d, count: span)
        let v = UnsafeBufferPointer(start: qkv + 2 * c + head * d, count: span)
        // S = Q_a · K_aᵀ / √D        (L, L)
        BLAS.sgemm(.none, .transposed, m: l, n: l, k: d, alpha: 1 / Float(d).squareRoot(), a: q, lda: stride, b: k, ldb: stride, c: p, ldc: l)
        for i in 0..<l {
            let row = scores + i * l
            var maximum = -Float.infinity
            for j in 0..<l { maximum = max(maximum, row[j]) }
            var total: Float = 0
            for j in 0..<l {
                let e = expf(row[j] - maximum)
                row[j] = e
                total += e
            }
            let inverse = 1 / total
            for j in 0..<l { row[j] *= inverse }
        }
        // ctx_a = P · V_a            (L, D), written into columns aD..<(a+1)D of the context rows
        BLAS.sgemm(
            .none, .none, m: l, n: d, k: l, a: UnsafeBufferPointer(p), lda: l, b: v, ldb: stride,
            c: UnsafeMutableBufferPointer(start: context + head * d, count: (l - 1) * c + d), ldc: c)
    }
}

// MARK: - Pooling

/// Mean of each sequence's token rows, then L2 normalization (as sentence-transformers' Pooling with
/// `pooling_mode_mean_tokens` followed by Normalize): the attention mask of a packed batch is exactly
/// "the rows of the sequence", so the masked mean is the plain mean over them.
///
/// ```
/// m_s = (1 / L_s) Σ_{t ∈ s} h_t            e_s = m_s / max(‖m_s‖₂, 1e-12)
/// ```
/// Shapes: hidden (T, C), offsets (S + 1) → output (S, C).
func meanPoolNormalizeForward(
    hidden: UnsafePointer<Float>, offsets: [Int], width c: Int, output: UnsafeMutablePointer<Float>
) {
    for s in 0..<(offsets.count - 1) {
        let out = output + s * c
        out.update(repeating: 0, count: c)
        for t in offsets[s]..<offsets[s + 1] { axpy(1, hidden + t * c, out, c) }
        let count = Float(max(offsets[s + 1] - offsets[s], 1))
        var sumSquares: Float = 0
        for i in 0..<c {
            out[i] /= count
            sumSquares += out[i] * out[i]
        }
        let inverse = 1 / max(sumSquares.squareRoot(), 1e-12)
        for i in 0..<c { out[i] *= inverse }
    }
}
