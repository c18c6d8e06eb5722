import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
import TasteGraphRecommend
import TestSupport
import Testing

/// The cold-item calibration's choice, with a stand-in for the validation recall.
@Suite struct ColdItemCalibrationTests {
    /// 5 items, items 3 and 4 without train listens; the ranking biases sit at offset 2 of the parameters.
    static let train: ListenTable = {
        var t = ListenTable()
        for (u, i) in [(0, 0), (0, 1), (1, 2), (1, 0)] { t.append(user: Int32(u), item: Int32(i), plays: 1) }
        return t
    }()
    static let parameters: [Float] = [9, 9, /* c */ 0.1, 0.5, 0.3, -2, -3]

    @Test func coldBiasesMoveToTheChosenQuantileOfTheWarmOnes() throws {
        // Warm biases sorted: 0.1, 0.3, 0.5 → quantile 0.5 is 0.3, 1.0 is 0.5. The stand-in prefers a higher cold bias.
        let chosen = try ColdItemCalibration.choose(quantiles: [0.5, 1.0], parameters: Self.parameters, rankBias: 2,
                                                    train: Self.train, itemCount: 5) { p in Double(p[5] + p[6]) }
        #expect(chosen.calibration.quantile == 1.0)
        #expect(chosen.parameters == [9, 9, 0.1, 0.5, 0.3, 0.5, 0.5], "only the cold items' biases change")
        #expect(chosen.calibration.coldItems == 2)
        #expect(chosen.calibration.validationRecall.map(\.quantile) == [nil, 0.5, 1.0])
    }

    @Test func theLearnedBiasesWinTiesAndBadQuantilesAreRefused() throws {
        let kept = try ColdItemCalibration.choose(quantiles: [0, 0.5], parameters: Self.parameters, rankBias: 2,
                                                  train: Self.train, itemCount: 5) { _ in 0.25 }
        #expect(kept.calibration.quantile == nil && kept.parameters == Self.parameters)
        #expect(throws: ModelFitError.self) {
            try ColdItemCalibration.choose(quantiles: [1.5], parameters: Self.parameters, rankBias: 2, train: Self.train, itemCount: 5) { _ in 0 }
        }
    }

    /// The calibration after training scores the validation sample early stopping scored
    /// (`TrainingConfig.validationUsers`), not every validation user: at 10⁶ users a full pass per quantile
    /// cost more than the epochs. With the learned biases (no quantile), its first figure is the best
    /// epoch's own validation Recall@20 on the same users.
    @Test func theCalibrationScoresTheValidationSample() throws {
        let planted = PlantedGraph.tasteGroups()
        var listens = ListenTable()
        for e in 0..<planted.train.count where planted.train.items[e] != 0 {  // item 0 goes cold
            listens.append(user: planted.train.users[e], item: planted.train.items[e], plays: planted.train.plays[e])
        }
        let split = InteractionSplit.carvingValidation(train: listens, test: ListenTable(), fraction: 0.2, seed: 3)
        var model = GCNConfig()
        model.hidden = 16
        model.coldItemBiasQuantiles = [0.5]
        var training = TrainingConfig()
        training.epochs = 20
        training.seed = 3
        training.validationUsers = 8
        let fit = try GCNRecommender.fit(split: split, identity: planted.identity, features: planted.noFeatures, embedderName: "none",
                                         model: model, training: training)
        let calibration = try #require(fit.coldItemCalibration as ColdItemCalibration?)
        let learned = try #require(calibration.validationRecall.first)
        let best = try #require(fit.result.bestValidationRecall)
        #expect(learned.quantile == nil)
        #expect(abs(learned.recall20 - best) < 1e-9, "the calibration's figure without calibration is the best epoch's, on the same 8 users")
        let data = TrainingData(userCount: planted.userCount, itemCount: planted.itemCount, train: split.train, validation: split.validation)
        let full = data.heldOut(split.validation)
        #expect(full.evaluatedUsers > 8 && training.validationSample(of: full).evaluatedUsers == 8)
    }
}
