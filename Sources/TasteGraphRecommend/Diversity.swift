import TasteGraphCore

/// How alike two items are to their audience: the cosine of their binary listener sets.
///
/// ```
/// L_i        = the users with a listen of item i (distinct; play counts ignored)
/// sim(i, j)  = |L_i ∩ L_j| / sqrt(|L_i| · |L_j|)        (0 when either set is empty; sim(i, i) = 1)
/// ```
/// Shapes: listeners (E) grouped by item through offsets (I + 1), each item's users sorted ascending.
///
/// Immutable once built, so one value serves concurrent requests. Nothing is precomputed beyond the
/// item → listeners lists: a similarity is computed on demand by merging two sorted lists, which is what
/// maximal-marginal-relevance re-ranking needs (a few thousand pairs per list, never all I² of them).
public final class ItemSimilarity: Sendable {
    /// I: items `0..<itemCount` have a listener list (an index beyond it has none: similarity 0).
    public let itemCount: Int
    /// Item i's listeners are `listeners[offsets[i]..<offsets[i + 1]]`. Shapes: (I + 1).
    let offsets: [Int]
    /// Shapes: (E'), E' the distinct (user, item) pairs.
    let listeners: [Int32]

    /// Builds the listener lists from `listens` (a counting sort by item, then each list sorted and
    /// de-duplicated); listens of items at or beyond `itemCount` are left out.
    /// - Complexity: O(E + Σ_i |L_i| log |L_i|) time, O(E) memory.
    public convenience init(itemCount: Int, listens: ListenTable) {
        self.init(itemCount: itemCount, users: listens.users, items: listens.items)
    }

    /// The same from parallel (user, item) arrays of one listen each.
    /// - Precondition: `users.count == items.count`, every index ≥ 0.
    public init(itemCount: Int, users: [Int32], items: [Int32]) {
        precondition(users.count == items.count, "one user per listen")
        var counts = [Int](repeating: 0, count: itemCount + 1)
        for item in items where Int(item) < itemCount { counts[Int(item) + 1] += 1 }
        for i in 0..<itemCount { counts[i + 1] += counts[i] }
        var next = counts
        var grouped = [Int32](repeating: 0, count: counts[itemCount])
        for e in 0..<items.count where Int(items[e]) < itemCount {
            grouped[next[Int(items[e])]] = users[e]
            next[Int(items[e])] += 1
        }
        // Sort and de-duplicate each item's users, compacting in place.
        var offsets = [Int](repeating: 0, count: itemCount + 1)
        var write = 0
        for i in 0..<itemCount {
            let slice = grouped[counts[i]..<counts[i + 1]].sorted()
            var previous: Int32 = -1
            for user in slice where user != previous {
                grouped[write] = user
                write += 1
                previous = user
            }
            offsets[i + 1] = write
        }
        grouped.removeSubrange(write...)
        self.itemCount = itemCount
        self.offsets = offsets
        self.listeners = grouped
    }

    /// |L_i|: the distinct listeners of `item` (0 beyond `itemCount`).
    public func listenerCount(of item: ItemIndex) -> Int { count(item.rawValue) }

    /// sim(a, b) in [0, 1] (see the type).
    /// - Complexity: O(|L_a| + |L_b|), a merge of the two sorted lists.
    public func similarity(_ a: ItemIndex, _ b: ItemIndex) -> Double { similarity(a.rawValue, b.rawValue) }

    func count(_ item: Int) -> Int { item < itemCount ? offsets[item + 1] - offsets[item] : 0 }

    /// `similarity` on raw item rows (the selection's candidates are rows of the score array).
    func similarity(_ a: Int, _ b: Int) -> Double {
        let na = count(a), nb = count(b)
        guard na > 0, nb > 0 else { return 0 }
        if a == b { return 1 }
        var i = offsets[a], j = offsets[b]
        let endA = offsets[a + 1], endB = offsets[b + 1]
        var shared = 0
        while i < endA && j < endB {
            let x = listeners[i], y = listeners[j]
            if x == y {
                shared += 1
                i += 1
                j += 1
            } else if x < y {
                i += 1
            } else {
                j += 1
            }
        }
        return Double(shared) / (Double(na) * Double(nb)).squareRoot()
    }
}

/// A λ or pool size that `Diversification` cannot use, with what to pass instead.
public struct DiversificationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public var description: String { message }
}

/// Maximal marginal relevance (Carbonell & Goldstein 1998): re-rank a list's best candidates so each next
/// item is relevant and unlike the items already chosen.
///
/// ```
/// P      = the `poolSize(for: k)` best eligible candidates by score (default max(5k, 100))
/// s̃_i    = (s_i − min_P s) / (max_P s − min_P s)            min–max normalized score over P (all 1 when equal)
/// pick   = argmax_{i ∈ P \ C}  (1 − λ) · s̃_i − λ · max_{j ∈ C} sim(i, j)      (max over C = ∅ is 0)
/// ```
/// C grows by one pick at a time until it holds k items (or P runs out); ties go to the better-scored
/// candidate. λ = 0 is the score order, exactly the list without diversification; λ = 1 ignores the score
/// after the first pick (the best-scored item) and takes the item least like the chosen ones.
/// Shapes: scores (I); pool (P); the chosen list (≤ k).
public struct Diversification: Sendable {
    /// λ in [0, 1]: the weight of dissimilarity against relevance.
    public let lambda: Double
    public let similarity: ItemSimilarity
    /// Candidates re-ranked for a list of k; nil: max(5k, 100).
    public let pool: Int?

    /// - Throws: `DiversificationError` when λ is outside [0, 1] or the pool is not positive.
    public init(lambda: Double, similarity: ItemSimilarity, pool: Int? = nil) throws {
        guard lambda.isFinite, (0...1).contains(lambda) else {
            throw DiversificationError(message: "the diversity λ must lie between 0 and 1 (0: no re-ranking), got \(lambda)")
        }
        if let pool, pool < 1 { throw DiversificationError(message: "the MMR candidate pool must be at least 1, got \(pool)") }
        self.lambda = lambda
        self.similarity = similarity
        self.pool = pool
    }

    /// P for a list of `k`: `pool`, else `defaultPool(for: k)`; never below k.
    public func poolSize(for k: Int) -> Int { max(k, pool ?? Self.defaultPool(for: k)) }

    /// The default P for a list of `k`: max(5k, 100).
    public static func defaultPool(for k: Int) -> Int { max(5 * k, 100) }

    /// The greedy MMR order of `pool` (candidate rows, best score first), at most `k` long.
    ///
    /// Each step's best candidate is offered to `admit`; one it refuses (e.g. its artist is at the per-artist
    /// cap) leaves the pool, is never offered again and counts toward no similarity. `admit` is asked only
    /// about the candidate about to be chosen, so it may count what it admits.
    /// - Parameters:
    ///   - pool: candidates in score order (ties: lower row first), as `TopK.select` or `Evaluation.topK` give.
    ///   - score: a candidate's score (non-finite ones normalize to 1 if +∞, else 0).
    /// - Complexity: O(k · P) steps plus O(k · P) similarities (each a merge, O(|L_i| + |L_j|)); none at λ = 0.
    public func rerank(_ pool: [Int], score: (Int) -> Float, count k: Int, admit: (Int) -> Bool = { _ in true }) -> [Int] {
        guard k > 0, !pool.isEmpty else { return [] }
        let raw = pool.map { Double(score($0)) }
        let finite = raw.filter(\.isFinite)
        let low = finite.min() ?? 0, high = finite.max() ?? 0
        let relevance = raw.map { s -> Double in
            guard s.isFinite else { return s > 0 ? 1 : 0 }
            return high > low ? (s - low) / (high - low) : 1
        }
        var penalty = [Double](repeating: 0, count: pool.count)  // max_{j ∈ C} sim(i, j)
        var open = [Bool](repeating: true, count: pool.count)
        var chosen: [Int] = []
        chosen.reserveCapacity(k)
        while chosen.count < k {
            var best = -1
            var bestValue = -Double.infinity
            for p in pool.indices where open[p] {
                let value = (1 - lambda) * relevance[p] - lambda * penalty[p]
                if value > bestValue { best = p; bestValue = value }  // strict: ties keep the earlier (better-scored)
            }
            guard best >= 0 else { break }
            open[best] = false
            guard admit(pool[best]) else { continue }
            chosen.append(pool[best])
            guard lambda > 0, chosen.count < k else { continue }
            for p in pool.indices where open[p] {
                penalty[p] = max(penalty[p], similarity.similarity(pool[p], pool[best]))
            }
        }
        return chosen
    }
}
