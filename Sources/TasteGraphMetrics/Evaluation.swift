/// The evaluation protocol of ../shared/PEERS.md, shared by training (validation) and `evaluate`.
///
/// For every user with held-out items: score ALL items, remove the user's train items, take the top K
/// (ties: lower item index first), and compute `RankingScores`; average per user. Over all users:
///
/// ```
/// coverage@K = |distinct items in all top-K lists| / I
/// novelty@K  = mean over all recommended slots of −log2(max(train listeners of i, 1) / U)
/// ```
/// The cold-start slice: a held-out item with no train listeners is *cold*. Over the users with a cold
/// held-out item, `coldRecall20` is the per-user mean of |top-20 ∩ cold held-out| / |cold held-out|, from the
/// same lists (a collaborative model, which cannot score an item nobody heard, gets ≈ 0 there).
/// Regression: MAE and RMSE of predicted log1p(play count) on the held-out edges.
public struct EvaluationReport: Codable, Sendable, Equatable {
    public var recall10 = 0.0
    public var recall20 = 0.0
    public var ndcg10 = 0.0
    public var ndcg20 = 0.0
    public var precision20 = 0.0
    public var map20 = 0.0
    /// Per-user mean of F1@20 (the harmonic mean of that user's precision and recall).
    public var f120 = 0.0
    public var hitrate20 = 0.0
    public var coverage20 = 0.0
    public var novelty20 = 0.0
    public var mae: Double?
    public var rmse: Double?
    /// Recall@20 on the cold-start slice (nil when no user holds out a cold item).
    public var coldRecall20: Double?
    /// Users with a cold held-out item.
    public var coldUsers = 0
    /// Users that were ranked (those with held-out items).
    public var users = 0

    public init() {}

    /// Reports written before F1@20 and the cold-start slice existed (in older checkpoints' headers) decode
    /// with F1@20 0 and no slice.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        recall10 = try c.decode(Double.self, forKey: .recall10)
        recall20 = try c.decode(Double.self, forKey: .recall20)
        ndcg10 = try c.decode(Double.self, forKey: .ndcg10)
        ndcg20 = try c.decode(Double.self, forKey: .ndcg20)
        precision20 = try c.decode(Double.self, forKey: .precision20)
        map20 = try c.decode(Double.self, forKey: .map20)
        f120 = try c.decodeIfPresent(Double.self, forKey: .f120) ?? 0
        hitrate20 = try c.decode(Double.self, forKey: .hitrate20)
        coverage20 = try c.decode(Double.self, forKey: .coverage20)
        novelty20 = try c.decode(Double.self, forKey: .novelty20)
        mae = try c.decodeIfPresent(Double.self, forKey: .mae)
        rmse = try c.decodeIfPresent(Double.self, forKey: .rmse)
        coldRecall20 = try c.decodeIfPresent(Double.self, forKey: .coldRecall20)
        coldUsers = try c.decodeIfPresent(Int.self, forKey: .coldUsers) ?? 0
        users = try c.decode(Int.self, forKey: .users)
    }

    enum CodingKeys: String, CodingKey {
        case recall10 = "recall@10", recall20 = "recall@20", ndcg10 = "ndcg@10", ndcg20 = "ndcg@20"
        case precision20 = "precision@20", f120 = "f1@20", map20 = "map@20", hitrate20 = "hitrate@20"
        case coverage20 = "coverage@20", novelty20 = "novelty@20", mae, rmse, users
        case coldRecall20 = "cold_recall@20", coldUsers = "cold_users"
    }
}

/// Held-out data for one evaluation.
public struct HeldOut: Sendable {
    /// Items to rank against, per user (empty: the user is not evaluated).
    public let relevant: [Set<Int>]
    /// Items to exclude from each user's ranking (their train items), per user.
    public let excluded: [[Int32]]
    /// Train listeners of each item, for novelty.
    public let trainListeners: [Int]
    /// U in novelty's −log2(listeners / U): the number of users in the dataset.
    public let userCount: Int
    /// Held-out (user, item, log1p plays) triples for MAE/RMSE.
    public let regression: [(user: Int, item: Int, target: Float)]

    public init(relevant: [Set<Int>], excluded: [[Int32]], trainListeners: [Int], userCount: Int, regression: [(user: Int, item: Int, target: Float)]) {
        self.relevant = relevant
        self.excluded = excluded
        self.trainListeners = trainListeners
        self.userCount = userCount
        self.regression = regression
    }

    /// Users with held-out items (the ones `Evaluation` scores).
    public var evaluatedUsers: Int { relevant.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) } }

    /// The same held-out set on a seeded sample of `count` of its evaluated users (itself when it has no
    /// more): each evaluated user is ranked by a SplitMix64 hash of (seed, user) and the lowest `count` are
    /// kept. Ranking metrics over the sample estimate the full ones (its Recall@20 is the mean over a
    /// uniform sample of users); novelty's U and the train listeners stay the full data's. At 10⁶ users a
    /// validation over 2·10⁴ of them costs 2 % of a full one.
    public func sampled(users count: Int, seed: UInt64) -> HeldOut {
        precondition(count > 0, "a sample needs at least one user")
        let evaluated = relevant.indices.filter { !relevant[$0].isEmpty }
        guard evaluated.count > count else { return self }
        func hash(_ user: Int) -> UInt64 {
            var z = seed &+ UInt64(user) &* 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let ranked: [(user: Int, key: UInt64)] = evaluated.map { (user: $0, key: hash($0)) }
        let ordered = ranked.sorted { a, b in a.key < b.key || (a.key == b.key && a.user < b.user) }
        var chosen = [Bool](repeating: false, count: relevant.count)
        for entry in ordered.prefix(count) { chosen[entry.user] = true }
        var keptRelevant: [Set<Int>] = []
        var keptExcluded: [[Int32]] = []
        keptRelevant.reserveCapacity(relevant.count)
        keptExcluded.reserveCapacity(excluded.count)
        for user in relevant.indices {
            keptRelevant.append(chosen[user] ? relevant[user] : [])
            keptExcluded.append(user < excluded.count && chosen[user] ? excluded[user] : [])
        }
        return HeldOut(
            relevant: keptRelevant, excluded: keptExcluded, trainListeners: trainListeners, userCount: userCount,
            regression: regression.filter { chosen[$0.user] })
    }
}

public enum Evaluation {
    /// The top `k` items of one score row with `excluded` removed; ties go to the lower item index.
    public static func topK(_ scores: UnsafeBufferPointer<Float>, excluding excluded: [Int32], k: Int) -> [Int] {
        var mask = Set<Int32>(excluded)
        mask.reserveCapacity(excluded.count)
        var best: [(score: Float, item: Int)] = []
        best.reserveCapacity(k + 1)
        for item in 0..<scores.count {
            let score = scores[item]
            if best.count == k {
                let last = best[k - 1]
                if score < last.score || (score == last.score && item > last.item) { continue }
            }
            if mask.contains(Int32(item)) { continue }
            var index = best.count
            while index > 0 && (best[index - 1].score < score || (best[index - 1].score == score && best[index - 1].item > item)) {
                index -= 1
            }
            best.insert((score, item), at: index)
            if best.count > k { best.removeLast() }
        }
        return best.map(\.item)
    }

    /// Runs the protocol.
    ///
    /// - Parameters:
    ///   - itemCount: I, the number of items scored for every user.
    ///   - scoreUsers: fills `out` (users.count × I, row-major) with the scores of `users`; called in
    ///     batches so memory stays bounded.
    ///   - predict: predicted log1p(play count) for a (user, item) pair, or nil when the model does not
    ///     predict play counts (MAE/RMSE are then omitted).
    ///   - select: the user's ranked list (at most 20 items, best first) from their score row, Shapes: (I);
    ///     nil: `topK(scores, excluding: heldOut.excluded[user], k: 20)`. A re-ranking (e.g. maximal marginal
    ///     relevance) is scored through it by the same protocol; it must leave out the user's excluded items
    ///     itself. Every metric at 10 and 20 is taken from this one list.
    public static func evaluate(
        heldOut: HeldOut, itemCount: Int, batchSize: Int = 256,
        scoreUsers: (_ users: [Int], _ out: UnsafeMutableBufferPointer<Float>) -> Void,
        predict: ((_ user: Int, _ item: Int) -> Float)?,
        select: ((_ user: Int, _ scores: UnsafeBufferPointer<Float>) -> [Int])? = nil
    ) -> EvaluationReport {
        let users = heldOut.relevant.indices.filter { !heldOut.relevant[$0].isEmpty }
        var at10: [RankingScores] = []
        var at20: [RankingScores] = []
        var recommended = Set<Int>()
        var noveltySum = 0.0
        var slots = 0
        var coldRecalls: [Double] = []
        var buffer = [Float](repeating: 0, count: batchSize * itemCount)
        for start in stride(from: 0, to: users.count, by: batchSize) {
            let batch = Array(users[start..<min(users.count, start + batchSize)])
            buffer.withUnsafeMutableBufferPointer { out in
                scoreUsers(batch, UnsafeMutableBufferPointer(rebasing: out[0..<(batch.count * itemCount)]))
                for (row, user) in batch.enumerated() {
                    let scores = UnsafeBufferPointer(rebasing: out[(row * itemCount)..<((row + 1) * itemCount)])
                    let top = select.map { Array($0(user, scores).prefix(20)) } ?? topK(scores, excluding: heldOut.excluded[user], k: 20)
                    at20.append(RankingScores(ranked: top, relevant: heldOut.relevant[user], k: 20))
                    at10.append(RankingScores(ranked: top, relevant: heldOut.relevant[user], k: 10))
                    let cold = heldOut.relevant[user].filter { heldOut.trainListeners[$0] == 0 }
                    if !cold.isEmpty { coldRecalls.append(Double(top.filter(cold.contains).count) / Double(cold.count)) }
                    for item in top {
                        recommended.insert(item)
                        noveltySum += -log2(Double(max(heldOut.trainListeners[item], 1)) / Double(heldOut.userCount))
                        slots += 1
                    }
                }
            }
        }
        var report = EvaluationReport()
        let m10 = RankingScores.mean(at10)
        let m20 = RankingScores.mean(at20)
        report.recall10 = m10.recall
        report.ndcg10 = m10.ndcg
        report.recall20 = m20.recall
        report.ndcg20 = m20.ndcg
        report.precision20 = m20.precision
        report.map20 = m20.map
        report.f120 = m20.f1
        report.hitrate20 = m20.hitRate
        report.coverage20 = itemCount > 0 ? Double(recommended.count) / Double(itemCount) : 0
        report.novelty20 = slots > 0 ? noveltySum / Double(slots) : 0
        report.users = users.count
        report.coldUsers = coldRecalls.count
        report.coldRecall20 = coldRecalls.isEmpty ? nil : coldRecalls.reduce(0, +) / Double(coldRecalls.count)
        if let predict, !heldOut.regression.isEmpty {
            var absolute = 0.0
            var squared = 0.0
            for edge in heldOut.regression {
                let error = Double(predict(edge.user, edge.item) - edge.target)
                absolute += abs(error)
                squared += error * error
            }
            report.mae = absolute / Double(heldOut.regression.count)
            report.rmse = (squared / Double(heldOut.regression.count)).squareRoot()
        }
        return report
    }
}

#if canImport(Glibc)
import Glibc
#endif
