import Testing

@testable import TasteGraphSupport

@Suite struct BiasBaselineTests {
    /// Listens (u0, i0, 1), (u0, i1, 3), (u1, i0, 2): μ = 2. With λ = 0 and one sweep each update is a
    /// plain mean of residuals, so the order shows: items first gives b_i0 = −0.5, b_i1 = 1, then
    /// b_u0 = (0.5 + 0) / 2, b_u1 = 0.5; users first sees b_i = 0 and gives b_u = 0 for both.
    /// User 2 has no listens and keeps 0 even with λ = 0.
    @Test func oneUnregularizedSweepIsMeansOfResidualsInTheGivenOrder() {
        func fit(_ order: BiasBaseline.Order) -> BiasBaseline.Fit {
            BiasBaseline.fit(users: [0, 0, 1], items: [0, 1, 0], targets: [1, 3, 2], userCount: 3, itemCount: 2,
                             regularization: 0, sweeps: 1, order: order)
        }
        let itemsFirst = fit(.itemsFirst)
        #expect(itemsFirst.mean == 2)
        #expect(itemsFirst.itemBias == [-0.5, 1])
        #expect(itemsFirst.userBias == [-0.25, 0.5, 0])
        let usersFirst = fit(.usersFirst)
        #expect(usersFirst.userBias == [0, 0, 0])
        #expect(usersFirst.itemBias == [-0.5, 1])
    }

    /// After enough sweeps the fit is the regularized least-squares optimum: for every user and item the
    /// gradient Σ (y − μ − b_u − b_i) − λ b vanishes.
    @Test func manySweepsReachTheRegularizedOptimum() {
        // A fixed, irregular pattern of 80 listens over 12 users and 9 items (every user and item heard).
        let userCount = 12, itemCount = 9, lambda = 5.0
        let users = (0..<80).map { ($0 * 7) % userCount }
        let items = (0..<80).map { ($0 * 5 + $0 / 12) % itemCount }
        let targets = (0..<80).map { Double(($0 * 37) % 17) / 4 }
        let fit = BiasBaseline.fit(users: users, items: items, targets: targets, userCount: userCount, itemCount: itemCount,
                                   regularization: lambda, sweeps: 500, order: .usersFirst)
        var userGradient = fit.userBias.map { -lambda * $0 }, itemGradient = fit.itemBias.map { -lambda * $0 }
        for e in 0..<targets.count {
            let residual = targets[e] - fit.mean - fit.userBias[users[e]] - fit.itemBias[items[e]]
            userGradient[users[e]] += residual
            itemGradient[items[e]] += residual
        }
        #expect(userGradient.allSatisfy { abs($0) < 1e-9 })
        #expect(itemGradient.allSatisfy { abs($0) < 1e-9 })
        #expect(fit.userBias.contains { abs($0) > 0.01 })
    }
}
