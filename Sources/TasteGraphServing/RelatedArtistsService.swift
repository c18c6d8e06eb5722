import Foundation
import TasteGraphAnalytics
import TasteGraphCore
import TasteGraphStore

/// How a `RelatedArtistsService` answers: the walk parameters, PageRank's damping, the random seed, and
/// whether the lists `related --batch` stored may answer instead of a live walk.
public struct RelatedArtistsSettings: Codable, Sendable, Equatable {
    /// Restart probability, step budget per query (`maxSteps`), popularity exponent, edge weighting.
    public var walk = WalkParameters()
    /// PageRank damping for `.ppr`.
    public var damping = 0.85
    /// The same seed gives the same live lists.
    public var seed: UInt64 = 0
    /// Answer a one-artist request from the store's batch list when it has one for that artist, computed by
    /// the requested method with these walk parameters and seed, and at least as long as the request.
    public var useStoredLists = true

    public init(walk: WalkParameters = WalkParameters(), damping: Double = 0.85, seed: UInt64 = 0, useStoredLists: Bool = true) {
        self.walk = walk
        self.damping = damping
        self.seed = seed
        self.useStoredLists = useStoredLists
    }

    /// The walk parameters and seed as `related --batch` records them beside its lists: `walk` as sorted-key
    /// JSON with `"seed"` appended (damping is not recorded).
    public var recordedParametersJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var text = String(decoding: (try? encoder.encode(walk)) ?? Data("{}".utf8), as: UTF8.self)
        text.removeLast()
        return text + ",\"seed\":\(seed)}"
    }
}

/// "Fans of these artists also like": seed artists by exact name (case- and accent-insensitive) or external id.
public struct RelatedArtistsRequest: Codable, Sendable, Equatable {
    public var artists: [String]
    public var count = 20
    public var method: RelatedMethod = .walk

    public init(artists: [String], count: Int = 20, method: RelatedMethod = .walk) {
        self.artists = artists
        self.count = count
        self.method = method
    }
}

/// Where a related-artist list came from.
public enum RelatedSource: String, Codable, Sendable, CaseIterable {
    /// The list `related --batch` stored for the artist.
    case stored
    /// Walks (or PageRank) run for this request.
    case live
}

/// One related artist, in external ids. Encoded as `{"artist": name, "id": id, "score": score}`, the shape
/// `related --json` has always printed.
public struct ServedRelatedArtist: Codable, Sendable, Equatable {
    public let id: String
    public let name: String
    public let score: Double

    public init(id: String, name: String, score: Double) {
        self.id = id
        self.name = name
        self.score = score
    }

    enum CodingKeys: String, CodingKey {
        case id, score
        case name = "artist"
    }
}

/// The answer to a `RelatedArtistsRequest`.
///
/// Encoded with `artist` the seed's name (an array of names for several seeds), `method`, `source` and
/// `related`, best first.
public struct RelatedArtistsResponse: Codable, Sendable, Equatable {
    /// The seed artists' names, as the catalog spells them.
    public let artists: [String]
    public let method: RelatedMethod
    public let source: RelatedSource
    public let related: [ServedRelatedArtist]

    enum CodingKeys: String, CodingKey {
        case artist, method, source, related
    }

    public init(artists: [String], method: RelatedMethod, source: RelatedSource, related: [ServedRelatedArtist]) {
        self.artists = artists
        self.method = method
        self.source = source
        self.related = related
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let one = try? container.decode(String.self, forKey: .artist) {
            artists = [one]
        } else {
            artists = try container.decode([String].self, forKey: .artist)
        }
        method = try container.decode(RelatedMethod.self, forKey: .method)
        source = try container.decode(RelatedSource.self, forKey: .source)
        related = try container.decode([ServedRelatedArtist].self, forKey: .related)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if artists.count == 1 { try container.encode(artists[0], forKey: .artist) } else { try container.encode(artists, forKey: .artist) }
        try container.encode(method, forKey: .method)
        try container.encode(source, forKey: .source)
        try container.encode(related, forKey: .related)
    }
}

/// "Listeners of this item also play": related items by the same walks, every item its own artist.
public struct RelatedItemsRequest: Codable, Sendable, Equatable {
    /// The item's external id.
    public var item: String
    public var count = 20

    public init(item: String, count: Int = 20) {
        self.item = item
        self.count = count
    }
}

/// One related item; `title` is empty for items without one.
public struct ServedRelatedItem: Codable, Sendable, Equatable {
    public let item: String
    public let title: String
    public let score: Double
}

/// The answer to a `RelatedItemsRequest` (always live walks).
public struct RelatedItemsResponse: Codable, Sendable, Equatable {
    public let item: String
    public let related: [ServedRelatedItem]
}

/// "Fans also like" over one store, loaded once into an immutable snapshot: the walk graph (the store's
/// listens or a given train split), the artist lookup and, when the settings allow, every list
/// `related --batch` stored. The CLI's `related` and the server ask through this type.
///
/// A one-artist request is answered from the stored list when the store has one for that artist, computed
/// with the settings' walk parameters and seed by the requested method, and at least `count` long (its first
/// `count` entries: `source` says `stored`); otherwise, and for several seeds, by live walks with the
/// settings' step budget (`walk.maxSteps`) or by PageRank.
public final class RelatedArtistsService: Sendable {
    public let catalog: Catalog
    public let settings: RelatedArtistsSettings
    let engine: RelatedArtistsEngine
    /// Artist index → its stored list computed with these settings (empty unless `settings.useStoredLists`).
    let stored: [Int: StoredRelatedList]
    /// External item id → the store's item index.
    let items: [String: ItemIndex]

    /// - Parameter listens: walk on these listens (a train split) instead of the store's; stored lists are
    ///   then never used, since they describe the store's listens.
    /// - Throws: the store's errors.
    public init(store: GraphStore, settings: RelatedArtistsSettings = RelatedArtistsSettings(), listens: ListenTable? = nil) throws {
        engine = try RelatedArtistsEngine(store: store, parameters: settings.walk, listens: listens)
        catalog = engine.catalog
        self.settings = settings
        if settings.useStoredLists && listens == nil {
            let recorded = settings.recordedParametersJSON
            stored = Dictionary(
                try store.relatedArtistLists().filter { $0.parametersJSON == recorded }.map { ($0.artist, $0) },
                uniquingKeysWith: { first, _ in first })
        } else {
            stored = [:]
        }
        items = Dictionary(catalog.itemExternalIDs.enumerated().map { ($1, ItemIndex($0)) }, uniquingKeysWith: { first, _ in first })
    }

    /// How many artists have a stored list in this snapshot.
    public var storedListCount: Int { stored.count }

    /// Answers one request.
    /// - Throws: `ServingError` for a count below 1, no seed artist, or an artist name that matches none or
    ///   several artists (the detail lists the closest names); `IgraphError` when PageRank fails.
    public func related(_ request: RelatedArtistsRequest) throws -> RelatedArtistsResponse {
        guard request.count >= 1 else { throw ServingError(field: "k", detail: "must be at least 1, got \(request.count)") }
        guard !request.artists.isEmpty else { throw ServingError(field: "artist", detail: "give at least one artist (name or id)") }
        let seeds = try request.artists.map { name -> Int in
            do { return try engine.lookup.resolve(name) } catch let error as ArtistLookupError {
                throw ServingError(field: "artist", detail: error.description, kind: error.ambiguous ? .invalid : .notFound)
            }
        }
        let names = seeds.map { catalog.artistNames[$0] }
        if seeds.count == 1, let list = stored[seeds[0]], list.method == request.method.rawValue, list.related.count >= request.count {
            return RelatedArtistsResponse(
                artists: names, method: request.method, source: .stored,
                related: list.related.prefix(request.count).map { served(artist: $0.artist, score: $0.score) })
        }
        let related = try engine.related(to: seeds, count: request.count, method: request.method, seed: settings.seed, damping: settings.damping)
        return RelatedArtistsResponse(
            artists: names, method: request.method, source: .live, related: related.map { served(artist: $0.artist, score: $0.score) })
    }

    /// Related items of one item, by live walks.
    /// - Throws: `ServingError` for a count below 1 or an item id the store does not have.
    public func relatedItems(_ request: RelatedItemsRequest) throws -> RelatedItemsResponse {
        guard request.count >= 1 else { throw ServingError(field: "k", detail: "must be at least 1, got \(request.count)") }
        guard let item = items[request.item] else {
            throw ServingError(field: "item", detail: "no item with id '\(request.item)' in the store", kind: .notFound)
        }
        let related = engine.relatedItems(to: item.rawValue, count: request.count, seed: settings.seed)
        return RelatedItemsResponse(
            item: request.item,
            related: related.map {
                ServedRelatedItem(item: catalog.itemExternalIDs[$0.artist], title: catalog.itemTitles[$0.artist] ?? "", score: $0.score)
            })
    }

    func served(artist: Int, score: Double) -> ServedRelatedArtist {
        ServedRelatedArtist(id: catalog.artistExternalIDs[artist], name: catalog.artistNames[artist], score: score)
    }
}
