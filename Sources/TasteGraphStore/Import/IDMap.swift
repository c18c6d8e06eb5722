import SQLite

/// The external → internal id map of one table, held in memory during an import.
///
/// Internal ids are dense: 0, 1, 2, … in order of first appearance. Memory is O(distinct ids), not
/// O(rows). New rows are inserted through `insert`, whose first two parameters are (id, external_id).
final class IDMap {
    private var map: ByteKeyMap
    private(set) var nextID: Int64
    private let insert: Statement?

    /// Loads the existing ids of `table`.
    /// - Parameter insertSQL: inserts one row; parameter 1 is the id and 2 the external id. Nil for a
    ///   lookup-only map.
    init(db: Database, table: String, insertSQL: String? = nil) throws {
        let existing = Int(try db.integer("SELECT COUNT(*) FROM \(table)"))
        var map = ByteKeyMap(capacity: max(1024, existing))
        try db.prepare("SELECT id, external_id FROM \(table)").query { row in
            var key = row.text(1) ?? ""
            key.withUTF8 { map.insert(UnsafeRawBufferPointer($0), value: row.int64(0)) }
        }
        self.map = map
        self.nextID = try db.integer("SELECT COALESCE(MAX(id) + 1, 0) FROM \(table)")
        self.insert = try insertSQL.map(db.prepare)
    }

    var count: Int { map.count }

    /// The id of an external id given as text.
    subscript(external: String) -> Int64? {
        var key = external
        return key.withUTF8 { map.find(UnsafeRawBufferPointer($0)) }
    }

    /// The id of an external id given as raw bytes (no `String` is made for a known id).
    func find(_ key: UnsafeRawBufferPointer) -> Int64? { map.find(key) }

    /// The id of `external`, inserting a new row when it is unknown. `bindExtra` binds parameters 3…
    /// of the insert statement for a new row.
    func id(for external: String, bindExtra: (Statement) -> Void = { _ in }) throws -> (id: Int64, isNew: Bool) {
        var key = external
        return try key.withUTF8 { try id(forUTF8: UnsafeRawBufferPointer($0), bindExtra: bindExtra) }
    }

    /// As `id(for:)`, with the external id as bytes the caller has checked to be UTF-8.
    func id(forUTF8 key: UnsafeRawBufferPointer, bindExtra: (Statement) -> Void = { _ in }) throws -> (id: Int64, isNew: Bool) {
        if let id = map.find(key) { return (id, false) }
        guard let insert else { preconditionFailure("IDMap opened lookup-only") }
        let id = nextID
        insert.bind(1, id)
        insert.bindText(2, key)
        bindExtra(insert)
        _ = try insert.executeBound()
        map.insert(key, value: id)
        nextID += 1
        return (id, true)
    }
}

/// Writes (user, item, play_count) listens one at a time, as an upsert.
///
/// A pair already written by *this* file is a duplicate and is rejected; a pair from an earlier import
/// gets the new count (re-importing a file never doubles play counts).
struct ListenWriter {
    private let upsert: Statement

    init(db: Database) throws {
        upsert = try db.prepare(
            """
            INSERT INTO listens(user_id, item_id, play_count, import_id) VALUES (?, ?, ?, ?)
            ON CONFLICT(user_id, item_id) DO UPDATE SET play_count = excluded.play_count, import_id = excluded.import_id
            WHERE listens.import_id <> excluded.import_id
            """)
    }

    /// - Returns: false when the pair was already written by the same import (a duplicate row).
    func write(user: Int64, item: Int64, plays: Int64, importID: Int64) throws -> Bool {
        upsert.bind(1, user)
        upsert.bind(2, item)
        upsert.bind(3, plays)
        upsert.bind(4, importID)
        return try upsert.executeBound() > 0
    }
}

/// Inserts listens into an *empty* table, `batchSize` rows per INSERT statement.
///
/// One multi-row statement amortizes SQLite's per-statement work (about 1.3× the row rate of single
/// inserts). A batch holding a duplicate pair fails as a whole (SQLite undoes the statement), and is then
/// replayed row by row so that exactly the duplicate lines are reported, through `onDuplicate`.
final class BatchListenInserter {
    static let batchSize = 128

    private struct Pending {
        let user: Int64
        let item: Int64
        let plays: Int64
        let line: Int
    }

    private let batch: Statement
    private let single: Statement
    private let importID: Int64
    private var pending: [Pending] = []
    private let onDuplicate: (_ line: Int, _ user: Int64, _ item: Int64, _ plays: Int64) throws -> Void

    init(db: Database, importID: Int64, onDuplicate: @escaping (_ line: Int, _ user: Int64, _ item: Int64, _ plays: Int64) throws -> Void) throws {
        let values = [String](repeating: "(?, ?, ?, ?)", count: Self.batchSize).joined(separator: ", ")
        batch = try db.prepare("INSERT INTO listens(user_id, item_id, play_count, import_id) VALUES \(values)")
        single = try db.prepare("INSERT INTO listens(user_id, item_id, play_count, import_id) VALUES (?, ?, ?, ?)")
        self.importID = importID
        self.onDuplicate = onDuplicate
        pending.reserveCapacity(Self.batchSize)
    }

    func add(user: Int64, item: Int64, plays: Int64, line: Int) throws {
        pending.append(Pending(user: user, item: item, plays: plays, line: line))
        if pending.count == Self.batchSize { try flush() }
    }

    /// Writes what is buffered; call once after the last row.
    func flush() throws {
        defer { pending.removeAll(keepingCapacity: true) }
        if pending.count == Self.batchSize {
            for (row, listen) in pending.enumerated() {
                let base = Int32(row * 4)
                batch.bind(base + 1, listen.user)
                batch.bind(base + 2, listen.item)
                batch.bind(base + 3, listen.plays)
                batch.bind(base + 4, importID)
            }
            do {
                _ = try batch.executeBound()
                return
            } catch let error as SQLiteError where error.isConstraintViolation {
                // fall through: replay one by one to find the duplicate lines
            }
        }
        for listen in pending {
            single.bind(1, listen.user)
            single.bind(2, listen.item)
            single.bind(3, listen.plays)
            single.bind(4, importID)
            do {
                _ = try single.executeBound()
            } catch let error as SQLiteError where error.isConstraintViolation {
                try onDuplicate(listen.line, listen.user, listen.item, listen.plays)
            }
        }
    }
}
