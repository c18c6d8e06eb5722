/// Top-K ranking metrics with binary relevance, per user, as in ../shared/PEERS.md:
///
/// ```
/// Recall@K    = hits / |relevant|
/// Precision@K = hits / K
/// HitRate@K   = 1 if hits > 0
/// NDCG@K      = Σ_{hit at rank r} 1/log2(r + 1)  /  Σ_{r=1}^{min(|relevant|, K)} 1/log2(r + 1)
/// MAP@K       = Σ_{hit at rank r} (hits up to r / r)  /  min(|relevant|, K)
/// F1@K        = 2·Precision@K·Recall@K / (Precision@K + Recall@K)   (0 without hits)
/// ```
/// Ranks are 1-based. Averages are taken per user (macro) by the caller.
public struct RankingScores: Sendable, Equatable, Codable {
    public var recall: Double
    public var precision: Double
    public var hitRate: Double
    public var ndcg: Double
    public var map: Double
    public var f1: Double

    public static let zero = RankingScores(recall: 0, precision: 0, hitRate: 0, ndcg: 0, map: 0, f1: 0)

    /// Scores one ranked list against the relevant set.
    /// - Parameters:
    ///   - ranked: recommended items, best first (only the first `k` count).
    ///   - relevant: the held-out items; must not be empty.
    public init(ranked: [Int], relevant: Set<Int>, k: Int) {
        precondition(!relevant.isEmpty && k > 0)
        var hits = 0
        var dcg = 0.0
        var apSum = 0.0
        for (index, item) in ranked.prefix(k).enumerated() where relevant.contains(item) {
            hits += 1
            let rank = Double(index + 1)
            dcg += 1 / log2(rank + 1)
            apSum += Double(hits) / rank
        }
        let ideal = min(relevant.count, k)
        var idcg = 0.0
        for r in 1...ideal { idcg += 1 / log2(Double(r) + 1) }
        recall = Double(hits) / Double(relevant.count)
        precision = Double(hits) / Double(k)
        hitRate = hits > 0 ? 1 : 0
        ndcg = dcg / idcg
        map = apSum / Double(ideal)
        f1 = hits > 0 ? 2 * precision * recall / (precision + recall) : 0
    }

    init(recall: Double, precision: Double, hitRate: Double, ndcg: Double, map: Double, f1: Double) {
        self.recall = recall
        self.precision = precision
        self.hitRate = hitRate
        self.ndcg = ndcg
        self.map = map
        self.f1 = f1
    }

    /// The per-user mean of many scores.
    public static func mean(_ scores: [RankingScores]) -> RankingScores {
        guard !scores.isEmpty else { return .zero }
        let n = Double(scores.count)
        return RankingScores(
            recall: scores.map(\.recall).reduce(0, +) / n, precision: scores.map(\.precision).reduce(0, +) / n,
            hitRate: scores.map(\.hitRate).reduce(0, +) / n, ndcg: scores.map(\.ndcg).reduce(0, +) / n,
            map: scores.map(\.map).reduce(0, +) / n, f1: scores.map(\.f1).reduce(0, +) / n)
    }
}

#if canImport(Glibc)
import Glibc
#endif
