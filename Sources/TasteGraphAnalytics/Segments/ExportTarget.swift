import Foundation
import TasteGraphSupport

#if canImport(Glibc)
import Glibc
#endif

/// Where `segments export` may write, and the folders it uses on the way.
///
/// An export goes only into a new directory, an empty one, or one that holds an earlier TasteGraph export
/// and nothing else (its `manifest.json` names every file in it). Anything else — the current directory,
/// `/`, the store, the folder holding the store, a user's folder — is refused with `OutputPathError` before
/// anything is written. Work happens in a marked staging folder beside the target (mode 0700, so members
/// are never readable by others on the way); a staging or replaced folder left by an interrupted run is
/// recognized by its marker file and cleaned on the next run, never anything without the marker.
enum ExportTarget {
    /// The file that marks a folder as TasteGraph's own scratch space.
    static let markerName = ".tastegraph-export-in-progress"
    /// What every manifest says it was written by.
    static let generator = "tastegraph segments export"

    /// Checks `target` and returns the files of the earlier export there (nil when there is none).
    /// - Throws: `OutputPathError` naming the path when the export must not go there.
    static func check(_ target: URL, requestedAs requested: String, store: String) throws -> [String]? {
        let path = target.path
        let storePath = OutputGuard.canonical(store)
        if path == "/" { throw OutputPathError(path: requested, reason: "is the root directory; name a new directory for the export") }
        if storePath == path || storePath.hasPrefix(path + "/") {
            throw OutputPathError(path: requested, reason: "is or holds the store \(store); name a new directory for the export")
        }
        if path == OutputGuard.canonical(FileManager.default.currentDirectoryPath) {
            throw OutputPathError(path: requested, reason: "is the current directory; name a new directory for the export")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            let parent = target.deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw OutputPathError(path: requested, reason: "its folder \(parent) does not exist")
            }
            return nil
        }
        guard isDirectory.boolValue else {
            throw OutputPathError(path: requested, reason: "is a file, not an export directory; name a new directory")
        }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw OutputPathError(path: requested, reason: "cannot be listed: \(error.localizedDescription)")
        }
        if entries.isEmpty { return [] }
        guard let listed = manifestFiles(in: target) else {
            throw OutputPathError(
                path: requested,
                reason: "exists and does not hold a TasteGraph export (no manifest.json written by `segments export`); name a new directory")
        }
        let allowed = Set(listed + ["manifest.json", markerName])
        if let stranger = entries.sorted().first(where: { !allowed.contains($0) }) {
            throw OutputPathError(
                path: requested,
                reason: "holds '\(stranger)', which the earlier export did not write; move it away or name a new directory")
        }
        return entries.filter { $0 != markerName }
    }

    /// The file names an export's manifest lists, or nil when `folder` holds no TasteGraph manifest.
    static func manifestFiles(in folder: URL) -> [String]? {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("manifest.json").path),
              let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              manifest["generator"] as? String == generator,
              let files = manifest["files"] as? [[String: Any]]
        else { return nil }
        let names = files.compactMap { $0["name"] as? String }
        guard names.count == files.count, names.allSatisfy({ !$0.contains("/") && $0 != ".." && $0 != "." }) else { return nil }
        return names
    }

    /// `.NAME.tgexport-ROLE-PID-RANDOM`, a sibling of `target`.
    static func folderName(for target: URL, role: String) -> String {
        ".\(target.lastPathComponent).tgexport-\(role)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Creates a marked scratch folder (mode 0700) beside `target`.
    static func makeFolder(_ name: String, beside target: URL) throws -> URL {
        let folder = target.deletingLastPathComponent().appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try mark(folder)
        return folder
    }

    static func mark(_ folder: URL) throws {
        try Data("TasteGraph export scratch folder; removed by the next export\n".utf8)
            .write(to: folder.appendingPathComponent(markerName))
    }

    static func unmark(_ folder: URL) throws {
        let marker = folder.appendingPathComponent(markerName).path
        if FileManager.default.fileExists(atPath: marker) { try FileManager.default.removeItem(atPath: marker) }
        chmod(folder.path, 0o755 & ~currentUmask())
    }

    private static func currentUmask() -> mode_t {
        let mask = umask(0)
        umask(mask)
        return mask
    }

    /// Removes a scratch folder's files (the given names, or every regular file when nil) and the folder,
    /// never recursing into a subfolder.
    static func removeExportFolder(_ folder: URL, files: [String]?) {
        let names = files ?? ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        for name in names {
            var isDirectory: ObjCBool = false
            let path = folder.appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue { unlink(path) }
        }
        rmdir(folder.path)
    }

    /// Removes marked scratch folders of `target` left by runs that no longer live.
    static func removeStaleFolders(beside target: URL) {
        let parent = target.deletingLastPathComponent()
        let prefix = ".\(target.lastPathComponent).tgexport-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for name in entries where name.hasPrefix(prefix) {
            let parts = name.dropFirst(prefix.count).split(separator: "-")
            guard parts.count == 3, let pid = Int32(parts[1]) else { continue }
            if pid != getpid() && kill(pid, 0) == 0 { continue }  // a live export's folder
            let folder = parent.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent(markerName).path) else { continue }
            removeExportFolder(folder, files: nil)
        }
    }
}
