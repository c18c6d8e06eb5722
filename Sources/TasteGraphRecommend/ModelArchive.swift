import Foundation
import TasteGraphCore
import TasteGraphModel

/// Which users and items a fitted model speaks of, in its dense order, and the data it was fitted on.
public struct ModelIdentity: Codable, Sendable, Equatable {
    public var userIDs: [String]
    public var itemIDs: [String]
    /// The store's `dataFingerprint()` when the model was fitted.
    public var dataFingerprint: String
    /// `InteractionSplit.testFingerprint` of the split whose train listens the model was fitted on; nil
    /// when unknown. Evaluation refuses a model whose split differs from the evaluation's (it could have
    /// trained on the test listens).
    public var splitFingerprint: String?

    public init(userIDs: [String], itemIDs: [String], dataFingerprint: String, splitFingerprint: String? = nil) {
        self.userIDs = userIDs
        self.itemIDs = itemIDs
        self.dataFingerprint = dataFingerprint
        self.splitFingerprint = splitFingerprint
    }
}

/// A fitted baseline on disk, in the shared `ModelFile` container: the model kind, a header with its
/// settings (JSON) and identity, and its named arrays, sealed by a SHA-256 over the whole file.
public struct ModelArchive: Sendable {
    public typealias Values = ModelFile.Values

    struct Header: Codable {
        var settings: String
        var identity: ModelIdentity
        var createdAt: String
    }

    public var kind: String
    /// The model's settings, JSON-encoded by the model.
    public var settings: Data
    public var identity: ModelIdentity
    public var arrays: [(name: String, values: Values)]

    public init(kind: String, settings: Data, identity: ModelIdentity, arrays: [(name: String, values: Values)]) {
        self.kind = kind
        self.settings = settings
        self.identity = identity
        self.arrays = arrays
    }

    public func floats(_ name: String, path: String) throws -> [Float] {
        guard case .float(let v)? = arrays.first(where: { $0.name == name })?.values else {
            throw CheckpointError(path: path, reason: "missing float array '\(name)'")
        }
        return v
    }

    public func ints(_ name: String, path: String) throws -> [Int32] {
        guard case .int(let v)? = arrays.first(where: { $0.name == name })?.values else {
            throw CheckpointError(path: path, reason: "missing integer array '\(name)'")
        }
        return v
    }

    /// Writes crash-safely (temporary file, fsync, rename over the old file).
    /// - Throws: `CheckpointError` when the file cannot be written.
    public func write(to path: String) throws {
        let header = Header(
            settings: String(decoding: settings, as: UTF8.self), identity: identity,
            createdAt: ISO8601DateFormatter().string(from: Date()))
        do {
            try ModelFile(kind: kind, header: try JSONEncoder().encode(header), arrays: arrays).write(to: path)
        } catch let error as FileWriteError {
            throw CheckpointError(path: path, reason: "cannot write: \(error.reason)")
        }
    }

    /// The archive held by a verified `ModelFile`.
    /// - Throws: `CheckpointError` naming the file and what is wrong.
    public init(file: ModelFile, path: String) throws {
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: file.header)
        } catch {
            throw CheckpointError(path: path, reason: "corrupt header: \(error)")
        }
        self.init(kind: file.kind, settings: Data(header.settings.utf8), identity: header.identity, arrays: file.arrays)
    }
}
