import TasteGraphCore
import TasteGraphRecommend
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
}
