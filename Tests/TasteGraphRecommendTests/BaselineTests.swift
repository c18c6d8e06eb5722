import Foundation
import TasteGraphCore
import TasteGraphGraph
import TestSupport
import Testing
@testable import TasteGraphRecommend

/// The baselines' own arithmetic, checked by hand.
@Suite struct BaselineTests {
    /// users × items: u0 plays i0 ×4 and i1 ×2; u1 plays i1 ×6; i2 and i3 unplayed.
    func tinyGraph() -> BipartiteGraph {
        BipartiteGraph(userCount: 2, itemCount: 4, listens: ListenTable(users: [0, 0, 1], items: [0, 1, 1], plays: [4, 2, 6]), weighting: .raw)
    }

    @Test func bm25WeightsMatchImplicitsFormulaOnItemsByUsers() {
        var config = ALSConfig()
        config.weighting = .bm25
        let weights = ALSRecommender.confidences(tinyGraph(), config)
        // Documents are items (N = 4), terms are users: idf_u = ln 4 − ln(1 + items of u);
        // item lengths 4, 8, 0, 0 (mean 3): norm_i = 0.2 + 0.8 · length_i / 3.
        let idf0 = log(4.0) - log(3.0), idf1 = log(4.0) - log(2.0)
        let norm0 = 0.2 + 0.8 * 4 / 3, norm1 = 0.2 + 0.8 * 8 / 3
        let expected = [4 * 101 / (100 * norm0 + 4) * idf0, 2 * 101 / (100 * norm1 + 2) * idf0, 6 * 101 / (100 * norm1 + 6) * idf1]
        #expect(weights.count == 3)
        for (got, want) in zip(weights, expected) { #expect(abs(Double(got) - want) < 1e-5, "\(got) vs \(want)") }
    }

    @Test func confidenceWeightingIsOnePlusAlphaLog1p() {
        var config = ALSConfig()
        config.weighting = .confidence
        config.alpha = 40
        let weights = ALSRecommender.confidences(tinyGraph(), config)
        #expect(zip(weights, [4.0, 2, 6]).allSatisfy { abs(Double($0) - (1 + 40 * log1p($1))) < 1e-4 })
    }

    @Test func conjugateGradientAgreesWithCholesky() throws {
        let planted = PlantedGraph.tasteGroups()
        let data = try FitData(userCount: planted.userCount, itemCount: planted.itemCount, train: planted.train)
        var config = ALSConfig()
        config.factors = 4
        config.regularization = 1
        config.iterations = 15
        config.seed = 3
        config.solver = .cg
        // CG reaches the exact solution of an f-dimensional system in f steps (exact arithmetic); with a few
        // more it must follow the Cholesky trajectory, iteration after iteration.
        config.cgSteps = 3 * config.factors
        let cg = try ALSRecommender.fit(data, identity: planted.identity, config: config)
        config.solver = .cholesky
        let exact = try ALSRecommender.fit(data, identity: planted.identity, config: config)
        var overlap = 0.0
        for user in (0..<planted.userCount).map(UserIndex.init) {
            let heard = planted.heard(user)
            let a = Set(cg.recommend(user: user, count: 10, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog).map(\.item))
            let b = Set(exact.recommend(user: user, count: 10, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog).map(\.item))
            overlap += Double(a.intersection(b).count) / 10
        }
        #expect(overlap / Double(planted.userCount) >= 0.9)
        let scale = exact.scores(user: UserIndex(0)).map(abs).max()!
        let gap = zip(cg.scores(user: UserIndex(0)), exact.scores(user: UserIndex(0))).map { abs($0 - $1) }.max()!
        #expect(gap < 0.05 * scale, "CG \(gap) from the exact solution (scale \(scale))")
    }

    @Test func biasBaselineIsRegularizedMeans() throws {
        // y = log1p(plays): (u0, i0) 1, (u0, i1) 3, (u1, i0) 2; μ = 2.
        let listens = ListenTable(users: [0, 0, 1], items: [0, 1, 0], plays: [expm1f(1), expm1f(3), expm1f(2)])
        let data = try FitData(userCount: 2, itemCount: 2, train: listens)
        let identity = ModelIdentity(userIDs: ["a", "b"], itemIDs: ["x", "y"], dataFingerprint: "")
        var config = PopularityRecommender.Config()
        config.biasRegularization = 0
        config.biasSweeps = 1
        // b_i0 = (−1 + 0)/2 = −0.5, b_i1 = 1; b_u0 = ((1 − 2 + 0.5) + (3 − 2 − 1))/2 = −0.25, b_u1 = 0.5.
        let plain = PopularityRecommender.fit(data, identity: identity, config: config)
        #expect(abs(plain.predictLog1p(user: UserIndex(1), item: ItemIndex(1)) - 3.5) < 1e-5)
        #expect(abs(plain.predictLog1p(user: UserIndex(0), item: ItemIndex(0)) - 1.25) < 1e-5)
        // Regularization shrinks every bias toward 0, so predictions move toward μ.
        let shrunk = PopularityRecommender.fit(data, identity: identity)
        #expect(abs(shrunk.predictLog1p(user: UserIndex(1), item: ItemIndex(1)) - 2) < 0.5)
        #expect(abs(shrunk.predictLog1p(user: UserIndex(1), item: ItemIndex(1)) - 2) > 0)
    }

    @Test func itemKNNScoresAreWeightedCosineSums() throws {
        // Two users both play i0 and i1; one also plays i2. cos(i0, i1) = 1 on log1p weights of equal plays.
        let listens = ListenTable(users: [0, 0, 1, 1, 1], items: [0, 1, 0, 1, 2], plays: [3, 3, 3, 3, 3])
        let data = try FitData(userCount: 2, itemCount: 3, train: listens)
        let model = ItemKNNRecommender.fit(data, identity: ModelIdentity(userIDs: ["a", "b"], itemIDs: ["x", "y", "z"], dataFingerprint: ""))
        let scores = model.scores(user: UserIndex(0))
        // sim(i2, i0) = sim(i2, i1) = 1/√2; user 0's weights are log1p(3) on i0 and i1.
        #expect(abs(Double(scores[2]) - 2 * log1p(3.0) / 2.0.squareRoot()) < 1e-4, "\(scores)")
        let reasons = model.explain(user: UserIndex(0), item: ItemIndex(2), heard: [ItemIndex(0), ItemIndex(1)], count: 5)
        #expect(Set(reasons.map(\.item)) == [ItemIndex(0), ItemIndex(1)])
        #expect(abs(reasons.map(\.weight).reduce(0, +) - Double(scores[2])) < 1e-4, "explanations sum to the score")
    }
}
