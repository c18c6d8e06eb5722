import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphMetrics
import TasteGraphRecommend
import TestSupport
import Testing

/// The GCN–EASE blend: per-user standardization, the mix's two ends, and the weight chosen on validation.
@Suite struct GCNEASEBlendTests {
    static let planted = PlantedGraph.tasteGroups()

    static func fit(weight: Double?) throws -> GCNEASEBlend {
        let split = InteractionSplit.carvingValidation(train: planted.train, test: ListenTable(), fraction: 0.1, seed: 3)
        var config = GCNEASEBlend.Config()
        config.weight = weight
        config.gcn.model.hidden = 16
        config.gcn.training.epochs = 40
        config.gcn.training.seed = 3
        return try GCNEASEBlend.fit(
            FitInput(split: split, identity: planted.identity, itemActive: planted.catalog.itemActive, features: (planted.noFeatures, "none")),
            settings: config)
    }

    /// Order of `scores`, best first, ties to the lower index.
    static func order(_ scores: [Float]) -> [Int] {
        scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    }

    @Test func standardizingGivesMeanZeroAndUnitSpreadPerRow() {
        var rows: [Float] = [1, 2, 3, 4, 5, 5, 5, 5]
        let stats = rows.withUnsafeMutableBufferPointer { GCNEASEBlend.standardize($0, count: 2, itemCount: 4) }
        // Row 0: mean 2.5, population sd √1.25; row 1 is constant: all zeros, scale 0.
        let sd = 1.25.squareRoot()
        for (k, v) in [1.0, 2, 3, 4].enumerated() { #expect(abs(Double(rows[k]) - (v - 2.5) / sd) < 1e-6) }
        #expect(Array(rows[4...]) == [0, 0, 0, 0])
        #expect(abs(Double(stats[0].mean) - 2.5) < 1e-6 && stats[1].scale == 0)
    }

    /// w = 0 ranks every user's items as the GCN does, w = 1 as EASE does (standardizing keeps each order).
    @Test func theEndsOfTheMixRankAsTheirMembers() throws {
        let gcnSide = try Self.fit(weight: 0)
        let easeSide = GCNEASEBlendTests.reweighted(gcnSide, 1)
        for user in [0, 50].map(UserIndex.init) {
            #expect(Self.order(gcnSide.scores(user: user)).prefix(25) == Self.order(gcnSide.gcn.scores(user: user)).prefix(25))
            #expect(Self.order(easeSide.scores(user: user)).prefix(25) == Self.order(easeSide.ease.scores(user: user)).prefix(25))
        }
    }

    static func reweighted(_ blend: GCNEASEBlend, _ weight: Double) -> GCNEASEBlend {
        var config = blend.config
        config.weight = weight
        return GCNEASEBlend(gcn: blend.gcn, ease: blend.ease, weight: weight, config: config)
    }

    /// Without a weight, every grid value is scored on the validation share and the best Recall@20 wins
    /// (ties: the smaller weight); the chosen weight is recorded in the settings the file keeps.
    @Test func theWeightIsTheBestOnValidation() throws {
        let blend = try Self.fit(weight: nil)
        #expect(blend.validationCurve.map(\.weight) == blend.config.weightGrid)
        let best = blend.validationCurve.map(\.recall20).max()!
        #expect(blend.weight == blend.validationCurve.first { $0.recall20 == best }!.weight)
        #expect(blend.config.weight == blend.weight)
        // The curve is what the blend scores on that share, re-measured here.
        let split = InteractionSplit.carvingValidation(train: Self.planted.train, test: ListenTable(), fraction: 0.1, seed: 3)
        let heldOut = HeldOut(scoring: split.validation, excludingItemsOf: split.train, userCount: Self.planted.userCount, itemCount: Self.planted.itemCount)
        for point in blend.validationCurve where [0.0, 0.5, 1.0].contains(point.weight) {
            #expect(abs(Self.reweighted(blend, point.weight).evaluate(heldOut).recall20 - point.recall20) < 1e-9)
        }
    }

    @Test func badSettingsAreClearErrors() {
        let split = InteractionSplit(train: Self.planted.train, validation: ListenTable(), test: ListenTable())
        let input = FitInput(split: split, identity: Self.planted.identity, itemActive: Self.planted.catalog.itemActive, features: (Self.planted.noFeatures, "none"))
        var config = GCNEASEBlend.Config()
        config.weight = 1.5
        #expect(throws: ModelFitError.self) { try GCNEASEBlend.fit(input, settings: config) }
        config.weight = nil
        let error = #expect(throws: ModelFitError.self) { try GCNEASEBlend.fit(input, settings: config) }
        #expect(error?.message.contains("validation") == true)
    }
}
