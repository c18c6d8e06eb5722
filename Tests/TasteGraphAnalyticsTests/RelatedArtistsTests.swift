import Foundation
import Synchronization
import TasteGraphAnalytics
import TasteGraphGraph
import TasteGraphStore
import TestSupport
import Testing

@Suite struct RelatedArtistsTests {
    static func service(_ parameters: WalkParameters = WalkParameters()) throws -> RelatedArtistsEngine {
        try RelatedArtistsEngine(store: try GraphStore(path: PlantedSample.shared.storePath), parameters: parameters)
    }

    /// On the planted sample, each artist's top-10 is mostly its own genre (≥ 80 % on average).
    @Test func relatedArtistsAreMostlySameGenre() throws {
        let service = try Self.service()
        let truth = PlantedSample.shared.truth
        let catalog = service.catalog
        var shares: [Double] = []
        for artist in 0..<catalog.artistCount where service.walker.canSeed(artist) {
            let genre = truth.artistGenre[catalog.artistNames[artist]]!
            let top = service.walker.related(to: [artist], count: 10, seed: 1)
            guard !top.isEmpty else { continue }
            shares.append(Double(top.filter { truth.artistGenre[catalog.artistNames[$0.artist]] == genre }.count) / Double(top.count))
        }
        let mean = shares.reduce(0, +) / Double(shares.count)
        #expect(shares.count == 300)
        #expect(mean >= 0.8, "mean same-genre share of top-10: \(mean)")
    }

    /// `relatedAll` (the `related --batch` path) gives each artist its own `related(to:)` list, in order,
    /// for any thread count; progress ends at the artist count.
    @Test func allArtistsOverThreadsAreTheSingleLists() throws {
        let service = try Self.service()
        let artists = Array((0..<service.catalog.artistCount).filter(service.walker.canSeed).prefix(120).reversed())
        let counted = Mutex<[Int]>([])
        let parallel = try service.relatedAll(artists: artists, count: 8, method: .walk, seed: 5, threads: 3, progress: { done in counted.withLock { $0.append(done) } })
        let serial = try service.relatedAll(artists: artists, count: 8, method: .walk, seed: 5, threads: 1)
        #expect(parallel == serial)
        #expect(parallel == artists.map { service.walker.related(to: [$0], count: 8, seed: 5) })
        #expect(counted.withLock { $0.max() } == artists.count)
    }

    @Test func sameSeedSameListAndSeedsExcluded() throws {
        let service = try Self.service()
        let a = service.walker.related(to: [3], count: 20, seed: 42)
        #expect(a == service.walker.related(to: [3], count: 20, seed: 42))
        #expect(!a.contains { $0.artist == 3 })
        #expect(a.count == 20)
        #expect(zip(a, a.dropFirst()).allSatisfy { $0.score >= $1.score })
        let multi = service.walker.related(to: [3, 11], count: 20, seed: 42)
        #expect(!multi.contains { $0.artist == 3 || $0.artist == 11 })
    }

    /// With several seeds the multi-hit booster favours artists reached from all of them:
    /// (√a + √b)² ≥ a + b, with equality only when one side is zero.
    @Test func multiHitBoosterRewardsSharedNeighbours() throws {
        let service = try Self.service()
        let truth = PlantedSample.shared.truth
        let names = service.catalog.artistNames
        // Two artists of the same genre: their joint list stays in that genre.
        let metal = (0..<names.count).filter { truth.artistGenre[names[$0]] == "metal" && service.walker.canSeed($0) }
        let joint = service.walker.related(to: [metal[0], metal[1]], count: 10, seed: 3)
        let inGenre = joint.filter { truth.artistGenre[names[$0.artist]] == "metal" }.count
        #expect(inGenre >= 8, "joint list: \(joint.map { names[$0.artist] })")
    }

    /// PageRank is not normalized against popularity, so popular artists of other genres get in; it must
    /// still beat chance (1 in 8 genres) by far.
    @Test func pageRankAlternativeRanksSameGenreFirst() throws {
        let service = try Self.service()
        let truth = PlantedSample.shared.truth
        let names = service.catalog.artistNames
        var shares: [Double] = []
        for artist in stride(from: 0, to: 300, by: 15) {
            let top = try service.related(to: [artist], count: 10, method: .ppr, seed: 0)
            #expect(top.count == 10)
            #expect(!top.contains { $0.artist == artist })
            let genre = truth.artistGenre[names[artist]]!
            shares.append(Double(top.filter { truth.artistGenre[names[$0.artist]] == genre }.count) / 10)
        }
        #expect(shares.reduce(0, +) / Double(shares.count) >= 0.5)
    }

    @Test func unknownOrAmbiguousNamesListClosestMatches() throws {
        let service = try Self.service()
        let name = service.catalog.artistNames[5]
        #expect(try service.lookup.resolve(name.uppercased()) == 5)
        do {
            _ = try service.lookup.resolve(String(name.dropLast()) + "zz")
            Issue.record("expected a lookup error")
        } catch let error as ArtistLookupError {
            #expect(!error.ambiguous)
            #expect(error.suggestions.contains(name), "\(error)")
            #expect(error.description.contains("closest matches"))
        }
        var catalog = service.catalog
        catalog.artistNames[6] = catalog.artistNames[5].lowercased()
        let ambiguous = ArtistLookup(catalog: catalog)
        #expect(throws: ArtistLookupError.self) { try ambiguous.resolve(name.uppercased()) }
    }

    /// Walks never cross between disjoint components: two groups of users with no item in common.
    @Test func walksStayInsideTheirComponent() {
        let planted = PlantedGraph(usersPerGroup: [3, 3], itemsPerGroup: [3, 3]) { _, _, groupItems in
            groupItems.enumerated().map { PlantedListen(item: $0.element, plays: Float(1 + $0.offset)) }
        }
        let graph = BipartiteGraph(userCount: 6, itemCount: 6, listens: planted.train, weighting: .log1p)
        // Each item is its own artist, so an artist's group is its item's.
        let walker = PixieWalker(graph: graph, itemArtist: Array(0..<6), artistCount: 6, parameters: WalkParameters())
        for seed in 0..<6 {
            let related = walker.related(to: [seed], count: 5, seed: 9)
            #expect(related.allSatisfy { planted.itemGroup[$0.artist] == planted.itemGroup[seed] })
            #expect(related.count == 2)
        }
    }
}
