import Foundation
import TasteGraphServer
import TasteGraphServing
import TasteGraphStore
import Testing

/// Live listens, feedback, new songs and reloads: authorised, validated all-or-nothing, durable, and seen
/// by the next request.
@Suite struct WriteRoutesTests {
    static func listens(_ events: [(id: String, user: String, item: String, plays: Int)], at: String = "2026-12-01T10:00:00Z") -> String {
        let body = events.map { #"{"event_id":"\#($0.id)","user":"\#($0.user)","item":"\#($0.item)","plays":\#($0.plays),"at":"\#(at)"}"# }
        return #"{"listens":[\#(body.joined(separator: ","))]}"#
    }

    static func storedEvents(_ path: String) throws -> Int {
        try GraphStore.openExisting(path: path).listenEventCount()
    }

    @Test func writesNeedTheBearerToken() async throws {
        let f = try ServerFixture()
        let body = Self.listens([("e1", "u", "i", 1)])
        #expect(try await f.client.post("/v1/listens", json: body).status == 401)
        #expect(try await f.client.post("/v1/listens", json: body, token: "wrong-token-0123456789").status == 401)
        #expect(try await f.client.post("/v1/admin/reload", json: "{}").status == 401)
        #expect(try Self.storedEvents(f.storePath) == 0)
        #expect(try await f.client.post("/v1/listens", json: body, token: ServerFixture.token).status == 200)
    }

    @Test func aRetriedBatchChangesNothing() async throws {
        let f = try ServerFixture()
        let user = f.live.snapshot.recommendations.users[0]
        let items = f.live.snapshot.recommendations.catalog.itemExternalIDs
        let body = Self.listens([("a1", user, items[10], 2), ("a2", user, items[11], 1), ("a3", "brand-new-user", "brand-new-song", 4)])
        let first = try await f.client.post("/v1/listens", json: body, token: ServerFixture.token)
        #expect(first.status == 200, "\(first.text)")
        #expect(first.json["accepted"] as? Int == 3 && first.json["duplicates"] as? Int == 0)
        #expect(first.json["new_users"] as? [String] == ["brand-new-user"] && first.json["new_items"] as? [String] == ["brand-new-song"])
        let again = try await f.client.post("/v1/listens", json: body, token: ServerFixture.token)
        #expect(again.json["accepted"] as? Int == 0 && again.json["duplicates"] as? Int == 3, "\(again.text)")
        #expect(try Self.storedEvents(f.storePath) == 3)
    }

    /// One bad element: 422 naming its index and field, and nothing of the batch is stored.
    @Test(arguments: [
        (#"{"event_id":"b2","user":"u","item":"i","plays":0,"at":"2026-12-01T10:00:00Z"}"#, "listens[1].plays"),
        (#"{"event_id":"b2","user":"","item":"i","plays":1,"at":"2026-12-01T10:00:00Z"}"#, "listens[1].user"),
        (#"{"event_id":"b2","user":"u","item":"i","plays":1,"at":"yesterday"}"#, "listens[1].at"),
        (#"{"event_id":"b2","user":"u","item":"i","plays":"many","at":"2026-12-01T10:00:00Z"}"#, "listens[1].plays"),
        (#"{"user":"u","item":"i","plays":1,"at":"2026-12-01T10:00:00Z"}"#, "listens[1].event_id"),
    ])
    func aBadElementStoresNothing(bad: String, field: String) async throws {
        let f = try ServerFixture()
        let good = #"{"event_id":"b1","user":"u","item":"i","plays":1,"at":"2026-12-01T10:00:00Z"}"#
        let reply = try await f.client.post("/v1/listens", json: #"{"listens":[\#(good),\#(bad)]}"#, token: ServerFixture.token)
        #expect(reply.status == 422, "\(reply.text)")
        #expect(reply.json["field"] as? String == field, "\(reply.text)")
        #expect(try Self.storedEvents(f.storePath) == 0)
    }

    @Test func malformedOversizedAndEmptyBodies() async throws {
        var settings = ServerSettings()
        settings.maxBodyBytes = 4096
        settings.maxBatchSize = 5
        let f = try ServerFixture(settings: settings)
        let notJSON = try await f.client.post("/v1/listens", json: "{not json", token: ServerFixture.token)
        #expect(notJSON.status == 400 && notJSON.json["error"] as? String == "bad_request", "\(notJSON.text)")
        let big = Self.listens((0..<100).map { ("e\($0)", "u", "i", 1) })
        let tooLarge = try await f.client.post("/v1/listens", json: big, token: ServerFixture.token)
        #expect(tooLarge.status == 413 && tooLarge.json["error"] as? String == "too_large", "\(tooLarge.text)")
        let tooMany = try await f.client.post("/v1/listens", json: Self.listens((0..<6).map { ("e\($0)", "u", "i", 1) }), token: ServerFixture.token)
        #expect(tooMany.status == 422 && tooMany.json["field"] as? String == "listens")
        let empty = try await f.client.post("/v1/listens", json: #"{"listens":[]}"#, token: ServerFixture.token)
        #expect(empty.status == 422)
        #expect(try Self.storedEvents(f.storePath) == 0)
    }

    /// A listener of one planted genre plays many songs of another; the next list is mostly that genre,
    /// and the songs just played are gone from it.
    @Test(arguments: ["knn", "als"])
    func theNextListFollowsWhatTheListenerJustPlayed(model: String) async throws {
        let f = try ServerFixture(model: model)
        let truth = try ServerFixture.truth
        let catalog = f.live.snapshot.recommendations.catalog
        func genre(_ item: String) -> String? {
            guard let index = catalog.itemExternalIDs.firstIndex(of: item), catalog.itemArtist[index] >= 0 else { return nil }
            return truth.artistGenre[catalog.artistNames[catalog.itemArtist[index]]]
        }
        let user = try #require(f.live.snapshot.recommendations.users.first { truth.userGenres[$0]?.count == 1 })
        let home = try #require(truth.userGenres[user]?.first)
        let before = try await f.client.get("/v1/users/\(user)/recommendations?k=10").decode(RecommendationResponse.self)
        #expect(before.recommendations.filter { genre($0.item) == home }.count >= 6, "before: \(before.recommendations.map { genre($0.item) ?? "?" })")
        let other = try #require(Set(truth.artistGenre.values).sorted().first { $0 != home })
        let played = catalog.itemExternalIDs.indices.filter { genre(catalog.itemExternalIDs[$0]) == other }.prefix(40).map { catalog.itemExternalIDs[$0] }
        let body = Self.listens(played.enumerated().map { ("shift-\($0.offset)", user, $0.element, 5) })
        let ack = try await f.client.post("/v1/listens", json: body, token: ServerFixture.token)
        #expect(ack.status == 200 && ack.json["folded_users"] as? Int == 1, "\(ack.text)")
        let after = try await f.client.get("/v1/users/\(user)/recommendations?k=10").decode(RecommendationResponse.self)
        let shifted = after.recommendations.filter { genre($0.item) == other }.count
        #expect(shifted >= 6, "after: \(after.recommendations.map { genre($0.item) ?? "?" })")
        #expect(Set(after.recommendations.map(\.item)).isDisjoint(with: played))
    }

    /// A new listener with enough live listens leaves the cold-start mix.
    @Test func aNewListenerIsFoldedIn() async throws {
        let f = try ServerFixture(model: "als")
        let items = f.live.snapshot.recommendations.catalog.itemExternalIDs
        #expect(try await f.client.get("/v1/users/fresh/recommendations?k=5").decode(RecommendationResponse.self).coldStart)
        let body = Self.listens((0..<5).map { ("n\($0)", "fresh", items[$0], 3) })
        #expect(try await f.client.post("/v1/listens", json: body, token: ServerFixture.token).status == 200)
        let after = try await f.client.get("/v1/users/fresh/recommendations?k=5").decode(RecommendationResponse.self)
        #expect(!after.coldStart && after.recommendations.count == 5)
        #expect(Set(after.recommendations.map(\.item)).isDisjoint(with: items[0..<5]))
    }

    static func feedback(_ id: String, _ user: String, _ item: String, _ kind: String, at: String) -> String {
        #"{"feedback":[{"event_id":"\#(id)","user":"\#(user)","item":"\#(item)","kind":"\#(kind)","at":"\#(at)"}]}"#
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// A dislike hides the item for good (also after a restart); a recent skip hides it, an old one not;
    /// a like counts as a play, so the item leaves the list.
    @Test func dislikesSkipsAndLikes() async throws {
        let f = try ServerFixture()
        let user = f.live.snapshot.recommendations.users[2]
        func top(_ k: Int = 10) async throws -> [String] {
            try await f.client.get("/v1/users/\(user)/recommendations?k=\(k)").decode(RecommendationResponse.self).recommendations.map(\.item)
        }
        let first = try await top()
        let now = Self.iso(Date())
        let disliked = try await f.client.post("/v1/feedback", json: Self.feedback("f1", user, first[0], "dislike", at: now), token: ServerFixture.token)
        #expect(disliked.status == 200, "\(disliked.text)")
        #expect(try await !top(50).contains(first[0]))
        _ = try await f.client.post("/v1/feedback", json: Self.feedback("f2", user, first[1], "skip", at: now), token: ServerFixture.token)
        #expect(try await !top(50).contains(first[1]))
        let old = Self.iso(Date().addingTimeInterval(-3 * 86_400))
        _ = try await f.client.post("/v1/feedback", json: Self.feedback("f3", user, first[2], "skip", at: old), token: ServerFixture.token)
        #expect(try await top(50).contains(first[2]), "a skip three days ago no longer hides the item")
        _ = try await f.client.post("/v1/feedback", json: Self.feedback("f4", user, first[3], "like", at: now), token: ServerFixture.token)
        #expect(try await !top(50).contains(first[3]))
        let unknown = try await f.client.post("/v1/feedback", json: Self.feedback("f5", user, "no-such-song", "like", at: now), token: ServerFixture.token)
        #expect(unknown.status == 404 && unknown.json["field"] as? String == "feedback[0].item", "\(unknown.text)")
        // A restarted server reads the dislike back from the store.
        let restarted = RouterClient(TasteGraphHTTPServer(live: try LiveServing(configuration: ServingConfiguration(storePath: f.storePath, modelPath: f.knnPath)), settings: ServerSettings()))
        let again = try await restarted.get("/v1/users/\(user)/recommendations?k=50").decode(RecommendationResponse.self)
        #expect(!again.recommendations.map(\.item).contains(first[0]))
    }

    @Test func newSongsAreStoredAndADuplicateIdIsAConflict() async throws {
        let f = try ServerFixture()
        let body = #"{"items":[{"id":"NEW1","title":"Brand New Song","artist":"A New Band","year":2026,"tags":["indie"]}]}"#
        let added = try await f.client.post("/v1/items", json: body, token: ServerFixture.token)
        #expect(added.status == 200 && added.json["added"] as? [String] == ["NEW1"], "\(added.text)")
        let again = try await f.client.post("/v1/items", json: body, token: ServerFixture.token)
        #expect(again.status == 409 && again.json["field"] as? String == "items[0].id", "\(again.text)")
        let catalog = try GraphStore.openExisting(path: f.storePath).catalog()
        #expect(catalog.itemExternalIDs.contains("NEW1") && catalog.artistNames.contains("A New Band"))
    }

    /// A reload swaps the model in; one that cannot load leaves the old model serving and says why.
    @Test func reloadSwapsModelsAndABrokenOneKeepsTheOld() async throws {
        let f = try ServerFixture()
        let knn = f.live.snapshot.model
        let swapped = try await f.client.post("/v1/admin/reload", json: #"{"model":"\#(f.alsPath)"}"#, token: ServerFixture.token)
        #expect(swapped.status == 200, "\(swapped.text)")
        #expect(f.live.snapshot.model.kind == "als" && f.live.snapshot.model.version != knn.version)
        let broken = f.dir.write("broken.tgm", "not a model file")
        let refused = try await f.client.post("/v1/admin/reload", json: #"{"model":"\#(broken)"}"#, token: ServerFixture.token)
        #expect(refused.status == 409 && (refused.json["detail"] as? String ?? "").contains("old model keeps serving"), "\(refused.text)")
        #expect(f.live.snapshot.model.kind == "als")
        let user = f.live.snapshot.recommendations.users[0]
        let served = try await f.client.get("/v1/users/\(user)/recommendations?k=3").decode(RecommendationResponse.self)
        #expect(served.model.kind == "als")
    }
}

/// New songs under a GCN: placed by their text features at once, so they rank and have text neighbours.
@Suite struct NewSongTests {
    @Test func aNewSongIsPlacedRankedAndFoundByText() async throws {
        let f = try ServerFixture(model: "gcn")
        let catalog = f.live.snapshot.recommendations.catalog
        // A twin of an existing song: same title, release and artist, so its text row is the same.
        let twin = 5
        let artist = catalog.artistNames[catalog.itemArtist[twin]]
        let title = try #require(catalog.itemTitles[twin])
        let release = catalog.itemReleases[twin] ?? ""
        let body = #"{"items":[{"id":"TWIN1","title":"\#(title)","release":"\#(release)","artist":"\#(artist)"}]}"#
        let added = try await f.client.post("/v1/items", json: body, token: ServerFixture.token)
        #expect(added.status == 200 && added.json["placed"] as? Bool == true, "\(added.text)")
        #expect(f.live.snapshot.recommendations.placedCount == 1)
        let similar = try await f.client.get("/v1/items/TWIN1/similar?k=3&by=text").decode(SimilarItemsResponse.self)
        #expect(similar.similar.first?.item == catalog.itemExternalIDs[twin], "\(similar.similar)")
        // It ranks: higher, on average, for listeners of its artist's genre than for the others.
        let truth = try ServerFixture.truth
        let genre = try #require(truth.artistGenre[artist])
        let users = f.live.snapshot.recommendations.users
        let fans = users.filter { truth.userGenres[$0]?.first == genre }.prefix(20)
        let others = users.filter { truth.userGenres[$0]?.contains(genre) == false }.prefix(20)
        func rank(_ user: String) async throws -> Int {
            let list = try await f.client.get("/v1/users/\(user)/recommendations?k=500").decode(RecommendationResponse.self).recommendations.map(\.item)
            return list.firstIndex(of: "TWIN1") ?? 500
        }
        var fanRanks: [Int] = []
        var otherRanks: [Int] = []
        for user in fans { fanRanks.append(try await rank(user)) }
        for user in others { otherRanks.append(try await rank(user)) }
        #expect(fanRanks.contains { $0 < 500 }, "the new song is recommended to some listener of its genre")
        #expect(fanRanks.reduce(0, +) < otherRanks.reduce(0, +), "fans \(fanRanks), others \(otherRanks)")
    }
}

/// Batches posted at once are committed together (group commit) and answered one by one: a batch the
/// store refuses fails alone.
@Suite struct ConcurrentIngestTests {
    @Test func concurrentBatchesEachGetTheirOwnAnswer() async throws {
        let f = try ServerFixture()
        let client = f.client
        let items = Array(f.live.snapshot.recommendations.catalog.itemExternalIDs.prefix(50))
        let statuses = try await withThrowingTaskGroup(of: (Int, Int).self) { tasks in
            for n in 0..<12 {
                let plays = n == 5 ? 999_999_999 : 1  // batch 5 pushes one pair over 10⁹ plays: refused by the store
                let events = (0..<20).map { k in (id: "c\(n)-\(k)", user: "concurrent-\(n % 3)", item: items[k], plays: k == 0 && n == 5 ? plays : 1) }
                var body = WriteRoutesTests.listens(events)
                if n == 5 { body = WriteRoutesTests.listens(events + [(id: "c5-extra", user: "concurrent-2", item: items[0], plays: 999_999_999)]) }
                tasks.addTask { (n, try await client.post("/v1/listens", json: body, token: ServerFixture.token).status) }
            }
            var out: [Int: Int] = [:]
            for try await (n, status) in tasks { out[n] = status }
            return out
        }
        #expect(statuses[5] == 422, "\(statuses)")
        #expect((0..<12).filter { $0 != 5 }.allSatisfy { statuses[$0] == 200 }, "\(statuses)")
        #expect(try WriteRoutesTests.storedEvents(f.storePath) == 11 * 20)
    }
}
