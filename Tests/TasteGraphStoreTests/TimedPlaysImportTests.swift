import Foundation
import TasteGraphCore
import TestSupport
import Testing

@testable import TasteGraphStore

@Suite struct TimedPlaysImportTests {
    /// Unsorted plays in both time notations; u1 plays S1 twice.
    static let plays = """
        u1\tS2\t2009-05-04T23:10:00Z
        u1\tS1\t2009-05-04T23:08:57Z
        u2\tS1\t1241478537
        u1\tS1\t2009-05-05T01:08:57+02:00

        """

    @Test func keepsEveryPlayWithItsTimeAndDerivesPlayCounts() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let report = try TimedPlaysImporter(store: store).importPlays(path: dir.write("plays.tsv", Self.plays), format: .plays)
        #expect(report.rowsRead == 4)
        let timed = try store.timedPlays()
        #expect(timed.count == 4)
        #expect(timed.times == [1_241_478_600, 1_241_478_537, 1_241_478_537, 1_241_478_537])  // file order; +02:00 is 23:08:57Z
        let counts = try store.db.text(
            "SELECT group_concat(pair, ',') FROM (SELECT u.external_id || '/' || i.external_id || '=' || play_count AS pair FROM listens JOIN users u ON u.id = user_id JOIN items i ON i.id = item_id ORDER BY 1)")
        #expect(counts == "u1/S1=2,u1/S2=1,u2/S1=1")
        #expect(try store.datasetKind == .listeningHistory)
    }

    @Test func refusesBadTimesOnTheirLineAndLeavesTheStoreUnchanged() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        _ = try TimedPlaysImporter(store: store).importPlays(path: dir.write("ok.tsv", Self.plays), format: .plays)
        let before = try snapshot(store)
        for (text, line, reason) in [
            ("u\tS\t2009-05-04T23:08:57Z\nu\tS\tyesterday\n", 2, "bad time"),
            ("u\tS\t2100-01-01T00:00:00Z\n", 1, "out of range"),
            ("u\tS\n", 1, "wrong column count"),
        ] {
            let error = expectInputError { _ = try TimedPlaysImporter(store: store).importPlays(path: dir.write("bad.tsv", text), format: .plays) }
            #expect(error?.line == line)
            #expect(error?.reason.contains(reason) == true, "\(error?.reason ?? "")")
            #expect(try snapshot(store) == before)
            #expect(try store.timedPlayCount() == 4)
        }
        // --max-errors skips the bad row and keeps the good one.
        let skipped = try TimedPlaysImporter(store: store).importPlays(
            path: dir.write("mixed.tsv", "u9\tS9\t2010-01-01T00:00:00Z\nu9\tS9\tnever\n"), format: .plays, options: ImportOptions(maxErrors: 1))
        #expect(skipped.skippedRows.count == 1)
        #expect(try store.timedPlayCount() == 5)
    }

    @Test func theSameFileTwiceIsRefusedRatherThanCountedTwice() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let path = dir.write("plays.tsv", Self.plays)
        _ = try TimedPlaysImporter(store: store).importPlays(path: path, format: .plays)
        let error = expectInputError { _ = try TimedPlaysImporter(store: store).importPlays(path: path, format: .plays) }
        #expect(error?.reason.contains("imported before") == true)
        #expect(try store.timedPlayCount() == 4)
    }

    @Test func readsTheLastfm1KDumpWithAndWithoutMusicBrainzIDs() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let dump = """
            user_000001\t2009-05-04T23:08:57Z\tf1b1cf71-bd35-4e99-8624-24a6e15f133a\tDeep Dish\t\tFuck Me Im Famous (Pacha Ibiza)-09-28-2007
            user_000001\t2009-05-04T13:54:10Z\ta7f7df4a-77d8-4f12-8acd-5c60c93f4de8\t坂本龍一\t\tComposition 0919 (Live_2009_4_15)
            user_000002\t2009-05-04T13:52:04Z\t\tSomeone\tt-1\tA Track
            user_000002\t2009-05-04T13:55:04Z\t\tSomeone\tt-1\tA Track

            """
        _ = try TimedPlaysImporter(store: store).importPlays(path: dir.write("1k.tsv", dump), format: .lastfm1k)
        #expect(try store.timedPlayCount() == 4)
        let items = try #require(try store.db.text(
            "SELECT group_concat(row, '\n') FROM (SELECT i.external_id || '|' || COALESCE(i.title, '') || '|' || a.name AS row FROM items i JOIN artists a ON a.id = i.artist_id ORDER BY i.id)"))
            .split(separator: "\n").map(String.init)
        #expect(items.count == 3)
        #expect(items[0].contains("Deep Dish – Fuck Me Im Famous") && items[1].contains("坂本龍一"))
        #expect(items[2].contains("t-1") && items[2].contains("Someone"))
        #expect(try store.db.integer("SELECT play_count FROM listens WHERE item_id = 2") == 2)
        let error = expectInputError {
            _ = try TimedPlaysImporter(store: store).importPlays(path: dir.write("bad.tsv", "user_3\t2009-05-04T13:52:04Z\t\t\t\t\n"), format: .lastfm1k)
        }
        #expect(error?.line == 1 && error?.reason.contains("no id") == true)
    }
}
