import Foundation

/// A sentence encoder: BERT tokenizer, BERT encoder, masked mean pooling and L2 normalization — the
/// pipeline of sentence-transformers' all-MiniLM-L6-v2 (Transformer → Pooling(mean) → Normalize).
///
/// Texts are encoded in packed batches of at most `batchTokens` tokens: sequences sit end to end with no
/// padding, so the projections do no work on pad tokens and attention needs no mask.
public struct SentenceEncoder: Sendable {
    public let tokenizer: BertTokenizer
    public let encoder: BertEncoder
    /// The token budget of one packed batch (the row count of every projection's sgemm).
    public var batchTokens: Int

    public init(tokenizer: BertTokenizer, encoder: BertEncoder, batchTokens: Int = 2048) {
        precondition(tokenizer.maxLength <= encoder.config.maxPositions, "maxLength exceeds the model's positions")
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.batchTokens = max(batchTokens, tokenizer.maxLength)
    }

    /// Loads config.json, vocab.txt and model.safetensors from a model folder.
    /// - Throws: `TextModelError` naming the file that is missing or wrong.
    public init(modelDirectory: String, maxLength: Int = 128) throws {
        let folder = URL(fileURLWithPath: modelDirectory)
        func contents(_ name: String) throws -> Data {
            let path = folder.appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TextModelError.modelNotFound("\(path) is missing; \(MiniLMModel.installHint)")
            }
            return data
        }
        let config = try BertConfig(json: try contents("config.json"), source: folder.appendingPathComponent("config.json").path)
        let vocabulary = try Vocabulary(text: String(decoding: try contents("vocab.txt"), as: UTF8.self))
        guard vocabulary.count == config.vocabularySize else {
            throw TextModelError.badVocabulary("vocab.txt has \(vocabulary.count) tokens but config.json says vocab_size \(config.vocabularySize)")
        }
        let weightsPath = folder.appendingPathComponent("model.safetensors").path
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw TextModelError.modelNotFound("\(weightsPath) is missing; \(MiniLMModel.installHint)")
        }
        let weights = try BertWeights(config: config, tensors: try SafeTensors(path: weightsPath))
        self.init(tokenizer: try BertTokenizer(vocabulary: vocabulary, maxLength: min(maxLength, config.maxPositions)), encoder: BertEncoder(weights: weights))
    }

    /// C, the embedding width.
    public var dimension: Int { encoder.config.hiddenSize }

    /// Input ids of every text ([CLS] … [SEP], truncated).
    public func tokenize(_ texts: [String]) -> [[Int32]] { texts.map(tokenizer.encode) }

    /// Sentence embeddings of `texts`, in order. Shapes: texts (S) → (S, C), rows of unit length.
    public func embed(_ texts: [String], progress: ((Int) -> Void)? = nil) -> [Float] {
        embed(tokenized: tokenize(texts), progress: progress)
    }

    /// Sentence embeddings of tokenized texts, in order. Shapes: S id sequences → (S, C).
    /// - Parameter progress: called after each batch with the number of sequences done so far.
    public func embed(tokenized sequences: [[Int32]], progress: ((Int) -> Void)? = nil) -> [Float] {
        let c = dimension
        var output = [Float](repeating: 0, count: sequences.count * c)
        let workspace = EncoderWorkspace(config: encoder.config)
        var start = 0
        while start < sequences.count {
            var batch = PackedBatch()
            var end = start
            while end < sequences.count && (batch.count == 0 || batch.tokenCount + sequences[end].count <= batchTokens) {
                batch.append(sequences[end])
                end += 1
            }
            let rows = encoder.sentenceEmbeddings(batch, workspace: workspace)
            output.replaceSubrange((start * c)..<(end * c), with: rows)
            start = end
            progress?(end)
        }
        return output
    }
}
