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
        var block = [Float](repeating: 0, count: users.count * width)
        for (row, user) in users.enumerated() {
            precondition(user >= 0 && (user + 1) * width <= userRows.count, "user row \(user) is outside userRows")
            for j in 0..<width { block[row * width + j] = userRows[user * width + j] }
        }
        block.withUnsafeBufferPointer { a in
            BLAS.sgemm(.none, .transposed, m: users.count, n: items, k: width, a: a, b: itemRows, c: out)
        }
        guard let itemBias else { return }
        for row in 0..<users.count {
            for item in 0..<items { out[row * items + item] += itemBias[item] }
        }
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
