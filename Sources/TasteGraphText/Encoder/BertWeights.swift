/// The weights of one encoder layer, with PyTorch's (out, in) layout for every projection.
///
/// ```
/// qkv    Wqkv (3C, C), bqkv (3C)     the query, key and value projections stacked into one
/// out    Wo (C, C), bo (C)           attention output
/// norm1  γ1, β1 (C)
/// up     W1 (M, C), b1 (M)           intermediate, followed by GELU
/// down   W2 (C, M), b2 (C)
/// norm2  γ2, β2 (C)
/// ```
public struct BertLayerWeights: Sendable {
    public var qkvWeight: [Float], qkvBias: [Float]
    public var outWeight: [Float], outBias: [Float]
    public var attentionNormScale: [Float], attentionNormShift: [Float]
    public var upWeight: [Float], upBias: [Float]
    public var downWeight: [Float], downBias: [Float]
    public var outputNormScale: [Float], outputNormShift: [Float]

    public init(
        qkvWeight: [Float], qkvBias: [Float], outWeight: [Float], outBias: [Float],
        attentionNormScale: [Float], attentionNormShift: [Float], upWeight: [Float], upBias: [Float],
        downWeight: [Float], downBias: [Float], outputNormScale: [Float], outputNormShift: [Float]
    ) {
        self.qkvWeight = qkvWeight
        self.qkvBias = qkvBias
        self.outWeight = outWeight
        self.outBias = outBias
        self.attentionNormScale = attentionNormScale
        self.attentionNormShift = attentionNormShift
        self.upWeight = upWeight
        self.upBias = upBias
        self.downWeight = downWeight
        self.downBias = downBias
        self.outputNormScale = outputNormScale
        self.outputNormShift = outputNormShift
    }
}

/// Every weight of a BERT encoder.
///
/// Shapes: word (V, C), position (P, C), tokenType (types, C), embedding norm γ, β (C), and the layers.
public struct BertWeights: Sendable {
    public let config: BertConfig
    public var wordEmbeddings: [Float]
    public var positionEmbeddings: [Float]
    public var tokenTypeEmbeddings: [Float]
    public var embeddingNormScale: [Float], embeddingNormShift: [Float]
    public var layers: [BertLayerWeights]

    public init(
        config: BertConfig, wordEmbeddings: [Float], positionEmbeddings: [Float], tokenTypeEmbeddings: [Float],
        embeddingNormScale: [Float], embeddingNormShift: [Float], layers: [BertLayerWeights]
    ) {
        let c = config.hiddenSize, m = config.intermediateSize
        precondition(wordEmbeddings.count == config.vocabularySize * c && positionEmbeddings.count == config.maxPositions * c)
        precondition(tokenTypeEmbeddings.count == config.typeVocabularySize * c)
        precondition(embeddingNormScale.count == c && embeddingNormShift.count == c && layers.count == config.layerCount)
        for layer in layers {
            precondition(layer.qkvWeight.count == 3 * c * c && layer.qkvBias.count == 3 * c)
            precondition(layer.outWeight.count == c * c && layer.outBias.count == c)
            precondition(layer.upWeight.count == m * c && layer.upBias.count == m)
            precondition(layer.downWeight.count == c * m && layer.downBias.count == c)
            precondition([layer.attentionNormScale, layer.attentionNormShift, layer.outputNormScale, layer.outputNormShift].allSatisfy { $0.count == c })
        }
        self.config = config
        self.wordEmbeddings = wordEmbeddings
        self.positionEmbeddings = positionEmbeddings
        self.tokenTypeEmbeddings = tokenTypeEmbeddings
        self.embeddingNormScale = embeddingNormScale
        self.embeddingNormShift = embeddingNormShift
        self.layers = layers
    }

    /// Reads the tensors of a Hugging Face `BertModel` checkpoint (names with or without a `bert.` prefix).
    /// - Throws: `TextModelError.badTensor` naming the first tensor that is missing or misshapen.
    public init(config: BertConfig, tensors: SafeTensors) throws {
        let prefix = tensors.entries["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func read(_ name: String, _ shape: [Int]) throws -> [Float] { try tensors.floats(prefix + name, shape: shape) }
        let c = config.hiddenSize, m = config.intermediateSize
        var layers: [BertLayerWeights] = []
        for index in 0..<config.layerCount {
            let layer = "encoder.layer.\(index)."
            let attention = layer + "attention."
            layers.append(
                BertLayerWeights(
                    qkvWeight: try ["query", "key", "value"].flatMap { try read(attention + "self.\($0).weight", [c, c]) },
                    qkvBias: try ["query", "key", "value"].flatMap { try read(attention + "self.\($0).bias", [c]) },
                    outWeight: try read(attention + "output.dense.weight", [c, c]),
                    outBias: try read(attention + "output.dense.bias", [c]),
                    attentionNormScale: try read(attention + "output.LayerNorm.weight", [c]),
                    attentionNormShift: try read(attention + "output.LayerNorm.bias", [c]),
                    upWeight: try read(layer + "intermediate.dense.weight", [m, c]),
                    upBias: try read(layer + "intermediate.dense.bias", [m]),
                    downWeight: try read(layer + "output.dense.weight", [c, m]),
                    downBias: try read(layer + "output.dense.bias", [c]),
                    outputNormScale: try read(layer + "output.LayerNorm.weight", [c]),
                    outputNormShift: try read(layer + "output.LayerNorm.bias", [c])))
        }
        self.init(
            config: config,
            wordEmbeddings: try read("embeddings.word_embeddings.weight", [config.vocabularySize, c]),
            positionEmbeddings: try read("embeddings.position_embeddings.weight", [config.maxPositions, c]),
            tokenTypeEmbeddings: try read("embeddings.token_type_embeddings.weight", [config.typeVocabularySize, c]),
            embeddingNormScale: try read("embeddings.LayerNorm.weight", [c]),
            embeddingNormShift: try read("embeddings.LayerNorm.bias", [c]),
            layers: layers)
    }
}
