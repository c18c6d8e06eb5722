import Foundation

/// Why a model file cannot be used. Callers add the path.
public struct ModelFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// The one on-disk container of every TasteGraph model (the GCN checkpoint and every baseline archive):
/// a JSON header and named arrays, sealed by a SHA-256 over the whole file.
///
/// Layout (little-endian):
/// ```
/// "TGMF"  u32 version  u64 frameLength  frame (JSON)  array₀ … arrayₙ  SHA-256(every byte before it) (32 bytes)
/// ```
/// The frame names the model `kind`, carries the model's own `header` (JSON text, decoded by the model) and
/// lists each array's name, element type (`f32`, `i32`) and length. The digest is checked before anything
/// is parsed, so a change to any byte — magic, version, a user id or the data fingerprint in the header, a
/// weight — is rejected as a whole-file checksum mismatch; a truncated or extended file fails the same way.
/// The digest detects accidents and tampering by anyone who does not rewrite it; it is not a signature.
public struct ModelFile: Sendable {
    public static let magic = Array("TGMF".utf8)
    public static let version: UInt32 = 2
    static let digestLength = 32

    /// An array's elements.
    public enum Values: Sendable, Equatable {
        case float([Float])
        case int([Int32])

        public var count: Int {
            switch self {
            case .float(let values): return values.count
            case .int(let values): return values.count
            }
        }

        var typeName: String {
            switch self {
            case .float: return "f32"
            case .int: return "i32"
            }
        }
    }

    struct Frame: Codable {
        struct Entry: Codable {
            var name: String
            var type: String
            var count: Int
        }
        var kind: String
        var header: String
        var arrays: [Entry]
    }

    /// The model kind, e.g. `gcn` or `als`.
    public var kind: String
    /// The model's own header, JSON-encoded by the model.
    public var header: Data
    public var arrays: [(name: String, values: Values)]

    public init(kind: String, header: Data, arrays: [(name: String, values: Values)]) {
        self.kind = kind
        self.header = header
        self.arrays = arrays
    }

    /// The named float array.
    /// - Throws: `ModelFileError` when it is missing or holds integers.
    public func floats(_ name: String) throws -> [Float] {
        guard case .float(let values)? = arrays.first(where: { $0.name == name })?.values else {
            throw ModelFileError("missing float array '\(name)'")
        }
        return values
    }

    /// The named integer array.
    /// - Throws: `ModelFileError` when it is missing or holds floats.
    public func ints(_ name: String) throws -> [Int32] {
        guard case .int(let values)? = arrays.first(where: { $0.name == name })?.values else {
            throw ModelFileError("missing integer array '\(name)'")
        }
        return values
    }

    /// True when `data` starts with this container's magic.
    public static func hasMagic(_ data: Data) -> Bool { data.count >= 4 && Array(data.prefix(4)) == magic }

    /// The file's bytes, digest included.
    public func encoded() throws -> Data {
        let frame = Frame(
            kind: kind, header: String(decoding: header, as: UTF8.self),
            arrays: arrays.map { Frame.Entry(name: $0.name, type: $0.values.typeName, count: $0.values.count) })
        let json = try JSONEncoder().encode(frame)
        var data = Data(Self.magic)
        withUnsafeBytes(of: Self.version.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, values) in arrays {
            switch values {
            case .float(let v): v.withUnsafeBytes { data.append(contentsOf: $0) }
            case .int(let v): v.withUnsafeBytes { data.append(contentsOf: $0) }
            }
        }
        var hasher = SHA256()
        data.withUnsafeBytes { hasher.update($0) }
        data.append(contentsOf: hasher.finalize())
        return data
    }

    /// Writes crash-safely (`AtomicFile`: temporary file, fsync, rename over).
    public func write(to path: String) throws {
        try AtomicFile.write(try encoded(), to: path)
    }

    /// Verifies and parses a model file's bytes.
    /// - Throws: `ModelFileError` saying what is wrong; never traps, whatever the bytes.
    public static func decode(_ data: Data) throws -> ModelFile {
        let bytes = [UInt8](data)
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else {
            throw ModelFileError("not a TasteGraph model file (bad magic)")
        }
        guard bytes.count >= 16 + digestLength else { throw ModelFileError("truncated (\(bytes.count) bytes)") }
        let body = bytes.count - digestLength
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<body])) }
        guard hasher.finalize() == Array(bytes[body...]) else {
            throw ModelFileError("checksum mismatch: the file was changed, truncated or damaged after it was written")
        }
        let version = bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) }
        guard version == Self.version else {
            throw ModelFileError("model file version \(version); this build reads version \(Self.version) (retrain the model)")
        }
        let frameLength = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        guard frameLength <= UInt64(body - 16) else { throw ModelFileError("truncated header") }
        let frameEnd = 16 + Int(frameLength)
        let frame: Frame
        do {
            frame = try JSONDecoder().decode(Frame.self, from: Data(bytes[16..<frameEnd]))
        } catch {
            throw ModelFileError("corrupt header: \(error)")
        }
        var offset = frameEnd
        var arrays: [(name: String, values: Values)] = []
        for entry in frame.arrays {
            guard entry.count >= 0, entry.count <= (body - offset) / 4 else {
                throw ModelFileError("array '\(entry.name)' runs past the end of the file")
            }
            let end = offset + 4 * entry.count
            // Copied out element-aligned: the arrays start wherever the JSON frame ends.
            func copy<T: BitwiseCopyable>(_: T.Type, zero: T) -> [T] {
                var values = [T](repeating: zero, count: entry.count)
                values.withUnsafeMutableBytes { target in
                    bytes.withUnsafeBytes { source in target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<end])) }
                }
                return values
            }
            switch entry.type {
            case "f32": arrays.append((entry.name, .float(copy(Float.self, zero: 0))))
            case "i32": arrays.append((entry.name, .int(copy(Int32.self, zero: 0))))
            default: throw ModelFileError("array '\(entry.name)' has unknown type '\(entry.type)'")
            }
            offset = end
        }
        guard offset == body else { throw ModelFileError("\(body - offset) bytes after the last array") }
        return ModelFile(kind: frame.kind, header: Data(frame.header.utf8), arrays: arrays)
    }
}
