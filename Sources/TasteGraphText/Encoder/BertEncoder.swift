/// A batch of token sequences packed end to end, with no padding.
///
/// Shapes: ids (T), offsets (S + 1) with sequence s at ids[offsets[s]..<offsets[s+1]].
public struct PackedBatch: Sendable, Equatable {
    public private(set) var ids: [Int32] = []
    public private(set) var offsets: [Int] = [0]

    public init() {}

    public init(_ sequences: [[Int32]]) {
        for sequence in sequences { append(sequence) }
    }

    public mutating func append(_ sequence: [Int32]) {
        ids.append(contentsOf: sequence)
        offsets.append(ids.count)
    }

    /// S, the number of sequences.
    public var count: Int { offsets.count - 1 }
    /// T, the number of tokens.
    public var tokenCount: Int { ids.count }
    /// The longest L_s.
    public var longest: Int { zip(offsets, offsets.dropFirst()).map { $1 - $0 }.max() ?? 0 }
}

/// The activation buffers of one forward pass, reused across batches so the inner loop allocates
/// nothing. They grow to the largest batch seen. Not shared between threads.
///
/// Shapes (for T tokens): hidden (T, C), qkv (T, 3C), context (T, C), projected (T, C),
/// intermediate (T, M), scores (L_max, L_max).
public final class EncoderWorkspace {
    private(set) var capacity = 0
    private(set) var scoreCapacity = 0
    let hiddenSize: Int
    let intermediateSize: Int
    private(set) var hidden: UnsafeMutablePointer<Float>
    private(set) var qkv: UnsafeMutablePointer<Float>
    private(set) var context: UnsafeMutablePointer<Float>
    private(set) var projected: UnsafeMutablePointer<Float>
    private(set) var intermediate: UnsafeMutablePointer<Float>
    private(set) var scores: UnsafeMutablePointer<Float>

    public init(config: BertConfig) {
        hiddenSize = config.hiddenSize
        intermediateSize = config.intermediateSize
        hidden = .allocate(capacity: 0)
        qkv = .allocate(capacity: 0)
        context = .allocate(capacity: 0)
        projected = .allocate(capacity: 0)
        intermediate = .allocate(capacity: 0)
        scores = .allocate(capacity: 0)
    }

    deinit { release() }

    private func release() {
        for buffer in [hidden, qkv, context, projected, intermediate, scores] { buffer.deallocate() }
    }

    /// Makes room for a batch of `tokens` tokens whose longest sequence has `longest` tokens.
    func reserve(tokens: Int, longest: Int) {
        if tokens > capacity {
            release()
            let c = hiddenSize
            hidden = .allocate(capacity: tokens * c)
            qkv = .allocate(capacity: tokens * 3 * c)
            context = .allocate(capacity: tokens * c)
            projected = .allocate(capacity: tokens * c)
            intermediate = .allocate(capacity: tokens * intermediateSize)
            scores = .allocate(capacity: max(scoreCapacity, longest * longest))
            capacity = tokens
            scoreCapacity = max(scoreCapacity, longest * longest)
        }
        if longest * longest > scoreCapacity {
            scores.deallocate()
            scores = .allocate(capacity: longest * longest)
            scoreCapacity = longest * longest
        }
    }
}

/// The BERT encoder: embeddings, then `layerCount` post-norm transformer layers.
///
/// ```
/// X⁰ = LayerNorm(word[ids] + position[0..<L_s] + tokenType[0])            (T, C)
/// for each layer:
///     [Q | K | V] = X · Wqkvᵀ + bqkv                                        (T, 3C)
///     A = MultiHeadAttention(Q, K, V), each sequence on its own            (T, C)
///     X = LayerNorm(X + A · Woᵀ + bo)
///     X = LayerNorm(X + gelu(X · W1ᵀ + b1) · W2ᵀ + b2)
/// ```
/// Every projection is one `cblas_sgemm` over all T tokens of the batch.
public struct BertEncoder: Sendable {
    public let weights: BertWeights
    public var config: BertConfig { weights.config }

    public init(weights: BertWeights) { self.weights = weights }

    /// The last layer's hidden states of a packed batch. Shapes: batch (T tokens) → (T, C).
    public func hiddenStates(_ batch: PackedBatch) -> [Float] {
        let workspace = EncoderWorkspace(config: config)
        forward(batch, workspace: workspace)
        return Array(UnsafeBufferPointer(start: workspace.hidden, count: batch.tokenCount * config.hiddenSize))
    }

    /// Mean-pooled, L2-normalized sentence embeddings of a packed batch. Shapes: batch (S sequences) → (S, C).
    public func sentenceEmbeddings(_ batch: PackedBatch, workspace: EncoderWorkspace) -> [Float] {
        forward(batch, workspace: workspace)
        let c = config.hiddenSize
        return [Float](unsafeUninitializedCapacity: batch.count * c) { buffer, initialized in
            meanPoolNormalizeForward(hidden: workspace.hidden, offsets: batch.offsets, width: c, output: buffer.baseAddress!)
            initialized = batch.count * c
        }
    }

    /// Runs the encoder; the result is left in `workspace.hidden` (T, C).
    func forward(_ batch: PackedBatch, workspace: EncoderWorkspace) {
        let c = config.hiddenSize, m = config.intermediateSize, t = batch.tokenCount
        precondition(batch.longest <= config.maxPositions, "a sequence of \(batch.longest) tokens exceeds the model's \(config.maxPositions) positions")
        workspace.reserve(tokens: t, longest: batch.longest)
        embeddingForward(batch, into: workspace.hidden)
        for layer in weights.layers {
            linearForward(workspace.hidden, rows: t, inFeatures: c, weight: layer.qkvWeight, bias: layer.qkvBias, output: workspace.qkv)
            for s in 0..<batch.count {
                let start = batch.offsets[s]
                attentionForward(
                    qkv: workspace.qkv + start * 3 * c, tokens: batch.offsets[s + 1] - start, hidden: c, heads: config.headCount,
                    context: workspace.context + start * c, scores: workspace.scores)
            }
            linearForward(workspace.context, rows: t, inFeatures: c, weight: layer.outWeight, bias: layer.outBias, output: workspace.projected)
            layerNormForward(
                workspace.hidden, residual: workspace.projected, rows: t, width: c,
                scale: layer.attentionNormScale, shift: layer.attentionNormShift, epsilon: config.layerNormEpsilon)
            linearForward(workspace.hidden, rows: t, inFeatures: c, weight: layer.upWeight, bias: layer.upBias, output: workspace.intermediate)
            geluForward(workspace.intermediate, count: t * m)
            linearForward(workspace.intermediate, rows: t, inFeatures: m, weight: layer.downWeight, bias: layer.downBias, output: workspace.projected)
            layerNormForward(
                workspace.hidden, residual: workspace.projected, rows: t, width: c,
                scale: layer.outputNormScale, shift: layer.outputNormShift, epsilon: config.layerNormEpsilon)
        }
    }

    /// X⁰ = LayerNorm(word[id] + position[p] + tokenType[0]), p the token's place in its sequence.
    func embeddingForward(_ batch: PackedBatch, into x: UnsafeMutablePointer<Float>) {
        let c = config.hiddenSize
        weights.wordEmbeddings.withUnsafeBufferPointer { word in
            weights.positionEmbeddings.withUnsafeBufferPointer { position in
                weights.tokenTypeEmbeddings.withUnsafeBufferPointer { type in
                    for s in 0..<batch.count {
                        for token in batch.offsets[s]..<batch.offsets[s + 1] {
                            let id = Int(batch.ids[token])
                            precondition(id >= 0 && id < config.vocabularySize, "token id \(id) is outside the vocabulary")
                            let row = x + token * c
                            row.update(from: word.baseAddress! + id * c, count: c)
                            axpy(1, position.baseAddress! + (token - batch.offsets[s]) * c, row, c)
                            axpy(1, type.baseAddress!, row, c)
                        }
                    }
                }
            }
        }
        layerNormForward(
            x, residual: nil, rows: batch.tokenCount, width: c, scale: weights.embeddingNormScale,
            shift: weights.embeddingNormShift, epsilon: config.layerNormEpsilon)
    }
}
