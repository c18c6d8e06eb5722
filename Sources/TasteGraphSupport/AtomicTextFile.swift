import Foundation
import TasteGraphCore

#if canImport(Glibc)
import Glibc
#endif

/// Where a command's text output goes: a file written atomically, or standard output (a pipe).
public protocol TextSink: AnyObject {
    /// Appends UTF-8 text.
    func write(_ text: String)
}

/// A buffered text sink that writes to a temporary file and renames it over the destination on success
/// (`AtomicFile`'s rules: unique temporary name, fsync, rename, folder fsync), so readers never see a
/// half-written file: an interrupted write leaves the previous file intact.
public final class AtomicTextFile: TextSink {
    private let file: UnsafeMutablePointer<FILE>
    private var failed = false

    private init(file: UnsafeMutablePointer<FILE>) { self.file = file }

    /// Appends UTF-8 text.
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            if fwrite(bytes.baseAddress, 1, bytes.count, file) != bytes.count { failed = true }
        }
    }

    /// Runs `body` with a sink for `path`'s temporary twin, then renames it to `path`.
    /// - Throws: `FileWriteError` when the file cannot be created, written or renamed, or what `body` throws
    ///   (the temporary file is removed and `path` is left untouched).
    public static func write(to path: String, _ body: (AtomicTextFile) throws -> Void) throws {
        let (descriptor, temporary) = try AtomicFile.createTemporary(beside: path)
        guard let handle = fdopen(descriptor, "w") else {
            close(descriptor)
            unlink(temporary)
            throw FileWriteError(path: path, reason: "cannot open for writing: \(String(cString: strerror(errno)))")
        }
        setvbuf(handle, nil, _IOFBF, 1 << 20)
        let sink = AtomicTextFile(file: handle)
        do {
            try body(sink)
        } catch {
            fclose(handle)
            unlink(temporary)
            throw error
        }
        let flushed = fflush(handle) == 0 && fsync(fileno(handle)) == 0
        fclose(handle)
        guard flushed, !sink.failed else {
            unlink(temporary)
            throw FileWriteError(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
        }
        try AtomicFile.commit(temporary, to: path)
    }
}

/// Standard output as a buffered `TextSink`, for pipelines (`recommend --batch --out -` under Spark's
/// `RDD.pipe`): nothing is renamed, and a failed write (a closed pipe) is reported at the end.
public final class StandardOutputText: TextSink {
    private var failed = false
    /// A stream of its own on descriptor 1 (the C library's `stdout` is shared mutable state to Swift 6);
    /// nothing else writes standard output while a sink is open.
    private let file: UnsafeMutablePointer<FILE>

    private init(file: UnsafeMutablePointer<FILE>) { self.file = file }

    public func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            if fwrite(bytes.baseAddress, 1, bytes.count, file) != bytes.count { failed = true }
        }
    }

    /// Runs `body` with a sink on standard output, then flushes it.
    /// - Throws: `FileWriteError` ("standard output") when a write or the flush failed, or what `body` throws.
    public static func write(_ body: (StandardOutputText) throws -> Void) throws {
        guard let handle = fdopen(STDOUT_FILENO, "w") else {
            throw FileWriteError(path: "standard output", reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        setvbuf(handle, nil, _IOFBF, 1 << 20)
        let sink = StandardOutputText(file: handle)
        defer { fflush(handle) }  // the stream is never closed: descriptor 1 stays open for the process
        try body(sink)
        guard fflush(handle) == 0, !sink.failed else {
            throw FileWriteError(path: "standard output", reason: "write failed: \(String(cString: strerror(errno)))")
        }
    }
}
