import Foundation
import TasteGraphCore
import TasteGraphMetrics

/// A trained GCN on disk: everything `recommend` (and later the server) needs, in one file.
///
/// Stored in the shared `ModelFile` container (kind `gcn`): the header below as JSON, then the arrays
/// `parameters` (P) and `embeddings` Z (N, H), sealed by a SHA-256 over the whole file, so any changed byte
/// — a user id, the data or split fingerprint, a weight — is rejected on load.
public struct Checkpoint: Sendable {
    public static let kind = "gcn"

    public struct Header: Codable, Sendable {
        public var model: GCNConfig
        public var training: TrainingConfig
        public var layout: ParameterLayout
        public var userIDs: [String]
        public var itemIDs: [String]
        public var dataFingerprint: String
        /// `InteractionSplit.testFingerprint` of the split the model was trained on: evaluation refuses
        /// another split, whose test listens the model may have trained on. Nil: unknown (never evaluable).
        public var splitFingerprint: String?
        public var embedder: String?
        public var bestEpoch: Int
        public var epochs: Int
        public var testMetrics: EvaluationReport?
        public var createdAt: String

        public init(
            model: GCNConfig, training: TrainingConfig, layout: ParameterLayout, userIDs: [String], itemIDs: [String],
            dataFingerprint: String, splitFingerprint: String?, embedder: String?, bestEpoch: Int, epochs: Int,
            testMetrics: EvaluationReport?, createdAt: String
        ) {
            self.model = model
            self.training = training
            self.layout = layout
            self.userIDs = userIDs
            self.itemIDs = itemIDs
            self.dataFingerprint = dataFingerprint
            self.splitFingerprint = splitFingerprint
            self.embedder = embedder
            self.bestEpoch = bestEpoch
            self.epochs = epochs
            self.testMetrics = testMetrics
            self.createdAt = createdAt
        }
    }

    public var header: Header
    public var parameters: [Float]
    /// Z (N, H): final node embeddings, so recommending needs no graph.
    public var embeddings: [Float]

    public init(header: Header, parameters: [Float], embeddings: [Float]) {
        self.header = header
        self.parameters = parameters
        self.embeddings = embeddings
    }

    /// The checkpoint as a `ModelFile`.
    public func modelFile() throws -> ModelFile {
        ModelFile(kind: Self.kind, header: try JSONEncoder().encode(header),
                  arrays: [("parameters", .float(parameters)), ("embeddings", .float(embeddings))])
    }

    /// Writes crash-safely (temporary file, fsync, rename over the old file).
    /// - Throws: `CheckpointError` when the file cannot be written.
    public func write(to path: String) throws {
        do {
            try modelFile().write(to: path)
        } catch let error as FileWriteError {
            throw CheckpointError(path: path, reason: "cannot write: \(error.reason)")
        }
    }

    /// Reads and verifies a checkpoint.
    /// - Throws: `CheckpointError` naming the file and what is wrong (never a crash).
    public static func read(from path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, reason: "cannot read the file")
        }
        return try decode(data, path: path)
    }

    /// Verifies and decodes a checkpoint's bytes.
    public static func decode(_ data: Data, path: String) throws -> Checkpoint {
        let file: ModelFile
        do {
            file = try ModelFile.decode(data)
        } catch let error as ModelFileError {
            throw CheckpointError(path: path, reason: error.reason)
        }
        return try Checkpoint(file: file, path: path)
    }

    /// The checkpoint held by a verified `ModelFile`.
    public init(file: ModelFile, path: String) throws {
        guard file.kind == Self.kind else {
            throw CheckpointError(path: path, reason: "holds a '\(file.kind)' model, not a GCN checkpoint")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: file.header)
        } catch {
            throw CheckpointError(path: path, reason: "corrupt header: \(error)")
        }
        do {
            parameters = try file.floats("parameters")
            embeddings = try file.floats("embeddings")
        } catch let error as ModelFileError {
            throw CheckpointError(path: path, reason: error.reason)
        }
        // The layout comes from the file: its entries must tile the parameters exactly (checked with
        // overflow-safe arithmetic) before `layout.count` or any entry's range may be used.
        var tiled = 0
        for entry in header.layout.entries {
            let size = entry.rows.multipliedReportingOverflow(by: entry.columns)
            guard entry.rows >= 0, entry.columns >= 0, !size.overflow, entry.offset == tiled,
                  case let end = tiled.addingReportingOverflow(size.partialValue), !end.overflow
            else { throw CheckpointError(path: path, reason: "parameter layout entry '\(entry.name)' is inconsistent (the file is corrupt)") }
            tiled = end.partialValue
        }
        let embeddingCount = (header.userIDs.count + header.itemIDs.count).multipliedReportingOverflow(by: header.model.hidden)
        guard header.model.hidden >= 0, parameters.count == tiled, !embeddingCount.overflow, embeddings.count == embeddingCount.partialValue else {
            throw CheckpointError(path: path, reason: "arrays do not match the header (\(parameters.count) parameters, \(embeddings.count) embedding values)")
        }
        self.header = header
    }
}
