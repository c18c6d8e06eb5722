import TasteGraphCore
import TasteGraphGraph
import TasteGraphStore

/// How related artists are ranked.
public enum RelatedMethod: String, Codable, Sendable, CaseIterable {
    /// Pixie-style random walks with restart (the default).
    case walk
    /// igraph's personalized PageRank, for comparison.
    case ppr
}

/// "Fans also like" on a store: resolves names, builds the walker once, answers queries by index.
///
/// The engine under `TasteGraphServing.RelatedArtistsService` (external ids, stored lists, Codable answers)
/// and `related --batch`.
public struct RelatedArtistsEngine: Sendable {
    public let catalog: Catalog
    public let lookup: ArtistLookup
    public let walker: PixieWalker
    public let graph: BipartiteGraph

    /// - Parameter listens: the listens to walk on (a train split), or nil for the store's active listens.
    public init(store: GraphStore, parameters: WalkParameters, listens: ListenTable? = nil) throws {
        catalog = try store.catalog()
        lookup = ArtistLookup(catalog: catalog)
        let table = try listens ?? store.listens()
        graph = BipartiteGraph(userCount: catalog.userCount, itemCount: catalog.itemCount, listens: table, weighting: parameters.weighting)
        walker = PixieWalker(graph: graph, itemArtist: catalog.itemArtist, artistCount: catalog.artistCount, parameters: parameters)
    }

    /// The related artists of one or more seed artists.
    /// - Throws: `IgraphError` for `.ppr` failures.
    public func related(to seeds: [Int], count k: Int, method: RelatedMethod, seed: UInt64, damping: Double = 0.85) throws -> [RelatedArtist] {
        switch method {
        case .walk:
            return walker.related(to: seeds, count: k, seed: seed)
        case .ppr:
            return try PageRankRanker(graph: graph, itemArtist: catalog.itemArtist, artistCount: catalog.artistCount, damping: damping)
                .related(to: seeds, count: k)
        }
    }

    /// Related items: the same walk with every item its own "artist".
    public func relatedItems(to item: Int, count k: Int, seed: UInt64) -> [RelatedArtist] {
        let itemWalker = PixieWalker(
            graph: graph, itemArtist: Array(0..<catalog.itemCount), artistCount: catalog.itemCount, parameters: walker.parameters)
        return itemWalker.related(to: [item], count: k, seed: seed)
    }
}
