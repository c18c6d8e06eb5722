/// The relations a GCN may use beside the listens: friendships between users (user–user) and tags on items
/// (item–tag, tags as extra nodes).
///
/// Indices are dense: users `0..<userCount` and items `0..<itemCount` as in the `BipartiteGraph`, tags
/// `0..<tagCount` numbered here (only the tags some item carries). Both relations are undirected; each
/// edge is stored once per endpoint row, so `friends` is symmetric and `itemTags` has its transpose
/// `tagItems` beside it.
///
/// Shapes: friends (U rows, 2·F' entries), itemTags (I rows, K entries), tagItems (T rows, K entries),
/// tagNames (T).
public struct SideRelations: Sendable, Equatable {
    public let userCount: Int
    public let itemCount: Int
    /// T, the tag nodes.
    public let tagCount: Int
    /// A_F: each user's friends, weight 1, both directions, no self pair, each pair once.
    public let friends: CSR
    /// A_T: each item's tags with weight w_it (e.g. log1p of how many listeners gave the tag).
    public let itemTags: CSR
    /// A_Tᵀ: each tag's items, with the same weights.
    public let tagItems: CSR
    /// The name of each tag node (for the checkpoint and messages); may be empty strings.
    public let tagNames: [String]

    /// The undirected friend pairs (each once, u < v) as a flat list [u0, v0, u1, v1, …].
    public var friendPairs: [Int32] {
        var out: [Int32] = []
        for u in 0..<userCount {
            for e in friends.offsets[u]..<friends.offsets[u + 1] where Int(friends.targets[e]) > u {
                out += [Int32(u), friends.targets[e]]
            }
        }
        return out
    }

    /// Builds both relations from edge lists.
    ///
    /// - Parameters:
    ///   - friendPairs: (u, v) friendships in either or both directions; self pairs and repeats are dropped.
    ///   - itemTags: (item, tag, weight) edges with tag < `tagNames.count`; repeats of a pair sum their
    ///     weights, and edges of weight ≤ 0 (or not finite) are dropped.
    /// - Precondition: every index is in range.
    /// - Complexity: O(U + I + T + F log F + K log K).
    public init(
        userCount: Int, itemCount: Int, friendPairs: [(Int32, Int32)], tagNames: [String],
        itemTags: [(item: Int32, tag: Int32, weight: Float)]
    ) {
        var pairs = Set<Int64>()
        for (a, b) in friendPairs where a != b {
            precondition((0..<userCount).contains(Int(a)) && (0..<userCount).contains(Int(b)), "friend pair (\(a), \(b)) outside \(userCount) users")
            pairs.insert(Int64(min(a, b)) << 32 | Int64(max(a, b)))
        }
        var rows: [Int32] = [], targets: [Int32] = []
        for key in pairs.sorted() {
            let u = Int32(key >> 32), v = Int32(key & 0xFFFF_FFFF)
            rows += [u, v]
            targets += [v, u]
        }
        friends = CSR(rowCount: userCount, rows: rows, targets: targets, weights: Array(repeating: 1, count: rows.count))
        var weights: [Int64: Float] = [:]
        for edge in itemTags where edge.weight.isFinite && edge.weight > 0 {
            precondition((0..<itemCount).contains(Int(edge.item)) && (0..<tagNames.count).contains(Int(edge.tag)), "item tag (\(edge.item), \(edge.tag)) out of range")
            weights[Int64(edge.item) << 32 | Int64(edge.tag), default: 0] += edge.weight
        }
        var items: [Int32] = [], tags: [Int32] = [], values: [Float] = []
        for key in weights.keys.sorted() {
            items.append(Int32(key >> 32))
            tags.append(Int32(key & 0xFFFF_FFFF))
            values.append(weights[key]!)
        }
        self.userCount = userCount
        self.itemCount = itemCount
        tagCount = tagNames.count
        self.tagNames = tagNames
        self.itemTags = CSR(rowCount: itemCount, rows: items, targets: tags, weights: values)
        tagItems = CSR(rowCount: tagNames.count, rows: tags, targets: items, weights: values)
    }

    /// The flat (item, tag) index pairs and their weights of `itemTags`, in row order (for the checkpoint).
    public var itemTagEdges: (pairs: [Int32], weights: [Float]) {
        var pairs: [Int32] = []
        for i in 0..<itemCount {
            for e in itemTags.offsets[i]..<itemTags.offsets[i + 1] { pairs += [Int32(i), itemTags.targets[e]] }
        }
        return (pairs, itemTags.weights)
    }
}

extension BipartiteGraph {
    /// The GCN adjacency over the listens and, weighted, the side relations: every relation normalized by
    /// its own degrees, then summed.
    ///
    /// ```
    /// Â = Â_L + w_F · Â_F + w_T · Â_T                                                   (N, N)
    /// Â_L = D_L^-1/2 (A_L + I_{U+I}) D_L^-1/2    A_L = [0 R; Rᵀ 0], R (U, I) log1p plays   (gcnNormalized)
    /// Â_F = D_F^-1/2 A_F D_F^-1/2                A_F (U, U) friendships, weight 1
    /// Â_T = D_T^-1/2 A_T D_T^-1/2                A_T = [0 G; Gᵀ 0] over [items; tags], G (I, T) tag weights
    /// ```
    /// with N = U + I (+ T when w_T > 0), nodes [users; items; tags], and each D_r the row sums of its own
    /// A_r: a user with 50 friends and one listen keeps its listens entries at their Â_L values (friends
    /// do not enter the listens degree), so neither relation drowns the other. Isolated nodes of a relation
    /// get 0 there (not ∞). The relations never share an entry (listens: user–item and the diagonal,
    /// friends: user–user off the diagonal, tags: item–tag), so Â_uj is Â_L's value exactly. Each term
    /// is symmetric, so Â is its own transpose in backward passes. Only the listens carry self-loops:
    /// a tag node's row is w_T Σ_i Â_T,ti e_i, what its items send.
    ///
    /// With w_F = w_T = 0 (or no relations) this is `gcnNormalized()` itself.
    ///
    /// - Parameters:
    ///   - relations: the side relations on this graph's users and items.
    ///   - friendWeight: w_F ≥ 0 (0 leaves the friends out).
    ///   - tagWeight: w_T ≥ 0 (0 leaves the tags out, and adds no tag nodes).
    /// - Precondition: `relations` has this graph's user and item counts; weights finite and ≥ 0.
    /// - Complexity: O((N + E + F + K) log(row length)).
    public func heterogeneousNormalized(relations: SideRelations?, friendWeight: Double, tagWeight: Double) -> SparseMatrix<Float> {
        let listens = gcnNormalized()
        guard let relations, friendWeight > 0 || tagWeight > 0 else { return listens }
        precondition(relations.userCount == userCount && relations.itemCount == itemCount, "the side relations are on other users or items")
        precondition(friendWeight.isFinite && friendWeight >= 0 && tagWeight.isFinite && tagWeight >= 0, "relation weights must be finite and ≥ 0")
        let tagNodes = tagWeight > 0 ? relations.tagCount : 0
        let n = userCount + itemCount + tagNodes
        var entries: [(row: Int, column: Int, value: Float)] = []
        entries.reserveCapacity(listens.nonZeroCount + relations.friends.edgeCount + 2 * relations.itemTags.edgeCount)
        for row in 0..<listens.rows {
            for e in listens.offsets[row]..<listens.offsets[row + 1] { entries.append((row, Int(listens.indices[e]), listens.values[e])) }
        }
        if friendWeight > 0 {
            // Â_F[u, v] = 1 / √(d_u d_v), d = friend count
            let friends = relations.friends
            let root = (0..<userCount).map { friends.degree($0) > 0 ? 1 / Double(friends.degree($0)).squareRoot() : 0 }
            for u in 0..<userCount {
                for e in friends.offsets[u]..<friends.offsets[u + 1] {
                    let v = Int(friends.targets[e])
                    entries.append((u, v, Float(friendWeight * Double(friends.weights[e]) * root[u] * root[v])))
                }
            }
        }
        if tagNodes > 0 {
            // Â_T[i, t] = Â_T[t, i] = w_it / √(d_i d_t), d_i = Σ_t w_it, d_t = Σ_i w_it
            let itemRoot = Self.inverseRootDegrees(relations.itemTags)
            let tagRoot = Self.inverseRootDegrees(relations.tagItems)
            let tagBase = userCount + itemCount
            for i in 0..<itemCount {
                for e in relations.itemTags.offsets[i]..<relations.itemTags.offsets[i + 1] {
                    let t = Int(relations.itemTags.targets[e])
                    let value = Float(tagWeight * Double(relations.itemTags.weights[e]) * itemRoot[i] * tagRoot[t])
                    entries.append((userCount + i, tagBase + t, value))
                    entries.append((tagBase + t, userCount + i, value))
                }
            }
        }
        return SparseMatrix(rows: n, columns: n, entries: entries)
    }

    /// 1/√(Σ weights) of each row of `rows`, 0 for an empty row.
    private static func inverseRootDegrees(_ rows: CSR) -> [Double] {
        (0..<rows.rowCount).map { r in
            var sum = 0.0
            for e in rows.offsets[r]..<rows.offsets[r + 1] { sum += Double(rows.weights[e]) }
            return sum > 0 ? 1 / sum.squareRoot() : 0
        }
    }
}
