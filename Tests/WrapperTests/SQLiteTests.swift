import SQLite
import TestSupport
import Testing

@Suite struct SQLiteTests {
    @Test func transactionRollsBackOnError() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.file("t.sqlite"))
        try db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        try db.run("INSERT INTO t VALUES (1)")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES (2)")
                throw Boom()
            }
        }
        #expect(try db.integer("SELECT COUNT(*) FROM t") == 1)
    }

    @Test func constraintViolationIsATypedError() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.file("t.sqlite"))
        try db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        try db.run("INSERT INTO t VALUES (1)")
        do {
            try db.run("INSERT INTO t VALUES (1)")
            Issue.record("expected a constraint violation")
        } catch let error as SQLiteError {
            #expect(error.isConstraintViolation)
            #expect(error.sql == "INSERT INTO t VALUES (1)")
        }
    }

    @Test func bindsAndReadsEveryType() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.file("t.sqlite"))
        try db.execute("CREATE TABLE t (a INTEGER, b REAL, c TEXT, d TEXT)")
        try db.run("INSERT INTO t VALUES (?, ?, ?, ?)", .integer(-5), .real(2.5), .text("fußball"), .null)
        #expect(try db.rows("SELECT a, b, c, d FROM t") == [[.integer(-5), .real(2.5), .text("fußball"), .null]])
    }

    @Test func badSQLNamesTheStatement() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.file("t.sqlite"))
        #expect(throws: SQLiteError.self) { try db.prepare("SELEKT 1") }
    }
}
