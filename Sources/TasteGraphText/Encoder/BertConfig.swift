import Foundation

/// The shape of a BERT encoder, read from a Hugging Face `config.json`.
///
/// Dimension legend used throughout `TasteGraphText`:
/// ```
/// V vocabulary size      P max positions      C hidden size (384)      A attention heads (12)
/// D = C / A head size    M intermediate size (1536)      Lyr layers (6)
/// S sequences in a batch, L_s tokens of sequence s, T = Σ L_s tokens of the batch (packed, no padding)
/// ```
public struct BertConfig: Sendable, Equatable, Codable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float

    public init(
        vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int,
        maxPositions: Int, typeVocabularySize: Int = 2, layerNormEpsilon: Float = 1e-12
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// D, the width of one attention head.
    public var headSize: Int { hiddenSize / headCount }

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size", hiddenSize = "hidden_size", layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads", intermediateSize = "intermediate_size"
        case maxPositions = "max_position_embeddings", typeVocabularySize = "type_vocab_size"
        case layerNormEpsilon = "layer_norm_eps"
    }

    /// The fields of config.json this encoder checks but does not store.
    private struct Extras: Decodable {
        let hidden_act: String?
        let position_embedding_type: String?
        let model_type: String?
    }

    /// Reads and checks a config.json.
    /// - Throws: `TextModelError.unsupportedConfig` for anything but an absolute-position BERT with exact GELU.
    public init(json: Data, source: String = "config.json") throws {
        do {
            self = try JSONDecoder().decode(BertConfig.self, from: json)
        } catch {
            throw TextModelError.unsupportedConfig("\(source): not a BERT config (\(error))")
        }
        let extras = try? JSONDecoder().decode(Extras.self, from: json)
        if let kind = extras?.model_type, kind != "bert" {
            throw TextModelError.unsupportedConfig("\(source): model_type '\(kind)' is not bert")
        }
        if let activation = extras?.hidden_act, activation != "gelu" {
            throw TextModelError.unsupportedConfig("\(source): hidden_act '\(activation)' is not supported (only exact gelu)")
        }
        if let positions = extras?.position_embedding_type, positions != "absolute" {
            throw TextModelError.unsupportedConfig("\(source): position_embedding_type '\(positions)' is not supported (only absolute)")
        }
        try validate(source: source)
    }

    /// - Throws: `TextModelError.unsupportedConfig` when the sizes do not fit together.
    public func validate(source: String = "config") throws {
        guard vocabularySize > 0, hiddenSize > 0, layerCount > 0, headCount > 0, intermediateSize > 0, maxPositions > 0,
            typeVocabularySize > 0
        else { throw TextModelError.unsupportedConfig("\(source): every size must be positive") }
        guard hiddenSize % headCount == 0 else {
            throw TextModelError.unsupportedConfig("\(source): hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(headCount)")
        }
    }
}
