import Foundation
import TasteGraphCore
import TestSupport
import Testing

@testable import TasteGraphStore

/// A small Taste Profile dataset: 3 users, 4 songs (one without metadata).
enum TasteProfileFixture {
    static let triplets = """
        u1\tS1\t3
        u1\tS2\t1
        u2\tS1\t10
        u2\tS3\t2
        u3\tS4\t5

        """
    static let songData = #"""
        song_id,title,release,artist_name,year
        S1,"Hello, World",First Light,The Band,2001
        S2,"Say ""Hi""",,The Band,0
        S3,Rain,Clouds,Solo Act,1999

        """#
    static let uniqueTracks = """
        T1<SEP>S1<SEP>The Band<SEP>Hello, World
        T2<SEP>S2<SEP>The Band<SEP>Say "Hi"
        T3<SEP>S3<SEP>Solo Act<SEP>Rain
        T3b<SEP>S3<SEP>Solo Act<SEP>Rain

        """
}

/// Everything a store holds, as text, to check that a failed import changed nothing.
func snapshot(_ store: GraphStore) throws -> String {
    var out = ""
    for table in ["dataset_info", "users", "artists", "items", "tags", "tag_assignments", "item_tags", "listens", "friends", "imports", "preparations"] {
        for row in try store.db.rows("SELECT * FROM \(table) ORDER BY 1, 2") { out += "\(table): \(row)\n" }
    }
    return out
}

/// Runs `body`, expecting an `InputError`, and returns it.
func expectInputError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> InputError? {
    do {
        try body()
        Issue.record("expected an InputError", sourceLocation: sourceLocation)
    } catch let error as InputError {
        return error
    } catch {
        Issue.record("expected an InputError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite struct TasteProfileImportTests {
    @Test func importsTripletsWithSongDataCSV() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let report = try TasteProfileImporter(store: store).importTriplets(
            path: dir.write("t.tsv", TasteProfileFixture.triplets), metadata: dir.write("song_data.csv", TasteProfileFixture.songData))
        let stats = try store.stats()
        #expect(stats.users == 3)
        #expect(stats.items == 4)
        #expect(stats.artists == 2)
        #expect(stats.listens == 5)
        #expect(stats.plays == 21)
        #expect(report.files.map(\.kind) == ["metadata", "listens"])
        #expect(report.warnings.contains { $0.contains("1 songs with listens have no metadata") })
        // Quoted CSV fields come back unquoted; year 0 is unknown; an empty release is NULL.
        let rows = try store.db.rows("SELECT title, release, year FROM items WHERE external_id IN ('S1','S2') ORDER BY external_id")
        #expect(rows == [[.text("Hello, World"), .text("First Light"), .integer(2001)], [.text("Say \"Hi\""), .null, .null]])
        // Internal ids are dense and in order of first appearance; external ids are kept as given.
        #expect(try store.db.rows("SELECT id, external_id FROM users ORDER BY id") == [
            [.integer(0), .text("u1")], [.integer(1), .text("u2")], [.integer(2), .text("u3")],
        ])
        #expect(try store.datasetKind == .tasteProfile)
    }

    @Test func importsUniqueTracksMetadataIgnoringExactRepeats() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let report = try TasteProfileImporter(store: store).importTriplets(
            path: dir.write("t.tsv", TasteProfileFixture.triplets), metadata: dir.write("unique_tracks.txt", TasteProfileFixture.uniqueTracks))
        #expect(try store.db.text("SELECT a.name FROM items i JOIN artists a ON a.id = i.artist_id WHERE i.external_id = 'S3'") == "Solo Act")
        #expect(try store.db.text("SELECT title FROM items WHERE external_id = 'S1'") == "Hello, World")
        #expect(report.warnings.contains { $0.contains("1 exact repeats") })
    }

    @Test func conflictingMetadataRepeatIsRejected() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let metadata = dir.write("unique_tracks.txt", "T1<SEP>S1<SEP>A<SEP>One\nT2<SEP>S1<SEP>B<SEP>Other\n")
        let error = expectInputError {
            _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", "u1\tS1\t1\n"), metadata: metadata)
        }
        #expect(error?.file == metadata)
        #expect(error?.line == 2)
        #expect(error?.reason.contains("different metadata") == true)
    }

    @Test func unknownMetadataFormatIsAClearError() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let metadata = dir.write("meta.txt", "something else entirely\n")
        let error = expectInputError {
            _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", "u1\tS1\t1\n"), metadata: metadata)
        }
        #expect(error?.line == 1)
        #expect(error?.reason.contains("unknown metadata format") == true)
    }

    /// Each kind of bad row names the file, the line and the reason.
    @Test(arguments: [
        ("u1\tS1\t3\nu2\tS2\n", 2, "wrong column count: expected 3"),
        ("u1\tS1\t3\nu2\tS2\t4\tx\n", 2, "wrong column count: expected 3"),
        ("u1\tS1\tabc\n", 1, "play count 'abc' is not an integer"),
        ("u1\tS1\t2.5\n", 1, "play count '2.5' is not an integer"),
        ("u1\tS1\t3\nu1\tS2\t-4\n", 2, "play count -4 is negative"),
        ("u1\tS1\t3\nu2\tS1\t1\nu1\tS1\t5\n", 3, "duplicate (user, song) pair u1, S1"),
        ("u1\tS1\t99999999999999999999\n", 1, "too large"),
        ("u1\t\tS1\n", 1, "is not an integer"),
    ])
    func badRowsNameFileLineAndReason(input: String, line: Int, reason: String) throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let path = dir.write("t.tsv", input)
        let error = expectInputError { _ = try TasteProfileImporter(store: store).importTriplets(path: path) }
        #expect(error?.file == path)
        #expect(error?.line == line)
        #expect(error?.reason.contains(reason) == true, "reason was: \(error?.reason ?? "none")")
        #expect(try store.stats().listens == 0)
    }

    @Test func invalidUTF8IsUndecodableText() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let path = dir.write("t.tsv", bytes: Array("u1\tS1\t1\n".utf8) + [0x75, 0xFF, 0xFE] + Array("\tS2\t1\n".utf8))
        let error = expectInputError { _ = try TasteProfileImporter(store: store).importTriplets(path: path) }
        #expect(error?.line == 2)
        #expect(error?.reason.contains("user id is not valid UTF-8 (byte 0xff at offset 1)") == true, "\(error?.reason ?? "")")
    }

    /// Duplicates are rejected, never summed; re-importing the same file replaces counts, never doubles them.
    @Test func reimportIsIdempotent() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let triplets = dir.write("t.tsv", TasteProfileFixture.triplets)
        let metadata = dir.write("song_data.csv", TasteProfileFixture.songData)
        _ = try TasteProfileImporter(store: store).importTriplets(path: triplets, metadata: metadata)
        let first = try store.stats()
        let firstListens = try store.db.rows("SELECT user_id, item_id, play_count FROM listens ORDER BY 1, 2")
        _ = try TasteProfileImporter(store: store).importTriplets(path: triplets, metadata: metadata)
        #expect(try store.stats() == first)
        #expect(try store.db.rows("SELECT user_id, item_id, play_count FROM listens ORDER BY 1, 2") == firstListens)
        let log = try store.importLog()
        #expect(log.count == 4)
        #expect(log[1].fingerprint == log[3].fingerprint)
        // A newer snapshot of one pair replaces its count.
        _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t2.tsv", "u1\tS1\t7\n"))
        #expect(try store.db.integer("SELECT play_count FROM listens l JOIN users u ON u.id = l.user_id JOIN items i ON i.id = l.item_id WHERE u.external_id = 'u1' AND i.external_id = 'S1'") == 7)
        #expect(try store.stats().listens == 5)
    }

    /// A bad row deep in a file, after thousands of good rows and new users, leaves the store as it was.
    @Test func failureMidFileRollsBackEverything() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", TasteProfileFixture.triplets))
        let before = try snapshot(store)
        var text = ""
        for i in 0..<5_000 { text += "new\(i)\tS\(i % 50)\t\(i % 7 + 1)\n" }
        text += "broken line\n"
        for i in 0..<100 { text += "late\(i)\tS1\t1\n" }
        let path = dir.write("big.tsv", text)
        let error = expectInputError { _ = try TasteProfileImporter(store: store).importTriplets(path: path) }
        #expect(error?.line == 5_001)
        #expect(try snapshot(store) == before)
        // The store still works after the rollback.
        _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("ok.tsv", "u9\tS1\t1\n"))
        #expect(try store.stats().users == 4)
    }

    @Test func maxErrorsSkipsAndReportsEachBadRow() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let path = dir.write("t.tsv", "u1\tS1\t1\nu1\tS2\tx\nu2\tS1\t2\nu2\tS1\t3\nu3\tS3\n")
        let report = try TasteProfileImporter(store: store).importTriplets(path: path, options: ImportOptions(maxErrors: 3))
        // Duplicates are found when a batch of rows is written, so they may be reported after later lines.
        #expect(report.skippedRows.count == 3)
        #expect(report.skippedRows.contains { $0.hasPrefix("\(path):2: play count 'x'") })
        #expect(report.skippedRows.contains { $0.hasPrefix("\(path):4: duplicate (user, song) pair u2, S1") })
        #expect(report.skippedRows.contains { $0.hasPrefix("\(path):5: wrong column count") })
        #expect(report.files[0].rowsRead == 5)
        #expect(report.files[0].rowsAccepted == 2)
        #expect(report.files[0].rowsRejected == 3)
        // The first occurrence of a duplicate is kept.
        #expect(try store.db.integer("SELECT play_count FROM listens WHERE user_id = 1") == 2)
        // One more bad row than allowed: the whole import is rolled back.
        let other = try GraphStore(path: dir.file("o.sqlite"))
        let before = try snapshot(other)
        do {
            _ = try TasteProfileImporter(store: other).importTriplets(path: path, options: ImportOptions(maxErrors: 2))
            Issue.record("expected ImportAborted")
        } catch let aborted as ImportAborted {
            #expect(aborted.errors.count == 3)
            #expect(Set(aborted.errors.compactMap(\.line)) == [2, 4, 5])
        }
        #expect(try snapshot(other) == before)
    }

    /// A duplicate inside a full write batch: exactly that line is rejected, every other row is kept, and
    /// the popularity computed on the way equals a full recomputation.
    @Test func duplicateInsideAFullBatchIsPinpointed() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        var lines: [String] = []
        for i in 0..<400 { lines.append("user\(i / 10)\tsong\(i % 37)\t\(i % 5 + 1)") }
        lines.insert("user3\tsong30\t9", at: 200)  // user3 already listened to song30 (row 30)
        let path = dir.write("t.tsv", lines.joined(separator: "\n") + "\n")
        let report = try TasteProfileImporter(store: store).importTriplets(path: path, options: ImportOptions(maxErrors: 1))
        #expect(report.skippedRows == ["\(path):201: duplicate (user, song) pair user3, song30: duplicates are rejected, not summed"])
        #expect(try store.stats().listens == 400)
        #expect(try store.db.integer("SELECT play_count FROM listens l JOIN users u ON u.id = l.user_id JOIN items i ON i.id = l.item_id WHERE u.external_id = 'user3' AND i.external_id = 'song30'") == 1)
        let fast = try store.db.rows("SELECT id, popularity FROM items ORDER BY id")
        _ = try store.prepare(PreparationParameters())  // recomputes popularity by scanning the listens
        #expect(try store.db.rows("SELECT id, popularity FROM items ORDER BY id") == fast)
        let error = expectInputError {
            _ = try TasteProfileImporter(store: try GraphStore(path: dir.file("strict.sqlite"))).importTriplets(path: path)
        }
        #expect(error?.line == 201)
    }

    @Test func storeRefusesAnotherDatasetKind() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", "u1\tS1\t1\n"))
        LastfmFixture.write(into: dir)
        #expect(throws: StoreError.self) { _ = try LastfmImporter(store: store).importDirectory(dir.path) }
    }
}
