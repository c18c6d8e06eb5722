import Foundation
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

extension TinyBert {
    /// Writes the tiny BERT as a model folder in the Hugging Face layout (config.json, vocab.txt,
    /// model.safetensors with `BertModel` tensor names), for tests of the command line's --model-dir.
    /// - Parameter sentenceMaxLength: when given, also writes sentence_bert_config.json with this
    ///   `max_seq_length` (the file all-MiniLM-L6-v2 ships with 256); without it the folder has no such file.
    public static func writeModelFolder(_ path: String, seed: UInt64, sentenceMaxLength: Int? = nil) throws {
        let w = weights(seed: seed)
        let c = config.hiddenSize, m = config.intermediateSize
        var tensors: [(String, [Int], [Float])] = [
            ("embeddings.word_embeddings.weight", [config.vocabularySize, c], w.wordEmbeddings),
            ("embeddings.position_embeddings.weight", [config.maxPositions, c], w.positionEmbeddings),
            ("embeddings.token_type_embeddings.weight", [config.typeVocabularySize, c], w.tokenTypeEmbeddings),
            ("embeddings.LayerNorm.weight", [c], w.embeddingNormScale),
            ("embeddings.LayerNorm.bias", [c], w.embeddingNormShift),
        ]
        for (index, layer) in w.layers.enumerated() {
            let p = "encoder.layer.\(index)."
            for (part, offset) in [("query", 0), ("key", 1), ("value", 2)] {
                tensors.append((p + "attention.self.\(part).weight", [c, c], Array(layer.qkvWeight[(offset * c * c)..<((offset + 1) * c * c)])))
                tensors.append((p + "attention.self.\(part).bias", [c], Array(layer.qkvBias[(offset * c)..<((offset + 1) * c)])))
            }
            tensors += [
                (p + "attention.output.dense.weight", [c, c], layer.outWeight), (p + "attention.output.dense.bias", [c], layer.outBias),
                (p + "attention.output.LayerNorm.weight", [c], layer.attentionNormScale),
                (p + "attention.output.LayerNorm.bias", [c], layer.attentionNormShift),
                (p + "intermediate.dense.weight", [m, c], layer.upWeight), (p + "intermediate.dense.bias", [m], layer.upBias),
                (p + "output.dense.weight", [c, m], layer.downWeight), (p + "output.dense.bias", [c], layer.downBias),
                (p + "output.LayerNorm.weight", [c], layer.outputNormScale), (p + "output.LayerNorm.bias", [c], layer.outputNormShift),
            ]
        }
        var header: [String] = []
        var data: [UInt8] = []
        for (name, shape, values) in tensors {
            let begin = data.count
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data += $0 } }
            header.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(data.count)]}")
        }
        let json = Array(("{" + header.joined(separator: ",") + "}").utf8)
        let file = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + data
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Data(file).write(to: URL(fileURLWithPath: path + "/model.safetensors"))
        let vocabulary = (["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + (4..<30).map { "w\($0)" }).joined(separator: "\n") + "\n"
        try Data(vocabulary.utf8).write(to: URL(fileURLWithPath: path + "/vocab.txt"))
        let configJSON = """
            {"model_type": "bert", "hidden_act": "gelu", "vocab_size": \(config.vocabularySize), "hidden_size": \(c),
             "num_hidden_layers": \(config.layerCount), "num_attention_heads": \(config.headCount), "intermediate_size": \(m),
             "max_position_embeddings": \(config.maxPositions), "type_vocab_size": 2, "layer_norm_eps": 1e-12}
            """
        try Data(configJSON.utf8).write(to: URL(fileURLWithPath: path + "/config.json"))
        if let sentenceMaxLength {
            let sentenceJSON = "{\n  \"max_seq_length\": \(sentenceMaxLength),\n  \"do_lower_case\": false\n}"
            try Data(sentenceJSON.utf8).write(to: URL(fileURLWithPath: path + "/sentence_bert_config.json"))
        }
    }
}
