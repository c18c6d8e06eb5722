import Dispatch
import Synchronization
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

extension RelatedArtistsEngine {
    /// The related artists of each of `artists` alone, in the order of `artists`, over `threads` workers.
    ///
    /// Each artist's walk draws from its own generator seeded by `seed` (as `related(to:)` does), so the
    /// lists are the same for any thread count. Walks run in parallel; `.ppr` runs on one thread (igraph's
    /// error state is process-wide).
    /// - Parameter progress: called with the number of artists done, every 1,000 and at the end, from
    ///   whichever worker finished them.
    /// - Throws: the first `IgraphError` of `.ppr`.
    public func relatedAll(
        artists: [Int], count k: Int, method: RelatedMethod, seed: UInt64, damping: Double = 0.85, threads: Int = 1,
        progress: @Sendable (Int) -> Void = { _ in }
    ) throws -> [[RelatedArtist]] {
        precondition(threads >= 1, "related needs at least one thread")
        if method == .ppr || threads == 1 {
            var lists: [[RelatedArtist]] = []
            lists.reserveCapacity(artists.count)
            for artist in artists {
                lists.append(try related(to: [artist], count: k, method: method, seed: seed, damping: damping))
                if lists.count % 1_000 == 0 || lists.count == artists.count { progress(lists.count) }
            }
            return lists
        }
        let done = Atomic<Int>(0)
        let slots = ResultSlots<[RelatedArtist]>(count: artists.count)
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            for position in stride(from: worker, to: artists.count, by: threads) {
                slots.store(walker.related(to: [artists[position]], count: k, seed: seed), at: position)
                let finished = done.add(1, ordering: .relaxed).newValue
                if finished % 1_000 == 0 || finished == artists.count { progress(finished) }
            }
        }
        return slots.values
    }
}

/// Per-position results written by concurrent workers, each position by exactly one of them.
final class ResultSlots<Value>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<Value?>
    private let count: Int

    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil, count: count)
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    /// - Precondition: no other worker stores at `position`.
    func store(_ value: Value, at position: Int) { storage[position] = value }

    /// Every stored value, in position order (call after the workers are done).
    var values: [Value] { (0..<count).map { storage[$0]! } }
}
