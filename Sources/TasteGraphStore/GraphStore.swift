import Foundation
import SQLite
import TasteGraphCore

/// One dataset's graph store: a SQLite file in WAL mode holding users, artists, items, tags, listens,
/// friends and the import log. Opening it applies any pending schema migrations.
///
/// The store is a handle to the file, not a cache: every operation reads or writes SQLite.
///
/// Threads: a `GraphStore` owns one SQLite connection opened without SQLite's own mutex, and keeps
/// compiled statements for the live writes. It is not `Sendable`: use it from one thread at a time (a
/// long-lived writer keeps it inside an actor or behind a lock); two threads must never call into the same
/// store at once. Open a second `GraphStore` for concurrent reads: WAL lets readers run beside one writer.
public final class GraphStore {
    public let path: String
    let db: Database

    /// Compiled statements the live writes reuse across batches, keyed by their SQL (see `cached(_:)`).
    private var statements: [String: Statement] = [:]

    /// How hard a commit works to survive a crash; see `Durability` and `setDurability(_:)`.
    public private(set) var durability: Durability = .processCrash

    /// The ids of the stored live listen events, loaded by the first `appendListens` (see `LiveEventIndex`).
    var liveEvents: LiveEventIndex?

    /// The largest play count one listen may hold (`ListenTable.maximumPlayCount`: 10⁹ plays).
    public static let maximumPlayCount: Int64 = ListenTable.maximumPlayCount
    static let maximumPlayCountText = "1,000,000,000"

    /// How long a write waits for another process's write lock before it fails with "locked" (ms).
    /// Short: an import holds its lock for its whole run, so waiting longer would only delay the error.
    public static let busyTimeoutMilliseconds: Int32 = 2_000

    /// Opens (creating if needed) the store at `path`.
    /// - Throws: `StoreError` if the file is not a SQLite database, is locked by another process, or its
    ///   schema is newer; `SQLiteError` for other SQLite failures.
    public init(path: String) throws {
        self.path = path
        db = try Database(path: path, busyTimeoutMilliseconds: Self.busyTimeoutMilliseconds)
        do {
            try db.execute("PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;")
            try Migrations.migrate(db)
        } catch let error as SQLiteError where error.code & 0xff == 26 /* SQLITE_NOTADB */ {
            throw StoreError("\(path) is not a TasteGraph store (not a SQLite database)")
        } catch let error as SQLiteError where error.isBusy {
            throw lockedError()
        }
    }

    /// The compiled statement for `sql`, prepared on first use and kept for the life of the store, so a
    /// long-lived writer compiles each statement once rather than once per batch.
    /// - Throws: `SQLiteError` when `sql` does not compile.
    func cached(_ sql: String) throws -> Statement {
        if let statement = statements[sql] { return statement }
        let statement = try db.prepare(sql)
        statements[sql] = statement
        return statement
    }

    /// Sets how hard every later commit works to survive a crash (`PRAGMA synchronous`). A new
    /// handle starts at `.processCrash`; the setting belongs to this handle, not to the file.
    /// - Throws: `SQLiteError` when SQLite refuses the pragma.
    /// - Complexity: O(1).
    public func setDurability(_ durability: Durability) throws {
        try db.execute("PRAGMA synchronous = \(durability.synchronousPragma)")
        self.durability = durability
    }

    /// The error for a store another connection holds locked.
    func lockedError() -> StoreError {
        StoreError(
            "the store \(path) is locked by another process (an import, prepare or other write is running on it); "
                + "wait for it to finish and try again")
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE … COMMIT`); any thrown error rolls it back.
    /// - Throws: `StoreError` when another process holds the store's write lock, else whatever `body` throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        do {
            return try db.transaction(body)
        } catch let error as SQLiteError where error.isBusy {
            throw lockedError()
        }
    }

    /// The error for stored content no TasteGraph import writes (the store was written by another tool).
    func corruptError(_ what: String) -> InputError {
        InputError(file: path, line: nil, reason: "\(what); this store was not written by `tastegraph import`: re-import the data into a new store")
    }

    /// A stored play count checked against `maximumPlayCount` (a store written by another tool may hold
    /// anything, and the sums over it must not overflow).
    /// - Throws: `InputError` naming the store, the listen and the limit.
    func checkedPlayCount(_ row: Row, column: Int32, user: Int, item: Int) throws -> Int64 {
        let value = row.int64(column)
        guard row.isInteger(column), value >= 0, value <= Self.maximumPlayCount else {
            let shown = row.isInteger(column) ? String(value) : "'\(row.text(column) ?? "NULL")'"
            throw corruptError(
                "the listen (user \(user), item \(item)) has play count \(shown), outside 0…\(Self.maximumPlayCountText)")
        }
        return value
    }

    /// The number of rows of `table`, whose ids must be dense (0..<count), as every import writes them.
    /// - Throws: `InputError` naming the store when they are not (arrays are indexed by these ids).
    func denseCount(_ table: String) throws -> Int {
        let row = try db.rows("SELECT COUNT(*), MIN(id), MAX(id) FROM \(table)")[0]
        guard case .integer(let count) = row[0] else { return 0 }
        if count == 0 { return 0 }
        guard case .integer(let low) = row[1], case .integer(let high) = row[2], low == 0, high == count - 1 else {
            throw corruptError("the \(table) table's ids are not 0…\(count - 1)")
        }
        return Int(count)
    }

    /// Opens an existing store; a missing file is an error rather than a new empty store.
    public static func openExisting(path: String) throws -> GraphStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError("no store at \(path); create one with `tastegraph import …`")
        }
        return try GraphStore(path: path)
    }

    /// The schema version of the open file.
    public var schemaVersion: Int { get throws { try db.userVersion } }

    /// The dataset kind recorded by the first import, or nil for an empty store.
    public var datasetKind: DatasetKind? {
        get throws {
            try db.text("SELECT value FROM dataset_info WHERE key = 'kind'").flatMap(DatasetKind.init(rawValue:))
        }
    }

    /// Records `kind` for an empty store, or checks that the store already holds that kind.
    func claim(_ kind: DatasetKind) throws {
        if let existing = try datasetKind {
            guard existing == kind else {
                throw StoreError("\(path) holds \(existing.rawValue) data; import \(kind.rawValue) data into its own store")
            }
        } else {
            try db.run("INSERT INTO dataset_info(key, value) VALUES ('kind', ?)", .text(kind.rawValue))
        }
    }

    /// One row of the import log.
    public struct ImportLogEntry: Sendable, Codable, Equatable {
        public let id: Int
        public let kind: String
        public let file: String
        public let fingerprint: String
        public let rowsRead: Int
        public let rowsAccepted: Int
        public let rowsRejected: Int
        public let startedAt: String
        public let seconds: Double
    }

    /// The import log, oldest first.
    public func importLog() throws -> [ImportLogEntry] {
        var entries: [ImportLogEntry] = []
        try db.prepare(
            "SELECT id, kind, file, fingerprint, rows_read, rows_accepted, rows_rejected, started_at, seconds FROM imports ORDER BY id"
        ).query { row in
            entries.append(
                ImportLogEntry(
                    id: row.int(0), kind: row.text(1) ?? "", file: row.text(2) ?? "", fingerprint: row.text(3) ?? "",
                    rowsRead: row.int(4), rowsAccepted: row.int(5), rowsRejected: row.int(6),
                    startedAt: row.text(7) ?? "", seconds: row.double(8)))
        }
        return entries
    }

    /// A fingerprint of the store's data: SHA-256 over the import log's file fingerprints and the latest
    /// preparation. Checkpoints and exports record it to detect that the data changed.
    public func dataFingerprint() throws -> String {
        var text = ""
        for entry in try importLog() { text += "\(entry.kind):\(entry.fingerprint)\n" }
        text += try db.text("SELECT parameters FROM preparations ORDER BY id DESC LIMIT 1") ?? ""
        return SHA256.hex(of: text)
    }
}

extension GraphStore {
    /// Moves everything from the WAL into the main file, so the file alone is a complete copy.
    public func checkpoint() throws {
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
}
