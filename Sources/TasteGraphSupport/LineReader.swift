#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error opening or reading a file.
public struct FileReadError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Streams a text file line by line over raw bytes, in fixed-size chunks: memory stays constant however
/// long the file is. Line ends may be LF or CRLF; the terminator is not part of the line. The fingerprint of
/// the whole file is computed on the way (`fingerprint`, a `ContentHash`).
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
        guard fd >= 0 else { throw FileReadError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
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
            if n < 0 { throw FileReadError(path: path, reason: String(cString: strerror(errno))) }
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
                try body(lineNumber, UnsafeRawBufferPointer(start: base + start, count: lineEnd - start))
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
            try body(lineNumber, UnsafeRawBufferPointer(start: base, count: lineEnd))
        }
        return (hasher.hexDigest(), totalBytes)
    }
}
