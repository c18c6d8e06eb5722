import BLAS
import TasteGraphCore
import TasteGraphSupport

extension ALSRecommender: FoldingRecommender {
    /// The user's factors recomputed from its history: one regularized least-squares row solve against the
    /// fixed item factors, the user half-step of fitting (implicit's `recalculate_user`).
    ///
    /// Fitting solves, for each user row (`ALSRecommender`, `RowSolver`),
    /// ```
    /// x_u = (YᵀY + λI + Yᵀ(Cᵘ − I)Y)⁻¹ · Yᵀ Cᵘ p(u)
    /// ```
    /// and the fold-in solves the same system for the new history, with the played items Y_h (n, f) and
    /// their confidences c (n) weighted exactly as in fitting (`ALSRecommender.confidence`):
    /// ```
    /// A = G + Y_hᵀ · diag(c − 1) · Y_h,   b = Y_hᵀ c,   x_u = A⁻¹ b      G = YᵀY + λI (stored)
    /// c_j = 1 + α·log1p(plays_j)                                   (confidence)
    /// c_j = plays_j (K1 + 1) / (K1 L_j + plays_j) · (ln I − log1p(n))  (bm25, n = the history's items)
    /// ```
    /// solved exactly (Cholesky; fitting runs a few warm-started CG steps because it solves every row each
    /// iteration, a single row costs less than those steps would). BM25's item lengths L_j are the fit's,
    /// stored in the model: a live user's plays do not lengthen the items, as they do not move Y either
    /// (both wait for the next fit; one listener's plays are a small share of an item's total). A model file
    /// written before the lengths were stored folds with L_j = 1 (every item of average length).
    ///
    /// Shapes: Y (I, f) fixed; history (n) → embedding x_u (f).
    /// - Parameter user: unused: ALS users have no part of their own besides x_u.
    /// - Complexity: O(n·f² + f³) (one sgemm for A, one Cholesky factorization).
    public func foldIn(user: UserIndex?, history: [HeardItem]) -> FoldedUser {
        let merged = FoldIn.merged(history, itemCount: itemCount)
        let c = merged.map {
            Self.confidence(plays: $0.plays, length: Double(itemLengths?[$0.item.rawValue] ?? 1), userItems: merged.count, itemCount: itemCount, config)
        }
        var (a, b) = rowSystem(merged, c)
        let solved = a.withUnsafeMutableBufferPointer { ab in b.withUnsafeMutableBufferPointer { BLAS.solvePositiveDefinite(ab, $0, n: config.factors) } }
        let x = solved && b.allSatisfy(\.isFinite) ? b : [Float](repeating: 0, count: config.factors)
        return FoldedUser(kind: kind, itemCount: itemCount, user: user, history: merged, embedding: x, weights: c)
    }

    /// A = G + Y_hᵀ diag(c − 1) Y_h (f, f) and b = Y_hᵀ c (f) for the played items of `history`.
    func rowSystem(_ history: [HeardItem], _ c: [Float]) -> (a: [Float], b: [Float]) {
        let f = config.factors
        let n = history.count
        var a = itemGram
        var b = [Float](repeating: 0, count: f)
        guard n > 0 else { return (a, b) }
        var played = [Float](repeating: 0, count: n * f)
        var scaled = played
        for (row, entry) in history.enumerated() {
            for k in 0..<f {
                let y = itemFactors[entry.item.rawValue * f + k]
                played[row * f + k] = y
                scaled[row * f + k] = (c[row] - 1) * y
                b[k] += c[row] * y
            }
        }
        played.withUnsafeBufferPointer { yh in
            scaled.withUnsafeBufferPointer { sh in
                a.withUnsafeMutableBufferPointer { BLAS.sgemm(.transposed, .none, m: f, n: f, k: n, a: yh, b: sh, beta: 1, c: $0) }
            }
        }
        return (a, b)
    }

    /// ⟨x_u, y_i⟩ over all items (`BatchedScoring`, one row). Shapes: out (I).
    public func scores(of user: FoldedUser, into out: UnsafeMutableBufferPointer<Float>) {
        check(user, width: config.factors)
        user.embedding.withUnsafeBufferPointer { x in
            itemFactors.withUnsafeBufferPointer { y in
                BatchedScoring.scores(users: [0], userRows: x, itemRows: y, width: config.factors, into: out)
            }
        }
    }

    public func predictLog1p(of user: FoldedUser, item: ItemIndex) -> Float { 0 }

    /// Hu et al.'s explanation for the folded row (as `explain(user:…)`): c_uj · ⟨A⁻¹ y_i, y_j⟩.
    /// - Complexity: O(n·f² + f³), the row's system rebuilt.
    public func explain(of user: FoldedUser, item: ItemIndex, count: Int) -> [Contribution] {
        check(user, width: config.factors)
        let item = item.rawValue
        let f = config.factors
        var (a, _) = rowSystem(user.history, user.weights)
        var w = Array(itemFactors[(item * f)..<((item + 1) * f)])
        guard a.withUnsafeMutableBufferPointer({ ab in w.withUnsafeMutableBufferPointer { BLAS.solvePositiveDefinite(ab, $0, n: f) } }) else { return [] }
        var terms: [Contribution] = []
        for (index, entry) in user.history.enumerated() {
            var dot: Float = 0
            for r in 0..<f { dot += w[r] * itemFactors[entry.item.rawValue * f + r] }
            terms.append(Contribution(item: entry.item, weight: Double(user.weights[index] * dot)))
        }
        return Array(terms.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }.prefix(count))
    }
}
