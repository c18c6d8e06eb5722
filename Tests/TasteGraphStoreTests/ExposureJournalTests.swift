import Foundation
import SQLite
import TasteGraphStore
import TestSupport
import Testing

/// The exposure journal: appended lines survive until moved, are moved once, and a dead process's file
/// is picked up by whoever moves next.
@Suite struct ExposureJournalTests {
    static func exposure(_ n: Int, user: String = "u") -> Exposure {
        Exposure(at: Int64(1_000 + n), user: user, experiment: "e", arm: "a", modelVersion: "v", route: "model", items: ["i\(n)", "j\(n)"])
    }

    @Test func appendedExposuresAreMovedIntoTheTableOnce() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let journal = try ExposureJournal(storePath: dir.file("s.sqlite"))
        for n in 0..<3 { try journal.append(Self.exposure(n)) }
        #expect(try ExposureJournal.pending(storePath: dir.file("s.sqlite")).map(\.items) == [["i0", "j0"], ["i1", "j1"], ["i2", "j2"]])
        #expect(try journal.move(into: store) == 3)
        #expect(try journal.move(into: store) == 0)  // nothing twice
        #expect(try store.exposures(experiment: "e") == (0..<3).map { Self.exposure($0) })
        #expect(try ExposureJournal.pending(storePath: dir.file("s.sqlite")).isEmpty)
    }

    @Test func aDeadProcessesFileIsMovedAndALiveOnesIsLeftToIt() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let store = try GraphStore(path: path)
        do {
            let dead = try ExposureJournal(storePath: path)  // appends, then goes away without moving (its lock is released)
            try dead.append(Self.exposure(1))
            try dead.append(Self.exposure(2))
        }
        let live = try ExposureJournal(storePath: path)
        try live.append(Self.exposure(3))
        #expect(try ExposureJournal.recover(storePath: path, into: store) == 2)  // the dead one's two, not the live one's
        #expect(try ExposureJournal.pending(storePath: path).map(\.at) == [1_003])
        #expect(try live.move(into: store) == 1)
        #expect(try store.exposures(experiment: "e").map(\.at).sorted() == [1_001, 1_002, 1_003])
    }

    @Test func aTornLastLineIsDroppedAndAFileAlreadyMovedIsNotMovedAgain() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let store = try GraphStore(path: path)
        let folder = ExposureJournal.folder(ofStore: path)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let line = "1000\tu\te\ta\tv\tmodel\ti0\tj0\n"
        try (line + line + "1002\tu\te\ta\tv\tmo").write(toFile: folder + "/sealed-00000000000000000001-1.log", atomically: true, encoding: .utf8)
        #expect(try ExposureJournal.recover(storePath: path, into: store) == 2)
        // A crash after a file's transaction and before its unlink: the file is back, its record says moved.
        try line.write(toFile: folder + "/sealed-00000000000000000002-1.log", atomically: true, encoding: .utf8)
        let db = try Database(path: path)
        try db.execute("INSERT INTO exposure_journal_files(name, moved) VALUES ('sealed-00000000000000000002-1.log', 1)")
        #expect(try ExposureJournal.recover(storePath: path, into: store) == 0)
        #expect(!FileManager.default.fileExists(atPath: folder + "/sealed-00000000000000000002-1.log"))
        #expect(try store.exposures(experiment: "e").count == 2)
    }

    @Test func controlCharactersAreRefusedAndAForeignFolderIsNotTaken() throws {
        let dir = TemporaryDirectory()
        let journal = try ExposureJournal(storePath: dir.file("s.sqlite"))
        #expect(throws: LiveWriteError.self) { try journal.append(Self.exposure(0, user: "bad\tuser")) }
        #expect(try ExposureJournal.pending(storePath: dir.file("s.sqlite")).isEmpty)
        _ = dir.write("t.sqlite-exposures", "not a folder")
        #expect(throws: StoreError.self) { try ExposureJournal(storePath: dir.file("t.sqlite")) }
    }
}
