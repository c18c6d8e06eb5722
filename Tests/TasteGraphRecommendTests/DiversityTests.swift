import Foundation
import TasteGraphCore
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphSupport
import TestSupport
import Testing

/// Maximal-marginal-relevance re-ranking (`Diversification`) over the listener-set cosine (`ItemSimilarity`).
@Suite struct DiversityTests {
    /// Five items, scores 5 > 4 > 3 > 2 > 1, and these listener sets (user ids):
    /// item 0 {0,1,2,3}, item 1 {0,1,2}, item 2 {3,4}, item 3 {5,6}, item 4 {0,5}.
    /// Listens are given out of order, with a repeated (user, item) pair and a listen of an item beyond the
    /// similarity's items, which must not count.
    static let listens = ListenTable(
        users: [3, 0, 1, 2, 0, 1, 2, 3, 4, 6, 5, 5, 0, 0, 9],
        items: [0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 1, 7],
        plays: Array(repeating: 1, count: 15))
    static let similarity = ItemSimilarity(itemCount: 5, listens: listens)
    static let scores: [Float] = [5, 4, 3, 2, 1]

    @Test func similarityIsTheCosineOfListenerSetsAsComputedByHand() {
        let s = Self.similarity
        func sim(_ a: Int, _ b: Int) -> Double { s.similarity(ItemIndex(a), ItemIndex(b)) }
        #expect(s.listenerCount(of: ItemIndex(1)) == 3)  // user 0 twice counts once
        #expect(s.listenerCount(of: ItemIndex(0)) == 4)
        #expect(abs(sim(0, 1) - 3 / 12.0.squareRoot()) < 1e-12)  // {0,1,2} of {0,1,2,3} and {0,1,2}
        #expect(abs(sim(0, 2) - 1 / 8.0.squareRoot()) < 1e-12)   // {3}
        #expect(abs(sim(1, 4) - 1 / 6.0.squareRoot()) < 1e-12)   // {0}
        #expect(abs(sim(3, 4) - 0.5) < 1e-12)                    // {5} of 2 × 2
        #expect(sim(1, 2) == 0 && sim(0, 3) == 0)
        #expect(sim(2, 0) == sim(0, 2))
        #expect(sim(4, 4) == 1)
        #expect(sim(0, 7) == 0 && s.listenerCount(of: ItemIndex(7)) == 0)  // beyond itemCount: no listeners
    }

    @Test func lambdaOneTakesTheItemLeastLikeThoseChosenByHand() throws {
        let mmr = try Diversification(lambda: 1, similarity: Self.similarity)
        // Pick 1: no penalty anywhere, the tie goes to the best score (0). Penalties vs {0}: 1 0.866, 2 0.354,
        // 3 0, 4 0.354 → 3. Then 4's penalty becomes sim(3,4) = 0.5: 1 0.866, 2 0.354, 4 0.5 → 2; then 4 → 1.
        #expect(mmr.rerank([0, 1, 2, 3, 4], score: { Self.scores[$0] }, count: 5) == [0, 3, 2, 4, 1])
        #expect(mmr.rerank([0, 1, 2, 3, 4], score: { Self.scores[$0] }, count: 2) == [0, 3])
    }

    @Test func lambdaOneHalfTradesScoreAgainstSimilarityByHand() throws {
        let mmr = try Diversification(lambda: 0.5, similarity: Self.similarity)
        // s̃ = 1, .75, .5, .25, 0. After 0: values .5·s̃ − .5·pen: 1 −.058, 2 .073, 3 .125, 4 −.177 → 3;
        // 4's penalty → .5: 1 −.058, 2 .073, 4 −.25 → 2; then 1 (−.058) before 4 (−.25).
        #expect(mmr.rerank([0, 1, 2, 3, 4], score: { Self.scores[$0] }, count: 5) == [0, 3, 2, 1, 4])
    }

    @Test func lambdaOneRerankingThroughTheSelectionKeepsTheFiltersAndTheCap() throws {
        var catalog = Catalog(userCount: 10, itemCount: 5)
        catalog.itemArtist = [0, 1, 2, 3, 3]  // items 3 and 4 share an artist
        var filter = RecommendationFilter()
        filter.diversity = try Diversification(lambda: 1, similarity: Self.similarity)
        func top(_ k: Int, heard: Set<Int> = [], cap: Int = 0) -> [Int] {
            filter.maxPerArtist = cap
            return RecommendationSelection.top(k, of: Self.scores, heard: Set(heard.map(ItemIndex.init)), filter: filter, catalog: catalog, predictLog1p: nil)
                .map(\.item.rawValue)
        }
        #expect(top(4) == [0, 3, 2, 4])
        // One per artist: 4 (artist of 3) is refused when offered and 1 takes the last place.
        #expect(top(4, cap: 1) == [0, 3, 2, 1])
        // A heard item is never a candidate: without 0, 1 leads (the best score), and 2 and 3 are unlike it.
        #expect(top(3, heard: [0]) == [1, 2, 3])
        let plain = RecommendationSelection.top(5, of: Self.scores, heard: [], filter: RecommendationFilter(), catalog: catalog, predictLog1p: nil)
        #expect(plain.map(\.item.rawValue) == [0, 1, 2, 3, 4])
    }

    /// λ = 0 is the list without diversity, item for item, on seeded random scores with ties, heard items,
    /// inactive items and the per-artist cap.
    @Test(arguments: [1, 5, 20, 60])
    func lambdaZeroIsExactlyTheUndiversifiedSelection(k: Int) throws {
        var rng = SplitMix64(seed: 42)
        let itemCount = 300
        var catalog = Catalog(userCount: 40, itemCount: itemCount)
        catalog.itemArtist = (0..<itemCount).map { _ in rng.nextInt(below: 40) }
        catalog.itemActive = (0..<itemCount).map { _ in rng.nextInt(below: 10) > 0 }
        var listens = ListenTable()
        for _ in 0..<2_000 { listens.append(user: Int32(rng.nextInt(below: 40)), item: Int32(rng.nextInt(below: itemCount)), plays: 1) }
        let similarity = ItemSimilarity(itemCount: itemCount, listens: listens)
        for trial in 0..<20 {
            let scores = (0..<itemCount).map { _ in Float(rng.nextInt(below: 50)) / 7 }  // many ties
            let heard = Set((0..<30).map { _ in ItemIndex(rng.nextInt(below: itemCount)) })
            for cap in [0, 1, 3] {
                var plain = RecommendationFilter()
                plain.maxPerArtist = cap
                var diverse = plain
                diverse.diversity = try Diversification(lambda: 0, similarity: similarity)
                let a = RecommendationSelection.top(k, of: scores, heard: heard, filter: plain, catalog: catalog, predictLog1p: nil)
                let b = RecommendationSelection.top(k, of: scores, heard: heard, filter: diverse, catalog: catalog, predictLog1p: nil)
                #expect(a == b, "trial \(trial), k \(k), cap \(cap)")
            }
        }
    }

    @Test func lambdaOutsideZeroToOneIsRefusedWithTheRange() {
        for bad in [-0.1, 1.5, .nan, .infinity] {
            #expect(throws: DiversificationError.self) { try Diversification(lambda: bad, similarity: Self.similarity) }
        }
        #expect(throws: DiversificationError.self) { try Diversification(lambda: 0.5, similarity: Self.similarity, pool: 0) }
        do {
            _ = try Diversification(lambda: 2, similarity: Self.similarity)
            Issue.record("λ = 2 was accepted")
        } catch {
            #expect("\(error)".contains("between 0 and 1"), "\(error)")
        }
    }

    @Test func poolIsFiveTimesKAndAtLeastOneHundred() throws {
        let mmr = try Diversification(lambda: 0.3, similarity: Self.similarity)
        #expect(mmr.poolSize(for: 10) == 100 && mmr.poolSize(for: 20) == 100 && mmr.poolSize(for: 30) == 150)
        #expect(try Diversification(lambda: 0.3, similarity: Self.similarity, pool: 7).poolSize(for: 10) == 10)
    }

    /// Popularity serves the large group's items to everyone; those items share listeners, the small
    /// group's share none with them, so MMR brings the small group's (rarer) items in: more of the catalog
    /// covered, and more novel slots. λ = 0 scores exactly as without diversity.
    @Test func evaluatingWithDiversityRaisesCoverageAndNoveltyOnThePlantedGroups() throws {
        let planted = PlantedGraph.tasteGroups()
        let model = try planted.fit(.popularity)
        let data = TrainingData(userCount: planted.userCount, itemCount: planted.itemCount, train: planted.train, validation: ListenTable())
        let heldOut = data.heldOut(planted.test)
        let similarity = ItemSimilarity(itemCount: planted.itemCount, listens: planted.train)
        let plain = model.evaluate(heldOut)
        #expect(model.evaluate(heldOut, diversity: try Diversification(lambda: 0, similarity: similarity)) == plain)
        let diverse = model.evaluate(heldOut, diversity: try Diversification(lambda: 0.8, similarity: similarity))
        #expect(diverse.users == plain.users)
        #expect(diverse.coverage20 > plain.coverage20 + 0.1, "coverage \(plain.coverage20) → \(diverse.coverage20)")
        #expect(diverse.novelty20 > plain.novelty20 + 0.1, "novelty \(plain.novelty20) → \(diverse.novelty20)")
    }
}
