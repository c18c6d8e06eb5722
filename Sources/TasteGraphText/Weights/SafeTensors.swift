import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A safetensors file read into memory: named, typed, shaped tensors.
///
/// Layout (https://github.com/huggingface/safetensors):
/// ```
/// bytes 0..<8        N, the header length, little-endian UInt64
/// bytes 8..<8+N      a JSON object: name → {"dtype": "F32", "shape": [d0, d1, …], "data_offsets": [begin, end]}
///                    (plus an optional "__metadata__" object of strings)
/// bytes 8+N..<end    the data; each tensor's bytes are [begin, end) of it, row-major, little-endian
/// ```
/// Only F32 tensors can be read as floats; others are listed but `floats(_:shape:)` rejects them.
public struct SafeTensors: Sendable {
    /// One tensor's entry in the header.
    public struct Entry: Sendable, Equatable {
        public let dtype: String
        public let shape: [Int]
        /// Byte range within the data section.
        public let range: Range<Int>
    }

    public let entries: [String: Entry]
    /// Where the tensor bytes are: in memory, or in the file (read on demand).
    enum Storage: Sendable {
        case bytes(Data)
        case file(String)
    }
    let storage: Storage
    let dataStart: Int
    /// Where the tensors came from, for error messages.
    public let source: String

    /// Reads and checks the header of the file at `path`; tensors are read from the file when asked for,
    /// so the whole file is never held in memory next to the arrays made from it.
    /// - Throws: `TextModelError.modelNotFound` when the file is missing, `.badWeights` when it is not a
    ///   well-formed safetensors file.
    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TextModelError.modelNotFound("cannot read \(path)")
        }
        defer { try? handle.close() }
        let fileSize = Int(try handle.seekToEnd())
        try handle.seek(toOffset: 0)
        let lengthBytes = try handle.read(upToCount: 8) ?? Data()
        var prefix = lengthBytes
        if lengthBytes.count == 8 {
            let headerLength = Self.littleEndianLength(lengthBytes)
            if headerLength <= UInt64(fileSize - 8) { prefix += try handle.read(upToCount: Int(headerLength)) ?? Data() }
        }
        try self.init(header: prefix, totalBytes: fileSize, storage: .file(path), source: path)
    }

    /// Parses safetensors bytes.
    /// - Throws: `TextModelError.badWeights` naming `source` and what is wrong.
    public init(data: Data, source: String = "safetensors data") throws {
        try self.init(header: data, totalBytes: data.count, storage: .bytes(data), source: source)
    }

    static func littleEndianLength(_ bytes: Data) -> UInt64 {
        bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// Parses the header at the start of `data` (which may hold only the header) of a file of `totalBytes`.
    private init(header data: Data, totalBytes: Int, storage: Storage, source: String) throws {
        func fail(_ reason: String) -> TextModelError { .badWeights("\(source): \(reason)") }
        guard totalBytes >= 8 else { throw fail("\(totalBytes) bytes, too short for the 8-byte header length") }
        let headerLength = Self.littleEndianLength(data)
        guard headerLength <= UInt64(totalBytes - 8), data.count >= 8 + Int(headerLength) else {
            throw fail("header length \(headerLength) runs past the end of the file (\(totalBytes) bytes)")
        }
        let headerEnd = 8 + Int(headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd))
        } catch {
            throw fail("the header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw fail("the header is not a JSON object") }
        let dataLength = totalBytes - headerEnd
        var entries: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                let shape = (fields["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                let offsets = (fields["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                shape.count == (fields["shape"] as? [Any])?.count, offsets.count == 2
            else { throw fail("tensor '\(name)' lacks a dtype, shape or two data_offsets") }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength else {
                throw fail("tensor '\(name)' has data_offsets \(offsets) outside the \(dataLength) data bytes")
            }
            if let width = Self.byteWidth[dtype] {
                let expected = shape.reduce(1, *) * width
                guard offsets[1] - offsets[0] == expected else {
                    throw fail("tensor '\(name)' (\(dtype) \(shape)) should hold \(expected) bytes, not \(offsets[1] - offsets[0])")
                }
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        self.entries = entries
        self.storage = storage
        self.dataStart = headerEnd
        self.source = source
    }

    static let byteWidth: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    ]

    /// The F32 tensor `name`, row-major, checked against `shape`.
    /// - Throws: `TextModelError.badTensor` when it is missing, not F32, or shaped otherwise.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let entry = entries[name] else { throw TextModelError.badTensor("\(source) has no tensor '\(name)'") }
        guard entry.dtype == "F32" else {
            throw TextModelError.badTensor("\(source): tensor '\(name)' is \(entry.dtype); only F32 is supported")
        }
        guard entry.shape == shape else {
            throw TextModelError.badTensor("\(source): tensor '\(name)' has shape \(entry.shape), expected \(shape)")
        }
        let count = shape.reduce(1, *)
        var out = [Float](repeating: 0, count: count)
        let begin = dataStart + entry.range.lowerBound
        switch storage {
        case .bytes(let data):
            out.withUnsafeMutableBytes { target in
                data.withUnsafeBytes { bytes in target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[begin..<(begin + entry.range.count)])) }
            }
        case .file(let path):
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw TextModelError.modelNotFound("cannot read \(path)") }
            defer { close(fd) }
            let complete = out.withUnsafeMutableBytes { target -> Bool in
                var done = 0
                while done < target.count {
                    let got = pread(fd, target.baseAddress! + done, target.count - done, off_t(begin + done))
                    if got <= 0 { return false }
                    done += got
                }
                return true
            }
            guard complete else { throw TextModelError.badWeights("\(path): could not read tensor '\(name)'") }
        }
        #if _endian(big)
        for i in out.indices { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
        #endif
        return out
    }
}
