import CSQLite

/// A compiled SQL statement. Owns the `sqlite3_stmt*` and finalizes it on `deinit`.
///
/// Bulk work binds parameters with the typed `bind` calls, then `step()`s and `reset()`s, reusing
/// the compiled statement for every row.
public final class Statement {
    let handle: OpaquePointer
    /// Kept alive so the connection outlives its statements.
    let database: Database
    public let sql: String

    init(database: Database, sql: String) throws {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw database.error(rc, sql: sql) }
        self.handle = statement
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    // MARK: - Binding (1-based parameter indices, as in SQLite)

    public func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }
    public func bind(_ index: Int32, _ value: Int) { sqlite3_bind_int64(handle, index, Int64(value)) }
    public func bind(_ index: Int32, _ value: Double) { sqlite3_bind_double(handle, index, value) }
    public func bindNull(_ index: Int32) { sqlite3_bind_null(handle, index) }

    public func bind(_ index: Int32, _ value: String) {
        sqlite3_bind_text(handle, index, value, -1, tg_sqlite_transient())
    }

    /// Binds UTF-8 bytes as text; SQLite copies them.
    public func bindText(_ index: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else {
            sqlite3_bind_text(handle, index, "", 0, tg_sqlite_transient())
            return
        }
        sqlite3_bind_text(handle, index, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), tg_sqlite_transient())
    }

    /// Binds bytes as a blob; SQLite copies them.
    public func bindBlob(_ index: Int32, _ bytes: UnsafeRawBufferPointer) {
        sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), tg_sqlite_transient())
    }

    public func bind(_ index: Int32, _ value: SQLValue) {
        switch value {
        case .integer(let v): bind(index, v)
        case .real(let v): bind(index, v)
        case .text(let v): bind(index, v)
        case .null: bindNull(index)
        }
    }

    public func bind(_ values: [SQLValue]) {
        for (offset, value) in values.enumerated() { bind(Int32(offset + 1), value) }
    }

    // MARK: - Execution

    /// Advances the statement: `true` when a row is available, `false` when done.
    /// - Throws: `SQLiteError` (constraint violations included).
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            sqlite3_reset(handle)
            throw database.error(rc, sql: sql)
        }
    }

    /// Resets the statement for another execution; bindings are kept.
    public func reset() { sqlite3_reset(handle) }

    /// Binds `arguments`, runs the statement to completion and resets it.
    public func run(_ arguments: [SQLValue] = []) throws {
        sqlite3_reset(handle)
        bind(arguments)
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    /// Binds `arguments` and calls `body` for every row.
    public func query(_ arguments: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
        sqlite3_reset(handle)
        bind(arguments)
        defer { sqlite3_reset(handle) }
        let row = Row(statement: self)
        while try step() { try body(row) }
    }

    /// Runs a statement already bound with the typed `bind` calls; returns the number of rows it changed.
    public func executeBound() throws -> Int {
        defer { sqlite3_reset(handle) }
        while try step() {}
        return database.changes
    }
}

/// The current row of a statement; valid only inside the `query` callback.
public struct Row {
    let statement: Statement

    public var count: Int { Int(sqlite3_column_count(statement.handle)) }

    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement.handle, column) }
    public func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(statement.handle, column)) }
    public func double(_ column: Int32) -> Double { sqlite3_column_double(statement.handle, column) }
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement.handle, column) == SQLITE_NULL }
    /// The column holds an INTEGER value (not REAL, TEXT, BLOB or NULL).
    public func isInteger(_ column: Int32) -> Bool { sqlite3_column_type(statement.handle, column) == SQLITE_INTEGER }

    public func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(statement.handle, column) else { return nil }
        return String(cString: pointer)
    }

    /// The bytes of a blob column, valid only until the row changes (copy what you keep).
    public func blob(_ column: Int32) -> UnsafeRawBufferPointer {
        let count = Int(sqlite3_column_bytes(statement.handle, column))
        guard let base = sqlite3_column_blob(statement.handle, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base, count: count)
    }

    public func value(_ column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement.handle, column) {
        case SQLITE_INTEGER: return .integer(int64(column))
        case SQLITE_FLOAT: return .real(double(column))
        case SQLITE_NULL: return .null
        default: return .text(text(column) ?? "")
        }
    }

    public var values: [SQLValue] { (0..<Int32(count)).map(value) }
}
