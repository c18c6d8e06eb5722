import Foundation
import TasteGraphAnalytics
import TasteGraphCore
import TasteGraphFeatures
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
}

/// Which model file a service serves.
public struct ServedModel: Codable, Sendable, Equatable {
    public let kind: String
    /// The first 16 hex digits of the SHA-256 of the model file.
    public let version: String
}

/// Why a request cannot be answered (a usage error: the request names something that does not exist).
public struct ServingError: Error, CustomStringConvertible, Sendable, Equatable {
    public let field: String
    public let detail: String

    public init(field: String, detail: String) {
        self.field = field
        self.detail = detail
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
    /// Store user index → heard items.
    let heard: [Set<Int>]
    let storeUsers: [String: Int]
    let modelUsers: [String: Int]
    let coldStart: ColdStartMix
    let artists: ArtistLookup
    let explanations: Bool

    /// Loads the model at `modelPath` against the store's catalog and listens.
    /// - Parameter explanations: rebuild what explanations need (the GCN's propagation over the store's
    ///   listens and its recorded item features); without it, requests that ask to explain are refused.
    /// - Throws: `CheckpointError` for a damaged model or one fitted on other items; the store's errors.
    public init(store: GraphStore, modelPath: String, policy: ColdStartPolicy = ColdStartPolicy(), explanations: Bool = false) throws {
        let catalog = try store.catalog()
        let bytes = try RecommenderFile.bytes(at: modelPath)  // read once: loaded and named from the same bytes
        var recommender = try RecommenderFile.load(bytes, path: modelPath)
        guard recommender.identity.itemIDs == catalog.itemExternalIDs else {
            throw CheckpointError(path: modelPath, reason: "its items do not match this store's; train on this store first")
        }
        let listens = try store.listens()
        if explanations, let gcn = recommender as? GCNRecommender {
            let features = try RecordedFeatures.matrix(name: gcn.checkpoint.header.embedder ?? "hashing-256", catalog: catalog, store: store)
            recommender = gcn.attachingGraph(catalog: catalog, train: listens, features: features)
        }
        var heard = [Set<Int>](repeating: [], count: catalog.userCount)
        var plays = [Double](repeating: 0, count: catalog.itemCount)
        var listeners = [Double](repeating: 0, count: catalog.itemCount)
        for e in 0..<listens.count {
            heard[Int(listens.users[e])].insert(Int(listens.items[e]))
            plays[Int(listens.items[e])] += Double(listens.plays[e])
            listeners[Int(listens.items[e])] += 1
        }
        self.catalog = catalog
        self.recommender = recommender
        self.heard = heard
        self.policy = policy
        self.explanations = explanations
        coldStart = ColdStartMix(catalog: catalog, plays: plays, listeners: listeners, seed: policy.seed)
        artists = ArtistLookup(catalog: catalog)
        storeUsers = Dictionary(uniqueKeysWithValues: catalog.userExternalIDs.enumerated().map { ($1, $0) })
        modelUsers = Dictionary(uniqueKeysWithValues: recommender.identity.userIDs.enumerated().map { ($1, $0) })
        model = ServedModel(kind: recommender.kind.rawValue, version: Self.version(of: bytes))
    }

    /// The first 16 hex digits of the SHA-256 of a model file's bytes.
    static func version(of data: Data) -> String {
        var hasher = SHA256()
        data.withUnsafeBytes { hasher.update($0) }
        return String(hasher.hexDigest().prefix(16))
    }

    /// The store's users, in store order (for batch runs).
    public var users: [String] { catalog.userExternalIDs }

    /// Answers one request.
    /// - Throws: `ServingError` for an excluded artist that does not exist, or an explanation asked of a
    ///   service loaded without them.
    public func recommend(_ request: RecommendationRequest) throws -> RecommendationResponse {
        guard request.count >= 1 else { throw ServingError(field: "k", detail: "must be at least 1, got \(request.count)") }
        if request.explain && !explanations {
            throw ServingError(field: "explain", detail: "this service was loaded without explanations")
        }
        var filter = RecommendationFilter()
        filter.includeHeard = request.includeHeard
        filter.minPopularity = request.minPopularity
        filter.maxPerArtist = request.maxPerArtist
        for name in request.excludedArtists {
            do { filter.excludedArtists.insert(try artists.resolve(name)) } catch let error as ArtistLookupError {
                throw ServingError(field: "exclude_artist", detail: error.description)
            }
        }
        let storeUser = storeUsers[request.user]
        let userHeard = storeUser.map { heard[$0] } ?? []
        if let index = modelUsers[request.user], userHeard.count >= policy.minimumListens {
            let items = recommender.recommend(user: index, count: request.count, heard: userHeard, filter: filter, catalog: catalog)
            let heardSorted = request.explain ? userHeard.sorted() : []
            return RecommendationResponse(
                user: request.user, coldStart: false, model: model,
                recommendations: items.map { r in
                    served(r, because: request.explain
                        ? recommender.explain(user: index, item: r.item, heard: heardSorted, count: request.reasons).map(reason) : nil)
                })
        }
        let items = coldStart.items.filter {
            (request.includeHeard || !userHeard.contains($0)) && !filter.excludedArtists.contains(catalog.itemArtist[$0])
        }
        return RecommendationResponse(
            user: request.user, coldStart: true, model: model,
            recommendations: items.prefix(request.count).map {
                served(Recommendation(item: $0, score: catalog.itemPopularity[$0], predictedPlays: nil), because: request.explain ? [] : nil)
            })
    }

    public func title(_ item: Int) -> String { catalog.itemTitles[item] ?? catalog.itemExternalIDs[item] }

    public func artistName(_ item: Int) -> String {
        catalog.itemArtist[item] >= 0 ? catalog.artistNames[catalog.itemArtist[item]] : ""
    }

    func served(_ r: Recommendation, because: [ServedReason]?) -> ServedItem {
        ServedItem(item: catalog.itemExternalIDs[r.item], title: title(r.item), artist: artistName(r.item), score: r.score,
                   predictedPlays: r.predictedPlays, because: because)
    }

    func reason(_ contribution: Contribution) -> ServedReason {
        ServedReason(item: catalog.itemExternalIDs[contribution.item], title: title(contribution.item), weight: contribution.weight)
    }
}
