import Dispatch
import Igraph

/// Which community detection algorithm finds the segments.
public enum SegmentationMethod: String, Codable, Sendable, CaseIterable {
    /// igraph's Leiden (Traag, Waltman & van Eck 2019): well-connected communities, stable across seeds.
    case leiden
    /// igraph's Louvain (multilevel).
    case louvain
}

/// Parameters of a segmentation, stored with its result.
public struct SegmentationParameters: Codable, Sendable, Equatable {
    public var method: SegmentationMethod = .leiden
    /// Leiden's quality function (Louvain always uses modularity).
    public var objective: LeidenObjective = .modularity
    public var resolution = 1.0
    /// Neighbours kept per user in the similarity graph.
    public var neighbors = 20
    /// The most listeners of one item that propose similar users (`UserSimilarityGraph`'s C); nil: the
    /// default, 1,000 (left out of the stored parameters, so segment ids of earlier runs are unchanged).
    public var listenersPerItem: Int? = nil
    /// Segments smaller than this are merged into the segment they are most tied to, or left unassigned.
    public var minSize = 10
    /// Leiden passes; a negative value iterates until the partition no longer changes. 2 (python-igraph's
    /// default) was both more stable across seeds and higher in modularity than -1 on lastfm-2k.
    public var iterations = 2
    public var seed: UInt64 = 0

    public init() {}
}

/// The outcome of community detection on the user–user graph, after small segments were merged.
public struct Segmentation: Sendable {
    public let parameters: SegmentationParameters
    /// Segment of every user (`0..<segmentCount`), or nil when unassigned.
    public let membership: [Int?]
    public let segmentCount: Int
    /// How strongly each user belongs: the share of its similarity-edge weight that stays inside its
    /// segment (0 for unassigned users).
    public let scores: [Double]
    /// Newman modularity (resolution 1) of the final assignment on the similarity graph; unassigned users
    /// count as singletons.
    public let modularity: Double
    /// Users with no similarity edge at all (they share no item with anybody).
    public let isolatedUsers: Int
    /// Wall time of community detection and merging, without building the similarity graph.
    public let detectionSeconds: Double

    public var sizes: [Int] {
        var sizes = [Int](repeating: 0, count: segmentCount)
        for segment in membership.compactMap({ $0 }) { sizes[segment] += 1 }
        return sizes
    }

    public var unassigned: Int { membership.filter { $0 == nil }.count }
}

extension UserSimilarityGraph {
    /// Finds listener segments.
    ///
    /// Steps: community detection (seeded) → segments below `minSize` merged, smallest first, into the
    /// segment their members share the most edge weight with (or unassigned when they have no tie to a
    /// large enough segment) → segments renumbered by size, largest first (ties: smallest member first).
    /// - Throws: `IgraphError` when igraph rejects the input.
    public func segment(_ parameters: SegmentationParameters) throws -> Segmentation {
        let started = DispatchTime.now()
        let graph = try IgraphGraph(vertexCount: userCount, edges: edges)
        let found: Communities
        switch parameters.method {
        case .leiden:
            found = try graph.leiden(
                weights: weights, objective: parameters.objective, resolution: parameters.resolution,
                iterations: parameters.iterations, seed: parameters.seed)
        case .louvain:
            found = try graph.louvain(weights: weights, resolution: parameters.resolution, seed: parameters.seed)
        }
        var degree = [Int](repeating: 0, count: userCount)
        for (u, v) in edges {
            degree[u] += 1
            degree[v] += 1
        }
        var membership: [Int?] = found.membership.enumerated().map { degree[$0.offset] > 0 ? $0.element : nil }
        membership = mergingSmallSegments(membership, minSize: parameters.minSize)
        let (renumbered, count) = Self.renumberBySize(membership)
        let scores = belonging(renumbered)
        var full = [Int](repeating: 0, count: userCount)
        for u in 0..<userCount { full[u] = renumbered[u] ?? (count + u) }  // unassigned: singletons
        let modularity = edges.isEmpty ? 0 : try graph.modularity(membership: full, weights: weights)
        return Segmentation(
            parameters: parameters, membership: renumbered, segmentCount: count, scores: scores,
            modularity: modularity, isolatedUsers: degree.filter { $0 == 0 }.count,
            detectionSeconds: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
    }

    /// Adjacency as (neighbour, weight) lists.
    private func adjacency() -> [[(Int, Double)]] {
        var adjacency = [[(Int, Double)]](repeating: [], count: userCount)
        for (index, (u, v)) in edges.enumerated() {
            adjacency[u].append((v, weights[index]))
            adjacency[v].append((u, weights[index]))
        }
        return adjacency
    }

    /// Merges segments below `minSize`, one at a time, smallest first (ties: lowest id), so that merges can
    /// chain into a segment that becomes large enough; each goes to the segment its members share the most
    /// edge weight with (ties: lowest id), or is unassigned when it has no tie outside itself.
    ///
    /// Sizes only grow, so a lazy min-heap of (size, id) finds the next one: an entry whose size is out of
    /// date is skipped. - Complexity: O(S log S + Σ merged members' degrees) for S segments.
    func mergingSmallSegments(_ assigned: [Int?], minSize: Int) -> [Int?] {
        var membership = assigned
        guard minSize > 1 else { return membership }
        let adjacency = adjacency()
        var members: [Int: [Int]] = [:]
        for (u, segment) in membership.enumerated() { if let segment { members[segment, default: []].append(u) } }
        var queue = MinHeap<SizeAndID>()
        for (segment, users) in members where users.count < minSize { queue.push(SizeAndID(size: users.count, id: segment)) }
        while let next = queue.pop() {
            guard let held = members[next.id], held.count == next.size else { continue }  // merged or grown since
            let small = held.sorted()  // ascending users: the same summation order on every run
            var ties: [Int: Double] = [:]
            for u in small {
                for (v, w) in adjacency[u] {
                    if let target = membership[v], target != next.id { ties[target, default: 0] += w }
                }
            }
            members[next.id] = nil
            if let best = ties.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) }) {
                for u in small { membership[u] = best.key }
                members[best.key, default: []].append(contentsOf: small)
                let grown = members[best.key]!.count
                if grown < minSize { queue.push(SizeAndID(size: grown, id: best.key)) }
            } else {
                for u in small { membership[u] = nil }  // no tie to anyone outside: unassigned
            }
        }
        return membership
    }

    private static func renumberBySize(_ membership: [Int?]) -> ([Int?], Int) {
        var members: [Int: [Int]] = [:]
        for (u, segment) in membership.enumerated() { if let segment { members[segment, default: []].append(u) } }
        let order = members.sorted { ($0.value.count, -$0.value[0]) > ($1.value.count, -$1.value[0]) }
        var newID: [Int: Int] = [:]
        for (index, entry) in order.enumerated() { newID[entry.key] = index }
        return (membership.map { $0.flatMap { newID[$0] } }, order.count)
    }

    private func belonging(_ membership: [Int?]) -> [Double] {
        var inside = [Double](repeating: 0, count: userCount)
        var total = [Double](repeating: 0, count: userCount)
        for (index, (u, v)) in edges.enumerated() {
            let w = weights[index]
            total[u] += w
            total[v] += w
            if let a = membership[u], a == membership[v] {
                inside[u] += w
                inside[v] += w
            }
        }
        return (0..<userCount).map { membership[$0] == nil || total[$0] == 0 ? 0 : inside[$0] / total[$0] }
    }
}

/// A segment's size and id, ordered by size, then id (the merge order of small segments).
private struct SizeAndID: Comparable {
    let size: Int
    let id: Int
    static func < (a: Self, b: Self) -> Bool { (a.size, a.id) < (b.size, b.id) }
}
