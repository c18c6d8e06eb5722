import CIgraph

/// An undirected igraph graph, owned: `deinit` calls `igraph_destroy`.
public final class IgraphGraph {
    var graph = igraph_t()
    /// Whether `igraph_create` succeeded, so `deinit` destroys only a graph that exists.
    private var isCreated = false
    public let vertexCount: Int
    public let edgeCount: Int

    /// Builds an undirected graph from an edge list.
    ///
    /// - Parameters:
    ///   - vertexCount: number of vertices; ids are `0..<vertexCount`.
    ///   - edges: pairs of vertex ids.
    /// - Throws: `IgraphError` when an edge names a vertex outside `0..<vertexCount`.
    /// - Complexity: O(V + E) (`igraph_create`).
    public init(vertexCount: Int, edges: [(Int, Int)]) throws {
        self.vertexCount = vertexCount
        self.edgeCount = edges.count
        var flat = igraph_vector_int_t()
        igraph_vector_int_init(&flat, IgraphInt(edges.count * 2))
        defer { igraph_vector_int_destroy(&flat) }
        for (index, edge) in edges.enumerated() {
            flat.stor_begin[2 * index] = IgraphInt(edge.0)
            flat.stor_begin[2 * index + 1] = IgraphInt(edge.1)
        }
        try Igraph.serial {
            try Igraph.check(igraph_create(&graph, &flat, IgraphInt(vertexCount), false))
        }
        isCreated = true
    }

    deinit { if isCreated { igraph_destroy(&graph) } }
}

/// Runs `body` with an igraph real vector holding `values`, destroyed afterwards.
func withRealVector<T>(_ values: [Double], _ body: (inout igraph_vector_t) throws -> T) rethrows -> T {
    var vector = igraph_vector_t()
    igraph_vector_init(&vector, IgraphInt(values.count))
    defer { igraph_vector_destroy(&vector) }
    for (i, value) in values.enumerated() { vector.stor_begin[i] = value }
    return try body(&vector)
}

/// Runs `body` with an igraph integer vector holding `values`, destroyed afterwards.
func withIntVector<T>(_ values: [Int], _ body: (inout igraph_vector_int_t) throws -> T) rethrows -> T {
    var vector = igraph_vector_int_t()
    igraph_vector_int_init(&vector, IgraphInt(values.count))
    defer { igraph_vector_int_destroy(&vector) }
    for (i, value) in values.enumerated() { vector.stor_begin[i] = IgraphInt(value) }
    return try body(&vector)
}

/// The quality function Leiden optimizes.
public enum LeidenObjective: String, Sendable, CaseIterable, Codable {
    /// Newman's modularity with a resolution γ (1 = classic modularity).
    case modularity
    /// The constant Potts model: resolution is a density threshold.
    case cpm
}

/// A partition of the vertices into communities.
public struct Communities: Sendable, Equatable {
    /// Community of each vertex, `0..<count`.
    public let membership: [Int]
    public let count: Int
    /// The objective's value as igraph reports it.
    public let quality: Double
}

extension IgraphGraph {
    /// Leiden community detection (`igraph_community_leiden`).
    ///
    /// igraph 0.10 optimizes CPM when no node weights are given. For modularity this passes the node
    /// strengths as node weights and `resolution / (2m)` as the resolution parameter, which is
    /// modularity's objective (PLATFORM.md: done wrong it returns thousands of tiny communities).
    ///
    /// - Parameters:
    ///   - weights: one non-negative weight per edge, in edge order.
    ///   - objective: modularity or CPM.
    ///   - resolution: γ.
    ///   - iterations: Leiden passes (a negative value iterates until stable).
    ///   - seed: seeds igraph's RNG immediately before the call.
    /// - Throws: `IgraphError` on invalid weights or parameters.
    /// - Complexity: about O(E) per iteration.
    public func leiden(
        weights: [Double], objective: LeidenObjective = .modularity, resolution: Double = 1,
        iterations: Int = -1, seed: UInt64
    ) throws -> Communities {
        precondition(weights.count == edgeCount, "one weight per edge: \(weights.count) ≠ \(edgeCount)")
        return try Igraph.serial(seed: seed) { try withRealVector(weights) { edgeWeights in
            var nodeWeights = igraph_vector_t()
            igraph_vector_init(&nodeWeights, 0)
            defer { igraph_vector_destroy(&nodeWeights) }
            var gamma = resolution
            if objective == .modularity {
                try Igraph.check(igraph_strength(&graph, &nodeWeights, igraph_vss_all(), IGRAPH_ALL, true, &edgeWeights))
                let total = weights.reduce(0, +)
                gamma = total > 0 ? resolution / (2 * total) : resolution
            }
            var membership = igraph_vector_int_t()
            igraph_vector_int_init(&membership, 0)
            defer { igraph_vector_int_destroy(&membership) }
            var clusters: IgraphInt = 0
            var quality: Double = 0
            if objective == .modularity {
                try Igraph.check(
                    igraph_community_leiden(
                        &graph, &edgeWeights, &nodeWeights, gamma, 0.01, false,
                        IgraphInt(iterations), &membership, &clusters, &quality))
            } else {
                try Igraph.check(
                    igraph_community_leiden(
                        &graph, &edgeWeights, nil, gamma, 0.01, false,
                        IgraphInt(iterations), &membership, &clusters, &quality))
            }
            let result = (0..<vertexCount).map { Int(membership.stor_begin[$0]) }
            return Communities(membership: result, count: Int(clusters), quality: quality)
        } }
    }

    /// Newman's modularity of a membership vector (`igraph_modularity`).
    /// - Throws: `IgraphError` when `membership` has the wrong length or negative ids.
    public func modularity(membership: [Int], weights: [Double], resolution: Double = 1) throws -> Double {
        try Igraph.serial {
            try withIntVector(membership) { m in
                try withRealVector(weights) { w in
                    var q: Double = 0
                    try Igraph.check(igraph_modularity(&graph, &m, &w, resolution, false, &q))
                    return q
                }
            }
        }
    }
}

extension IgraphGraph {
    /// Louvain community detection (`igraph_community_multilevel`), optimizing modularity at `resolution`.
    ///
    /// - Parameter seed: seeds igraph's RNG (Louvain visits vertices in random order).
    /// - Throws: `IgraphError` on invalid weights.
    /// - Complexity: about O(E) per level.
    public func louvain(weights: [Double], resolution: Double = 1, seed: UInt64) throws -> Communities {
        precondition(weights.count == edgeCount, "one weight per edge: \(weights.count) ≠ \(edgeCount)")
        return try Igraph.serial(seed: seed) { try withRealVector(weights) { edgeWeights in
            var membership = igraph_vector_int_t()
            igraph_vector_int_init(&membership, 0)
            defer { igraph_vector_int_destroy(&membership) }
            var modularity = igraph_vector_t()
            igraph_vector_init(&modularity, 0)
            defer { igraph_vector_destroy(&modularity) }
            try Igraph.check(igraph_community_multilevel(&graph, &edgeWeights, resolution, &membership, nil, &modularity))
            let result = (0..<vertexCount).map { Int(membership.stor_begin[$0]) }
            let count = (result.max() ?? -1) + 1
            let levels = Int(igraph_vector_size(&modularity))
            let quality = levels > 0 ? modularity.stor_begin[levels - 1] : 0
            return Communities(membership: result, count: count, quality: quality)
        } }
    }

    /// Personalized PageRank (`igraph_personalized_pagerank_vs`, PRPACK) restarting at `resetVertices`.
    ///
    /// - Parameters:
    ///   - resetVertices: where the random surfer restarts (uniformly among them).
    ///   - weights: one non-negative weight per edge.
    ///   - damping: probability of following an edge rather than restarting.
    /// - Returns: the stationary probability of every vertex.
    /// - Throws: `IgraphError` for an invalid vertex, weights or damping.
    /// - Complexity: igraph rebuilds its structures per call: O(V + E) per query, times the iterations.
    public func personalizedPageRank(resetVertices: [Int], weights: [Double], damping: Double = 0.85) throws -> [Double] {
        precondition(weights.count == edgeCount, "one weight per edge: \(weights.count) ≠ \(edgeCount)")
        return try Igraph.serial { try withRealVector(weights) { edgeWeights in try withIntVector(resetVertices) { reset in
            var scores = igraph_vector_t()
            igraph_vector_init(&scores, 0)
            defer { igraph_vector_destroy(&scores) }
            var value: Double = 0
            try Igraph.check(
                igraph_personalized_pagerank_vs(
                    &graph, IGRAPH_PAGERANK_ALGO_PRPACK, &scores, &value, igraph_vss_all(), false, damping,
                    igraph_vss_vector(&reset), &edgeWeights, nil))
            return (0..<vertexCount).map { scores.stor_begin[$0] }
        } } }
    }
}
