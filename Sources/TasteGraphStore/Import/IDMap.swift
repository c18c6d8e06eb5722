import SQLite

/// The external → internal id map of one table, held in memory during an import.
///
/// Internal ids are dense: 0, 1, 2, … in order of first appearance. Memory is O(distinct ids), not
/// O(rows). New rows are inserted through `insert`, whose first two parameters are (id, external_id).
final class IDMap {
    private(set) var ids: [String: Int64]
    private(set) var nextID: Int64
    private let insert: Statement?

    /// Loads the existing ids of `table`.
    /// - Parameter insertSQL: inserts one row; parameter 1 is the id and 2 the external id. Nil for a
    ///   lookup-only map.
    init(db: Database, table: String, insertSQL: String? = nil) throws {
        var ids: [String: Int64] = [:]
        try db.prepare("SELECT id, external_id FROM \(table)").query { row in
            ids[row.text(1) ?? ""] = row.int64(0)
        }
        self.ids = ids
        self.nextID = try db.integer("SELECT COALESCE(MAX(id) + 1, 0) FROM \(table)")
        self.insert = try insertSQL.map(db.prepare)
    }

    subscript(external: String) -> Int64? { ids[external] }

    var count: Int { ids.count }

    /// The id of `external`, inserting a new row when it is unknown. `bindExtra` binds parameters 3…
    /// of the insert statement for a new row.
    func id(for external: String, bindExtra: (Statement) -> Void = { _ in }) throws -> (id: Int64, isNew: Bool) {
        if let id = ids[external] { return (id, false) }
        guard let insert else { preconditionFailure("IDMap opened lookup-only") }
        let id = nextID
        insert.bind(1, id)
        insert.bind(2, external)
        bindExtra(insert)
        _ = try insert.executeBound()
        ids[external] = id
        nextID += 1
        return (id, true)
    }
}

/// Upserts (user, item, play_count) listens.
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
