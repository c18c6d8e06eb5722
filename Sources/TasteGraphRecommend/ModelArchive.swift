import Foundation
import TasteGraphModel
import TasteGraphSupport

/// Which users and items a fitted model speaks of, in its dense order, and the data it was fitted on.
public struct ModelIdentity: Codable, Sendable, Equatable {
    public var userIDs: [String]
    public var itemIDs: [String]
    /// The store's `dataFingerprint()` when the model was fitted.
    public var dataFingerprint: String

    public init(userIDs: [String], itemIDs: [String], dataFingerprint: String) {
        self.userIDs = userIDs
        self.itemIDs = itemIDs
        self.dataFingerprint = dataFingerprint
    }
}

/// A fitted baseline on disk: named arrays plus a JSON header. (The GCN keeps its own `Checkpoint`.)
///
/// Layout (little-endian):
/// ```
/// "TGRM"  u32 version  u64 headerLength  header (JSON)  array₀ … arrayₙ   (f32 or i32 each, in header order)
/// ```
/// The header names the model kind, its settings (as JSON), the identity, each array's name, type and
/// length, and the payload's `ContentHash`, so truncation or corruption is detected on load.
public struct ModelArchive: Sendable {
    public static let magic = Array("TGRM".utf8)
    public static let version: UInt32 = 1

    public enum Values: Sendable, Equatable {
        case float([Float])
        case int([Int32])

        var count: Int {
            switch self {
            case .float(let v): return v.count
            case .int(let v): return v.count
            }
        }
    }

    struct Header: Codable {
        struct Entry: Codable {
            var name: String
            var type: String
            var count: Int
        }
        var kind: String
        var settings: String
        var identity: ModelIdentity
        var arrays: [Entry]
        var createdAt: String
        var payloadHash: String
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

    private func payload() -> Data {
        var data = Data()
        for (_, values) in arrays {
            switch values {
            case .float(let v): v.withUnsafeBytes { data.append(contentsOf: $0) }
            case .int(let v): v.withUnsafeBytes { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    private static func hash(_ payload: Data) -> String {
        var hasher = ContentHash()
        payload.withUnsafeBytes { hasher.update($0) }
        return hasher.hexDigest()
    }

    /// Writes atomically (temporary file + rename).
    public func write(to path: String) throws {
        let payload = payload()
        let header = Header(
            kind: kind, settings: String(decoding: settings, as: UTF8.self), identity: identity,
            arrays: arrays.map { entry in
                let type: String
                switch entry.values {
                case .float: type = "f32"
                case .int: type = "i32"
                }
                return Header.Entry(name: entry.name, type: type, count: entry.values.count)
            },
            createdAt: ISO8601DateFormatter().string(from: Date()), payloadHash: Self.hash(payload))
        let json = try JSONEncoder().encode(header)
        var data = Data(Self.magic)
        withUnsafeBytes(of: Self.version.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(payload)
        let temporary = path + ".tmp-\(getpid())"
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CheckpointError(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// True when the file starts with this format's magic.
    public static func isArchive(_ data: Data) -> Bool { data.count >= 4 && Array(data.prefix(4)) == magic }

    /// Reads and verifies an archive.
    /// - Throws: `CheckpointError` naming the file and what is wrong.
    public static func read(_ data: Data, path: String) throws -> ModelArchive {
        guard data.count >= 16, isArchive(data) else { throw CheckpointError(path: path, reason: "not a TasteGraph model file (bad magic)") }
        let version = data.subdata(in: 4..<8).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard version == Self.version else {
            throw CheckpointError(path: path, reason: "model file version \(version); this build reads version \(Self.version)")
        }
        let headerLength = data.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 16) else { throw CheckpointError(path: path, reason: "truncated header") }
        let headerEnd = 16 + Int(headerLength)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 16..<headerEnd))
        } catch {
            throw CheckpointError(path: path, reason: "corrupt header: \(error)")
        }
        let expected = headerEnd + 4 * header.arrays.reduce(0) { $0 + $1.count }
        guard header.arrays.allSatisfy({ $0.count >= 0 }), data.count == expected else {
            throw CheckpointError(path: path, reason: "payload is \(data.count - headerEnd) bytes, expected \(expected - headerEnd) (truncated or corrupt)")
        }
        let payload = data.subdata(in: headerEnd..<expected)
        guard hash(payload) == header.payloadHash else {
            throw CheckpointError(path: path, reason: "payload checksum mismatch (the file is corrupt)")
        }
        var arrays: [(name: String, values: Values)] = []
        var offset = 0
        for entry in header.arrays {
            let bytes = payload.subdata(in: offset..<(offset + 4 * entry.count))
            switch entry.type {
            case "f32": arrays.append((entry.name, .float(bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })))
            case "i32": arrays.append((entry.name, .int(bytes.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) })))
            default: throw CheckpointError(path: path, reason: "array '\(entry.name)' has unknown type '\(entry.type)'")
            }
            offset += 4 * entry.count
        }
        return ModelArchive(kind: header.kind, settings: Data(header.settings.utf8), identity: header.identity, arrays: arrays)
    }
}

#if canImport(Glibc)
import Glibc
#endif
