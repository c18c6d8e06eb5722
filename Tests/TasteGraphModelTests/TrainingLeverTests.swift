import Foundation
import TasteGraphModel
import TasteGraphSupport
import Testing

/// The learning-rate schedule and the popularity-aware negatives (issue 16's training levers).
@Suite struct TrainingLeverTests {
    @Test func theCosineScheduleFallsFromTheRateToATenthOfIt() {
        var config = TrainingConfig()
        config.epochs = 101
        config.learningRate = 0.02
        #expect(config.learningRate(atEpoch: 50) == 0.02, "constant by default")
        config.learningRateSchedule = .cosine
        #expect(abs(config.learningRate(atEpoch: 1) - 0.02) < 1e-12)
        #expect(abs(config.learningRate(atEpoch: 51) - 0.02 * 0.55) < 1e-12)  // halfway: 0.1 + 0.45
        #expect(abs(config.learningRate(atEpoch: 101) - 0.002) < 1e-12)
        #expect(config.learningRate(atEpoch: 30) > config.learningRate(atEpoch: 31))
    }

    /// Draws follow (1 + listeners)^β: with β = 1 and listeners [0, 1, 8], weights 1 : 2 : 9 (of 12);
    /// 60,000 seeded draws land within 1.5 % (absolute) of each share. β = 0 is uniform.
    @Test func popularityAwareNegativesFollowTheirWeights() {
        var rng = SplitMix64(seed: 5)
        let sampler = NegativeSampler(listeners: [0, 1, 8], exponent: 1)
        var counts = [0, 0, 0]
        for _ in 0..<60_000 { counts[Int(sampler.draw(&rng))] += 1 }
        for (count, share) in zip(counts, [1.0 / 12, 2.0 / 12, 9.0 / 12]) { #expect(abs(Double(count) / 60_000 - share) < 0.015) }
        let uniform = NegativeSampler(listeners: [0, 1, 8], exponent: 0)
        counts = [0, 0, 0]
        for _ in 0..<60_000 { counts[Int(uniform.draw(&rng))] += 1 }
        for count in counts { #expect(abs(Double(count) / 60_000 - 1.0 / 3) < 0.015) }
    }

    @Test func settingsFromBeforeTheLeversDecodeWithThemOff() throws {
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfig())) as! [String: Any]
        old["learningRateSchedule"] = nil
        old["negativePopularityExponent"] = nil
        let decoded = try JSONDecoder().decode(TrainingConfig.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(decoded == TrainingConfig())
    }
}
