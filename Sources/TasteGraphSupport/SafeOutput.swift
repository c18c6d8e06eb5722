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
