import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphMetrics

/// A trained GCN on disk: everything `recommend` (and later the server) needs, in one file.
///
/// Stored in the shared `ModelFile` container (kind `gcn`): the header below as JSON, then the arrays
/// `parameters` (P) and `embeddings` Z (U + I, H), sealed by a SHA-256 over the whole file, so any changed byte
/// — a user id, the data or split fingerprint, a weight — is rejected on load.
///
/// A model trained with side relations (`GCNConfig.usesSideRelations`) also stores the graph they added,
/// so it can be rebuilt beside the listens: `friendPairs` (i32, 2F: u0, v0, u1, v1, …) when w_F > 0, and
/// `itemTags` (i32, 2K: item, tag, …) with `itemTagWeights` (f32, K) and the header's `tagNames` (T) when
/// w_T > 0. Older checkpoints have none of these and load as listens-only models.
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
        /// The tag nodes' names (T), when the model has tag nodes; nil otherwise and in older files.
        public var tagNames: [String]?

        public init(
            model: GCNConfig, training: TrainingConfig, layout: ParameterLayout, userIDs: [String], itemIDs: [String],
            dataFingerprint: String, splitFingerprint: String?, embedder: String?, bestEpoch: Int, epochs: Int,
            testMetrics: EvaluationReport?, createdAt: String, tagNames: [String]? = nil
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
            self.tagNames = tagNames
        }
    }

    public var header: Header
    public var parameters: [Float]
    /// Z (U + I, H): final user and item embeddings, so recommending needs no graph.
    public var embeddings: [Float]
    /// The friend and tag relations the model was trained with (nil for a listens-only model).
    public var relations: SideRelations?

    /// - Parameter relations: the side relations of training; `header.tagNames` is set from them.
    public init(header: Header, parameters: [Float], embeddings: [Float], relations: SideRelations? = nil) {
        self.header = header
        self.parameters = parameters
        self.embeddings = embeddings
        self.relations = header.model.usesSideRelations ? relations : nil
        if header.model.tagWeight > 0, let relations { self.header.tagNames = relations.tagNames }
    }

    /// The checkpoint as a `ModelFile`.
    public func modelFile() throws -> ModelFile {
        var arrays: [(name: String, values: ModelFile.Values)] = [("parameters", .float(parameters)), ("embeddings", .float(embeddings))]
        if let relations {
            if header.model.friendWeight > 0 { arrays.append(("friendPairs", .int(relations.friendPairs))) }
            if header.model.tagWeight > 0 {
                let tags = relations.itemTagEdges
                arrays += [("itemTags", .int(tags.pairs)), ("itemTagWeights", .float(tags.weights))]
            }
        }
        return ModelFile(kind: Self.kind, header: try JSONEncoder().encode(header), arrays: arrays)
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
        relations = try Self.relations(file, header: header, path: path)
    }

    /// The side relations stored beside a model trained with them, every index checked against the header.
    private static func relations(_ file: ModelFile, header: Header, path: String) throws -> SideRelations? {
        let config = header.model
        guard config.usesSideRelations else { return nil }
        let users = header.userIDs.count, items = header.itemIDs.count
        func corrupt(_ what: String) -> CheckpointError { CheckpointError(path: path, reason: "\(what) (the file is corrupt)") }
        var friends: [(Int32, Int32)] = []
        if config.friendWeight > 0 {
            guard let flat = try? file.ints("friendPairs"), flat.count % 2 == 0 else { throw corrupt("the friend relation is missing or odd-sized") }
            for k in stride(from: 0, to: flat.count, by: 2) {
                guard (0..<users).contains(Int(flat[k])), (0..<users).contains(Int(flat[k + 1])) else { throw corrupt("a friend pair names a user beyond \(users)") }
                friends.append((flat[k], flat[k + 1]))
            }
        }
        var tagNames: [String] = []
        var tags: [(item: Int32, tag: Int32, weight: Float)] = []
        if config.tagWeight > 0 {
            guard let names = header.tagNames, let flat = try? file.ints("itemTags"), let weights = try? file.floats("itemTagWeights"),
                  flat.count == 2 * weights.count, (header.layout["tagEmbedding"]?.rows ?? 0) == names.count
            else { throw corrupt("the tag relation is missing or does not match the tag embeddings") }
            tagNames = names
            for k in weights.indices {
                guard (0..<items).contains(Int(flat[2 * k])), (0..<names.count).contains(Int(flat[2 * k + 1])) else {
                    throw corrupt("an item tag names an item or tag beyond the model's")
                }
                tags.append((flat[2 * k], flat[2 * k + 1], weights[k]))
            }
        }
        return SideRelations(userCount: users, itemCount: items, friendPairs: friends, tagNames: tagNames, itemTags: tags)
    }
}
