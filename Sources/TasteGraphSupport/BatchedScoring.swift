import BLAS

/// Batched dot-product scoring: a block of user rows against every item row through one sgemm, shared by
/// every embedding model (the GCN's ranking head, ALS).
public enum BatchedScoring {
    /// Scores `users` against all items, plus an optional per-item bias.
    ///
    /// ```
    /// S[r, i] = ⟨P_{users[r]}, Q_i⟩ + c_i       (c = 0 without itemBias)
    /// S = P[users] · Qᵀ + 1·cᵀ
    /// ```
    /// The selected user rows are gathered into one contiguous block, multiplied by Qᵀ in a single
    /// sgemm, and the bias is then added row by row.
    ///
    /// Shapes: userRows P (·, width) · itemRows Q (I, width)ᵀ → out (users.count, I); itemBias (I).
    /// - Parameters:
    ///   - users: row indices into `userRows`, one output row each.
    ///   - userRows: P, row-major, `width` floats a row.
    ///   - itemRows: Q, row-major, `width` floats a row; I = itemRows.count / width.
    ///   - width: the embedding width (H for the GCN, the factor count for ALS); at least 1.
    ///   - itemBias: c, one value per item, or nil.
    ///   - out: receives S; overwritten, at least users.count · I floats.
    /// - Complexity: O(users.count · I · width).
    public static func scores(
        users: [Int], userRows: UnsafeBufferPointer<Float>, itemRows: UnsafeBufferPointer<Float>, width: Int,
        itemBias: UnsafeBufferPointer<Float>? = nil, into out: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(width > 0, "scoring needs a positive width")
        precondition(itemRows.count % width == 0, "item rows hold \(itemRows.count) floats, not a multiple of width \(width)")
        let items = itemRows.count / width
        if let itemBias { precondition(itemBias.count == items, "itemBias holds \(itemBias.count) values for \(items) items") }
        let block = gather(users, from: userRows, width: width)
        block.withUnsafeBufferPointer { a in
            BLAS.sgemm(.none, .transposed, m: users.count, n: items, k: width, a: a, b: itemRows, c: out)
        }
        guard let itemBias else { return }
        for row in 0..<users.count {
            for item in 0..<items { out[row * items + item] += itemBias[item] }
        }
    }

    /// The best `k` items of each selected user by S = P[users]·Qᵀ + 1·cᵀ, among the finite scores that
    /// `keep(row, item)` admits, best first (ties: lower item index), without holding S, and stopping once
    /// no item left can enter any user's list. The scores returned are `exactScore`'s, so a list does not
    /// depend on which users share the block, the thread, or the CPU's BLAS kernels.
    ///
    /// Items go in tiles of `tile` in `items`' order (largest ‖Q_i‖ first): each tile is one sgemm into a
    /// (users.count, tile) buffer, and each row of it is folded into its user's `RunningTopK` at once, the
    /// bias added as it goes. Sixteen scores at a time are compared with the user's bar, so `keep` runs for
    /// a few candidates per user, not for every item.
    ///
    /// **Exact lists.** OpenBLAS rounds a product differently depending on a row's position in the block
    /// (its micro-kernels), so sgemm's scores g only choose candidates. With |g − e| ≤ Δ_r for the exact
    /// score e (`roundingBound`), every item of the exact top k has g ≥ T − 2Δ_r, T the k-th best g (the k
    /// items at or above T have e ≥ T − Δ_r). So each user holds the items within 2Δ_r of its k-th best
    /// (`RunningTopK`'s margin), and those few are rescored exactly and ranked.
    ///
    /// **Early stop.** Before each tile, the bound
    /// ```
    /// S[r, i] ≤ ‖P_r‖ · ‖Q_i‖ + c_i ≤ ‖P_r‖ · ν_p + γ_p      for every item i at position ≥ p
    /// ```
    /// (Cauchy–Schwarz; ν_p the p-th largest norm, γ_p the largest bias from position p on), widened for float
    /// rounding (`NormOrderedItems.slack`), is compared with each user's bar (k-th best − 2Δ_r): once it is
    /// below every user's, the remaining items cannot be held and the block stops. A user without k eligible
    /// items keeps the block going to the end. On embeddings where a few popular items carry large norms
    /// (the GCN's and ALS's at seed scale), blocks stop after a small share of the items (docs/scale.md).
    ///
    /// The lists are those of `TopK.select` over `scores`' rows with the same `keep` (tested, with scores
    /// equal within float rounding and lists equal up to near-ties).
    ///
    /// Memory: users.count · (width + tile) floats, plus k entries per user (and the few within its margin);
    /// S is never formed. Shapes: userRows P (·, items.width).
    /// - Complexity: O(users.count · I' · width) for the products over the I' items visited (I at most),
    ///   O(users.count · I' / 16) comparisons.
    public static func topK(
        users: [Int], userRows: UnsafeBufferPointer<Float>, ordered items: NormOrderedItems, k: Int, tile: Int = 2_048,
        keep: (_ row: Int, _ item: Int) -> Bool
    ) -> [[(item: Int, score: Float)]] {
        precondition(tile > 0 && k >= 0, "top-k scoring needs a positive tile")
        let width = items.width
        let count = items.count
        let block = gather(users, from: userRows, width: width)
        guard k > 0, !users.isEmpty, count > 0 else { return users.map { _ in [] } }
        let userNorms = (0..<users.count).map { r in
            (0..<width).reduce(0.0) { sum, j in let v = Double(block[r * width + j]); return sum + v * v }.squareRoot()
        }
        var best = userNorms.map { RunningTopK(k: k, margin: Float(2 * items.roundingBound(userNorm: $0))) }
        var buffer = [Float](repeating: 0, count: users.count * min(tile, count))
        block.withUnsafeBufferPointer { a in
            items.rows.withUnsafeBufferPointer { rows in
                items.order.withUnsafeBufferPointer { order in
                  (items.bias ?? []).withUnsafeBufferPointer { allBias in
                    buffer.withUnsafeMutableBufferPointer { c in
                        for first in stride(from: 0, to: count, by: tile) {
                            if (0..<users.count).allSatisfy({ items.bound(userNorm: userNorms[$0], from: first) < Double(best[$0].bar) }) { break }
                            let n = min(tile, count - first)
                            let b = UnsafeBufferPointer(rebasing: rows[(first * width)..<((first + n) * width)])
                            BLAS.sgemm(.none, .transposed, m: users.count, n: n, k: width, a: a, b: b, c: c)
                            let bias = items.bias == nil ? nil : UnsafeBufferPointer(rebasing: allBias[first..<(first + n)])
                            for row in 0..<users.count {
                                // Held by position; `keep` is asked about the item there.
                                let scores = UnsafeBufferPointer(start: c.baseAddress! + row * n, count: n)
                                best[row].offer(scores, adding: bias, firstIndex: first) { keep(row, Int(order[$0])) }
                            }
                        }
                    }
                  }
                }
            }
        }
        return block.withUnsafeBufferPointer { a in
            (0..<users.count).map { row in
                let p = UnsafeBufferPointer(rebasing: a[(row * width)..<((row + 1) * width)])
                let rescored = best[row].held().map { pick in
                    (item: Int(items.order[pick.item]), score: items.exactScore(p, position: pick.item))
                }
                return Array(rescored.sorted { TopK.ranksBefore($0.score, $0.item, $1.score, $1.item) }.prefix(k))
            }
        }
    }

    /// The selected user rows, one contiguous (users.count, width) block for sgemm.
    static func gather(_ users: [Int], from userRows: UnsafeBufferPointer<Float>, width: Int) -> [Float] {
        var block = [Float](repeating: 0, count: users.count * width)
        for (row, user) in users.enumerated() {
            precondition(user >= 0 && (user + 1) * width <= userRows.count, "user row \(user) is outside userRows")
            for j in 0..<width { block[row * width + j] = userRows[user * width + j] }
        }
        return block
    }

    /// Naive-loop twin of `scores`, for tests: the same contract without BLAS.
    public static func scoresReference(
        users: [Int], userRows: [Float], itemRows: [Float], width: Int, itemBias: [Float]? = nil
    ) -> [Float] {
        let items = itemRows.count / width
        var out = [Float](repeating: 0, count: users.count * items)
        for (row, user) in users.enumerated() {
            for item in 0..<items {
                var sum: Float = 0
                for j in 0..<width { sum += userRows[user * width + j] * itemRows[item * width + j] }
                out[row * items + item] = sum + (itemBias?[item] ?? 0)
            }
        }
        return out
    }
}

/// Item rows reordered by norm, largest first, with what `BatchedScoring.topK(users:userRows:ordered:…)`
/// needs to bound the scores of the items not yet visited. Built once per model (O(I log I + I · width)),
/// it holds a copy of the rows: I · width floats (and 2 I indices).
public struct NormOrderedItems: Sendable {
    public let width: Int
    /// The item at each position. Shape: (I).
    let order: [Int32]
    /// Each item's position: the inverse of `order`. Shape: (I).
    let position: [Int32]
    /// Q in that order, row-major. Shape: (I, width).
    let rows: [Float]
    /// c in that order, or nil. Shape: (I).
    let bias: [Float]?
    /// ‖Q_i‖ at each position, non-increasing. Shape: (I).
    let norms: [Double]
    /// The largest bias at or after each position (0 without a bias). Shape: (I).
    let laterBias: [Double]
    /// The bound's relative widening: 10⁻⁴ plus 2 · 2⁻²⁴ a term of the dot (its float rounding error is
    /// below width · 2⁻²⁴ of ‖P_r‖ ‖Q_i‖, the bias add's below 2⁻²⁴ of the sum).
    let slack: Double

    public var count: Int { order.count }

    /// - Parameters: as `BatchedScoring.topK`'s itemRows, width and itemBias.
    public init(itemRows: UnsafeBufferPointer<Float>, width: Int, itemBias: UnsafeBufferPointer<Float>? = nil) {
        precondition(width > 0 && itemRows.count % width == 0, "item rows hold \(itemRows.count) floats, not a multiple of width \(width)")
        let items = itemRows.count / width
        if let itemBias { precondition(itemBias.count == items, "itemBias holds \(itemBias.count) values for \(items) items") }
        let norm = (0..<items).map { i in
            (0..<width).reduce(0.0) { sum, j in let v = Double(itemRows[i * width + j]); return sum + v * v }.squareRoot()
        }
        let order = (0..<items).sorted { norm[$0] > norm[$1] || (norm[$0] == norm[$1] && $0 < $1) }
        var rows = [Float](repeating: 0, count: items * width)
        for (position, item) in order.enumerated() {
            for j in 0..<width { rows[position * width + j] = itemRows[item * width + j] }
        }
        self.width = width
        self.order = order.map { Int32($0) }
        var position = [Int32](repeating: 0, count: items)
        for (p, item) in order.enumerated() { position[item] = Int32(p) }
        self.position = position
        self.rows = rows
        norms = order.map { norm[$0] }
        bias = itemBias.map { b in order.map { b[$0] } }
        var later = [Double](repeating: 0, count: items)
        if let bias {
            var running = -Double.infinity
            for p in stride(from: items - 1, through: 0, by: -1) {
                running = max(running, Double(bias[p]))
                later[p] = running
            }
        }
        laterBias = later
        largestBias = bias.map { $0.reduce(0.0) { max($0, abs(Double($1))) } } ?? 0
        slack = 1e-4 + Double(width) * 1.2e-7
    }

    /// `exactScore` of `items` for a user row p (width floats), with `roundingBound` for it: the exact
    /// rescoring a model offers through `Recommender.exactScores`.
    public func exactScores(userRow p: UnsafeBufferPointer<Float>, items: [Int]) -> (scores: [Float], bound: Float) {
        precondition(p.count == width, "a user row of \(width) floats, got \(p.count)")
        let norm = p.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        return (items.map { exactScore(p, position: Int(position[$0])) }, Float(roundingBound(userNorm: norm)))
    }

    /// The largest |c_i| (0 without a bias).
    let largestBias: Double
    /// ν_0, the largest item norm.
    var largestNorm: Double { norms.first ?? 0 }

    /// Δ_r: a bound on |g − e| between a user's sgemm score g of any item (bias added in float) and its
    /// `exactScore` e, for a user row of norm `userNorm`. A float dot of `width` terms, however ordered or
    /// fused, is within width · 2⁻²⁴ Σ|p_j q_j| ≤ width · 2⁻²⁴ ‖P_r‖ ‖Q_i‖ of the true value (Cauchy–Schwarz);
    /// the bias add and e's own rounding add 2⁻²⁴ each of |S| ≤ ‖P_r‖ ν_0 + max|c|. Doubled for safety:
    /// (width + 2) · 2⁻²³ · (‖P_r‖ ν_0 + max|c|).
    func roundingBound(userNorm: Double) -> Double {
        Double(width + 2) * 0x1p-23 * (userNorm * largestNorm + largestBias) + 1e-30
    }

    /// e = ⟨p, Q_i⟩ + c_i for the item at `position`: summed in Double, term by term in index order, then
    /// rounded once to Float, so it is the same on every CPU and for any block.
    @inline(__always)
    func exactScore(_ p: UnsafeBufferPointer<Float>, position: Int) -> Float {
        var sum = 0.0
        let base = position * width
        for j in 0..<width { sum += Double(p[j]) * Double(rows[base + j]) }
        if let bias { sum += Double(bias[position]) }
        return Float(sum)
    }

    /// An upper bound on every score S[r, i] of the items at `position` and after, for a user row of norm
    /// `userNorm`: ‖P_r‖ · ν_p + γ_p, widened by `slack` of its terms.
    @inline(__always)
    func bound(userNorm: Double, from position: Int) -> Double {
        let dot = userNorm * norms[position]
        let bias = laterBias[position]
        return dot + bias + slack * (dot + abs(bias)) + 1e-30
    }
}

