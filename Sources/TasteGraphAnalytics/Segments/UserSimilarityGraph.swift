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
    /// - Complexity: O(Σ_items min(degree, C) · degree) for the candidates, plus O(Σ_u 4k · degree) for the
    ///   exact re-scoring; O(U + I) scratch.
    public init(graph: BipartiteGraph, neighbors: Int, listenersPerItem cap: Int = 1_000) {
        precondition(neighbors > 0 && cap > 0)
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
        var dots = [Double](repeating: 0, count: graph.userCount)
        var own = [Double](repeating: 0, count: graph.itemCount)  // u's weights, for exact re-scoring
        var touched: [Int] = []
        var kept: [Int64: Double] = [:]  // key: u * userCount + v with u < v
        for u in 0..<graph.userCount where norms[u] > 0 {
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
            candidates.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
            for (v, cosine) in candidates.prefix(neighbors) where cosine > 0 {
                let key = Int64(min(u, v)) * Int64(graph.userCount) + Int64(max(u, v))
                kept[key] = cosine
            }
        }
        let sorted = kept.sorted { $0.key < $1.key }
        edges = sorted.map { (Int($0.key / Int64(graph.userCount)), Int($0.key % Int64(graph.userCount))) }
        weights = sorted.map(\.value)
    }
}
