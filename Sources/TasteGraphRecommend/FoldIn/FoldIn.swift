import TasteGraphCore
import TasteGraphSupport

/// One item of a listener's history: a dense item index of the model and the raw play count.
public struct HeardItem: Sendable, Hashable {
    public var item: ItemIndex
    public var plays: Float

    public init(item: ItemIndex, plays: Float) {
        self.item = item
        self.plays = plays
    }
}

/// A listener recomputed from a history by `FoldingRecommender.foldIn`, without retraining: a user the
/// model knows whose history grew, or one it never saw. Only the model that folded it can score it.
public struct FoldedUser: Sendable {
    /// The model kind that folded this user.
    public let kind: ModelKind
    /// The model's index of the user when it was folded in as a user the model knows; nil for a new one.
    public let user: UserIndex?
    /// The history the fold-in used: one entry per item in first-seen order, plays summed over repeats;
    /// items outside the model and plays that are negative or not finite left out.
    public let history: [HeardItem]
    /// The items of `history`, for excluding them from the user's list.
    public let heard: Set<ItemIndex>
    /// The user's vector in the model's space: z_u (H) for the GCN, x_u (f) for ALS; empty for the
    /// models without user vectors (item-KNN, popularity, the cold-start mix).
    public let embedding: [Float]
    /// The user's play-count bias b_u (GCN, popularity); 0 for models that do not predict play counts.
    public let bias: Float
    /// One weight per `history` entry, as the model uses it: ALS c_uj, item-KNN w_uj; empty otherwise.
    let weights: [Float]
    /// The folding model's item count (a folded user does not survive a reload to another model: fold it again).
    let itemCount: Int

    init(kind: ModelKind, itemCount: Int, user: UserIndex?, history: [HeardItem], embedding: [Float] = [], bias: Float = 0, weights: [Float] = []) {
        self.kind = kind
        self.itemCount = itemCount
        self.user = user
        self.history = history
        heard = Set(history.map(\.item))
        self.embedding = embedding
        self.bias = bias
        self.weights = weights
    }
}

/// A recommender that adapts a user to listens it has just received without retraining ("fold-in"): the
/// model's item side stays fixed and only the user's own part is recomputed from the whole history.
///
/// Each model documents its fold-in beside the forward pass it mirrors: `GCNRecommender.foldIn`,
/// `ALSRecommender.foldIn`, `ItemKNNRecommender.foldIn`, `PopularityRecommender.foldIn`.
public protocol FoldingRecommender: Recommender {
    /// The user recomputed from `history`, the user's WHOLE history (stored and live listens).
    ///
    /// - Parameter user: the model's index of this user when it has one (the GCN keeps a known user's
    ///   learned layer-0 embedding and replaces its old edges); nil for a user the model never saw.
    func foldIn(user: UserIndex?, history: [HeardItem]) -> FoldedUser
    /// Ranking scores of a folded user over all items; higher ranks first. Shapes: out (I).
    func scores(of user: FoldedUser, into out: UnsafeMutableBufferPointer<Float>)
    /// Predicted log1p(play count) of (folded user, item); 0 for models that do not predict play counts.
    func predictLog1p(of user: FoldedUser, item: ItemIndex) -> Float
    /// The heard items that contributed most to `item`'s score for the folded user, largest first (at most `count`).
    func explain(of user: FoldedUser, item: ItemIndex, count: Int) -> [Contribution]
}

extension FoldingRecommender {
    /// `foldIn(user: nil, history:)`: a user the model never saw (or treated as such).
    public func foldIn(history: [HeardItem]) -> FoldedUser { foldIn(user: nil, history: history) }

    /// Ranking scores of a folded user over all items. Shapes: (I).
    public func scores(of user: FoldedUser) -> [Float] {
        var out = [Float](repeating: 0, count: itemCount)
        out.withUnsafeMutableBufferPointer { scores(of: user, into: $0) }
        return out
    }

    /// The top `k` items for a folded user after the filter, best first (ties: lower item index), through
    /// the same selection as `recommend(user:…)` (`RecommendationSelection.top`).
    ///
    /// - Parameter heard: the items to leave out unless `filter.includeHeard`: normally `user.heard`,
    ///   plus anything else the caller never wants shown (e.g. disliked items).
    /// - Complexity: the fold-in's scoring (O(I·H) for the GCN and ALS) plus O(I log k).
    public func recommend(folded user: FoldedUser, count k: Int, heard: Set<ItemIndex>, filter: RecommendationFilter, catalog: Catalog) -> [Recommendation] {
        guard k > 0 else { return [] }
        return RecommendationSelection.top(
            k, of: scores(of: user), heard: heard, filter: filter, catalog: catalog,
            predictLog1p: predictsPlayCounts ? { predictLog1p(of: user, item: $0) } : nil)
    }

    /// Stops a folded user from reaching a model it was not folded by (another kind, or another model of
    /// the same kind, e.g. after a reload).
    /// - Parameter width: the length of the model's user vectors, when it has them.
    func check(_ user: FoldedUser, width: Int = 0) {
        precondition(user.kind == kind && user.itemCount == itemCount && user.embedding.count == width,
                     "a user folded by another model (\(user.kind), \(user.itemCount) items, width \(user.embedding.count)) was passed to this \(kind) model (\(itemCount) items, width \(width)); fold it in with this model")
    }
}

/// Helpers every fold-in shares.
enum FoldIn {
    /// The history as the fold-ins read it: one entry per item in first-seen order with its plays summed;
    /// items outside `0..<itemCount` (songs the model has never seen) and plays that are negative or not
    /// finite are left out.
    /// - Complexity: O(n) for n entries.
    static func merged(_ history: [HeardItem], itemCount: Int) -> [HeardItem] {
        var position: [Int: Int] = [:]
        position.reserveCapacity(history.count)
        var merged: [HeardItem] = []
        merged.reserveCapacity(history.count)
        for entry in history where (0..<itemCount).contains(entry.item.rawValue) && entry.plays.isFinite && entry.plays >= 0 {
            if let at = position[entry.item.rawValue] {
                merged[at].plays += entry.plays
            } else {
                position[entry.item.rawValue] = merged.count
                merged.append(entry)
            }
        }
        return merged
    }

    /// A new user's bias in the regularized bias baseline (`BiasBaseline`), the item biases held fixed:
    /// ```
    /// b_u = Σ_{j ∈ history} (log1p(plays_j) − μ − b_j) / (n_u + λ)
    /// ```
    /// the exact user update of one sweep. Summed in Double, like the baseline.
    static func userBias(_ history: [HeardItem], mean: Float, itemBias: (Int) -> Float, regularization: Double) -> Float {
        guard Double(history.count) + regularization > 0 else { return 0 }
        var sum = 0.0
        for entry in history { sum += Double(log1pf(entry.plays)) - Double(mean) - Double(itemBias(entry.item.rawValue)) }
        return Float(sum / (Double(history.count) + regularization))
    }
}

#if canImport(Glibc)
import Glibc
#endif
