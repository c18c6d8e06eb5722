import Foundation
import TasteGraphCore
import TasteGraphRecommend
import Testing

/// RP3β's walk weights against hand computation on three users and three items.
@Suite struct RP3BetaTests {
    /// u0 hears {0, 1}, u1 {1, 2}, u2 {0, 1, 2} (binary). Item degrees 2, 3, 2; user degrees 2, 2, 3.
    /// W_01 = ½·½ (via u0) + ½·⅓ (via u2) = 5/12; W_02 = ½·⅓ = 1/6; W_10 = ⅓·½ + ⅓·⅓ = 5/18.
    /// With β = 1 each is divided by the target's listeners: W_01 = 5/36, W_02 = 1/12, W_10 = 5/36.
    static func data() throws -> (FitData, ModelIdentity) {
        var listens = ListenTable()
        for (user, items) in [[0, 1], [1, 2], [0, 1, 2]].enumerated() {
            for item in items { listens.append(user: Int32(user), item: Int32(item), plays: 7) }
        }
        let identity = ModelIdentity(userIDs: ["u0", "u1", "u2"], itemIDs: ["i0", "i1", "i2"], dataFingerprint: "test")
        return (try FitData(userCount: 3, itemCount: 3, train: listens), identity)
    }

    @Test func walkWeightsMatchTheHandComputation() throws {
        let (data, identity) = try Self.data()
        var config = RP3BetaRecommender.Config()
        config.beta = 0
        let plain = try RP3BetaRecommender.fit(data, identity: identity, config: config)
        #expect(abs(plain.weight(from: ItemIndex(0), to: ItemIndex(1)) - 5.0 / 12) < 1e-6)
        #expect(abs(plain.weight(from: ItemIndex(0), to: ItemIndex(2)) - 1.0 / 6) < 1e-6)
        #expect(abs(plain.weight(from: ItemIndex(1), to: ItemIndex(0)) - 5.0 / 18) < 1e-6)
        #expect(plain.weight(from: ItemIndex(1), to: ItemIndex(1)) == 0)  // no self-loops
        config.beta = 1
        let discounted = try RP3BetaRecommender.fit(data, identity: identity, config: config)
        #expect(abs(discounted.weight(from: ItemIndex(0), to: ItemIndex(1)) - 5.0 / 36) < 1e-6)
        #expect(abs(discounted.weight(from: ItemIndex(0), to: ItemIndex(2)) - 1.0 / 12) < 1e-6)
        // score(u1, 0) = x_u1,1·W_10 + x_u1,2·W_20; W_20 = ½·⅓ (via u2) / 2 = 1/12.
        #expect(abs(discounted.scores(user: UserIndex(1))[0] - Float(5.0 / 36 + 1.0 / 12)) < 1e-6)
        // K = 1 keeps only each row's largest weight.
        config.neighbors = 1
        let pruned = try RP3BetaRecommender.fit(data, identity: identity, config: config)
        #expect(pruned.weight(from: ItemIndex(0), to: ItemIndex(1)) > 0)
        #expect(pruned.weight(from: ItemIndex(0), to: ItemIndex(2)) == 0)
    }

    @Test func badSettingsAreRefused() throws {
        let (data, identity) = try Self.data()
        var config = RP3BetaRecommender.Config()
        config.beta = -1
        #expect(throws: ModelFitError.self) { try RP3BetaRecommender.fit(data, identity: identity, config: config) }
    }
}
