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
        // A capped item's proposing listeners, its `cap` heaviest in `TopK.select`'s order, copied out of
        // `items` into one contiguous run per item (row `item` of `proposers`; empty for the others).
        var proposerOffsets = [Int](repeating: 0, count: graph.itemCount + 1)
        var proposerTargets: [Int32] = []
        var proposerWeights: [Float] = []
        for item in 0..<graph.itemCount {
            let range = items.offsets[item]..<items.offsets[item + 1]
            if range.count > cap {
                for position in TopK.select(cap, of: range.map { items.weights[$0] }) {
                    proposerTargets.append(items.targets[range.lowerBound + position])
                    proposerWeights.append(items.weights[range.lowerBound + position])
                }
            }
            proposerOffsets[item + 1] = proposerTargets.count
        }
        let finder = NeighborFinder(
            users: users, items: items, norms: norms,
            proposers: CSR(offsets: proposerOffsets, targets: proposerTargets, weights: proposerWeights), neighbors: neighbors)
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
    /// Row `item`: the capped item's proposing listeners; an empty row means all of `items`' row propose.
    let proposers: CSR
    let neighbors: Int

    func keptPairs(of range: Range<Int>) -> [KeptPair] {
        let userCount = users.offsets.count - 1
        var dots = [Double](repeating: 0, count: userCount)
        var touched = [Int32](repeating: 0, count: userCount)
        var own = [Double](repeating: 0, count: items.offsets.count - 1)  // u's weights, for exact re-scoring
        var kept: [KeptPair] = []
        kept.reserveCapacity(range.count * neighbors)
        items.targets.withUnsafeBufferPointer { itemTargets in
        items.weights.withUnsafeBufferPointer { itemWeights in
        proposers.targets.withUnsafeBufferPointer { proposerTargets in
        proposers.weights.withUnsafeBufferPointer { proposerWeights in
        dots.withUnsafeMutableBufferPointer { dots in
        touched.withUnsafeMutableBufferPointer { touched in
            for u in range where norms[u] > 0 {
                var touchedCount = 0
                var approximate = false
                for e in users.offsets[u]..<users.offsets[u + 1] {
                    let item = Int(users.targets[e])
                    let wu = Double(users.weights[e])
                    let capped = proposers.offsets[item]..<proposers.offsets[item + 1]
                    approximate = approximate || !capped.isEmpty
                    let (targets, weights, run) = capped.isEmpty
                        ? (itemTargets, itemWeights, items.offsets[item]..<items.offsets[item + 1])
                        : (proposerTargets, proposerWeights, capped)
                    // The hot loop: Σ_items min(degree, C) · degree proposals in all.
                    for f in run {
                        let v = Int(targets[f])
                        if v == u { continue }
                        if dots[v] == 0 {
                            touched[touchedCount] = Int32(v)
                            touchedCount += 1
                        }
                        dots[v] += wu * Double(weights[f])
                    }
                }
                var candidates = (0..<touchedCount).map { t in
                    let v = Int(touched[t])
                    return (v, dots[v] / (norms[u] * norms[v]))
                }
                for t in 0..<touchedCount { dots[Int(touched[t])] = 0 }
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
        }
        }
        }
        }
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
