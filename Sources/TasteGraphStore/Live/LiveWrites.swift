import Foundation
import SQLite
import TasteGraphCore

/// How hard a commit of the store works to survive a crash (`PRAGMA synchronous` in WAL mode).
///
/// Either way a write call returns only after its transaction committed into the write-ahead log.
public enum Durability: String, Sendable, Codable, CaseIterable {
    /// `synchronous = NORMAL`: a commit writes the WAL without `fsync`, so a committed batch survives
    /// the process being killed (even with SIGKILL: the bytes are in the operating system's cache) but
    /// the last commits may be lost if the machine loses power or the kernel crashes. The default.
    case processCrash
    /// `synchronous = FULL`: every commit also `fsync`s the WAL, so a committed batch survives power
    /// loss too, at the cost of one disk flush per batch.
    case powerLoss

    var synchronousPragma: String {
        switch self {
        case .processCrash: "NORMAL"
        case .powerLoss: "FULL"
        }
    }
}

/// A live write (listens, feedback, new items) refused because one element of its batch is wrong.
/// Nothing of the batch was stored.
///
/// `index` is the element's 0-based position in the batch and `field` its JSON field name (`event_id`,
/// `user`, `item`, `plays`, `kind`, `id`, `title`, `release`, `artist`, `year`, `tags`), so an HTTP front
/// end can answer with both.
public struct LiveWriteError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// The field breaks a rule (empty, a control character, too long, out of range): HTTP 422.
        case invalid
        /// The field names a user or item the store does not hold (feedback only): HTTP 422.
        case unknownID
        /// The field's id is already in the store, or earlier in the batch (new items only): HTTP 409.
        case duplicateID
    }

    public let kind: Kind
    /// The element's 0-based position in the batch.
    public let index: Int
    /// The element's field at fault, as named in the HTTP API (snake_case).
    public let field: String
    /// The unknown or duplicate id (`unknownID`, `duplicateID`); nil for `invalid`.
    public let value: String?
    /// What is wrong and what to do, without the element's position (that is `index`).
    public let reason: String

    public init(kind: Kind, index: Int, field: String, value: String? = nil, reason: String) {
        self.kind = kind
        self.index = index
        self.field = field
        self.value = value
        self.reason = reason
    }

    public var description: String { Printable.escaped("element \(index), field \(field): \(reason)") }
}

/// The checks every live write applies to its elements before it opens a transaction (defence in depth:
/// the HTTP layer validates too).
enum LiveValidation {
    /// The most UTF-8 bytes an id (event, user, item) or a text field of a live write may hold.
    static let maximumBytes = 1_024

    /// Checks that `value` is non-empty, at most `maximumBytes` long and free of control characters.
    /// - Throws: `LiveWriteError` (`.invalid`) naming `index` and `field`.
    /// - Parameter name: how the reason names the value (default: `field`).
    static func checkText(_ value: String, index: Int, field: String, name: String? = nil) throws {
        let name = name ?? field
        guard !value.isEmpty else {
            throw LiveWriteError(kind: .invalid, index: index, field: field, reason: "\(name) is empty")
        }
        let bytes = value.utf8.count
        guard bytes <= maximumBytes else {
            throw LiveWriteError(
                kind: .invalid, index: index, field: field, reason: "\(name) is \(bytes) bytes long, more than \(maximumBytes)")
        }
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return }  // printable ASCII: the common case
        for (position, scalar) in value.unicodeScalars.enumerated() where scalar.properties.generalCategory == .control {
            throw LiveWriteError(
                kind: .invalid, index: index, field: field,
                reason: "\(name) holds the control character \(String(format: "U+%04X", scalar.value)) at character \(position); remove it")
        }
    }

    /// Checks that a play count lies in 1…`GraphStore.maximumPlayCount`.
    /// - Throws: `LiveWriteError` (`.invalid`, field `plays`).
    static func checkPlays(_ plays: Int64, index: Int) throws {
        guard plays >= 1, plays <= GraphStore.maximumPlayCount else {
            throw LiveWriteError(
                kind: .invalid, index: index, field: "plays",
                reason: "plays is \(plays); it must be between 1 and \(GraphStore.maximumPlayCountText)")
        }
    }
}

/// The import-log row of live writes.
///
/// Listens written live carry `listens.import_id` = the id of one `imports` row with `kind = 'live'` and
/// `file = '(live)'`, created by the first live write. Its `rows_read` counts live listen events received,
/// `rows_accepted` those stored and `rows_rejected` the duplicates; `started_at` is the first live write's
/// receipt time. Its `fingerprint` is a chain: SHA-256 of the previous fingerprint followed by what each
/// committed live write stored (listen events and new items), so `dataFingerprint()` changes whenever live
/// data arrives, and equal histories give equal fingerprints.
///
/// A later file import still replaces the play count of a pair it holds (files are authoritative; see
/// `ListenWriter`); live plays of other pairs are kept.
struct LiveImportRow {
    let id: Int64
    var fingerprint: String

    static let kind = "live"
    static let file = "(live)"

    /// The live row, created (inside the caller's transaction) when it does not exist yet.
    static func fetchOrCreate(_ store: GraphStore, receivedAt: Int64) throws -> LiveImportRow {
        var found: LiveImportRow?
        try store.cached("SELECT id, fingerprint FROM imports WHERE kind = 'live' ORDER BY id LIMIT 1").query { row in
            found = LiveImportRow(id: row.int64(0), fingerprint: row.text(1) ?? "")
        }
        if let found { return found }
        let startedAt = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(receivedAt)))
        try store.db.run(
            "INSERT INTO imports(kind, file, fingerprint, bytes, rows_read, rows_accepted, rows_rejected, started_at, seconds) VALUES (?, ?, '', 0, 0, 0, 0, ?, 0)",
            .text(kind), .text(file), .text(startedAt))
        return LiveImportRow(id: store.db.lastInsertRowID, fingerprint: "")
    }

    /// Chains `record` (what one write stored) into the fingerprint and adds the counts.
    mutating func commit(_ store: GraphStore, record: [UInt8], received: Int, accepted: Int, duplicates: Int) throws {
        if !record.isEmpty {
            var hash = SHA256()
            hash.update(Array(fingerprint.utf8))
            hash.update(record)
            fingerprint = hash.hexDigest()
        }
        let update = try store.cached(
            "UPDATE imports SET fingerprint = ?, rows_read = rows_read + ?, rows_accepted = rows_accepted + ?, rows_rejected = rows_rejected + ? WHERE id = ?")
        update.bind(1, fingerprint)
        update.bind(2, received)
        update.bind(3, accepted)
        update.bind(4, duplicates)
        update.bind(5, id)
        _ = try update.executeBound()
    }
}

/// Resolves external ids of one table to dense ids inside one live-write transaction, creating unknown
/// ones with the next dense id (as the importers do: 0, 1, 2, … in order of first appearance).
struct LiveIDResolver {
    private let table: String
    private let lookup: Statement
    private let insert: Statement?
    private let nextIDStatement: Statement
    private var known: [String: Int64] = [:]
    private var nextID: Int64?
    /// External ids created by this resolver, in creation order.
    private(set) var created: [String] = []

    /// - Parameter insertSQL: inserts one row with (id, external_id) as parameters 1 and 2; nil: look up only.
    init(store: GraphStore, table: String, insertSQL: String?) throws {
        self.table = table
        lookup = try store.cached("SELECT id FROM \(table) WHERE external_id = ?")
        insert = try insertSQL.map(store.cached)
        nextIDStatement = try store.cached("SELECT COALESCE(MAX(id) + 1, 0) FROM \(table)")
    }

    /// The dense id of `external`, or nil when the table does not hold it.
    mutating func find(_ external: String) throws -> Int64? {
        if let id = known[external] { return id }
        lookup.bind(1, external)
        var id: Int64?
        try lookup.query { id = $0.int64(0) }
        if let id { known[external] = id }
        return id
    }

    /// The dense id of `external`, inserting a new row (id, external id, then what `bindExtra` binds from
    /// parameter 3 on) when it is unknown.
    mutating func id(for external: String, bindExtra: (Statement) -> Void = { _ in }) throws -> (id: Int64, isNew: Bool) {
        if let id = try find(external) { return (id, false) }
        guard let insert else { preconditionFailure("LiveIDResolver for \(table) is lookup-only") }
        let id: Int64
        if let next = nextID {
            id = next
        } else {
            var next: Int64 = 0
            try nextIDStatement.query { next = $0.int64(0) }
            id = next
        }
        insert.bind(1, id)
        insert.bind(2, external)
        bindExtra(insert)
        _ = try insert.executeBound()
        nextID = id + 1
        known[external] = id
        created.append(external)
        return (id, true)
    }
}

extension Array where Element == UInt8 {
    /// Appends the fields of one fingerprint record: each field's UTF-8 bytes then a tab, and a newline.
    mutating func appendRecord(_ fields: String...) {
        for field in fields {
            append(contentsOf: field.utf8)
            append(0x09)
        }
        append(0x0A)
    }
}

/// The ids of the stored live listen events, held in memory by a writing `GraphStore`, so that
/// `listen_events` needs no index over its (often random) event ids and only ever appends.
///
/// It maps a per-process hash of each id to the row (`seq`) that holds it; a hit is confirmed by reading
/// that row's id, so a hash collision never makes a new event a duplicate. It is loaded on first use
/// (O(events) reads) and, at the start of every write transaction — under the store's write lock — catches
/// up on rows another connection appended since (O(new rows)), so any number of handles and processes
/// keep event ids unique. Memory: about 25 bytes per stored event.
final class LiveEventIndex {
    private var rowByHash: [Int: Int64] = [:]
    /// Further rows whose ids share a hash already in `rowByHash` (rare).
    private var collisions: [Int: [Int64]] = [:]
    /// The largest `seq` this index has seen.
    private var lastSeq: Int64 = 0

    private static func hash(_ id: String) -> Int {
        var hasher = Hasher()
        hasher.combine(id)
        return hasher.finalize()
    }

    /// Adds the rows appended after `lastSeq`. Call inside the write transaction, before `contains`.
    func catchUp(_ store: GraphStore) throws {
        var newest: Int64 = 0
        try store.cached("SELECT COALESCE(MAX(seq), 0) FROM listen_events").query { newest = $0.int64(0) }
        guard newest > lastSeq else { return }
        let rows = try store.cached("SELECT seq, event_id FROM listen_events WHERE seq > ?")
        rows.bind(1, lastSeq)
        try rows.query { row in add(row.text(1) ?? "", seq: row.int64(0)) }
        lastSeq = newest
    }

    /// Whether a stored event holds `id` (exact comparison).
    func contains(_ id: String, in store: GraphStore) throws -> Bool {
        let hash = Self.hash(id)
        guard let first = rowByHash[hash] else { return false }
        let read = try store.cached("SELECT event_id FROM listen_events WHERE seq = ?")
        for seq in [first] + (collisions[hash] ?? []) {
            read.bind(1, seq)
            var stored: String?
            try read.query { stored = $0.text(0) }
            if stored == id { return true }
        }
        return false
    }

    /// Records events a transaction committed; call only after the commit succeeded.
    func record(_ committed: [(id: String, seq: Int64)]) {
        for event in committed {
            add(event.id, seq: event.seq)
            lastSeq = max(lastSeq, event.seq)
        }
    }

    private func add(_ id: String, seq: Int64) {
        let hash = Self.hash(id)
        if rowByHash[hash] == nil {
            rowByHash[hash] = seq
        } else {
            collisions[hash, default: []].append(seq)
        }
    }
}
