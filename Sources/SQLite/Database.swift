import CSQLite

/// An error reported by SQLite, with the statement that caused it.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The primary SQLite result code (`SQLITE_CONSTRAINT`, `SQLITE_BUSY`, …).
    public let code: Int32
    public let message: String
    public let sql: String?

    public var description: String {
        if let sql { return "SQLite error \(code): \(message) (in: \(sql.prefix(200)))" }
        return "SQLite error \(code): \(message)"
    }

    public var isConstraintViolation: Bool { code & 0xff == SQLITE_CONSTRAINT }

    /// Another connection holds a lock this one needed, past the busy timeout (`SQLITE_BUSY`,
    /// `SQLITE_LOCKED` and their extended codes).
    public var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }
}

/// A value that can be bound to a statement parameter or read from a column.
public enum SQLValue: Equatable, Sendable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case null
}

/// One open SQLite connection. Owns the `sqlite3*` handle and closes it on `deinit`.
///
/// This is a deliberately thin wrapper over the C API (see the README's design section): the store needs
/// prepared statements reused across millions of rows, explicit transactions and nothing more.
/// A `Database` is not thread-safe; use one per thread.
public final class Database {
    let handle: OpaquePointer
    /// The path the connection was opened with.
    public let path: String

    /// Opens (and creates, unless `readOnly`) the database at `path`.
    /// - Parameter busyTimeoutMilliseconds: how long a statement waits for another connection's lock
    ///   before it fails with `SQLITE_BUSY`.
    /// - Throws: `SQLiteError` when the file cannot be opened.
    public init(path: String, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 5_000) throws {
        var db: OpaquePointer?
        let flags = readOnly
            ? SQLITE_OPEN_READONLY
            : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "cannot open \(path): \(message)", sql: nil)
        }
        self.handle = db
        self.path = path
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs one or more SQL statements that return no rows.
    public func execute(_ sql: String) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(errmsg)
            throw SQLiteError(code: rc, message: message, sql: sql)
        }
    }

    /// Compiles `sql` into a reusable statement.
    public func prepare(_ sql: String) throws -> Statement {
        try Statement(database: self, sql: sql)
    }

    /// Runs `sql` with `arguments` and discards any rows.
    public func run(_ sql: String, _ arguments: SQLValue...) throws {
        let statement = try prepare(sql)
        try statement.run(arguments)
    }

    /// All rows of `sql`, each as an array of column values.
    public func rows(_ sql: String, _ arguments: SQLValue...) throws -> [[SQLValue]] {
        let statement = try prepare(sql)
        var result: [[SQLValue]] = []
        try statement.query(arguments) { row in result.append(row.values) }
        return result
    }

    /// The first column of the first row of `sql` as an integer (0 when there is no row or it is NULL).
    public func integer(_ sql: String, _ arguments: SQLValue...) throws -> Int64 {
        let statement = try prepare(sql)
        var value: Int64 = 0
        try statement.query(arguments) { row in value = row.int64(0) }
        return value
    }

    /// The first column of the first row of `sql` as text, or nil.
    public func text(_ sql: String, _ arguments: SQLValue...) throws -> String? {
        let statement = try prepare(sql)
        var value: String?
        try statement.query(arguments) { row in value = row.text(0) }
        return value
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; any thrown error rolls everything back.
    ///
    /// - Throws: whatever `body` throws (after the rollback), or `SQLiteError` from BEGIN/COMMIT.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes64(handle)) }

    /// The rowid of the most recent successful INSERT.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// The `PRAGMA user_version` value, which the store uses as its schema version.
    public var userVersion: Int {
        get throws { Int(try integer("PRAGMA user_version")) }
    }

    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }
}
