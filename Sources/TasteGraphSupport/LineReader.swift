import TasteGraphCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error opening or reading a file: `PATH: cannot read: WHY` (the path escaped for the terminal).
///
/// Every input file the tool reads fails with this one shape when it is missing, a directory or
/// unreadable; the CLI exits with status 3 for it, as for bad data.
public struct FileReadError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// The error for an `errno` from opening or reading `path`.
    public init(path: String, errno code: Int32) {
        let why: String
        switch code {
        case ENOENT: why = "no such file"
        case EISDIR: why = "it is a directory, not a file"
        case EACCES, EPERM: why = "permission denied"
        case ENOTDIR: why = "a component of the path is not a directory"
        default: why = String(cString: strerror(code))
        }
        self.init(path: path, reason: "cannot read: " + why)
    }

    public var description: String { "\(Printable.escaped(path)): \(reason)" }

    /// Checks that `path` names a regular file (or a pipe or device, not a directory) this process can read.
    /// - Throws: `FileReadError` saying why not.
    public static func checkReadable(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileReadError(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            throw FileReadError(path: path, errno: EISDIR)
        }
    }
}

/// Streams a text file line by line over raw bytes, in fixed-size chunks: memory stays constant however
/// long the file is. Line ends may be LF or CRLF; the terminator is not part of the line. A UTF-8 byte-order
/// mark (EF BB BF) at the start of the file is not part of the first line. The fingerprint of the whole
/// file (BOM included) is computed on the way (`fingerprint`, a `ContentHash`).
public struct LineReader {
    public let path: String
    private let chunkSize: Int

    public init(path: String, chunkSize: Int = 1 << 20) {
        self.path = path
        self.chunkSize = chunkSize
    }

    /// Calls `body` with each line's 1-based number and bytes (valid only during the call).
    ///
    /// - Returns: the file's `ContentHash` in hexadecimal and its size in bytes.
    /// - Throws: `FileReadError` when the file cannot be read, or whatever `body` throws.
    @discardableResult
    public func forEachLine(_ body: (Int, UnsafeRawBufferPointer) throws -> Void) throws -> (fingerprint: String, bytes: Int) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileReadError(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { throw FileReadError(path: path, errno: EISDIR) }
        var hasher = ContentHash()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize * 2, alignment: 16)
        defer { buffer.deallocate() }
        var capacity = chunkSize * 2
        var storage = buffer
        var carried = 0  // bytes of an unfinished line kept at the start of the buffer
        var lineNumber = 0
        var totalBytes = 0
        var grown: UnsafeMutableRawBufferPointer?
        defer { grown?.deallocate() }
        while true {
            if capacity - carried < chunkSize {  // a line longer than a chunk: grow, never truncate
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * 2, alignment: 16)
                bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[0..<carried]))
                grown?.deallocate()
                grown = bigger
                storage = bigger
                capacity *= 2
            }
            let n = read(fd, storage.baseAddress! + carried, chunkSize)
            if n < 0 { throw FileReadError(path: path, errno: errno) }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(start: storage.baseAddress! + carried, count: n))
            totalBytes += n
            let end = carried + n
            let base = UnsafePointer<UInt8>(storage.baseAddress!.assumingMemoryBound(to: UInt8.self))
            var start = 0
            var cursor = carried
            while cursor < end {
                guard let found = memchr(base + cursor, 0x0A, end - cursor) else { break }
                let newline = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
                var lineEnd = newline
                if lineEnd > start && base[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                lineNumber += 1
                let lineStart = lineNumber == 1 ? Self.skippingBOM(base, start, lineEnd) : start
                try body(lineNumber, UnsafeRawBufferPointer(start: base + lineStart, count: lineEnd - lineStart))
                start = newline + 1
                cursor = start
            }
            carried = end - start
            if carried > 0 && start > 0 {
                memmove(storage.baseAddress!, storage.baseAddress! + start, carried)
            }
        }
        if carried > 0 {  // last line without a terminator
            let base = storage.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var lineEnd = carried
            if base[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            lineNumber += 1
            let lineStart = lineNumber == 1 ? Self.skippingBOM(UnsafePointer(base), 0, lineEnd) : 0
            try body(lineNumber, UnsafeRawBufferPointer(start: base + lineStart, count: lineEnd - lineStart))
        }
        return (hasher.hexDigest(), totalBytes)
    }

    /// The UTF-8 byte-order mark.
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// `start` moved past a byte-order mark at `base[start..<end]`, if there is one.
    private static func skippingBOM(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        end - start >= 3 && base[start] == 0xEF && base[start + 1] == 0xBB && base[start + 2] == 0xBF ? start + 3 : start
    }
}
