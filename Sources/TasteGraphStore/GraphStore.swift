import Foundation
import SQLite
import TasteGraphSupport

/// The kind of dataset a store holds; one store per dataset.
public enum DatasetKind: String, Sendable, Codable, CaseIterable {
    /// Echo Nest Taste Profile triplets with song metadata: items are songs.
    case tasteProfile = "taste-profile"
    /// hetrec2011 Last.fm 2k: listens are counted per artist, so items are artists.
    case lastfm
}

/// One dataset's graph store: a SQLite file in WAL mode holding users, artists, items, tags, listens,
/// friends and the import log. Opening it applies any pending schema migrations.
///
/// The store is a handle to the file, not a cache: every operation reads or writes SQLite.
public final class GraphStore {
    public let path: String
    let db: Database

    /// Opens (creating if needed) the store at `path`.
    /// - Throws: `SQLiteError` if the file is not a SQLite database, `StoreError` if its schema is newer.
    public init(path: String) throws {
        self.path = path
        db = try Database(path: path)
        do {
            try db.execute("PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;")
            try Migrations.migrate(db)
        } catch let error as SQLiteError where error.code & 0xff == 26 /* SQLITE_NOTADB */ {
            throw StoreError("\(path) is not a TasteGraph store (not a SQLite database)")
        }
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
