import Foundation
import SQLite
import TasteGraphCore
import TestSupport
import Testing

@testable import TasteGraphStore

/// The Taste Profile fixture imported into a fresh store: users u1 u2 u3 (0, 1, 2), songs S1 S2 S3 with
/// metadata (0, 1, 2) and S4 without (3), artists "The Band" (0) and "Solo Act" (1).
private func fixtureStore(_ dir: TemporaryDirectory, name: String = "s.sqlite") throws -> GraphStore {
    let store = try GraphStore(path: dir.file(name))
    _ = try TasteProfileImporter(store: store).importTriplets(
        path: dir.write("t.tsv", TasteProfileFixture.triplets), metadata: dir.write("tracks.txt", TasteProfileFixture.uniqueTracks))
    return store
}

/// Everything the store holds, live tables included; `dataOnly` leaves out the import log's row counters.
private func liveSnapshot(_ store: GraphStore, dataOnly: Bool = false) throws -> String {
    var out = ""
    for table in ["dataset_info", "users", "artists", "items", "tags", "tag_assignments", "item_tags", "listens", "friends", "preparations"] {
        for row in try store.db.rows("SELECT * FROM \(table) ORDER BY 1, 2") { out += "\(table): \(row)\n" }
    }
    let log = dataOnly ? "SELECT id, kind, file, fingerprint FROM imports ORDER BY id" : "SELECT * FROM imports ORDER BY id"
    for row in try store.db.rows(log) { out += "imports: \(row)\n" }
    for (table, order) in [("listen_events", "rowid"), ("feedback", "rowid"), ("item_live_tags", "item_id, position")] {
        for row in try store.db.rows("SELECT * FROM \(table) ORDER BY \(order)") { out += "\(table): \(row)\n" }
    }
    return out
}

/// The play count of each (user external id, item external id) pair `listens()` returns.
private func plays(_ store: GraphStore) throws -> [String: Float] {
    let catalog = try store.catalog()
    let table = try store.listens()
    var out: [String: Float] = [:]
    for k in 0..<table.count {
        let (user, item, plays) = table.listen(at: k)
        out["\(catalog.externalID(of: user))/\(catalog.externalID(of: item))"] = plays
    }
    return out
}

private func listen(_ event: String, _ user: String, _ item: String, _ plays: Int64 = 1, at: Int64 = 1_800_000_000) -> LiveListen {
    LiveListen(eventID: event, user: user, item: item, plays: plays, at: at)
}

@Suite struct LiveListenTests {
    @Test func aBatchIsStoredAndVisibleThroughCatalogAndListens() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let before = try plays(store)
        #expect(before["u1/S1"] == 3 && before["u1/S3"] == nil)
        let receipt = try store.appendListens([listen("e1", "u1", "S1", 4), listen("e2", "u1", "S3", 2)], receivedAt: 1_800_000_100)
        #expect(receipt.accepted == 2 && receipt.duplicates == 0 && receipt.newUsers.isEmpty && receipt.newItems.isEmpty)
        #expect(
            receipt.events == [
                .init(batchIndex: 0, user: UserIndex(0), item: ItemIndex(0), plays: 4, totalPlays: 7),
                .init(batchIndex: 1, user: UserIndex(0), item: ItemIndex(2), plays: 2, totalPlays: 2),
            ])
        var expected = before
        expected["u1/S1"] = 7
        expected["u1/S3"] = 2
        #expect(try plays(store) == expected)
        #expect(try store.stats().plays == 21 + 6)
        #expect(
            try store.listenEvents() == [
                StoredListen(eventID: "e1", user: UserIndex(0), item: ItemIndex(0), plays: 4, at: 1_800_000_000, receivedAt: 1_800_000_100),
                StoredListen(eventID: "e2", user: UserIndex(0), item: ItemIndex(2), plays: 2, at: 1_800_000_000, receivedAt: 1_800_000_100),
            ])
        let live = try store.importLog().filter { $0.kind == "live" }
        #expect(live.count == 1 && live.first?.rowsRead == 2 && live.first?.rowsAccepted == 2)
        #expect(try store.db.integer("SELECT COUNT(DISTINCT import_id) FROM listens WHERE user_id = 0 AND item_id IN (0, 2)") == 1)
    }

    @Test func aRetriedBatchChangesNothing() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let fingerprintBefore = try store.dataFingerprint()
        let batch = [listen("e1", "u2", "S1", 5), listen("e2", "new-user", "NEW-SONG", 3)]
        let first = try store.appendListens(batch, receivedAt: 10)
        #expect(first.accepted == 2 && first.newUsers == ["new-user"] && first.newItems == ["NEW-SONG"])
        let fingerprintAfter = try store.dataFingerprint()
        #expect(fingerprintAfter != fingerprintBefore)
        let state = try liveSnapshot(store, dataOnly: true)
        let retry = try store.appendListens(batch, receivedAt: 20)
        #expect(retry.accepted == 0 && retry.duplicates == 2 && retry.events.isEmpty && retry.newUsers.isEmpty && retry.newItems.isEmpty)
        // Only the live row's received and duplicate counters move; the data and its fingerprint do not.
        #expect(try liveSnapshot(store, dataOnly: true) == state)
        #expect(try store.dataFingerprint() == fingerprintAfter)
        #expect(try plays(store)["u2/S1"] == 15)
        #expect(try store.listenEventCount() == 2)
        let live = try store.importLog().first { $0.kind == "live" }
        #expect(live?.rowsRead == 4 && live?.rowsAccepted == 2 && live?.rowsRejected == 2)
    }

    @Test func aRepeatedEventIDInOneBatchCountsOnce() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let receipt = try store.appendListens(
            [listen("e1", "u3", "S4", 2), listen("e1", "u3", "S4", 2), listen("e2", "u3", "S4", 1), listen("e1", "u1", "S2", 9)],
            receivedAt: 0)
        #expect(receipt.accepted == 2 && receipt.duplicates == 2)
        #expect(receipt.events.map(\.batchIndex) == [0, 2])
        #expect(receipt.events.map(\.totalPlays) == [7, 8])
        let now = try plays(store)
        #expect(now["u3/S4"] == 8 && now["u1/S2"] == 1)
    }

    @Test func unknownUsersAndItemsGetTheNextDenseIDs() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let receipt = try store.appendListens(
            [listen("e1", "u9", "S1"), listen("e2", "u8", "S77"), listen("e3", "u9", "S78"), listen("e4", "u2", "S77")], receivedAt: 0)
        #expect(receipt.newUsers == ["u9", "u8"])
        #expect(receipt.newItems == ["S77", "S78"])
        #expect(receipt.events.map(\.user.rawValue) == [3, 4, 3, 1])
        #expect(receipt.events.map(\.item.rawValue) == [0, 4, 5, 4])
        let catalog = try store.catalog()
        #expect(catalog.userExternalIDs == ["u1", "u2", "u3", "u9", "u8"])
        #expect(catalog.itemExternalIDs == ["S1", "S2", "S3", "S4", "S77", "S78"])
        #expect(catalog.itemArtist[4] == -1 && catalog.itemTitles[4] == nil && catalog.itemActive[4] && catalog.userActive[4])
        #expect(try plays(store)["u8/S77"] == 1)
        // A second batch continues the sequence.
        let next = try store.appendListens([listen("e5", "u10", "S79")], receivedAt: 0)
        #expect(next.events.first?.user == UserIndex(5) && next.events.first?.item == ItemIndex(6))
    }

    @Test func anEmptyStoreTakesLiveListens() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("empty.sqlite"))
        let receipt = try store.appendListens([listen("e1", "a", "x", 2), listen("e2", "b", "x", 1)], receivedAt: 0)
        #expect(receipt.events.map(\.user.rawValue) == [0, 1] && receipt.events.map(\.item.rawValue) == [0, 0])
        #expect(try plays(store) == ["a/x": 2, "b/x": 1])
        #expect(try store.datasetKind == nil)
    }

    @Test(arguments: [
        (listen("e2", "u1", "S1", 0), "plays"),
        (listen("e2", "u1", "S1", -3), "plays"),
        (listen("e2", "u1", "S1", 1_000_000_001), "plays"),
        (listen("", "u1", "S1"), "event_id"),
        (listen("e2", "", "S1"), "user"),
        (listen("e2", "u1", ""), "item"),
        (listen("e2", "u\u{0}1", "S1"), "user"),
        (listen("e2", "u1", "S\n1"), "item"),
        (listen("e\u{7F}2", "u1", "S1"), "event_id"),
        (listen("e2", String(repeating: "u", count: 1_025), "S1"), "user"),
    ])
    func aBatchWithOneBadElementStoresNothing(bad: LiveListen, field: String) throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let before = try liveSnapshot(store)
        let error = expectError(LiveWriteError.self) {
            _ = try store.appendListens([listen("e1", "new-user", "S1"), bad, listen("e3", "u2", "NEW")], receivedAt: 0)
        }
        #expect(error?.index == 1)
        #expect(error?.field == field)
        #expect(error?.kind == .invalid)
        #expect(error?.description.hasPrefix("element 1, field \(field): ") == true, "\(error?.description ?? "")")
        #expect(try liveSnapshot(store) == before)
    }

    @Test func aTotalAboveTheMaximumRollsBackTheWholeBatch() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        _ = try store.appendListens([listen("e0", "u1", "S1", 1_000_000_000 - 3)], receivedAt: 0)
        #expect(try plays(store)["u1/S1"] == 1_000_000_000)
        let before = try liveSnapshot(store)
        let error = expectError(LiveWriteError.self) {
            _ = try store.appendListens([listen("e1", "u7", "S9"), listen("e2", "u1", "S1", 1)], receivedAt: 0)
        }
        #expect(error?.index == 1 && error?.field == "plays")
        #expect(error?.reason.contains("1000000001 plays") == true, "\(error?.reason ?? "")")
        #expect(try liveSnapshot(store) == before)  // u7 and S9 were created, then rolled back
        #expect(try store.catalog().userCount == 3)
    }

    @Test func liveListensSurviveClosingAndReopening() throws {
        let dir = TemporaryDirectory()
        var store: GraphStore? = try fixtureStore(dir)
        try store!.setDurability(.powerLoss)
        _ = try store!.appendListens([listen("e1", "u1", "S4", 6), listen("e2", "fresh", "S1", 2)], receivedAt: 0)
        _ = try store!.appendFeedback([LiveFeedback(eventID: "f1", user: "fresh", item: "S4", kind: .dislike, at: 5)], receivedAt: 6)
        _ = try store!.addItems([NewItem(id: "S100", title: "Late Song", artist: "Newcomer", tags: ["indie"])])
        let fingerprint = try store!.dataFingerprint()
        store = nil  // closes the connection
        let reopened = try GraphStore.openExisting(path: dir.file("s.sqlite"))
        #expect(reopened.durability == .processCrash)  // the setting belongs to a handle
        let now = try plays(reopened)
        #expect(now["u1/S4"] == 6 && now["fresh/S1"] == 2)
        #expect(try reopened.listenEventCount() == 2)
        #expect(try reopened.feedback().map(\.eventID) == ["f1"])
        #expect(try reopened.catalog().itemExternalIDs.last == "S100")
        #expect(try reopened.dataFingerprint() == fingerprint)
        // Idempotency holds across the restart.
        #expect(try reopened.appendListens([listen("e2", "fresh", "S1", 2)], receivedAt: 9).duplicates == 1)
    }

    /// Event ids stay unique across handles: each write first reads what other connections appended.
    @Test func twoHandlesOnOneStoreNeverStoreAnEventTwice() throws {
        let dir = TemporaryDirectory()
        let first = try fixtureStore(dir)
        _ = try first.appendListens([listen("e1", "u1", "S1")], receivedAt: 0)
        let second = try GraphStore(path: dir.file("s.sqlite"))
        #expect(try second.appendListens([listen("e1", "u1", "S1"), listen("e2", "u2", "S2")], receivedAt: 0).duplicates == 1)
        let receipt = try first.appendListens([listen("e2", "u2", "S2"), listen("e3", "u3", "S3")], receivedAt: 0)
        #expect(receipt.duplicates == 1 && receipt.events.map(\.batchIndex) == [1])
        #expect(try second.appendListens([listen("e3", "u3", "S3")], receivedAt: 0).duplicates == 1)
        #expect(try first.listenEvents().map(\.eventID) == ["e1", "e2", "e3"])
        #expect(try plays(first)["u1/S1"] == 4)  // 3 imported + 1 live, once
    }

    /// A rolled-back batch leaves no trace in the in-memory event index: its ids are new to the next batch.
    @Test func aFailedBatchDoesNotMarkItsEventsAsStored() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        _ = try store.appendListens([listen("e0", "u1", "S1", 1_000_000_000 - 3)], receivedAt: 0)
        #expect(throws: LiveWriteError.self) { try store.appendListens([listen("e1", "u2", "S2"), listen("e2", "u1", "S1")], receivedAt: 0) }
        let retry = try store.appendListens([listen("e1", "u2", "S2")], receivedAt: 0)
        #expect(retry.accepted == 1 && retry.duplicates == 0)
    }

    @Test func durabilitySetsTheSynchronousPragma() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("d.sqlite"))
        #expect(store.durability == .processCrash)
        #expect(try store.db.integer("PRAGMA synchronous") == 1)  // NORMAL
        try store.setDurability(.powerLoss)
        #expect(store.durability == .powerLoss)
        #expect(try store.db.integer("PRAGMA synchronous") == 2)  // FULL
        try store.setDurability(.processCrash)
        #expect(try store.db.integer("PRAGMA synchronous") == 1)
        #expect(try store.db.text("PRAGMA journal_mode") == "wal")
    }

    @Test func statementsAreCompiledOncePerStore() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let sql = "SELECT seq, event_id FROM listen_events WHERE seq > ?"
        _ = try store.appendListens([listen("e1", "u1", "S1")], receivedAt: 0)
        let first = try store.cached(sql)
        _ = try store.appendListens([listen("e2", "u1", "S1")], receivedAt: 0)
        #expect(try store.cached(sql) === first)
    }
}

@Suite struct LiveFeedbackTests {
    @Test func feedbackRoundTripsInArrivalOrder() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let receipt = try store.appendFeedback(
            [
                LiveFeedback(eventID: "f1", user: "u2", item: "S3", kind: .dislike, at: 100),
                LiveFeedback(eventID: "f2", user: "u1", item: "S4", kind: .skip, at: 101),
                LiveFeedback(eventID: "f1", user: "u2", item: "S3", kind: .dislike, at: 100),
            ], receivedAt: 200)
        #expect(receipt.accepted == 2 && receipt.duplicates == 1)
        #expect(receipt.events == [.init(batchIndex: 0, user: UserIndex(1), item: ItemIndex(2), kind: .dislike), .init(batchIndex: 1, user: UserIndex(0), item: ItemIndex(3), kind: .skip)])
        let retried = try store.appendFeedback([LiveFeedback(eventID: "f2", user: "u1", item: "S4", kind: .skip, at: 101)], receivedAt: 300)
        #expect(retried.accepted == 0 && retried.duplicates == 1)
        _ = try store.appendFeedback([LiveFeedback(eventID: "f3", user: "u1", item: "S1", kind: .like, at: 102)], receivedAt: 301)
        #expect(
            try store.feedback() == [
                StoredFeedback(eventID: "f1", user: UserIndex(1), item: ItemIndex(2), kind: .dislike, at: 100, receivedAt: 200),
                StoredFeedback(eventID: "f2", user: UserIndex(0), item: ItemIndex(3), kind: .skip, at: 101, receivedAt: 200),
                StoredFeedback(eventID: "f3", user: UserIndex(0), item: ItemIndex(0), kind: .like, at: 102, receivedAt: 301),
            ])
    }

    @Test func feedbackChangesNeitherListensNorTheFingerprint() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let before = (try plays(store), try store.dataFingerprint())
        _ = try store.appendFeedback([LiveFeedback(eventID: "f1", user: "u2", item: "S3", kind: .like, at: 0)], receivedAt: 0)
        #expect(try plays(store) == before.0)
        #expect(try store.dataFingerprint() == before.1)
    }

    @Test(arguments: [("u1", "S404", "item", "S404"), ("nobody", "S1", "user", "nobody")])
    func anUnknownUserOrItemStoresNothing(user: String, item: String, field: String, unknown: String) throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let before = try liveSnapshot(store)
        let error = expectError(LiveWriteError.self) {
            _ = try store.appendFeedback(
                [
                    LiveFeedback(eventID: "f1", user: "u1", item: "S1", kind: .like, at: 0),
                    LiveFeedback(eventID: "f2", user: "u2", item: "S2", kind: .skip, at: 0),
                    LiveFeedback(eventID: "f3", user: user, item: item, kind: .dislike, at: 0),
                ], receivedAt: 0)
        }
        #expect(error?.kind == .unknownID && error?.index == 2 && error?.field == field && error?.value == unknown)
        #expect(error?.reason.contains(unknown) == true)
        #expect(try liveSnapshot(store) == before)
    }

    @Test func aBadFeedbackFieldNamesIndexAndField() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let error = expectError(LiveWriteError.self) {
            _ = try store.appendFeedback([LiveFeedback(eventID: "f\t1", user: "u1", item: "S1", kind: .like, at: 0)], receivedAt: 0)
        }
        #expect(error?.kind == .invalid && error?.index == 0 && error?.field == "event_id")
        #expect(try store.feedback().isEmpty)
    }
}

@Suite struct LiveItemTests {
    @Test func newItemsGetTheNextIDsAndTheirArtists() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let added = try store.addItems([
            NewItem(id: "S10", title: "Brand New", release: "Debut", artist: "Newcomer", year: 2026, tags: ["indie", "lo-fi", "indie"]),
            NewItem(id: "S11", title: "Another", artist: "The Band"),
            NewItem(id: "S12", title: "Third", release: "", artist: "Newcomer", tags: ["lo-fi"]),
        ])
        #expect(added == [ItemIndex(4), ItemIndex(5), ItemIndex(6)])
        let catalog = try store.catalog()
        #expect(catalog.artistNames == ["The Band", "Solo Act", "Newcomer"])  // one new artist, created once
        #expect(catalog.artistExternalIDs[2] == "Newcomer")  // songs' artists are keyed by name
        #expect(catalog.itemArtist[4...] == [2, 0, 2])
        #expect(catalog.itemTitles[4...] == ["Brand New", "Another", "Third"])
        #expect(catalog.itemReleases[4...] == ["Debut", nil, nil])
        #expect(catalog.itemActive[4...] == [true, true, true])
        #expect(try store.db.integer("SELECT year FROM items WHERE id = 4") == 2026)
        #expect(try store.db.rows("SELECT year FROM items WHERE id = 5") == [[.null]])
        #expect(try store.tags(ofItem: ItemIndex(4)) == ["indie", "lo-fi"])
        #expect(try store.tags(ofItem: ItemIndex(6)) == ["lo-fi"])
        #expect(try store.tags(ofItem: ItemIndex(0)).isEmpty)
        #expect(catalog.tagNames == ["indie", "lo-fi"])  // "lo-fi" created once, shared
        #expect(catalog.artistTags[2].map(\.tag) == [1, 0] && catalog.artistTags[2].map(\.count) == [2, 1])
        // A listen of a new item lands on it.
        #expect(try store.appendListens([listen("e1", "u1", "S10", 2)], receivedAt: 0).events.first?.item == ItemIndex(4))
    }

    @Test(arguments: [
        [NewItem(id: "S20", title: "Fine", artist: "X"), NewItem(id: "S2", title: "Clash", artist: "Y")],
        [NewItem(id: "S20", title: "Fine", artist: "X"), NewItem(id: "S20", title: "Twice", artist: "Y")],
    ])
    func aDuplicateIDStoresNothing(items: [NewItem]) throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let before = try liveSnapshot(store)
        let error = expectError(LiveWriteError.self) { _ = try store.addItems(items) }
        #expect(error?.kind == .duplicateID && error?.index == 1 && error?.field == "id" && error?.value == items[1].id)
        #expect(try liveSnapshot(store) == before)
    }

    @Test func anItemCreatedByAListenIsAlreadyInTheStore() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        _ = try store.appendListens([listen("e1", "u1", "S50")], receivedAt: 0)
        let error = expectError(LiveWriteError.self) { _ = try store.addItems([NewItem(id: "S50", title: "T", artist: "A")]) }
        #expect(error?.kind == .duplicateID && error?.value == "S50")
    }

    @Test(arguments: [
        (NewItem(id: "", title: "t", artist: "a"), "id"),
        (NewItem(id: "S9", title: "", artist: "a"), "title"),
        (NewItem(id: "S9", title: "t", artist: ""), "artist"),
        (NewItem(id: "S9", title: "t\u{1B}[31m", artist: "a"), "title"),
        (NewItem(id: "S9", title: "t", release: "r\u{0}", artist: "a"), "release"),
        (NewItem(id: "S9", title: "t", artist: "a", year: 0), "year"),
        (NewItem(id: "S9", title: "t", artist: "a", year: 10_000), "year"),
        (NewItem(id: "S9", title: "t", artist: "a", tags: ["ok", ""]), "tags"),
        (NewItem(id: "S9", title: "t", artist: "a", tags: (0...100).map { "t\($0)" }), "tags"),
    ])
    func aBadItemFieldStoresNothing(item: NewItem, field: String) throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let before = try liveSnapshot(store)
        let error = expectError(LiveWriteError.self) { _ = try store.addItems([NewItem(id: "S8", title: "Good", artist: "Fine"), item]) }
        #expect(error?.kind == .invalid && error?.index == 1 && error?.field == field, "\(String(describing: error))")
        #expect(try liveSnapshot(store) == before)
    }

    @Test func aLastfmItemIsANewArtistAndItsTagsSurviveAReimport() throws {
        let dir = TemporaryDirectory()
        LastfmFixture.write(into: dir)
        let store = try GraphStore(path: dir.file("l.sqlite"))
        _ = try LastfmImporter(store: store).importDirectory(dir.path)
        let before = try store.catalog()
        let added = try store.addItems([NewItem(id: "500", title: "Sigur Rós", artist: "Sigur Rós", tags: ["post-rock", "metal"])])
        #expect(added == [ItemIndex(before.itemCount)])
        let catalog = try store.catalog()
        let artist = catalog.artistCount - 1
        #expect(catalog.artistCount == before.artistCount + 1)
        #expect(catalog.artistExternalIDs[artist] == "500" && catalog.artistNames[artist] == "Sigur Rós")
        #expect(catalog.itemArtist[added[0].rawValue] == artist)
        let metal = try #require(catalog.tagNames.firstIndex(of: "metal"))
        let postRock = try #require(catalog.tagNames.firstIndex(of: "post-rock"))
        #expect(metal < before.tagNames.count)  // the imported tag is reused
        #expect(Set(catalog.artistTags[artist].map(\.tag)) == [metal, postRock])
        // An id already used by an artist is refused.
        let error = expectError(LiveWriteError.self) { _ = try store.addItems([NewItem(id: "3", title: "ABBA", artist: "ABBA")]) }
        #expect(error?.kind == .duplicateID && error?.value == "3")
        // Importing the directory again rebuilds item_tags and keeps the live tags.
        _ = try LastfmImporter(store: store).importDirectory(dir.path)
        let reimported = try store.catalog()
        #expect(Set(reimported.artistTags[artist].map(\.tag)) == [metal, postRock])
        func described(_ c: Catalog) -> [[String]] { c.artistTags.map { $0.map { "\($0.tag):\($0.count)" } } }
        #expect(described(reimported) == described(catalog))
    }
}

/// Group commit: several batches in one transaction, each with its own receipt, as if appended in turn.
@Suite struct GroupCommitTests {
    @Test func batchesShareOneTransactionAndKeepTheirOwnReceipts() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let receipts = try store.appendListens(
            batches: [[listen("g1", "u1", "S1"), listen("g2", "new-user", "S2")], [listen("g2", "u2", "S3"), listen("g3", "u2", "new-song", 4)]],
            receivedAt: 0)
        #expect(receipts.count == 2)
        #expect(receipts[0].accepted == 2 && receipts[0].duplicates == 0 && receipts[0].newUsers == ["new-user"] && receipts[0].newItems.isEmpty)
        // g2 was stored by the first batch, so it is a duplicate in the second; indices are within the batch.
        #expect(receipts[1].accepted == 1 && receipts[1].duplicates == 1 && receipts[1].newItems == ["new-song"])
        #expect(receipts[1].events.map(\.batchIndex) == [1])
        #expect(try store.listenEventCount() == 3)
        #expect(try plays(store)["u2/new-song"] == 4)
    }

    @Test func oneRefusedBatchStoresNothingOfTheGroupAndIsNamed() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        _ = try store.appendListens([listen("e0", "u1", "S1", 1_000_000_000 - 3)], receivedAt: 0)
        let before = try liveSnapshot(store)
        let error = expectError(LiveGroupError.self) {
            _ = try store.appendListens(batches: [[listen("ok", "u2", "S2")], [listen("x1", "u3", "S3"), listen("x2", "u1", "S1", 10)]], receivedAt: 0)
        }
        #expect(error?.batch == 1 && error?.error.index == 1 && error?.error.field == "plays")
        #expect(try liveSnapshot(store) == before)
    }
}
