import Foundation
import SQLite
import TestSupport
import Testing

@testable import TasteGraphStore
import TasteGraphSupport

/// Hand-computed example for the filters and the popularity score.
///
/// ```
///        A    B    C    D      user plays / items
/// u1    10    2    -    -      12 / 2
/// u2     4    -    6    -      10 / 2
/// u3     -    -    -    1       1 / 1
/// ```
/// Item D is heard only by u3. Totals: A 14 (2 listeners, avg 7), B 2 (1, avg 2), C 6 (1, avg 6), D 1 (1, avg 1).
@Suite struct PreparationTests {
    static let triplets = "u1\tA\t10\nu1\tB\t2\nu2\tA\t4\nu2\tC\t6\nu3\tD\t1\n"

    func makeStore(_ dir: TemporaryDirectory) throws -> GraphStore {
        let store = try GraphStore(path: dir.file("p.sqlite"))
        _ = try TasteProfileImporter(store: store).importTriplets(path: dir.write("t.tsv", Self.triplets))
        return store
    }

    func popularity(_ store: GraphStore) throws -> [String: Double] {
        var result: [String: Double] = [:]
        for row in try store.db.rows("SELECT external_id, popularity FROM items") {
            if case .text(let id) = row[0], case .real(let p) = row[1] { result[id] = p }
        }
        return result
    }

    /// popularity = 0.6·minmax(avg) + 0.4·minmax(total); avg ∈ [1, 7], total ∈ [1, 14].
    @Test func popularityMatchesHandComputation() throws {
        let dir = TemporaryDirectory()
        let store = try makeStore(dir)
        let p = try popularity(store)
        let expected: [String: Double] = [
            "A": 0.6 * 1 + 0.4 * 1,
            "B": 0.6 * (1.0 / 6) + 0.4 * (1.0 / 13),
            "C": 0.6 * (5.0 / 6) + 0.4 * (5.0 / 13),
            "D": 0,
        ]
        for (item, value) in expected { #expect(abs(p[item]! - value) < 1e-12, "\(item): \(p[item]!) vs \(value)") }
    }

    @Test func filtersReportWhatEachRemoved() throws {
        let dir = TemporaryDirectory()
        let store = try makeStore(dir)
        let report = try store.prepare(PreparationParameters(minUserPlays: 5, minUserItems: 2, minItemAveragePlays: 3))
        // Step 1 drops u3 (1 play, 1 item) and its one listen of D.
        #expect(report.steps[0].usersRemoved == 1)
        #expect(report.steps[0].listensRemoved == 1)
        #expect(report.steps[0].playsRemoved == 1)
        // Step 2 on u1, u2: A avg 7, B avg 2, C avg 6, D has no listener left → B and D go.
        #expect(report.steps[1].itemsRemoved == 2)
        #expect(report.steps[1].listensRemoved == 1)
        #expect(report.steps[1].playsRemoved == 2)
        #expect(report.usersKept == 2)
        #expect(report.itemsKept == 2)
        #expect(report.listensKept == 3)
        let stats = try store.stats()
        #expect(stats.users == 2 && stats.items == 2 && stats.listens == 3 && stats.plays == 20)
        #expect(stats.inactiveUsers == 1 && stats.inactiveItems == 2)
        // Popularity over the kept catalog {A: avg 7 total 14, C: avg 6 total 6}: A = 1, C = 0; dropped items 0.
        let p = try popularity(store)
        #expect(p["A"] == 1)
        #expect(p["C"] == 0)
        #expect(p["B"] == 0)
        // Running again with no filters restores everything: filters never delete.
        let reset = try store.prepare(PreparationParameters())
        #expect(reset.steps.isEmpty)
        #expect(try store.stats().listens == 5)
        #expect(try store.db.integer("SELECT COUNT(*) FROM preparations") == 2)
    }

    @Test func statsQuantilesInterpolateLinearly() {
        let q = Quantiles([1, 2, 3, 4, 100])
        #expect(q.min == 1 && q.median == 3 && q.max == 100)
        #expect(q.p25 == 2)
        #expect(abs(q.p90 - 61.6) < 1e-9)  // 4 + 0.6·96
        #expect(q.mean == 22)
    }

    @Test func storeFromANewerSchemaIsRefused() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("future.sqlite")
        do {
            let db = try Database(path: path)
            try db.execute("PRAGMA user_version = 99")
        }
        #expect(throws: StoreError.self) { try GraphStore(path: path) }
        let notADatabase = dir.write("text.sqlite", String(repeating: "not sqlite at all ", count: 100))
        #expect(throws: StoreError.self) { try GraphStore(path: notADatabase) }
        #expect(throws: StoreError.self) { try GraphStore.openExisting(path: dir.file("missing.sqlite")) }
    }

    @Test func storeIsInWALModeAtTheLatestSchema() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("w.sqlite"))
        #expect(try store.db.text("PRAGMA journal_mode") == "wal")
        #expect(try store.schemaVersion == Migrations.latest)
    }
}
