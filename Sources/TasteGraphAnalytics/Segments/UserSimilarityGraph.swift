import TasteGraphGraph

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
    /// - Complexity: O(Σ_items degree²) for the co-listening dot products.
    public init(graph: BipartiteGraph, neighbors: Int) {
        precondition(neighbors > 0)
        userCount = graph.userCount
        let users = graph.userItems
        let items = graph.itemUsers
        var norms = [Double](repeating: 0, count: graph.userCount)
        for u in 0..<graph.userCount {
            var sum = 0.0
            for e in users.offsets[u]..<users.offsets[u + 1] { sum += Double(users.weights[e]) * Double(users.weights[e]) }
            norms[u] = sum.squareRoot()
        }
        var dots = [Double](repeating: 0, count: graph.userCount)
        var touched: [Int] = []
        var kept: [Int64: Double] = [:]  // key: u * userCount + v with u < v
        for u in 0..<graph.userCount where norms[u] > 0 {
            touched.removeAll(keepingCapacity: true)
            for e in users.offsets[u]..<users.offsets[u + 1] {
                let item = Int(users.targets[e])
                let wu = Double(users.weights[e])
                for f in items.offsets[item]..<items.offsets[item + 1] {
                    let v = Int(items.targets[f])
                    if v == u { continue }
                    if dots[v] == 0 { touched.append(v) }
                    dots[v] += wu * Double(items.weights[f])
                }
            }
            var candidates = touched.map { v in (v, dots[v] / (norms[u] * norms[v])) }
            for v in touched { dots[v] = 0 }
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
