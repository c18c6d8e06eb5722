import TasteGraphCore

extension ItemKNNRecommender: FoldingRecommender {
    /// The user's row of W from its history; the neighbour lists S stay as fitted.
    ///
    /// Scoring a user of the model reads its stored row of W (`ItemKNNRecommender`); a folded user's row is
    /// rebuilt with the same weighting, and scored by the same sum:
    /// ```
    /// w_uj = log1p(plays_j)  (or raw plays, `config.weighting`)
    /// score(u, i) = Σ_{j ∈ history} w_uj · S_ji
    /// ```
    /// A history in the order of the user's stored row gives the stored scores bit for bit (the same sums
    /// in the same order).
    ///
    /// Shapes: history (n) → weights (n).
    /// - Parameter user: unused: an item-KNN user is its history.
    /// - Complexity: O(n) here; O(I + n·K) to score (K neighbours per item).
    public func foldIn(user: UserIndex?, history: [HeardItem]) -> FoldedUser {
        let merged = FoldIn.merged(history, itemCount: itemCount)
        return FoldedUser(kind: kind, itemCount: itemCount, user: user, history: merged, weights: merged.map { config.weighting.weight($0.plays) })
    }

    /// Σ_j w_uj · S_j· over the folded history. Shapes: out (I).
    public func scores(of user: FoldedUser, into out: UnsafeMutableBufferPointer<Float>) {
        check(user)
        for item in 0..<itemCount { out[item] = 0 }
        for (index, entry) in user.history.enumerated() {
            let j = entry.item.rawValue
            let w = user.weights[index]
            for s in similarities.offsets[j]..<similarities.offsets[j + 1] {
                out[Int(similarities.targets[s])] += w * similarities.weights[s]
            }
        }
    }

    public func predictLog1p(of user: FoldedUser, item: ItemIndex) -> Float { 0 }

    /// The terms w_uj · S_ji of the folded score, one per heard neighbour j.
    public func explain(of user: FoldedUser, item: ItemIndex, count: Int) -> [Contribution] {
        check(user)
        let item = item.rawValue
        var terms: [Contribution] = []
        for (index, entry) in user.history.enumerated() {
            let j = entry.item.rawValue
            for s in similarities.offsets[j]..<similarities.offsets[j + 1] where Int(similarities.targets[s]) == item {
                terms.append(Contribution(item: ItemIndex(j), weight: Double(user.weights[index] * similarities.weights[s])))
            }
        }
        return Array(terms.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }.prefix(count))
    }
}
