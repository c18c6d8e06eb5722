import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
@testable import TasteGraphRecommend
import TestSupport
import Testing

/// `train --initial-embeddings als`: the GCN's user and item rows start at ALS's factors, scaled to the
/// random start's size, on the planted taste groups.
@Suite struct ALSStartTests {
    static let planted = PlantedGraph.tasteGroups()

    static var model: GCNConfig {
        var model = GCNConfig()
        model.hidden = 16
        return model
    }

    static func gcn() -> GCNModel<Float> {
        let data = TrainingData(userCount: planted.userCount, itemCount: planted.itemCount, train: planted.train, validation: ListenTable())
        return GCNModel<Float>(config: model, userCount: planted.userCount, itemCount: planted.itemCount,
                               adjacency: data.graph.gcnNormalized(), features: WarmStartTests.features(items: planted.itemCount))
    }

    /// Each embedding matrix is ALS's (same seed, H factors) times one positive scale that makes its RMS
    /// initScale; every other parameter is the fresh start's.
    @Test func embeddingsAreALSFactorsAtTheRandomStartsSize() throws {
        let model = Self.gcn()
        var training = TrainingConfig()
        training.seed = 5
        let data = TrainingData(userCount: Self.planted.userCount, itemCount: Self.planted.itemCount, train: Self.planted.train, validation: ListenTable())
        let fresh = Trainer(model: model, data: data, config: training).freshParameters()
        let start = try ALSStart.parameters(for: model, fresh: fresh, train: Self.planted.train, identity: Self.planted.identity, seed: 5)
        var settings = ALSConfig()
        settings.factors = 16
        settings.seed = 5
        let als = try ALSRecommender.fit(
            FitData(userCount: Self.planted.userCount, itemCount: Self.planted.itemCount, train: Self.planted.train),
            identity: Self.planted.identity, config: settings)
        var moved = Set<Int>()
        for (name, factors) in [("userEmbedding", als.userFactors), ("itemEmbedding", als.itemFactors)] {
            let entry = try #require(model.layout[name])
            let rows = Array(start[entry.range])
            let rms = (rows.reduce(0.0) { $0 + Double($1 * $1) } / Double(rows.count)).squareRoot()
            #expect(abs(rms - model.config.initScale) < 1e-5, "\(name) RMS \(rms)")
            let ratio = rows[0] / factors[0]
            #expect(ratio > 0)
            for k in rows.indices { #expect(abs(rows[k] - ratio * factors[k]) <= 1e-5 * max(1, abs(rows[k])), "\(name)[\(k)]") }
            moved.formUnion(entry.range)
        }
        for k in fresh.indices where !moved.contains(k) { #expect(start[k] == fresh[k]) }
    }

    /// Through `GCNRecommender.fit`: the start is validated as epoch 0 (the taste groups are already in
    /// ALS's factors, so it is far above chance) and its fit time is reported.
    @Test func fitValidatesTheALSStartAndTimesIt() throws {
        var training = TrainingConfig()
        training.epochs = 2
        training.validateEvery = 1
        training.seed = 3
        training.initialEmbeddings = .als
        let split = InteractionSplit.carvingValidation(train: Self.planted.train, test: ListenTable(), fraction: 0.1, seed: 3)
        let fit = try GCNRecommender.fit(split: split, identity: Self.planted.identity, features: WarmStartTests.features(items: Self.planted.itemCount),
                                         embedderName: "none", model: Self.model, training: training)
        let initial = try #require(fit.result.initialValidationRecall)
        #expect(initial > 0.5)
        #expect((fit.alsStartSeconds ?? 0) > 0)
        training.initialEmbeddings = .random
        let cold = try GCNRecommender.fit(split: split, identity: Self.planted.identity, features: WarmStartTests.features(items: Self.planted.itemCount),
                                          embedderName: "none", model: Self.model, training: training)
        #expect(cold.result.initialValidationRecall == nil)
        #expect(cold.alsStartSeconds == nil)
    }
}
