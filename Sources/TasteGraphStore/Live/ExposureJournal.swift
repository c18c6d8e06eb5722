import Foundation
import Synchronization
import SQLite
import TasteGraphCore
#if canImport(Glibc)
import Glibc
#endif

/// The exposure log's write-ahead journal: served lists are appended to a file beside the store, one
/// `write(2)` each, and moved into the store's `exposure_chunks` table in large transactions.
///
/// Why: a list must be logged before it is answered (an answered list survives the process being
/// killed), and at tens of thousands of answers a second a SQLite commit per group of requests rewrites
/// whole 16 KiB pages of a per-row table, its index and the WAL many hundred times a second (measured: 43 %
/// fewer answers per second). An appended line is in the kernel's page cache once `write` returns, so it
/// survives a killed process (not a power loss, like the store's default `synchronous = NORMAL`); moving
/// lines in bulk costs one transaction per file of thousands.
///
/// Layout: the folder `STORE-exposures/` (made by TasteGraph beside the store, like SQLite's `-wal`).
/// Each journaling process appends to its own `active-PID-N.log`, which it holds with `flock`; `seal`
/// renames it to `sealed-N.log` (N: nanoseconds, zero-padded, so names sort in time order and are never
/// reused) and starts a new one. `move` also seals the active files of processes that died (their lock is
/// free), then moves every sealed file in a transaction of its own that records the file's name in
/// `exposure_journal_files`, so a file moved before a crash is never moved twice, and unlinks it. Several
/// processes may journal for one store. A line is `at TAB user TAB experiment TAB arm TAB model TAB route
/// TAB item TAB item …` (ids never hold control characters: checked on append); a torn last line (no
/// newline) is dropped.
public final class ExposureJournal: Sendable {
    struct State: Sendable {
        var fd: Int32
        var path: String
        /// Seals by this process, in the sealed file's name (unique even if the clock steps back).
        var seals = 0
    }

    public let folder: String
    let state: Mutex<State>

    /// The journal folder of a store.
    public static func folder(ofStore storePath: String) -> String { storePath + "-exposures" }

    /// Opens the store's journal folder (creating it) and a new active file of this process.
    /// - Throws: `StoreError` when the folder cannot be made or is something else.
    public init(storePath: String) throws {
        folder = try Self.makeFolder(storePath: storePath)
        let (fd, path) = try Self.openActive(in: folder)
        state = Mutex(State(fd: fd, path: path))
    }

    deinit { state.withLock { close($0.fd) } }

    static func makeFolder(storePath: String) throws -> String {
        let folder = folder(ofStore: storePath)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw StoreError("\(folder) exists and is not TasteGraph's exposure journal folder; move it away") }
        } else {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        }
        return folder
    }

    /// A new, locked active file. Made under a name no other process looks at, locked, then renamed, so
    /// no one can take it for a dead process's file in between.
    static func openActive(in folder: String) throws -> (Int32, String) {
        let stamp = "\(getpid())-\(nanoseconds())"
        let opening = folder + "/opening-\(stamp).tmp", active = folder + "/active-\(stamp).log"
        let fd = open(opening, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError("cannot create an exposure journal file in \(folder) (errno \(errno))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0, rename(opening, active) == 0 else {
            close(fd)
            unlink(opening)
            throw StoreError("cannot start an exposure journal file in \(folder) (errno \(errno))")
        }
        return (fd, active)
    }

    /// Nanoseconds since 1970, zero-padded to 20 digits (sorts as text in time order).
    static func nanoseconds() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let text = String(UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec))
        return String(repeating: "0", count: max(0, 20 - text.count)) + text
    }

    /// An exposure's journal line without its time, encoded and checked once (a cached answer logs the
    /// same entry every time it is served, at that time).
    public struct Entry: Sendable {
        let tail: [UInt8]
    }

    /// The entry of `exposure` (its `at` is ignored: `append` takes the time).
    /// - Throws: `LiveWriteError` (.invalid) for a field holding a control character.
    public static func entry(_ exposure: Exposure) throws -> Entry {
        func clean(_ text: String, _ field: String) throws -> String {
            guard !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                throw LiveWriteError(kind: .invalid, index: 0, field: field, value: text, reason: "\(field) must not contain control characters")
            }
            return text
        }
        var tail = "\t\(try clean(exposure.user, "user"))\t\(try clean(exposure.experiment, "experiment"))\t"
        tail += "\(try clean(exposure.arm, "arm"))\t\(try clean(exposure.modelVersion, "model"))\t\(try clean(exposure.route, "route"))"
        for item in exposure.items { tail += "\t" + (try clean(item, "items")) }
        return Entry(tail: Array((tail + "\n").utf8))
    }

    /// The whole line of `exposure` at `at`.
    static func line(_ exposure: Exposure, at: Int64) throws -> [UInt8] {
        Array(String(at).utf8) + (try entry(exposure)).tail
    }

    /// Appends one exposure: once this returns, the line survives the process being killed.
    /// - Throws: `LiveWriteError` (.invalid) for a field holding a control character; `StoreError` when the
    ///   write fails.
    public func append(_ exposure: Exposure) throws {
        try append(Self.entry(exposure), at: exposure.at)
    }

    /// Appends a prepared entry at `at` (Unix seconds): one `write(2)`.
    /// - Throws: `StoreError` when the write fails.
    public func append(_ entry: Entry, at: Int64) throws {
        var line = [UInt8]()
        line.reserveCapacity(entry.tail.count + 20)
        line += String(at).utf8
        line += entry.tail
        try state.withLock { state in
            var before = stat()
            _ = fstat(state.fd, &before)
            let written = line.withUnsafeBytes { write(state.fd, $0.baseAddress, $0.count) }
            guard written == line.count else {
                let code = errno
                if written > 0 { _ = ftruncate(state.fd, before.st_size) }  // no torn line for the next one to glue onto
                throw StoreError("cannot append to the exposure journal in \(folder) (errno \(code))")
            }
        }
    }

    /// Seals the active file (when it holds anything) and moves every sealed file into `store`.
    /// - Returns: how many exposures were moved.
    /// - Throws: the store's errors (the files stay and are moved next time).
    @discardableResult
    public func move(into store: GraphStore) throws -> Int {
        try seal()
        Self.sealOrphans(in: folder)
        return try Self.moveSealed(in: folder, into: store)
    }

    /// Renames this process's active file to a sealed one (when it holds anything) and starts a new one.
    func seal() throws {
        try state.withLock { state in
            var info = stat()
            guard fstat(state.fd, &info) == 0, info.st_size > 0 else { return }
            let (fd, path) = try Self.openActive(in: folder)
            state.seals += 1
            guard rename(state.path, folder + "/sealed-\(Self.nanoseconds())-\(getpid())-\(state.seals).log") == 0 else {
                close(fd)
                unlink(path)
                throw StoreError("cannot seal the exposure journal file \(state.path) (errno \(errno))")
            }
            close(state.fd)
            state.fd = fd
            state.path = path
        }
    }

    /// Seals the active files of processes that died (their lock is free); live ones hold theirs. An
    /// `opening-` file is a process's active file before it is locked and renamed: only one older than a
    /// minute is a dead process's (and empty), so only those are removed.
    static func sealOrphans(in folder: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasPrefix("active-") || name.hasPrefix("opening-") {
            let path = folder + "/" + name
            if name.hasPrefix("opening-") {
                let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date()
                if Date().timeIntervalSince(modified) > 60 { unlink(path) }
                continue
            }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }  // a living process's file
            var info = stat()
            if fstat(fd, &info) == 0 && info.st_size == 0 {
                unlink(path)
            } else {
                // The file's own stamp (pid and start time) keeps the sealed name unique.
                rename(path, folder + "/sealed-\(nanoseconds())-orphan-\(name.dropFirst("active-".count).dropLast(".log".count)).log")
            }
        }
    }

    /// Moves everything journaled for a store that no living process still appends to (the files of
    /// processes that were killed, and every sealed file) into `store`; a running server's own active file
    /// stays (it moves it itself within a quarter second). Does nothing when the store has no journal.
    /// - Returns: how many exposures were moved.
    public static func recover(storePath: String, into store: GraphStore) throws -> Int {
        let folder = folder(ofStore: storePath)
        guard FileManager.default.fileExists(atPath: folder) else { return 0 }
        sealOrphans(in: folder)
        return try moveSealed(in: folder, into: store)
    }

    /// The sealed files, oldest first.
    static func sealedFiles(in folder: String) -> [(name: String, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasPrefix("sealed-") && $0.hasSuffix(".log") }.sorted().map { ($0, folder + "/" + $0) }
    }

    static func moveSealed(in folder: String, into store: GraphStore) throws -> Int {
        var moved = 0
        for file in sealedFiles(in: folder) {
            let name = file.name
            var count = 0
            let done = try store.transaction { () -> Bool in
                let seen = try store.cached("SELECT 1 FROM exposure_journal_files WHERE name = ?")
                seen.bind(1, name)
                var already = false
                try seen.query { _ in already = true }
                // Read under the store's write lock: another mover that moved this file committed its record
                // first and unlinks before it ever drops the record, so either the record or the file's
                // absence is seen here.
                guard !already, var bytes = FileManager.default.contents(atPath: file.path).map(Array.init) else { return false }
                if let end = bytes.lastIndex(of: 0x0A) { bytes.removeSubrange((end + 1)...) } else { bytes.removeAll() }  // a torn last line
                count = bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                if count > 0 { try store.insertExposureChunk(bytes, count: count) }
                let record = try store.cached("INSERT INTO exposure_journal_files(name, moved) VALUES (?, ?)")
                record.bind(1, name)
                record.bind(2, Int64(count))
                _ = try record.executeBound()
                return true
            }
            if done { moved += count }
            unlink(file.path)
        }
        // Names are never reused, so the records of files already unlinked can go (the table stays small).
        if moved > 0 {
            try store.transaction {
                let present = Set(sealedFiles(in: folder).map(\.name))
                var stale: [String] = []
                try store.db.prepare("SELECT name FROM exposure_journal_files").query { row in
                    if let name = row.text(0), !present.contains(name) { stale.append(name) }
                }
                let delete = try store.cached("DELETE FROM exposure_journal_files WHERE name = ?")
                for name in stale {
                    delete.bind(1, name)
                    _ = try delete.executeBound()
                }
            }
        }
        return moved
    }

    /// The exposures of journal lines (a torn last line dropped; a line that is not an exposure skipped).
    static func parse(_ bytes: [UInt8]) -> [Exposure] {
        var exposures: [Exposure] = []
        var lineStart = 0
        for index in bytes.indices where bytes[index] == 0x0A {
            let fields = bytes[lineStart..<index].split(separator: 0x09, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            lineStart = index + 1
            guard fields.count >= 6, let at = Int64(fields[0]) else { continue }
            exposures.append(
                Exposure(at: at, user: fields[1], experiment: fields[2], arm: fields[3], modelVersion: fields[4], route: fields[5], items: Array(fields.dropFirst(6))))
        }
        return exposures
    }

    static func parse(file path: String) throws -> [Exposure] {
        guard let data = FileManager.default.contents(atPath: path) else { throw StoreError("cannot read \(path)") }
        return parse(Array(data))
    }

    /// Every exposure still in the journal's files, read-only (tests, and what a report cannot see yet).
    public static func pending(storePath: String) throws -> [Exposure] {
        let folder = folder(ofStore: storePath)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
        return try names.flatMap { try parse(file: folder + "/" + $0) }
    }
}
