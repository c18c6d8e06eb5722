import Foundation
import TasteGraphAnalytics
import TasteGraphServing
import TasteGraphStore
import TasteGraphSynth
import TestSupport
import Testing

/// "Fans also like" through the serving library: names resolved case- and accent-insensitively, unknown
/// names refused with the closest ones, the batch's stored lists preferred when they match the settings.
@Suite struct RelatedArtistsServiceTests {
    static func sample(_ dir: TemporaryDirectory) throws -> GraphStore {
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let root = SharedData.packageRoot + "/GraphData"
        _ = try TasteProfileImporter(store: store).importTriplets(path: root + "/triplets.tsv", metadata: root + "/song_data.csv")
        return store
    }

    @Test func namesAndIdsResolveAndListsStayInTheSeedsGenre() throws {
        let dir = TemporaryDirectory()
        let store = try Self.sample(dir)
        let service = try RelatedArtistsService(store: store)
        let truth = try PlantedTruth.load(directory: SharedData.packageRoot + "/GraphData")
        let answer = try service.related(RelatedArtistsRequest(artists: ["DOOM OF SKULL"], count: 10))
        #expect(answer.artists == ["Doom of Skull"])
        #expect(answer.source == .live && answer.method == .walk)
        #expect(answer.related.count == 10)
        #expect(!answer.related.contains { $0.name == "Doom of Skull" })
        #expect(zip(answer.related, answer.related.dropFirst()).allSatisfy { $0.score >= $1.score })
        let metal = answer.related.filter { truth.artistGenre[$0.name] == "metal" }.count
        #expect(metal >= 8, "\(answer.related.map(\.name))")
        // The external id names the same artist: the same seed gives the same list.
        let index = service.catalog.artistNames.firstIndex(of: "Doom of Skull")!
        let byID = try service.related(RelatedArtistsRequest(artists: [service.catalog.artistExternalIDs[index]], count: 10))
        #expect(byID == answer)
        #expect(answer.related.allSatisfy { service.catalog.artistExternalIDs.contains($0.id) })
    }

    @Test func unknownNamesListTheClosestAndBadRequestsAreRefused() throws {
        let dir = TemporaryDirectory()
        let service = try RelatedArtistsService(store: try Self.sample(dir))
        do {
            _ = try service.related(RelatedArtistsRequest(artists: ["Doom of Skul"]))
            Issue.record("expected a ServingError")
        } catch let error as ServingError {
            #expect(error.field == "artist")
            #expect(error.detail.contains("closest matches: 'Doom of Skull'"), "\(error.detail)")
        }
        #expect(throws: ServingError.self) { try service.related(RelatedArtistsRequest(artists: ["Doom of Skull"], count: 0)) }
        #expect(throws: ServingError.self) { try service.related(RelatedArtistsRequest(artists: [])) }
        #expect(throws: ServingError(field: "item", detail: "no item with id 'nope' in the store", kind: .notFound)) {
            try service.relatedItems(RelatedItemsRequest(item: "nope"))
        }
    }

    /// A stored list answers a one-artist request when it was computed with the service's parameters and
    /// seed by the requested method and is long enough; otherwise the service walks.
    @Test func storedBatchListsArePreferredWhenTheyMatch() throws {
        let dir = TemporaryDirectory()
        let store = try Self.sample(dir)
        let settings = RelatedArtistsSettings(seed: 7)
        let catalog = try store.catalog()
        let seed = catalog.artistNames.firstIndex(of: "Doom of Skull")!
        // A planted list no walk would produce: artists 1, 2, 3 (or 4, 5, 6 when the seed is one of them).
        let planted = (seed <= 3 ? [4, 5, 6] : [1, 2, 3]).enumerated().map { (artist: $1, score: 9.0 - Double($0)) }
        try store.saveRelatedArtists([StoredRelatedList(artist: seed, related: planted)], method: "walk", parametersJSON: settings.recordedParametersJSON)

        let service = try RelatedArtistsService(store: store, settings: settings)
        #expect(service.storedListCount == 1)
        let two = try service.related(RelatedArtistsRequest(artists: ["Doom of Skull"], count: 2))
        #expect(two.source == .stored)
        #expect(two.related == planted.prefix(2).map {
            ServedRelatedArtist(id: catalog.artistExternalIDs[$0.artist], name: catalog.artistNames[$0.artist], score: $0.score)
        })
        // Longer than the stored list, another method, several seeds: live.
        #expect(try service.related(RelatedArtistsRequest(artists: ["Doom of Skull"], count: 4)).source == .live)
        #expect(try service.related(RelatedArtistsRequest(artists: ["Doom of Skull"], count: 2, method: .ppr)).source == .live)
        let other = catalog.artistNames[seed == 0 ? 1 : 0]
        #expect(try service.related(RelatedArtistsRequest(artists: ["Doom of Skull", other], count: 2)).source == .live)
        // Other parameters (here the seed), or stored lists turned off: live.
        let otherSeed = try RelatedArtistsService(store: store, settings: RelatedArtistsSettings(seed: 8))
        #expect(otherSeed.storedListCount == 0)
        #expect(try otherSeed.related(RelatedArtistsRequest(artists: ["Doom of Skull"], count: 2)).source == .live)
        let off = try RelatedArtistsService(store: store, settings: RelatedArtistsSettings(seed: 7, useStoredLists: false))
        #expect(try off.related(RelatedArtistsRequest(artists: ["Doom of Skull"], count: 2)).source == .live)
    }

    @Test func relatedItemsExcludeTheSeedItem() throws {
        let dir = TemporaryDirectory()
        let service = try RelatedArtistsService(store: try Self.sample(dir))
        let item = service.catalog.itemExternalIDs[0]
        let answer = try service.relatedItems(RelatedItemsRequest(item: item, count: 8))
        #expect(answer.item == item)
        #expect(answer.related.count == 8)
        #expect(!answer.related.contains { $0.item == item })
        #expect(zip(answer.related, answer.related.dropFirst()).allSatisfy { $0.score >= $1.score })
    }

    /// The encoded answer keeps `related --json`'s shape: `artist` a name for one seed, a list for several,
    /// each entry `{artist, id, score}`; decoding gives the value back.
    @Test func responsesEncodeInTheCLIShapeAndRoundTrip() throws {
        let one = RelatedArtistsResponse(artists: ["A"], method: .walk, source: .live, related: [ServedRelatedArtist(id: "7", name: "B", score: 0.5)])
        let two = RelatedArtistsResponse(artists: ["A", "C"], method: .ppr, source: .stored, related: [])
        for response in [one, two] {
            let data = try JSONEncoder().encode(response)
            #expect(try JSONDecoder().decode(RelatedArtistsResponse.self, from: data) == response)
        }
        let object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(one)) as! [String: Any]
        #expect(object["artist"] as? String == "A")
        #expect(object["method"] as? String == "walk" && object["source"] as? String == "live")
        let entry = (object["related"] as! [[String: Any]])[0]
        #expect(entry["artist"] as? String == "B" && entry["id"] as? String == "7" && entry["score"] as? Double == 0.5)
        let several = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(two)) as! [String: Any]
        #expect(several["artist"] as? [String] == ["A", "C"])
    }
}
