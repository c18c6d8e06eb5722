import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphStore
import TasteGraphText

/// A model's recorded feature name (`hashing-256`, `minilm-l6-v2-seq256`, …) that no build of this library
/// can rebuild.
public struct UnknownFeaturesError: Error, CustomStringConvertible, Sendable {
    public let name: String
    public var description: String { "the model's features '\(name)' cannot be rebuilt here (known: hashing-N, minilm-l6-v2[-seqN])" }
}

/// The item features X (I, F) a model was trained with, rebuilt from the name its file records: the one
/// place that maps feature names to embedders (the CLI's `--features` and the serving library use it).
public enum RecordedFeatures {
    /// Rebuilds X for every item of `catalog` from the recorded `name`; MiniLM vectors come from the store's
    /// cache (the model is loaded only for texts it lacks, and what it computes is cached).
    /// - Throws: `UnknownFeaturesError` for a name no embedder here produces; the cache's and the text
    ///   model's errors for MiniLM.
    public static func matrix(name: String, catalog: Catalog, store: GraphStore, modelDirectory: String? = nil) throws -> SparseMatrix<Float> {
        if name.hasPrefix("hashing-"), let dimension = Int(name.dropFirst("hashing-".count)) {
            return ItemFeatures.matrix(catalog, embedder: HashingEmbedder(dimension: dimension))
        }
        if let maxLength = MiniLMModel.maxLength(recordedName: name) {
            return try minilm(catalog: catalog, store: store, modelDirectory: modelDirectory, maxLength: maxLength).matrix
        }
        throw UnknownFeaturesError(name: name)
    }

    /// [MiniLM(text) | popularity] for every item, through the store's embedding cache, with texts cut at
    /// `maxLength` tokens (only vectors cached for that limit are used).
    /// - Returns: the matrix, and how many texts were computed now and read from the cache.
    public static func minilm(
        catalog: Catalog, store: GraphStore, modelDirectory: String?, maxLength: Int
    ) throws -> (matrix: SparseMatrix<Float>, computed: Int, cached: Int) {
        let texts = ItemFeatures.texts(catalog)
        let result = try CachedTextEmbeddings.embed(
            texts, model: MiniLMModel.name(maxLength: maxLength), store: store,
            loadEmbedder: { try MiniLMEmbedder(modelDirectory: modelDirectory, maxLength: maxLength) })
        let matrix = ItemFeatures.matrix(catalog, text: ItemFeatures.denseRows(result.vectors, rows: texts.count, columns: result.width))
        return (matrix, result.computed, result.cached)
    }
}
