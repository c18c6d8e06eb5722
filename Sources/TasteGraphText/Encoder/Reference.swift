import Foundation

/// The encoder as plain loops, one sequence at a time, with padding and an attention mask like the
/// PyTorch model: slow, obvious, and the twin that `BertEncoder` and the kernels are tested against.
public enum BertReference {
    /// The last layer's hidden states of `sequences`, padded to the longest with id 0 and masked.
    /// Shapes: S sequences of L_s ids → S arrays of (L_s, C) (the padded rows are dropped).
    public static func hiddenStates(_ sequences: [[Int32]], weights: BertWeights) -> [[Float]] {
        let config = weights.config
        let c = config.hiddenSize, m = config.intermediateSize, heads = config.headCount, d = config.headSize
        let l = sequences.map(\.count).max() ?? 0
        return sequences.map { sequence in
            let mask = (0..<l).map { $0 < sequence.count }
            let ids = sequence + Array(repeating: 0, count: l - sequence.count)
            var x = [Float](repeating: 0, count: l * c)
            for t in 0..<l {
                for i in 0..<c {
                    x[t * c + i] = weights.wordEmbeddings[Int(ids[t]) * c + i] + weights.positionEmbeddings[t * c + i] + weights.tokenTypeEmbeddings[i]
                }
            }
            x = layerNorm(x, width: c, scale: weights.embeddingNormScale, shift: weights.embeddingNormShift, epsilon: config.layerNormEpsilon)
            for layer in weights.layers {
                let qkv = linear(x, inFeatures: c, weight: layer.qkvWeight, bias: layer.qkvBias)
                var context = [Float](repeating: 0, count: l * c)
                for head in 0..<heads {
                    for i in 0..<l {
                        var scores = [Float](repeating: 0, count: l)
                        for j in 0..<l {
                            var s: Float = 0
                            for e in 0..<d { s += qkv[i * 3 * c + head * d + e] * qkv[j * 3 * c + c + head * d + e] }
                            // The additive mask of BertModel: padded keys get the most negative float.
                            scores[j] = mask[j] ? s / Float(d).squareRoot() : -Float.greatestFiniteMagnitude
                        }
                        let maximum = scores.max()!
                        let exps = scores.map { Foundation.exp($0 - maximum) }
                        let total = exps.reduce(0, +)
                        for j in 0..<l {
                            for e in 0..<d { context[i * c + head * d + e] += exps[j] / total * qkv[j * 3 * c + 2 * c + head * d + e] }
                        }
                    }
                }
                let attended = linear(context, inFeatures: c, weight: layer.outWeight, bias: layer.outBias)
                x = layerNorm(zip(x, attended).map(+), width: c, scale: layer.attentionNormScale, shift: layer.attentionNormShift, epsilon: config.layerNormEpsilon)
                let up = linear(x, inFeatures: c, weight: layer.upWeight, bias: layer.upBias).map { Float(0.5 * Double($0) * (1 + Foundation.erf(Double($0) / 2.0.squareRoot()))) }
                precondition(up.count == l * m)
                let down = linear(up, inFeatures: m, weight: layer.downWeight, bias: layer.downBias)
                x = layerNorm(zip(x, down).map(+), width: c, scale: layer.outputNormScale, shift: layer.outputNormShift, epsilon: config.layerNormEpsilon)
            }
            return Array(x[0..<(sequence.count * c)])
        }
    }

    /// Mean over the sequence's rows, then L2 normalization. Shapes: (L, C) → (C).
    public static func meanPoolNormalize(_ hidden: [Float], width c: Int) -> [Float] {
        let rows = hidden.count / c
        var mean = [Float](repeating: 0, count: c)
        for t in 0..<rows { for i in 0..<c { mean[i] += hidden[t * c + i] } }
        mean = mean.map { $0 / Float(max(rows, 1)) }
        let norm = max(mean.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        return mean.map { $0 / norm }
    }

    /// Y = X·Wᵀ + b. Shapes: X (T, K), W (N, K), b (N) → (T, N).
    public static func linear(_ x: [Float], inFeatures k: Int, weight: [Float], bias: [Float]) -> [Float] {
        let n = bias.count, rows = x.count / k
        var y = [Float](repeating: 0, count: rows * n)
        for t in 0..<rows {
            for o in 0..<n {
                var s = bias[o]
                for i in 0..<k { s += x[t * k + i] * weight[o * k + i] }
                y[t * n + o] = s
            }
        }
        return y
    }

    /// Row-wise LayerNorm with the biased variance. Shapes: X (T, C) → (T, C).
    public static func layerNorm(_ x: [Float], width c: Int, scale: [Float], shift: [Float], epsilon: Float) -> [Float] {
        var y = x
        for t in 0..<(x.count / c) {
            let row = x[(t * c)..<((t + 1) * c)]
            let mean = row.reduce(0, +) / Float(c)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(c)
            for i in 0..<c { y[t * c + i] = (x[t * c + i] - mean) / (variance + epsilon).squareRoot() * scale[i] + shift[i] }
        }
        return y
    }
}
