import Foundation
import TasteGraphCore
import TasteGraphSupport
import TasteGraphGraph
import TasteGraphMetrics
import TasteGraphModel

/// One heard item's share of a recommendation's score (`recommend --explain`).
public struct Contribution: Sendable, Codable, Equatable {
    public let item: ItemIndex
    public let weight: Double

    public init(item: ItemIndex, weight: Double) {
        self.item = item
        self.weight = weight
    }
}

/// What every recommender does once fitted: score all items for users, optionally predict play counts,
/// explain a recommendation, and save itself.
///
/// Users and items are dense indices in the model's `identity` order (the store's order when fitted
/// from a store).
public protocol Recommender: Sendable {
    var kind: ModelKind { get }
    var identity: ModelIdentity { get }
    /// Whether `predictLog1p` returns play-count predictions (only those models get MAE/RMSE).
    var predictsPlayCounts: Bool { get }
    /// Ranking scores of `users` over all items; higher ranks first. Shapes: out (users.count, I), row-major.
    func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>)
    /// The best `k` items of each of `users` among the finite scores that `keep(row, item)` admits, best
    /// first (ties: lower item index), with their scores: the rows of `scores(users:into:)` through
    /// `TopK.select`. Embedding models (the GCN, ALS) answer without forming the (users.count, I) block
    /// (`BatchedScoring.topK`); the rest use the default, which does.
    func topItems(users: [UserIndex], count k: Int, where keep: (_ row: Int, _ item: Int) -> Bool) -> [[(item: ItemIndex, score: Float)]]
    /// Exact scores of `items` for `user` (a fixed-order Double dot, `NormOrderedItems.exactScore`) and Δ,
    /// a bound on how far `scores(users:into:)`'s may be from them, for models whose block scores depend on
    /// the user's row in the sgemm block; nil for the rest (the default). `topItems` of such a model already
    /// returns exact scores; the batch path's per-artist selection rescores with this.
    func exactScores(user: UserIndex, items: [ItemIndex]) -> (scores: [Float], bound: Float)?
    /// Predicted log1p(play count) of (user, item); 0 for models that do not predict play counts.
    func predictLog1p(user: UserIndex, item: ItemIndex) -> Float
    /// The heard items that contributed most to `item`'s score for `user`, largest first (at most `count`).
    func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution]
    /// Writes the fitted model; `RecommenderFile.load` reads it back.
    func save(to path: String) throws
}

extension Recommender {
    public var userCount: Int { identity.userIDs.count }
    public var itemCount: Int { identity.itemIDs.count }

    public func exactScores(user: UserIndex, items: [ItemIndex]) -> (scores: [Float], bound: Float)? { nil }

    public func topItems(users: [UserIndex], count k: Int, where keep: (_ row: Int, _ item: Int) -> Bool) -> [[(item: ItemIndex, score: Float)]] {
        let items = itemCount
        var block = [Float](repeating: 0, count: users.count * items)
        block.withUnsafeMutableBufferPointer { scores(users: users, into: $0) }
        return block.withUnsafeBufferPointer { all in
            users.indices.map { row in
                let scores = UnsafeBufferPointer(rebasing: all[(row * items)..<((row + 1) * items)])
                return TopK.select(k, of: scores, where: { scores[$0].isFinite && keep(row, $0) }).map { (item: ItemIndex($0), score: scores[$0]) }
            }
        }
    }

    /// Ranking scores of one user over all items. Shapes: (I).
    public func scores(user: UserIndex) -> [Float] {
        var out = [Float](repeating: 0, count: itemCount)
        out.withUnsafeMutableBufferPointer { scores(users: [user], into: $0) }
        return out
    }

    /// The top `k` items for `user` after the filter, best first (ties: lower item index).
    /// `heard` are the user's items in the store.
    ///
    /// Scores the user and picks through `RecommendationSelection.top` (the same selection serves folded-in
    /// users, `FoldingRecommender.recommend(folded:…)`).
    /// - Complexity: O(I log k) per call when the cap rarely bites (was O(I log I)).
    public func recommend(user: UserIndex, count k: Int, heard: Set<ItemIndex>, filter: RecommendationFilter, catalog: Catalog) -> [Recommendation] {
        guard k > 0 else { return [] }
        return RecommendationSelection.top(
            k, of: scores(user: user), heard: heard, filter: filter, catalog: catalog,
            predictLog1p: predictsPlayCounts ? { predictLog1p(user: user, item: $0) } : nil)
    }

    /// The PEERS protocol on `heldOut` (see `Evaluation`); MAE/RMSE only for play-count models.
    ///
    /// `Evaluation` (TasteGraphMetrics, below Core) speaks raw row numbers; they become typed indices here.
    public func evaluate(_ heldOut: HeldOut) -> EvaluationReport {
        evaluate(heldOut, diversity: nil)
    }

    /// The PEERS protocol on lists re-ranked by maximal marginal relevance: each user's pool is the top
    /// `diversity.poolSize(for: 20)` of their scores without their train items (`Evaluation.topK`), and the
    /// list is its MMR order (`Diversification.rerank`), the same re-ranking `recommend` applies. With nil,
    /// or λ = 0, the lists (and so every metric) are `evaluate(_:)`'s.
    public func evaluate(_ heldOut: HeldOut, diversity: Diversification?) -> EvaluationReport {
        Evaluation.evaluate(
            heldOut: heldOut, itemCount: itemCount,
            scoreUsers: { users, out in scores(users: users.map(UserIndex.init), into: out) },
            predict: predictsPlayCounts ? { predictLog1p(user: UserIndex($0), item: ItemIndex($1)) } : nil,
            select: diversity.map { diversity in
                { user, scores in
                    let pool = Evaluation.topK(scores, excluding: heldOut.excluded[user], k: diversity.poolSize(for: 20))
                    return diversity.rerank(pool, score: { scores[$0] }, count: 20)
                }
            })
    }
}

/// The one top-k selection behind every recommendation list (a user of the model, a folded-in user).
public enum RecommendationSelection {
    /// The top `k` eligible items of `scores`, best first (ties: lower item index).
    ///
    /// Eligible: a finite score, not in `heard` (unless `filter.includeHeard`), active in `catalog`, not by an
    /// excluded artist, popularity at least `filter.minPopularity`. The same list as walking all items sorted
    /// by score, without the sort: a partial top-k (`TopK`, a heap) picks the best eligible candidates, and
    /// the per-artist cap, which depends on the order, is applied to them; when the cap leaves fewer than `k`,
    /// the candidate count doubles and it repeats.
    ///
    /// With `filter.diversity`, the candidates are its pool (P = max(5k, 100) by default) and the list is their
    /// maximal-marginal-relevance order (`Diversification.rerank`), the cap applied to each pick; λ = 0 gives
    /// exactly the list without it.
    ///
    /// Shapes: scores (I), indexed like `catalog`'s items.
    /// - Parameter predictLog1p: the model's log1p(play count) for an item, or nil (no predicted plays).
    /// - Complexity: O(I log k) when the cap rarely bites; with diversity O(I log P) plus `rerank`'s O(k · P)
    ///   similarities.
    public static func top(
        _ k: Int, of scores: [Float], heard: Set<ItemIndex>, filter: RecommendationFilter, catalog: Catalog,
        predictLog1p: ((ItemIndex) -> Float)?
    ) -> [Recommendation] {
        scores.withUnsafeBufferPointer { top(k, of: $0, heard: heard, filter: filter, catalog: catalog, predictLog1p: predictLog1p) }
    }

    /// Whether `item` (a raw row of `catalog`) may be recommended, its score aside: not in `heard` (unless
    /// `filter.includeHeard`), active, not by an excluded artist, popularity at least `filter.minPopularity`.
    /// The one rule behind `top` and the batch path's `Recommender.topItems` filter.
    public static func isEligible(_ item: Int, heard: Set<ItemIndex>, filter: RecommendationFilter, catalog: Catalog) -> Bool {
        if !filter.includeHeard && heard.contains(ItemIndex(item)) { return false }
        guard catalog.itemActive.indices.contains(item), catalog.itemActive[item] else { return false }
        let artist = catalog.itemArtist[item]
        if artist >= 0 && filter.excludedArtists.contains(ArtistIndex(artist)) { return false }
        return catalog.itemPopularity[item] >= filter.minPopularity
    }

    /// `top` over one row of a score block (`BatchRecommendations` scores users in sgemm blocks and selects
    /// from each row in place, without copying it out).
    public static func top(
        _ k: Int, of scores: UnsafeBufferPointer<Float>, heard: Set<ItemIndex>, filter: RecommendationFilter, catalog: Catalog,
        predictLog1p: ((ItemIndex) -> Float)?
    ) -> [Recommendation] {
        guard k > 0 else { return [] }
        // Raw item rows inside the selection (the heap runs over `scores`' positions); typed at the boundary.
        func eligible(_ item: Int) -> Bool {
            scores[item].isFinite && isEligible(item, heard: heard, filter: filter, catalog: catalog)
        }
        var candidates = filter.diversity?.poolSize(for: k) ?? k
        while true {
            let order = TopK.select(candidates, of: scores, where: eligible)
            var perArtist: [Int: Int] = [:]
            func admit(_ item: Int) -> Bool {
                let artist = catalog.itemArtist[item]
                if filter.maxPerArtist > 0 && artist >= 0 {
                    if perArtist[artist, default: 0] >= filter.maxPerArtist { return false }
                    perArtist[artist, default: 0] += 1
                }
                return true
            }
            let chosen: [Int]
            if let diversity = filter.diversity {
                chosen = diversity.rerank(order, score: { scores[$0] }, count: k, admit: admit)
            } else {
                var picked: [Int] = []
                for item in order where picked.count < k && admit(item) { picked.append(item) }
                chosen = picked
            }
            if chosen.count == k || order.count < candidates || candidates >= scores.count {
                return chosen.map { row in
                    let item = ItemIndex(row)
                    let plays = predictLog1p.map { max(0, Double(expm1f($0(item)))) }
                    return Recommendation(item: item, score: Double(scores[row]), predictedPlays: plays)
                }
            }
            candidates = min(scores.count, candidates * 2)
        }
    }
}

/// Train listens ready for fitting, checked: every play count finite and non-negative.
public struct FitData: Sendable {
    public let userCount: Int
    public let itemCount: Int
    public let train: ListenTable
    /// Raw play counts as edge weights, both directions.
    public let graph: BipartiteGraph

    /// - Throws: `ModelFitError` when a play count is NaN, infinite or negative.
    public init(userCount: Int, itemCount: Int, train: ListenTable) throws {
        for e in 0..<train.count where !(train.plays[e].isFinite && train.plays[e] >= 0) {
            throw ModelFitError(message: "train listen \(e + 1) (user \(train.users[e]), item \(train.items[e])) has play count \(train.plays[e]); play counts must be finite and ≥ 0")
        }
        self.userCount = userCount
        self.itemCount = itemCount
        self.train = train
        graph = BipartiteGraph(userCount: userCount, itemCount: itemCount, listens: train, weighting: .raw)
    }

    /// Train listeners and plays per item.
    public var itemTotals: (listeners: [Double], plays: [Double]) {
        var listeners = [Double](repeating: 0, count: itemCount)
        var plays = [Double](repeating: 0, count: itemCount)
        for e in 0..<train.count {
            listeners[Int(train.items[e])] += 1
            plays[Int(train.items[e])] += Double(train.plays[e])
        }
        return (listeners, plays)
    }
}

/// Reads any saved model (a `ModelFile`: the GCN checkpoint or a baseline archive).
public enum RecommenderFile {
    /// Loads and verifies the model file at `path`.
    /// - Throws: `CheckpointError` naming the file and what is wrong (unreadable, damaged, unknown kind).
    public static func load(_ path: String) throws -> any Recommender {
        try load(bytes(at: path), path: path)
    }

    /// The bytes of the model file at `path` (for callers that also need them, e.g. to name the version).
    /// - Throws: `CheckpointError` when the file is missing, a directory or unreadable.
    public static func bytes(at path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, reason: isDirectory.boolValue ? "is a directory, not a model file" : "cannot read the file")
        }
        return data
    }

    /// Verifies and loads a model file's bytes; `path` names it in errors.
    public static func load(_ data: Data, path: String) throws -> any Recommender {
        let file: ModelFile
        do {
            file = try ModelFile.decode(data)
        } catch let error as ModelFileError {
            throw CheckpointError(path: path, reason: error.reason)
        }
        guard let entry = ModelRegistry.entry(ModelKind(rawValue: file.kind)) else {
            throw CheckpointError(path: path, reason: "unknown model kind '\(file.kind)'; this build reads \(ModelRegistry.names)")
        }
        return try entry.load(file, path: path)
    }
}

#if canImport(Glibc)
import Glibc
#endif
