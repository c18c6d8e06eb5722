import Foundation
import TasteGraphMetrics
import TasteGraphSupport

/// A trained model on disk: everything `recommend` (and later the server) needs, in one file.
///
/// Layout (little-endian):
/// ```
/// "TGCK"  u32 version  u64 headerLength  header (JSON)  parameters (P × f32)  embeddings (N × H × f32)
/// ```
/// The header holds the configs, the parameter layout, the external user and item ids in dense order, the
/// store's data fingerprint, the feature embedder and the payload's `ContentHash`, so a truncated or
/// altered file is detected on load.
public struct Checkpoint: Sendable {
    public static let magic = Array("TGCK".utf8)
    public static let version: UInt32 = 1

    public struct Header: Codable, Sendable {
        public var model: GCNConfig
        public var training: TrainingConfig
        public var layout: ParameterLayout
        public var userIDs: [String]
        public var itemIDs: [String]
        public var dataFingerprint: String
        public var embedder: String?
        public var bestEpoch: Int
        public var epochs: Int
        public var testMetrics: EvaluationReport?
        public var createdAt: String
        /// `ContentHash` of the payload (parameters then embeddings).
        public var payloadHash: String

        public init(
            model: GCNConfig, training: TrainingConfig, layout: ParameterLayout, userIDs: [String], itemIDs: [String],
            dataFingerprint: String, embedder: String?, bestEpoch: Int, epochs: Int, testMetrics: EvaluationReport?,
            createdAt: String, payloadHash: String
        ) {
            self.model = model
            self.training = training
            self.layout = layout
            self.userIDs = userIDs
            self.itemIDs = itemIDs
            self.dataFingerprint = dataFingerprint
            self.embedder = embedder
            self.bestEpoch = bestEpoch
            self.epochs = epochs
            self.testMetrics = testMetrics
            self.createdAt = createdAt
            self.payloadHash = payloadHash
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

    /// Writes atomically (temporary file + rename).
    public func write(to path: String) throws {
        var header = header
        header.payloadHash = Self.hash(parameters, embeddings)
        let json = try JSONEncoder().encode(header)
        var data = Data(Self.magic)
        withUnsafeBytes(of: Self.version.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        parameters.withUnsafeBytes { data.append(contentsOf: $0) }
        embeddings.withUnsafeBytes { data.append(contentsOf: $0) }
        let temporary = path + ".tmp-\(getpid())"
        try data.write(to: URL(fileURLWithPath: temporary))
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }

    /// Reads and verifies a checkpoint.
    /// - Throws: `CheckpointError` naming the file and what is wrong (never a crash).
    public static func read(from path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, reason: "cannot read the file")
        }
        guard data.count >= 16, Array(data.prefix(4)) == magic else {
            throw CheckpointError(path: path, reason: "not a TasteGraph checkpoint (bad magic)")
        }
        let version = data.subdata(in: 4..<8).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard version == Self.version else {
            throw CheckpointError(path: path, reason: "checkpoint version \(version); this build reads version \(Self.version)")
        }
        let headerLength = data.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength < UInt64(data.count - 16) else { throw CheckpointError(path: path, reason: "truncated header") }
        let headerEnd = 16 + Int(headerLength)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 16..<headerEnd))
        } catch {
            throw CheckpointError(path: path, reason: "corrupt header: \(error)")
        }
        let parameterCount = header.layout.count
        let embeddingCount = (header.userIDs.count + header.itemIDs.count) * header.model.hidden
        let expected = headerEnd + 4 * (parameterCount + embeddingCount)
        guard data.count == expected else {
            throw CheckpointError(path: path, reason: "payload is \(data.count - headerEnd) bytes, expected \(expected - headerEnd) (truncated or corrupt)")
        }
        func floats(_ range: Range<Int>) -> [Float] {
            data.subdata(in: range).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        let parameters = floats(headerEnd..<(headerEnd + 4 * parameterCount))
        let embeddings = floats((headerEnd + 4 * parameterCount)..<expected)
        guard hash(parameters, embeddings) == header.payloadHash else {
            throw CheckpointError(path: path, reason: "payload checksum mismatch (the file is corrupt)")
        }
        return Checkpoint(header: header, parameters: parameters, embeddings: embeddings)
    }

    static func hash(_ parameters: [Float], _ embeddings: [Float]) -> String {
        var hasher = ContentHash()
        parameters.withUnsafeBytes { hasher.update($0) }
        embeddings.withUnsafeBytes { hasher.update($0) }
        return hasher.hexDigest()
    }
}

/// A checkpoint that cannot be used, with the reason.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
