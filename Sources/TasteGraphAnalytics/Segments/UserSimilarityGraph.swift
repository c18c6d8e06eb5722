import Dispatch
import TasteGraphGraph
import TasteGraphSupport

/// The user–user graph that listener segments are found on.
///
/// Construction: each user is the vector of log1p play counts over items; similarity is the cosine of two
/// such vectors; each user keeps its `neighbors` most similar users (cosine > 0), and an undirected edge
/// joins u and v when either keeps the other (weight: their cosine).
///
/// Why this graph and not the bipartite one: segments are groups of *listeners*, and the top-k projection
/// keeps each user's strongest ties only, so a few mainstream artists that everybody plays do not glue all
/// users together; log1p stops a handful of heavy listens from dominating a user's vector. On lastfm-2k
/// (../shared/PEERS.md) this graph gives higher modularity and more stable Leiden runs than the bipartite
/// graph, in a fraction of the time.
public struct UserSimilarityGraph: Sendable {
    public let userCount: Int
    /// Undirected edges (u < v).
    public let edges: [(Int, Int)]
    public let weights: [Double]

    /// A graph given by its edges (u < v, ascending), e.g. in tests of the segment steps.
    init(userCount: Int, edges: [(Int, Int)], weights: [Double]) {
        precondition(edges.count == weights.count)
        self.userCount = userCount
        self.edges = edges
        self.weights = weights
    }

    /// - Parameters:
    ///   - graph: the bipartite graph, with log1p weights for the construction above.
    ///   - neighbors: how many most similar users each user keeps.
    ///   - listenersPerItem: C, the most listeners of one item that propose candidates (its C heaviest,
    ///     ties by lower user index). Without a cap the co-listening pass costs Σ_items degree², which a
    ///     power-law catalog makes quadratic in the users (one song heard by 10⁵ listeners alone is 10¹⁰
    ///     pairs); with it the pass is O(E · C). A user with a capped item ranks its candidates by the
    ///     partial dot products, keeps the best 4 · `neighbors`, and scores those by their exact cosine, so
    ///     every kept weight is exact and only the neighbour *set* is approximate. When no item has more
    ///     than C listeners (lastfm-2k, the sample) the graph is exactly the uncapped one.
    ///   - threads: workers over contiguous user ranges; the graph is the same for every count.
    /// - Complexity: O(Σ_items min(degree, C) · degree) for the candidates, plus O(Σ_u 4k · degree) for the
    ///   exact re-scoring and O(Σ_u candidates · log k) for each user's best k; O(U + I) scratch per worker
    ///   and O(U · k) for the kept pairs.
    public init(graph: BipartiteGraph, neighbors: Int, listenersPerItem cap: Int = 1_000, threads: Int = 1) {
        precondition(neighbors > 0 && cap > 0 && threads > 0)
        userCount = graph.userCount
        let users = graph.userItems
        let items = graph.itemUsers
        var norms = [Double](repeating: 0, count: graph.userCount)
        for u in 0..<graph.userCount {
            var sum = 0.0
            for e in users.offsets[u]..<users.offsets[u + 1] { sum += Double(users.weights[e]) * Double(users.weights[e]) }
            norms[u] = sum.squareRoot()
        }
        // Each item's proposing listeners: all of them, or its `cap` heaviest (positions into `items`).
        var proposers = [[Int]](repeating: [], count: graph.itemCount)
        var capped = [Bool](repeating: false, count: graph.itemCount)
        for item in 0..<graph.itemCount where items.offsets[item + 1] - items.offsets[item] > cap {
            capped[item] = true
            let range = items.offsets[item]..<items.offsets[item + 1]
            let weights = range.map { items.weights[$0] }
            proposers[item] = TopK.select(cap, of: weights).map { range.lowerBound + $0 }
        }
        let finder = NeighborFinder(
            users: users, items: items, norms: norms, proposers: proposers, capped: capped, neighbors: neighbors)
        // Each worker keeps the pairs of its own user range; ranges are contiguous and joined in order, so the
        // pairs come in the order one worker would have made them.
        let workers = min(threads, max(1, graph.userCount))
        let slots = ResultSlots<[KeptPair]>(count: workers)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let range = (graph.userCount * worker / workers)..<(graph.userCount * (worker + 1) / workers)
            slots.store(finder.keptPairs(of: range), at: worker)
        }
        // An undirected pair kept from both sides takes the weight of the later user's pass (the same cosine
        // up to summation order).
        var pairs = slots.values.flatMap { $0 }
        pairs.sort { ($0.key, $0.source) < ($1.key, $1.source) }
        var edges: [(Int, Int)] = []
        var weights: [Double] = []
        edges.reserveCapacity(pairs.count)
        weights.reserveCapacity(pairs.count)
        for (index, pair) in pairs.enumerated() where index + 1 == pairs.count || pairs[index + 1].key != pair.key {
            edges.append((Int(pair.key / Int64(graph.userCount)), Int(pair.key % Int64(graph.userCount))))
            weights.append(pair.cosine)
        }
        self.edges = edges
        self.weights = weights
    }
}

/// One user's kept neighbour as an undirected pair: key `min · userCount + max`, found in `source`'s pass.
private struct KeptPair {
    let key: Int64
    let source: Int32
    let cosine: Double
}

/// The per-user pass of `UserSimilarityGraph`, read-only over the graph, with scratch per call.
private struct NeighborFinder: Sendable {
    let users: CSR
    let items: CSR
    let norms: [Double]
    let proposers: [[Int]]
    let capped: [Bool]
    let neighbors: Int

    func keptPairs(of range: Range<Int>) -> [KeptPair] {
        let userCount = users.offsets.count - 1
        var dots = [Double](repeating: 0, count: userCount)
        var own = [Double](repeating: 0, count: items.offsets.count - 1)  // u's weights, for exact re-scoring
        var touched: [Int] = []
        var kept: [KeptPair] = []
        kept.reserveCapacity(range.count * neighbors)
        for u in range where norms[u] > 0 {
            touched.removeAll(keepingCapacity: true)
            var approximate = false
            for e in users.offsets[u]..<users.offsets[u + 1] {
                let item = Int(users.targets[e])
                let wu = Double(users.weights[e])
                func propose(_ f: Int) {
                    let v = Int(items.targets[f])
                    if v == u { return }
                    if dots[v] == 0 { touched.append(v) }
                    dots[v] += wu * Double(items.weights[f])
                }
                if capped[item] {
                    approximate = true
                    for f in proposers[item] { propose(f) }
                } else {
                    for f in items.offsets[item]..<items.offsets[item + 1] { propose(f) }
                }
            }
            var candidates = touched.map { v in (v, dots[v] / (norms[u] * norms[v])) }
            for v in touched { dots[v] = 0 }
            if approximate {
                let shortlist = TopK.select(4 * neighbors, of: candidates.map { Float($0.1) })
                for e in users.offsets[u]..<users.offsets[u + 1] { own[Int(users.targets[e])] = Double(users.weights[e]) }
                candidates = shortlist.map { position in
                    let v = candidates[position].0
                    var dot = 0.0
                    for f in users.offsets[v]..<users.offsets[v + 1] { dot += own[Int(users.targets[f])] * Double(users.weights[f]) }
                    return (v, dot / (norms[u] * norms[v]))
                }
                for e in users.offsets[u]..<users.offsets[u + 1] { own[Int(users.targets[e])] = 0 }
            }
            for (v, cosine) in Self.best(neighbors, of: candidates) where cosine > 0 {
                kept.append(KeptPair(key: Int64(min(u, v)) * Int64(userCount) + Int64(max(u, v)), source: Int32(u), cosine: cosine))
            }
        }
        return kept
    }

    /// The first `k` of `candidates` sorted by cosine, higher first, ties by lower user: a bounded
    /// `MinHeap` whose top is the worst of the best seen, O(n log k) instead of a full sort.
    static func best(_ k: Int, of candidates: [(Int, Double)]) -> [(Int, Double)] {
        guard k > 0 else { return [] }
        guard candidates.count > k else { return candidates.sorted { RankedNeighbor($1) < RankedNeighbor($0) } }
        var held = MinHeap<RankedNeighbor>(capacity: k)
        for candidate in candidates {
            let ranked = RankedNeighbor(candidate)
            if held.count < k {
                held.push(ranked)
            } else if held.top! < ranked {
                held.replaceTop(with: ranked)
            }
        }
        return held.elements.sorted { $1 < $0 }.map { ($0.user, $0.cosine) }
    }
}

/// A candidate neighbour ordered worst first: lower cosine, then (equal cosines) the higher user.
private struct RankedNeighbor: Comparable {
    let user: Int
    let cosine: Double
    init(_ candidate: (Int, Double)) { (user, cosine) = candidate }
    static func < (a: Self, b: Self) -> Bool { a.cosine < b.cosine || (a.cosine == b.cosine && a.user > b.user) }
}
