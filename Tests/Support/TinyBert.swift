import TasteGraphText

/// A BERT small enough for plain-loop reference checks, with seeded random weights: C = 40 (not a
/// multiple of 16, so every SIMD tail runs), 4 heads of D = 10, M = 56, 2 layers, V = 30, P = 12.
public enum TinyBert {
    public static let config = BertConfig(vocabularySize: 30, hiddenSize: 40, layerCount: 2, headCount: 4, intermediateSize: 56, maxPositions: 12)

    public static func weights(seed: UInt64) -> BertWeights {
        var rng = SeededFloats(seed: seed)
        let c = config.hiddenSize, m = config.intermediateSize
        func small(_ n: Int, _ scale: Float = 0.3) -> [Float] { rng.array(n).map { $0 * scale } }
        func near1(_ n: Int) -> [Float] { rng.array(n).map { 1 + 0.1 * $0 } }
        let layers = (0..<config.layerCount).map { _ in
            BertLayerWeights(
                qkvWeight: small(3 * c * c), qkvBias: small(3 * c, 0.1), outWeight: small(c * c), outBias: small(c, 0.1),
                attentionNormScale: near1(c), attentionNormShift: small(c, 0.1),
                upWeight: small(m * c), upBias: small(m, 0.1), downWeight: small(c * m), downBias: small(c, 0.1),
                outputNormScale: near1(c), outputNormShift: small(c, 0.1))
        }
        return BertWeights(
            config: config, wordEmbeddings: small(config.vocabularySize * c, 1), positionEmbeddings: small(config.maxPositions * c, 0.5),
            tokenTypeEmbeddings: small(2 * c, 0.1), embeddingNormScale: near1(c), embeddingNormShift: small(c, 0.1), layers: layers)
    }

    /// A sentence encoder over the tiny BERT with the vocabulary [PAD] [UNK] [CLS] [SEP] w4 … w29.
    public static func sentenceEncoder(seed: UInt64, maxLength: Int = 8, batchTokens: Int = 1000) throws -> SentenceEncoder {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + (4..<30).map { "w\($0)" }
        let tokenizer = try BertTokenizer(vocabulary: try Vocabulary(tokens: tokens), maxLength: maxLength)
        return SentenceEncoder(tokenizer: tokenizer, encoder: BertEncoder(weights: weights(seed: seed)), batchTokens: batchTokens)
    }
}
