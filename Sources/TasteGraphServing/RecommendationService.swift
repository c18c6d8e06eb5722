import Foundation
import Synchronization
import TasteGraphAnalytics
import TasteGraphCore
import TasteGraphFeatures
import TasteGraphGraph
import TasteGraphRecommend
import TasteGraphStore
import TasteGraphSupport

/// Who gets the cold-start mix instead of the personal model: users the model does not know, and users
/// with fewer than `minimumListens` listens in the store (too little history to rank by).
public struct ColdStartPolicy: Codable, Sendable, Equatable {
    public var minimumListens = 3
    /// Picks which 10 of the 20 most popular items the mix shows (seeded, reproducible).
    public var seed: UInt64 = 0

    public init(minimumListens: Int = 3, seed: UInt64 = 0) {
        self.minimumListens = minimumListens
        self.seed = seed
    }
}

/// One request for recommendations, in external ids.
public struct RecommendationRequest: Codable, Sendable, Equatable {
    public var user: String
    public var count = 20
    public var includeHeard = false
    /// Artists (name or external id) never to recommend.
    public var excludedArtists: [String] = []
    public var minPopularity = 0.0
    /// At most this many items per artist (0: no limit).
    public var maxPerArtist = 0
    /// λ of the maximal-marginal-relevance re-ranking, 0 to 1 (0: off, the score order); similarity is the
    /// cosine of the items' listener sets in the snapshot's store (`ItemSimilarity`, `Diversification`).
    public var diversity = 0.0
    /// Name the heard items behind each recommendation (needs a service loaded with explanations).
    public var explain = false
    /// With `explain`: contributing items per recommendation.
    public var reasons = 3

    public init(user: String, count: Int = 20) {
        self.user = user
        self.count = count
    }
}

/// A heard item behind a recommendation, and its share of the score.
public struct ServedReason: Codable, Sendable, Equatable {
    public let item: String
    public let title: String
    public let weight: Double
}

/// One recommended item, in external ids with its catalog metadata.
public struct ServedItem: Codable, Sendable, Equatable {
    public let item: String
    public let title: String
    public let artist: String
    public let score: Double
    /// expm1 of the predicted log1p(plays); nil for models without play-count predictions and the mix.
    public let predictedPlays: Double?
    /// Present when the request asked for explanations.
    public let because: [ServedReason]?
}

/// The answer to a `RecommendationRequest`.
public struct RecommendationResponse: Codable, Sendable, Equatable {
    public let user: String
    /// True when the cold-start mix answered (unknown user, or too few listens).
    public let coldStart: Bool
    /// The model file's kind and a digest of its bytes, so clients can tell which model answered.
    public let model: ServedModel
    public let recommendations: [ServedItem]
    /// The experiment and arm that answered (absent outside experiments).
    public var experiment: ServedArm? = nil
    /// The policy rule that answered (absent unless a policy answered).
    public var route: ServedRoute? = nil
}

/// Which model file a service serves.
public struct ServedModel: Codable, Sendable, Equatable {
    public let kind: String
    /// The first 16 hex digits of the model file's digest (the SHA-256 of the file up to its digest).
    public let version: String
}

/// Why a request cannot be answered: the field at fault, what is wrong, and which kind of wrong (so a front
/// end can pick its status: the server maps `.invalid` to 422, `.notFound` to 404, `.conflict` to 409,
/// `.unavailable` to 409 as well: the service was loaded without what the request needs).
public struct ServingError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A value out of range or malformed.
        case invalid
        /// The request names a user, item, artist or segmentation that does not exist.
        case notFound
        /// The request clashes with what is stored (e.g. a song id that already exists).
        case conflict
        /// This service was loaded without what the request needs (explanations, a basis).
        case unavailable
    }

    public let field: String
    public let detail: String
    public let kind: Kind

    public init(field: String, detail: String, kind: Kind = .invalid) {
        self.field = field
        self.detail = detail
        self.kind = kind
    }

    public var description: String { "\(field): \(detail)" }
}

/// Recommendations from one model over one store's catalog, loaded once into an immutable snapshot.
///
/// The CLI's `recommend` and the server ask the same question through this type: it resolves external ids,
/// applies the cold-start policy and the business-rule filters, builds explanations, and returns Codable
/// values. Everything it holds is immutable, so one service answers concurrent requests.
public final class RecommendationService: Sendable {
    public let catalog: Catalog
    public let model: ServedModel
    public let policy: ColdStartPolicy
    let recommender: any Recommender
    /// Songs the store has and the model does not (added after training): store item index → the song
    /// placed through the GCN's feature projection (`GCNRecommender.placeNewItem`). Empty for other models.
    let placed: [ItemIndex: PlacedItem]
    /// Store user index (`rawValue`) → (item, plays) of every listen in the store, in store order; a
    /// user's heard items are its row's items.
    let histories: StoreHistories
    /// External user id → the STORE's user index (rows of `catalog` and `histories`).
    let storeUserIDs: IDMap<UserIndex>
    /// External user id → the MODEL's user index (rows of `recommender.identity`): a store user the model
    /// was trained on has both, usually at different positions; never pass one where the other is meant.
    let modelUserIDs: IDMap<UserIndex>
    // Item indices are shared: the model's items are the store's first `recommender.itemCount` items
    // (`checkItems`), so one `ItemIndex` serves both.
    let coldStart: ColdStartMix
    /// Listeners of each store item (popularity, as the cold-start mix and the policies rank it).
    let listenerCounts: [Float]
    /// External item id → store item index, built at the first request that needs it (a policy's blend).
    let itemLookup = Mutex<IDMap<ItemIndex>?>(nil)
    /// Built at the first request that excludes an artist (most never do; ≈ 20 ms on lastfm-2k's names).
    let artists = Mutex<ArtistLookup?>(nil)
    /// Built from `histories` at the first request with a diversity (most never ask; O(E) time and memory).
    let similarity = Mutex<ItemSimilarity?>(nil)
    let explanations: Bool

    /// Loads the model at `modelPath` against the store's catalog and listens.
    /// - Parameters:
    ///   - explanations: answer requests that ask to explain (without it they are refused).
    ///   - live: the service will fold live users in (`LiveServing`), so a GCN's graph is attached for the
    ///     exact fold-in even without explanations.
    /// - Throws: `CheckpointError` for a damaged model or one fitted on other items; `IDMapError` when the
    ///   model or the store lists a user id twice; the store's errors.
    public init(
        store: GraphStore, modelPath: String, policy: ColdStartPolicy = ColdStartPolicy(), explanations: Bool = false, live: Bool = false
    ) throws {
        let catalog = try store.catalog()
        let bytes = try RecommenderFile.bytes(at: modelPath)  // read once: loaded and named from the same bytes
        var recommender = try RecommenderFile.load(bytes, path: modelPath)
        try Self.checkItems(of: recommender, match: catalog, path: modelPath)
        let listens = try store.listens()
        let modelUserIDs = try IDMap<UserIndex>(externalIDs: recommender.identity.userIDs)
        // The GCN's propagation over the store's listens: what explanations, the exact fold-in of live users
        // (`FoldingRecommender`) and placing songs newer than the model need (≈ 0.1 s and 14 MB on lastfm-2k,
        // so a one-off CLI request without them skips it).
        if let gcn = recommender as? GCNRecommender, explanations || live || catalog.itemCount > gcn.itemCount {
            let features = try RecordedFeatures.matrix(name: gcn.checkpoint.header.embedder ?? "hashing-256", catalog: catalog, store: store)
            // The model's graph: the store's listens of the users and items it knows, in its own user order.
            let storeToModel = catalog.userExternalIDs.map { modelUserIDs.index(of: $0) }
            var known = ListenTable()
            for e in 0..<listens.count {
                guard let user = storeToModel[Int(listens.users[e])], Int(listens.items[e]) < gcn.itemCount else { continue }
                known.append(user: Int32(user.rawValue), item: listens.items[e], plays: listens.plays[e])
            }
            recommender = gcn.attachingGraph(catalog: catalog, train: known, features: features.firstRows(gcn.itemCount))
            placed = Self.place(gcn, features: features, catalog: catalog)
        } else {
            placed = [:]
        }
        var plays = [Double](repeating: 0, count: catalog.itemCount)
        var listeners = [Double](repeating: 0, count: catalog.itemCount)
        for e in 0..<listens.count {
            plays[Int(listens.items[e])] += Double(listens.plays[e])
            listeners[Int(listens.items[e])] += 1
        }
        self.catalog = catalog
        self.recommender = recommender
        histories = StoreHistories(userCount: catalog.userCount, listens: listens)
        self.policy = policy
        self.explanations = explanations
        coldStart = ColdStartMix(catalog: catalog, plays: plays, listeners: listeners, seed: policy.seed)
        listenerCounts = listeners.map(Float.init)
        storeUserIDs = try catalog.userIDs()
        self.modelUserIDs = modelUserIDs
        model = ServedModel(kind: recommender.kind.rawValue, version: Self.version(of: bytes))
    }

    /// Every active song beyond the model's items, placed from its feature row (an isolated node: no listens
    /// reach the model until it is retrained). Songs the projection cannot place are left out.
    static func place(_ gcn: GCNRecommender, features: SparseMatrix<Float>, catalog: Catalog) -> [ItemIndex: PlacedItem] {
        var placed: [ItemIndex: PlacedItem] = [:]
        guard features.rows > gcn.itemCount else { return placed }
        for item in gcn.itemCount..<features.rows where catalog.itemActive[item] {
            var row = [Float](repeating: 0, count: features.columns)
            for e in features.offsets[item]..<features.offsets[item + 1] { row[Int(features.indices[e])] = features.values[e] }
            if let placement = try? gcn.placeNewItem(features: row) { placed[ItemIndex(item)] = placement }
        }
        return placed
    }

    /// How many songs the model scores without having been trained on them (placed new songs).
    public var placedCount: Int { placed.count }

    /// The top `k` over the model's scores and the placed songs' together (one selection, so the filters
    /// and the per-artist cap see both).
    /// - Parameters:
    ///   - modelPlays: log1p(predicted plays) of a model item, nil when the model predicts none.
    ///   - placedPlays: the same for a placed song, nil when there is no prediction for this user.
    func selectWithPlaced(
        _ k: Int, modelScores: [Float], placedScore: (PlacedItem) -> Float,
        modelPlays: ((ItemIndex) -> Float)?, placedPlays: ((PlacedItem) -> Float)?, heard: Set<ItemIndex>, filter: RecommendationFilter
    ) -> [Recommendation] {
        var all = modelScores + [Float](repeating: .nan, count: max(0, catalog.itemCount - modelScores.count))
        for (item, placement) in placed { all[item.rawValue] = placedScore(placement) }
        let modelCount = modelScores.count
        return RecommendationSelection.top(k, of: all, heard: heard, filter: filter, catalog: catalog, predictLog1p: nil).map { r in
            let log1p: Float? = r.item.rawValue < modelCount ? modelPlays?(r.item) : placed[r.item].flatMap { p in placedPlays?(p) }
            return Recommendation(item: r.item, score: r.score, predictedPlays: log1p.map { max(0, Double(expm1f($0))) })
        }
    }

    /// A model serves a store whose items begin with the model's items, in the same order: the store it was
    /// trained on, and that store after live listens or new songs appended items (which the model then
    /// does not score; the live layer places them).
    /// - Throws: `CheckpointError` when the model's items are not such a prefix.
    public static func checkItems(of recommender: any Recommender, match catalog: Catalog, path: String) throws {
        let modelItems = recommender.identity.itemIDs
        guard modelItems.count <= catalog.itemCount, catalog.itemExternalIDs.prefix(modelItems.count).elementsEqual(modelItems) else {
            throw CheckpointError(path: path, reason: "its items do not match this store's; train on this store first")
        }
    }

    /// The first 16 hex digits of a loaded model file's digest: the SHA-256 of everything before it, which
    /// `ModelFile.decode` has just checked (so the file is not hashed a second time: ≈ 30 ms on lastfm-2k).
    /// - Precondition: `data` decoded as a model file.
    static func version(of data: Data) -> String {
        data.suffix(32).prefix(8).map { byte in String(UInt16(byte) | 0x100, radix: 16).dropFirst() }.joined()
    }

    /// The store's users, in store order (for batch runs).
    public var users: [String] { catalog.userExternalIDs }

    /// Answers one request from the snapshot alone (the store's listens when it was loaded).
    /// - Throws: `ServingError` for an excluded artist that does not exist, or an explanation asked of a
    ///   service loaded without them.
    public func recommend(_ request: RecommendationRequest) throws -> RecommendationResponse {
        try recommend(request, live: nil)
    }

    /// Answers one request; `live` is the user's state after live events (`LiveServing`), which replaces
    /// the snapshot's history of that user: its heard items, the items never to show, and the user folded
    /// into the model from the whole history.
    ///
    /// Who is served how: with at least `policy.minimumListens` heard items, a user folded in answers
    /// through `FoldingRecommender.recommend(folded:…)`, else a user the model knows through the model;
    /// everyone else gets the cold-start mix. Hidden items (disliked, recently skipped) never appear, even
    /// with `includeHeard`.
    /// - Parameter forceColdStart: answer with the cold-start mix whatever the history (a policy's rule).
    public func recommend(_ request: RecommendationRequest, live: LiveUser?, forceColdStart: Bool = false) throws -> RecommendationResponse {
        guard request.count >= 1 else { throw ServingError(field: "k", detail: "must be at least 1, got \(request.count)") }
        if request.explain && !explanations {
            throw ServingError(field: "explain", detail: "this service was loaded without explanations", kind: .unavailable)
        }
        let filter = try self.filter(for: request)
        let (userHeard, excluded) = exclusions(for: request, live: live)
        if !forceColdStart && userHeard.count >= policy.minimumListens {

            if let folded = live?.folded, let folding = recommender as? any FoldingRecommender {
                let items: [Recommendation]
                if let gcn = recommender as? GCNRecommender, !placed.isEmpty {
                    items = selectWithPlaced(
                        request.count, modelScores: gcn.scores(of: folded), placedScore: { gcn.score(of: folded, placed: $0) },
                        modelPlays: { gcn.predictLog1p(of: folded, item: $0) }, placedPlays: { gcn.predictLog1p(of: folded, placed: $0) },
                        heard: excluded, filter: filter)
                } else {
                    items = folding.recommend(folded: folded, count: request.count, heard: excluded, filter: filter, catalog: catalog)
                }
                return RecommendationResponse(
                    user: request.user, coldStart: false, model: model,
                    recommendations: items.map { r in
                        served(r, because: request.explain
                            ? (r.item.rawValue < recommender.itemCount ? folding.explain(of: folded, item: r.item, count: request.reasons).map(reason) : []) : nil)
                    })
            }
            if let modelUser = modelUserIDs.index(of: request.user), live == nil || live?.folded == nil {
                let items: [Recommendation]
                if let gcn = recommender as? GCNRecommender, !placed.isEmpty {
                    items = selectWithPlaced(
                        request.count, modelScores: gcn.scores(user: modelUser), placedScore: { gcn.score(user: modelUser, placed: $0) },
                        modelPlays: { gcn.predictLog1p(user: modelUser, item: $0) }, placedPlays: nil, heard: excluded, filter: filter)
                } else {
                    items = recommender.recommend(user: modelUser, count: request.count, heard: excluded, filter: filter, catalog: catalog)
                }
                let heardSorted = request.explain ? userHeard.sorted() : []
                return RecommendationResponse(
                    user: request.user, coldStart: false, model: model,
                    recommendations: items.map { r in
                        served(r, because: !request.explain ? nil : r.item.rawValue < recommender.itemCount  // a placed song has no heard neighbours yet
                            ? recommender.explain(user: modelUser, item: r.item, heard: heardSorted, count: request.reasons).map(reason) : [])
                    })
            }
        }
        let items = coldStart.items.filter { item in
            !excluded.contains(item) && !(catalog.artist(of: item).map(filter.excludedArtists.contains) ?? false)
        }
        return RecommendationResponse(
            user: request.user, coldStart: true, model: model,
            recommendations: items.prefix(request.count).map {
                served(Recommendation(item: $0, score: catalog.itemPopularity[$0.rawValue], predictedPlays: nil), because: request.explain ? [] : nil)
            })
    }

    /// The user's heard items, and what the answer must leave out: heard (unless `includeHeard`) and hidden
    /// items together, so one exclusion set serves both rules.
    func exclusions(for request: RecommendationRequest, live: LiveUser?) -> (heard: Set<ItemIndex>, excluded: Set<ItemIndex>) {
        let userHeard: Set<ItemIndex> = live.map { Set($0.history.keys) } ?? storeUserIDs.index(of: request.user).map { histories.heard($0.rawValue) } ?? []
        let hidden = live?.hidden ?? []
        return (userHeard, request.includeHeard ? hidden : userHeard.union(hidden))
    }

    /// The request's business rules as a selection filter.
    /// - Throws: `ServingError` for an excluded artist that does not exist or is ambiguous.
    func filter(for request: RecommendationRequest) throws -> RecommendationFilter {
        var filter = RecommendationFilter()
        filter.minPopularity = request.minPopularity
        filter.maxPerArtist = request.maxPerArtist
        if request.diversity != 0 {
            do { filter.diversity = try Diversification(lambda: request.diversity, similarity: itemSimilarity()) } catch let error as DiversificationError {
                throw ServingError(field: "diversity", detail: error.message)
            }
        }
        for name in request.excludedArtists {
            let lookup = artists.withLock { cached in
                if let cached { return cached }
                let built = ArtistLookup(catalog: catalog)
                cached = built
                return built
            }
            do { filter.excludedArtists.insert(ArtistIndex(try lookup.resolve(name))) } catch let error as ArtistLookupError {
                throw ServingError(field: "exclude_artist", detail: error.description, kind: error.ambiguous ? .invalid : .notFound)
            }
        }
        filter.includeHeard = false
        return filter
    }

    /// The cosine of the store items' listener sets over this snapshot's listens, built once on first use.
    public func itemSimilarity() -> ItemSimilarity {
        similarity.withLock { cached in
            if let cached { return cached }
            let built = ItemSimilarity(itemCount: catalog.itemCount, users: histories.listenUsers(), items: histories.items)
            cached = built
            return built
        }
    }

    /// The user's listens in this snapshot (store item index, plays); empty for a user it does not know.
    public func history(of user: String) -> [(item: ItemIndex, plays: Float)] {
        storeUserIDs.index(of: user).map { histories.history($0.rawValue) } ?? []
    }

    /// Whether the model folds users in from their history (`FoldingRecommender`).
    public var foldsUsers: Bool { recommender is any FoldingRecommender }

    /// The user folded into the model from `history` (store item index → plays; items the model does not
    /// know are left out), or nil when the model cannot fold users in. A user the model knows keeps what
    /// the model learned of it (the GCN's layer-0 embedding); the history replaces its edges.
    public func foldIn(user: String, history: [ItemIndex: Float]) -> FoldedUser? {
        guard let folding = recommender as? any FoldingRecommender else { return nil }
        let known = history.filter { $0.key.rawValue < recommender.itemCount }.sorted { $0.key < $1.key }
        return folding.foldIn(user: modelUserIDs.index(of: user), history: known.map { HeardItem(item: $0.key, plays: $0.value) })
    }

    public func title(_ item: ItemIndex) -> String { catalog.itemTitles[item.rawValue] ?? catalog.externalID(of: item) }

    public func artistName(_ item: ItemIndex) -> String {
        catalog.artist(of: item).map { catalog.artistNames[$0.rawValue] } ?? ""
    }

    func served(_ r: Recommendation, because: [ServedReason]?) -> ServedItem {
        ServedItem(item: catalog.externalID(of: r.item), title: title(r.item), artist: artistName(r.item), score: r.score,
                   predictedPlays: r.predictedPlays, because: because)
    }

    func reason(_ contribution: Contribution) -> ServedReason {
        ServedReason(item: catalog.externalID(of: contribution.item), title: title(contribution.item), weight: contribution.weight)
    }
}
