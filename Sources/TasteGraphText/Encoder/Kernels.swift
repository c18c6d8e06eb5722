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

/// Σ a[i]·b[i] over n floats, with vector accumulators (a scalar reduction would not vectorize).
@inline(__always) func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var sum = Vector()
    var i = 0
    while i + 16 <= n {
        sum += loadVector(a + i) * loadVector(b + i)
        i += 16
    }
    var total = sum.sum()
    while i < n {
        total += a[i] * b[i]
        i += 1
    }
    return total
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
/// Shapes: qkv (L, 3C) = [Q | K | V] rows of the sequence → context (L, C); scores: scratch of ≥ L floats.
func attentionForward(
    qkv: UnsafePointer<Float>, tokens l: Int, hidden c: Int, heads: Int,
    context: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>
) {
    let d = c / heads
    let stride = 3 * c
    let scale = 1 / Float(d).squareRoot()
    for head in 0..<heads {
        let q = qkv + head * d, k = qkv + c + head * d, v = qkv + 2 * c + head * d
        for i in 0..<l {
            let qi = q + i * stride
            var maximum = -Float.infinity
            for j in 0..<l {
                let s = dot(qi, k + j * stride, d) * scale
                scores[j] = s
                maximum = max(maximum, s)
            }
            var total: Float = 0
            for j in 0..<l {
                let e = expf(scores[j] - maximum)
                scores[j] = e
                total += e
            }
            // ctx_i = Σ_j P_ij · v_j, 16 columns at a time with the sum kept in registers.
            let out = context + i * c + head * d
            let inverse = 1 / total
            var column = 0
            while column + 16 <= d {
                var sum = Vector()
                for j in 0..<l { sum += Vector(repeating: scores[j]) * loadVector(v + j * stride + column) }
                storeVector(sum * Vector(repeating: inverse), out + column)
                column += 16
            }
            while column < d {
                var sum: Float = 0
                for j in 0..<l { sum += scores[j] * v[j * stride + column] }
                out[column] = sum * inverse
                column += 1
            }
        }
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
