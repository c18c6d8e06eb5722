/// The regularized bias baseline (Koren 2010, §2.1): a global mean plus one offset per user and per item,
/// fit by alternating exact least-squares updates. The GCN's play-count head starts from it
/// (`Trainer.initializeBiases`) and the popularity baseline predicts with it (`PopularityRecommender`).
///
/// ```
/// ŷ_ui = μ + b_u + b_i,   μ = mean y,   min Σ (y_ui − μ − b_u − b_i)² + λ (Σ b_u² + Σ b_i²)
/// b_u ← Σ_{i∈I(u)} (y_ui − μ − b_i) / (n_u + λ),   b_i ← Σ_{u∈U(i)} (y_ui − μ − b_u) / (n_i + λ)
/// ```
/// Each update is the exact minimizer with the other side held fixed, so the objective never rises; one
/// sweep is one update of each side, in `order`. λ = 0 with one sweep gives plain means of residuals.
/// Sums run in Double, in edge order, so a caller's numbers are reproducible bit for bit.
public enum BiasBaseline {
    /// Which side a sweep updates first (the first update sees the other side at 0 on the first sweep).
    public enum Order: Sendable, Equatable {
        case usersFirst
        case itemsFirst
    }

    /// μ, b_u (one per user index) and b_i (one per item index).
    public struct Fit: Sendable, Equatable {
        public var mean: Double
        public var userBias: [Double]
        public var itemBias: [Double]
    }

    /// Fits the baseline to the listens `(users[e], items[e], targets[e])`.
    ///
    /// - Parameters:
    ///   - users, items: indices below `userCount` and `itemCount`, one per listen.
    ///   - targets: y per listen (the callers use log1p(plays)).
    ///   - regularization: λ ≥ 0. A user or item with no listens keeps bias 0 (also when λ = 0).
    ///   - sweeps: rounds of alternating updates; at least one is run.
    /// - Returns: μ = 0 and all biases 0 when there are no listens.
    public static func fit(
        users: [Int], items: [Int], targets: [Double], userCount: Int, itemCount: Int,
        regularization lambda: Double, sweeps: Int, order: Order
    ) -> Fit {
        precondition(users.count == targets.count && items.count == targets.count, "one user and one item per target")
        let mean = targets.isEmpty ? 0 : targets.reduce(0, +) / Double(targets.count)
        var userListens = [Double](repeating: 0, count: userCount)
        var itemListens = [Double](repeating: 0, count: itemCount)
        for e in 0..<targets.count {
            userListens[users[e]] += 1
            itemListens[items[e]] += 1
        }
        var userBias = [Double](repeating: 0, count: userCount)
        var itemBias = [Double](repeating: 0, count: itemCount)
        // b_side ← Σ (y − μ − b_other) / (n_side + λ) over the side's listens.
        func update(_ bias: inout [Double], listens: [Double], index: [Int], other: [Double], otherIndex: [Int]) {
            var sum = [Double](repeating: 0, count: bias.count)
            for e in 0..<targets.count { sum[index[e]] += targets[e] - mean - other[otherIndex[e]] }
            for k in 0..<bias.count where listens[k] + lambda > 0 { bias[k] = sum[k] / (listens[k] + lambda) }
        }
        for _ in 0..<max(sweeps, 1) {
            switch order {
            case .usersFirst:
                update(&userBias, listens: userListens, index: users, other: itemBias, otherIndex: items)
                update(&itemBias, listens: itemListens, index: items, other: userBias, otherIndex: users)
            case .itemsFirst:
                update(&itemBias, listens: itemListens, index: items, other: userBias, otherIndex: users)
                update(&userBias, listens: userListens, index: users, other: itemBias, otherIndex: items)
            }
        }
        return Fit(mean: mean, userBias: userBias, itemBias: itemBias)
    }
}
