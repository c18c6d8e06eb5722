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
    /// `keep(row, item)` admits, best first (ties: lower item index), without holding S.
    ///
    /// Items go in tiles of `tile`: each tile is one sgemm into a (users.count, tile) buffer small enough to
    /// stay in cache, and each row of it is folded into its user's `RunningTopK` at once. Sixteen scores at a
    /// time are compared with the user's current k-th best, and only a group holding a better one is looked
    /// at score by score, so `keep` runs for a few candidates per user, not for every item. The lists are
    /// those of `TopK.select` over `scores`' rows with the same `keep` (tested, with scores equal within
    /// float rounding: a tile's product may go through another OpenBLAS kernel than a whole row's). Tiles
    /// start at fixed item indices, so a user's scores depend only on the rows multiplied with it.
    ///
    /// Memory: users.count · (width + tile) floats, plus k entries per user; S (users.count · I floats) is
    /// never formed. Shapes as `scores`.
    /// - Complexity: O(users.count · I · width) for the products, O(users.count · I / 16) comparisons.
    public static func topK(
        users: [Int], userRows: UnsafeBufferPointer<Float>, itemRows: UnsafeBufferPointer<Float>, width: Int,
        itemBias: UnsafeBufferPointer<Float>? = nil, k: Int, tile: Int = 2_048, keep: (_ row: Int, _ item: Int) -> Bool
    ) -> [[(item: Int, score: Float)]] {
        precondition(width > 0 && tile > 0 && k >= 0, "top-k scoring needs a positive width and tile")
        precondition(itemRows.count % width == 0, "item rows hold \(itemRows.count) floats, not a multiple of width \(width)")
        let items = itemRows.count / width
        if let itemBias { precondition(itemBias.count == items, "itemBias holds \(itemBias.count) values for \(items) items") }
        let block = gather(users, from: userRows, width: width)
        var best = [RunningTopK](repeating: RunningTopK(k: k), count: users.count)
        guard k > 0, !users.isEmpty else { return best.map { $0.sorted() } }
        var buffer = [Float](repeating: 0, count: users.count * min(tile, max(1, items)))
        block.withUnsafeBufferPointer { a in
            buffer.withUnsafeMutableBufferPointer { c in
                for first in stride(from: 0, to: items, by: tile) {
                    let count = min(tile, items - first)
                    let b = UnsafeBufferPointer(rebasing: itemRows[(first * width)..<((first + count) * width)])
                    BLAS.sgemm(.none, .transposed, m: users.count, n: count, k: width, a: a, b: b, c: c)
                    for row in 0..<users.count {
                        let scores = c.baseAddress! + row * count
                        if let itemBias {
                            for j in 0..<count { scores[j] += itemBias[first + j] }
                        }
                        best[row].offer(UnsafeBufferPointer(start: scores, count: count), firstIndex: first) { keep(row, $0) }
                    }
                }
            }
        }
        return best.map { $0.sorted() }
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
