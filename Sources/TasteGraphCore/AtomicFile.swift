import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file that could not be written (disk full, permissions, a vanished folder). Nothing at `path` changed.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Writes whole files crash-safely: temporary file in the same folder → fsync → rename over → fsync folder.
public enum AtomicFile {
    /// Writes `data` to `path`, replacing any file there only once the new content is on disk.
    /// - Throws: `FileWriteError` naming `path` when the file cannot be created, written or renamed; the
    ///   temporary file is removed and `path` is left as it was.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { descriptor in
            try data.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw FileWriteError(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
                    }
                    offset += written
                }
            }
        }
    }

    /// Creates a unique temporary twin of `path` (`.NAME.tmp-XXXXXX` in the same folder), lets `body` fill the
    /// open descriptor, then fsyncs, renames it over `path` and fsyncs the folder.
    public static func write(to path: String, _ body: (Int32) throws -> Void) throws {
        let (descriptor, temporary) = try createTemporary(beside: path)
        do {
            try body(descriptor)
            guard fsync(descriptor) == 0 else {
                throw FileWriteError(path: path, reason: "fsync failed: \(String(cString: strerror(errno)))")
            }
            close(descriptor)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        try commit(temporary, to: path)
    }

    /// Opens a new, uniquely named temporary file beside `path` (mode 0644 after the umask).
    package static func createTemporary(beside path: String) throws -> (descriptor: Int32, path: String) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var template = Array((folder + "/." + url.lastPathComponent + ".tmp-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw FileWriteError(path: path, reason: "cannot create a file in \(folder): \(String(cString: strerror(errno)))")
        }
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (descriptor, temporary)
    }

    /// Renames a finished temporary file over `path` and makes the rename durable.
    package static func commit(_ temporary: String, to path: String) throws {
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileWriteError(path: path, reason: "cannot rename into place: \(reason)")
        }
        syncFolder(of: path)
    }

    /// fsyncs the folder holding `path`, so a rename into it survives a crash.
    public static func syncFolder(of path: String) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }
}
