import Foundation
import SQLite
import TasteGraphSupport
import TestSupport
import Testing

@testable import TasteGraphStore

/// Runs `body`, expecting an error of type `E`, and returns it.
func expectError<E: Error>(_ expected: E.Type, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> E? {
    do {
        try body()
        Issue.record("expected \(E.self)", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected \(E.self), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Play counts: a documented maximum per row at import, and no sum over a store written by another tool can
/// overflow (issue 12, item 2).
@Suite struct PlayCountLimitTests {
    @Test func theMaximumKeepsEveryInt64SumOfTwoToThe31RowsExact() {
        let (sum, overflow) = GraphStore.maximumPlayCount.multipliedReportingOverflow(by: 1 << 31)
        #expect(!overflow && sum > 0)
    }

    /// 2^62 twice (the sum overflows Int64), 2^63 − 1 once, and just above the maximum: each is refused on
    /// its line and nothing is imported.
    @Test(arguments: [
        ("u1\tS1\t4611686018427387904\nu2\tS1\t4611686018427387904\n", 1),
        ("u1\tS1\t5\nu1\tS2\t9223372036854775807\n", 2),
        ("u1\tS1\t1000000001\n", 1),
    ])
    func tripletsAboveTheMaximumAreRejectedOnTheirLine(input: String, line: Int) throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let path = dir.write("t.tsv", input)
        let error = expectInputError { _ = try TasteProfileImporter(store: store).importTriplets(path: path) }
        #expect(error?.file == path)
        #expect(error?.line == line)
        #expect(error?.reason.contains("too large: at most 1,000,000,000 plays per row") == true, "\(error?.reason ?? "")")
        #expect(try store.stats().listens == 0)
    }

    @Test func theMaximumItselfIsAccepted() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", "u1\tS1\t1000000000\nu2\tS1\t1000000000\n"))
        #expect(try store.stats().plays == 2_000_000_000)
    }

    @Test func lastfmWeightAboveTheMaximumIsRejectedOnItsLine() throws {
        let dir = TemporaryDirectory()
        LastfmFixture.write(into: dir)
        let path = dir.write("user_artists.dat", "userID\tartistID\tweight\r\n2\t1\t100\r\n2\t2\t9223372036854775807\r\n")
        let store = try GraphStore(path: dir.file("l.sqlite"))
        let error = expectInputError { _ = try LastfmImporter(store: store).importDirectory(dir.path) }
        #expect(error?.file == path)
        #expect(error?.line == 3)
        #expect(error?.reason.contains("too large") == true)
    }

    /// A store another tool wrote with huge, fractional or textual counts: every reader refuses it with an
    /// `InputError` naming the store instead of trapping on an overflowing sum.
    @Test(arguments: ["4611686018427387904", "9223372036854775807", "1e300", "'many'", "-5"])
    func storeWithCountsNoImportWritesIsRefusedByEveryReader(value: String) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let store = try GraphStore(path: path)
        _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", "u1\tS1\t3\nu2\tS1\t4\nu2\tS2\t5\n"))
        // Another tool: no CHECK constraint stops it (a rebuilt table), and it writes two rows.
        try store.db.execute(
            """
            CREATE TABLE l2 AS SELECT * FROM listens; DROP TABLE listens;
            CREATE TABLE listens (user_id INTEGER NOT NULL, item_id INTEGER NOT NULL, play_count, import_id INTEGER NOT NULL,
                PRIMARY KEY (user_id, item_id)) WITHOUT ROWID;
            INSERT INTO listens SELECT * FROM l2; DROP TABLE l2;
            UPDATE listens SET play_count = \(value) WHERE item_id = 0;
            """)
        for (name, read) in [
            ("stats", { _ = try store.stats() }),
            ("listens", { _ = try store.listens() }),
            ("prepare", { _ = try store.prepare(PreparationParameters(minUserPlays: 1)) }),
        ] as [(String, () throws -> Void)] {
            let error = expectInputError(read)
            #expect(error?.file == path, "\(name)")
            #expect(error?.reason.contains("outside 0…1,000,000,000") == true, "\(name): \(error?.reason ?? "")")
        }
        // An import on top recomputes popularity over every stored listen: refused too, and rolled back.
        let more = dir.write("more.tsv", "u3\tS3\t1\n")
        #expect(expectInputError { _ = try TasteProfileImporter(store: store).importTriplets(path: more) }?.file == path)
    }

    @Test func storeWhoseIdsAreNotDenseIsRefusedNotIndexedOutOfRange() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let store = try GraphStore(path: path)
        _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", "u1\tS1\t3\nu2\tS1\t4\n"))
        try store.db.execute("UPDATE users SET id = 4611686018427387904 WHERE id = 1; UPDATE listens SET user_id = 4611686018427387904 WHERE user_id = 1;")
        for read in [{ _ = try store.stats() }, { _ = try store.listens() }, { _ = try store.catalog() }] as [() throws -> Void] {
            #expect(expectInputError(read)?.reason.contains("ids are not 0…1") == true)
        }
    }
}

/// Input edge cases (issue 12, item 6): byte-order marks, control bytes in messages, unreadable inputs,
/// a locked store, and line breaks inside quoted CSV fields.
@Suite struct InputEdgeCaseTests {
    static let bom = "\u{FEFF}"

    @Test func byteOrderMarkDoesNotCreateASecondUser() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", Self.bom + "u1\tS1\t3\nu1\tS2\t1\n"))
        #expect(try store.catalog().userExternalIDs == ["u1"])
    }

    @Test(arguments: [TasteProfileFixture.songData, TasteProfileFixture.uniqueTracks])
    func byteOrderMarkBeforeSongMetadataIsIgnored(metadata: String) throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        _ = try TasteProfileImporter(store: store).importTriplets(
            path: dir.write("t.tsv", TasteProfileFixture.triplets), metadata: dir.write("meta", Self.bom + metadata))
        let catalog = try store.catalog()
        #expect(catalog.itemTitles[catalog.itemExternalIDs.firstIndex(of: "S1")!] == "Hello, World")
        #expect(!catalog.itemExternalIDs.contains { $0.hasPrefix(Self.bom) })
    }

    @Test(arguments: ["artists.dat", "tags.dat", "user_artists.dat", "user_friends.dat", "user_taggedartists.dat"])
    func byteOrderMarkBeforeAnyLastfmHeaderIsIgnored(file: String) throws {
        let dir = TemporaryDirectory()
        LastfmFixture.write(into: dir)
        let path = dir.file(file)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        try (Data(LineReader.byteOrderMark) + original).write(to: URL(fileURLWithPath: path))
        let store = try GraphStore(path: dir.file("l.sqlite"))
        _ = try LastfmImporter(store: store).importDirectory(dir.path)
        let stats = try store.stats()
        #expect(stats.users == 2 && stats.listens == 4 && stats.tags == 2 && stats.friendPairs == 2)
    }

    /// A play count that would retitle the terminal and clear the screen is shown as visible escapes.
    @Test func controlBytesInTripletsAreEscapedInTheMessage() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let path = dir.write("t.tsv", "u1\tS1\t\u{1B}]0;pwned\u{07}\u{1B}[2J1\n")
        let error = expectInputError { _ = try TasteProfileImporter(store: store).importTriplets(path: path) }
        let message = error?.description ?? ""
        #expect(message.contains(#"play count '\x1b]0;pwned\x07\x1b[2J1' is not an integer"#), "\(message)")
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }

    @Test func nulInALastfmIdIsVisibleInTheMessage() throws {
        let dir = TemporaryDirectory()
        LastfmFixture.write(into: dir)
        dir.write("user_artists.dat", bytes: Array("userID\tartistID\tweight\n2".utf8) + [0] + Array("\t1\t5\n".utf8))
        let store = try GraphStore(path: dir.file("l.sqlite"))
        let error = expectInputError { _ = try LastfmImporter(store: store).importDirectory(dir.path) }
        #expect(error?.description.contains(#"user id '2\0' is not an integer"#) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("\0") == false)
    }

    /// Missing, directory and other unreadable inputs: one message shape, `PATH: cannot read: WHY`.
    @Test func unreadableInputsHaveOneMessageShape() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        try FileManager.default.createDirectory(atPath: dir.file("folder"), withIntermediateDirectories: false)
        let importer = TasteProfileImporter(store: store)
        let missing = expectInputError { _ = try importer.importTriplets(path: dir.file("missing.tsv")) }
        #expect(missing?.description == "\(dir.file("missing.tsv")): cannot read: no such file")
        let folder = expectInputError { _ = try importer.importTriplets(path: dir.file("folder")) }
        #expect(folder?.description == "\(dir.file("folder")): cannot read: it is a directory, not a file")
        let triplets = dir.write("t.tsv", "u1\tS1\t1\n")
        let metadata = expectInputError { _ = try importer.importTriplets(path: triplets, metadata: dir.file("folder")) }
        #expect(metadata?.description == "\(dir.file("folder")): cannot read: it is a directory, not a file")
        let lastfm = expectInputError { _ = try LastfmImporter(store: store).importDirectory(dir.file("nowhere")) }
        #expect(lastfm?.description == "\(dir.file("nowhere")): cannot read: no such directory")
        LastfmFixture.write(into: dir)
        try FileManager.default.removeItem(atPath: dir.file("user_friends.dat"))
        try FileManager.default.createDirectory(atPath: dir.file("user_friends.dat"), withIntermediateDirectories: false)
        let friends = expectInputError { _ = try LastfmImporter(store: GraphStore(path: dir.file("l.sqlite"))).importDirectory(dir.path) }
        #expect(friends?.description == "\(dir.file("user_friends.dat")): cannot read: it is a directory, not a file")
    }

    /// A write lock held by another connection is a clear error naming the store, after a short wait.
    @Test func lockedStoreNamesTheStore() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.sqlite")
        _ = try GraphStore(path: path)
        let other = try Database(path: path)
        try other.execute("BEGIN IMMEDIATE")
        defer { try? other.execute("ROLLBACK") }
        let store = try GraphStore(path: path)
        let started = Date()
        let error = expectError(StoreError.self) {
            _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", "u1\tS1\t1\n"))
        }
        #expect(error?.message.contains("the store \(path) is locked by another process") == true, "\(String(describing: error))")
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(expectError(StoreError.self) { _ = try store.prepare(PreparationParameters()) }?.message.contains("locked") == true)
    }

    /// RFC 4180: quoted fields may hold tabs and line breaks; a record spanning lines 3–6 keeps later line
    /// numbers right.
    @Test func songDataCSVAcceptsTabsAndLineBreaksInQuotedFields() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let csv = "song_id,title,release,artist_name,year\r\n"
            + "S1,\"Tab\there\",First,The Band,2001\r\n"
            + "S2,\"Line one\r\n\r\nLine \"\"three\"\"\",\"Rel,\nease\",The Band,0\r\n"
            + "S3,Rain,Clouds,Solo Act,1999\r\n"
        let metadata = dir.write("song_data.csv", csv)
        let report = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", TasteProfileFixture.triplets), metadata: metadata)
        let catalog = try store.catalog()
        func title(_ song: String) -> String? { catalog.itemTitles[catalog.itemExternalIDs.firstIndex(of: song)!] }
        #expect(title("S1") == "Tab\there")
        #expect(title("S2") == "Line one\n\nLine \"three\"")
        #expect(catalog.itemReleases[catalog.itemExternalIDs.firstIndex(of: "S2")!] == "Rel,\nease")
        #expect(title("S3") == "Rain")
        #expect(report.files.first { $0.kind == "metadata" }?.rowsRead == 3)

        let bad = dir.write("bad.csv", csv + "S4,\"x\ny\",r,,1\r\nS5,ok,r,A,19x9\r\n")
        let error = expectInputError {
            _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t2.tsv", "u9\tS4\t1\n"), metadata: bad)
        }
        #expect(error?.line == 8)  // the record of lines 8–9
        #expect(error?.reason == "artist name is empty")
        let later = dir.write("later.csv", csv + "S5,ok,r,A,19x9\r\n")
        let laterError = expectInputError {
            _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t3.tsv", "u9\tS5\t1\n"), metadata: later)
        }
        #expect(laterError?.line == 8)
        #expect(laterError?.reason.contains("year '19x9' is not an integer") == true)
    }

    @Test func unterminatedQuoteIsReportedOnTheRecordsFirstLine() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let metadata = dir.write("song_data.csv", "song_id,title,release,artist_name,year\nS1,ok,r,A,1\nS2,\"open,r,A,1\nS3,x,r,A,1\n")
        let error = expectInputError {
            _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", "u1\tS1\t1\n"), metadata: metadata)
        }
        #expect(error?.line == 3)
        #expect(error?.reason.contains("unterminated quoted field") == true)
    }

    /// Ids stay strict: a tab in a quoted song id is still rejected.
    @Test func tabInAQuotedSongIdIsRejected() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let metadata = dir.write("song_data.csv", "song_id,title,release,artist_name,year\n\"S\t1\",t,r,A,1\n")
        let error = expectInputError {
            _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", "u1\tS1\t1\n"), metadata: metadata)
        }
        #expect(error?.line == 2)
        #expect(error?.reason.contains("song id contains control byte 0x9") == true)
    }
}
