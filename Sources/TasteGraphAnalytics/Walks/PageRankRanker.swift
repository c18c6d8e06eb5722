import Igraph
import TasteGraphGraph

/// Related artists by igraph's personalized PageRank on the user+item graph, for comparison with the walk.
///
/// Vertices are users (0..<U) then items (U..<U+I); edges carry the bipartite graph's weights. The
/// surfer restarts at the seed artists' items; item scores are summed per artist; seeds are excluded.
public struct PageRankRanker {
    let graph: IgraphGraph
    let weights: [Double]
    let userCount: Int
    let itemArtist: [Int]
    let artistItems: [[Int]]
    public let damping: Double

    /// - Throws: `IgraphError` if igraph rejects the graph.
    public init(graph bipartite: BipartiteGraph, itemArtist: [Int], artistCount: Int, damping: Double = 0.85) throws {
        var edges: [(Int, Int)] = []
        var weights: [Double] = []
        edges.reserveCapacity(bipartite.edgeCount)
        for user in 0..<bipartite.userCount {
            let csr = bipartite.userItems
            for e in csr.offsets[user]..<csr.offsets[user + 1] {
                edges.append((user, bipartite.userCount + Int(csr.targets[e])))
                weights.append(Double(csr.weights[e]))
            }
        }
        graph = try IgraphGraph(vertexCount: bipartite.userCount + bipartite.itemCount, edges: edges)
        self.weights = weights
        userCount = bipartite.userCount
        self.itemArtist = itemArtist
        var items = [[Int]](repeating: [], count: artistCount)
        for (item, artist) in itemArtist.enumerated() where artist >= 0 && bipartite.itemUsers.degree(item) > 0 {
            items[artist].append(item)
        }
        artistItems = items
        self.damping = damping
    }

    /// The top `k` artists by PageRank mass, seeds excluded.
    /// - Throws: `IgraphError`.
    public func related(to seeds: [Int], count k: Int) throws -> [RelatedArtist] {
        let reset = seeds.flatMap { artistItems[$0] }.map { userCount + $0 }
        guard !reset.isEmpty else { return [] }
        let scores = try graph.personalizedPageRank(resetVertices: reset, weights: weights, damping: damping)
        var perArtist: [Int: Double] = [:]
        let seedSet = Set(seeds)
        for item in 0..<itemArtist.count {
            let artist = itemArtist[item]
            guard artist >= 0, !seedSet.contains(artist) else { continue }
            let score = scores[userCount + item]
            if score > 0 { perArtist[artist, default: 0] += score }
        }
        return PixieWalker.top(perArtist, k: k)
    }
}
