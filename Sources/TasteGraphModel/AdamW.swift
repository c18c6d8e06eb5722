/// Adam with decoupled weight decay (Loshchilov & Hutter 2019), one flat loop over the parameter buffer.
///
/// ```
/// m ← β1·m + (1−β1)·g        v ← β2·v + (1−β2)·g²
/// θ ← θ − lr · ( m̂ / (√v̂ + ε) + wd·mask·θ ),   m̂ = m / (1−β1ᵗ),  v̂ = v / (1−β2ᵗ)
/// ```
public struct AdamW: Sendable {
    public var learningRate: Float
    public var weightDecay: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public private(set) var step = 0
    private var m: [Float]
    private var v: [Float]
    /// 1 where weight decay applies, 0 where it does not (biases and the global mean: shrinking them
    /// toward 0 would only bias the play-count predictions).
    private let decayMask: [Float]

    public init(parameterCount: Int, learningRate: Float, weightDecay: Float, decayMask: [Float]? = nil) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: parameterCount)
        v = [Float](repeating: 0, count: parameterCount)
        self.decayMask = decayMask ?? [Float](repeating: 1, count: parameterCount)
        precondition(self.decayMask.count == parameterCount)
    }

    /// One update of `parameters` from `gradients`. Shapes: both (P).
    public mutating func update(_ parameters: inout [Float], gradients: [Float]) {
        precondition(parameters.count == m.count && gradients.count == m.count)
        step += 1
        let correction1 = 1 - pow(beta1, Float(step))
        let correction2 = 1 - pow(beta2, Float(step))
        let (lr, wd, b1, b2, eps) = (learningRate, weightDecay, beta1, beta2, epsilon)
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                parameters.withUnsafeMutableBufferPointer { p in
                    gradients.withUnsafeBufferPointer { g in
                        decayMask.withUnsafeBufferPointer { mask in
                        for i in 0..<p.count {
                            m[i] = b1 * m[i] + (1 - b1) * g[i]
                            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                            let mHat = m[i] / correction1
                            let vHat = v[i] / correction2
                            p[i] -= lr * (mHat / (vHat.squareRoot() + eps) + wd * mask[i] * p[i])
                        }
                        }
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
