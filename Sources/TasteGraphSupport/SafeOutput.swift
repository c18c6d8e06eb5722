import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An output path that TasteGraph refuses to write, and why: the path is a directory, the store, an existing
/// file without `--force`, or a folder that does not hold an earlier TasteGraph export. A usage error
/// (exit 2): nothing was written and nothing was removed.
public struct OutputPathError: Error, CustomStringConvertible, Sendable, Equatable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

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

/// The rules every file output follows, so no command can destroy what TasteGraph did not create.
///
/// - A file output never replaces a directory, the store (or its `-wal`/`-shm` companions), or — unless the
///   user passed `--force` — any existing file.
/// - Content goes to a uniquely named temporary file in the destination's folder, is flushed and fsynced,
///   and is then renamed over the destination (and the folder fsynced): a crash leaves either the old file or
///   the new one, never neither, and an error leaves no temporary file behind.
public struct OutputGuard: Sendable {
    /// Replace an existing regular file (`--force`).
    public var force: Bool
    /// Files that must never be written whatever `force` says (the store, resolved).
    public var protectedPaths: [String]

    public init(force: Bool = false, protecting protectedPaths: [String] = []) {
        self.force = force
        self.protectedPaths = protectedPaths.flatMap { [$0, $0 + "-wal", $0 + "-shm", $0 + "-journal"] }
    }

    /// The canonical absolute form of `path` (symbolic links resolved where the path exists, else its parent).
    public static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if let real = realpath(url.path, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let parent = url.deletingLastPathComponent().path
        if let real = realpath(parent, nil) {
            defer { free(real) }
            return URL(fileURLWithPath: String(cString: real)).appendingPathComponent(url.lastPathComponent).path
        }
        return url.path
    }

    /// Checks that `path` may receive a new file.
    /// - Throws: `OutputPathError` for a directory (including `/` and `.`), a protected path, an existing file
    ///   without `force`, or a missing parent folder.
    public func checkFile(_ path: String) throws {
        guard !path.isEmpty else { throw OutputPathError(path: path, reason: "an output path must not be empty") }
        let resolved = Self.canonical(path)
        let protected = Set(protectedPaths.map(Self.canonical))
        if protected.contains(resolved) {
            throw OutputPathError(path: path, reason: "is the store (or one of its files); choose another output file")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                throw OutputPathError(path: path, reason: "is a directory; name a file inside it")
            }
            guard force else {
                throw OutputPathError(path: path, reason: "already exists; pass --force to replace it")
            }
        }
        let parent = URL(fileURLWithPath: resolved).deletingLastPathComponent().path
        var parentIsDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &parentIsDirectory), parentIsDirectory.boolValue else {
            throw OutputPathError(path: path, reason: "its folder \(parent) does not exist")
        }
    }

    /// Checks that the folder `path` may receive the files `names` (for outputs that write several files
    /// into one folder: `generate --out`, `evaluate --save-dir`).
    /// - Throws: `OutputPathError` for `/`, the current directory (name a folder for the files), a path that
    ///   is a file, or any of the files that `checkFile` refuses.
    public func checkFolder(_ path: String, files names: [String]) throws {
        guard !path.isEmpty else { throw OutputPathError(path: path, reason: "an output folder must not be empty") }
        let resolved = Self.canonical(path)
        if resolved == "/" { throw OutputPathError(path: path, reason: "is the root directory; name a folder for the files") }
        if resolved == Self.canonical(FileManager.default.currentDirectoryPath) {
            throw OutputPathError(path: path, reason: "is the current directory; name a folder for the files")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw OutputPathError(path: path, reason: "is a file, not a folder") }
            for name in names { try checkFile(resolved + "/" + name) }
        }
    }
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
    static func createTemporary(beside path: String) throws -> (descriptor: Int32, path: String) {
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
    static func commit(_ temporary: String, to path: String) throws {
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
