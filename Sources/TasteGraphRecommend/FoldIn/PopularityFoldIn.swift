import TasteGraphCore

extension PopularityRecommender: FoldingRecommender {
    /// A folded user gets everyone's list: popularity is nobody's taste, so the history only removes heard
    /// items (through `recommend(folded:…)`'s `heard`). The play-count prediction does adapt:
    /// ```
    /// score(u, i) = listeners(i) + plays(i) / (1 + Σ plays)          (unchanged)
    /// ŷ_ui = μ + b_u + b_i,   b_u = Σ_{j ∈ history} (log1p(plays_j) − μ − b_j) / (n_u + λ)
    /// ```
    /// the bias baseline's user update with the item biases fixed (`FoldIn.userBias`); the fit's last sweep
    /// ends with exactly this update, so a known user's history gives its stored b_u back (up to float rounding).
    /// - Complexity: O(n).
    public func foldIn(user: UserIndex?, history: [HeardItem]) -> FoldedUser {
        let merged = FoldIn.merged(history, itemCount: itemCount)
        let bias = FoldIn.userBias(merged, mean: biases[0], itemBias: { biases[1 + userCount + $0] },
                                   regularization: config.biasRegularization)
        return FoldedUser(kind: kind, itemCount: itemCount, user: user, history: merged, bias: bias)
    }

    /// The popularity scores. Shapes: out (I).
    public func scores(of user: FoldedUser, into out: UnsafeMutableBufferPointer<Float>) {
        check(user)
        for item in 0..<itemCount { out[item] = popularity[item] }
    }

    /// μ + b_u + b_i with the folded b_u.
    public func predictLog1p(of user: FoldedUser, item: ItemIndex) -> Float {
        check(user)
        return biases[0] + user.bias + biases[1 + userCount + item.rawValue]
    }

    public func explain(of user: FoldedUser, item: ItemIndex, count: Int) -> [Contribution] { [] }
}

extension ColdStartRecommender: FoldingRecommender {
    /// The mix is the same for everyone: the history only removes heard items.
    public func foldIn(user: UserIndex?, history: [HeardItem]) -> FoldedUser {
        FoldedUser(kind: kind, itemCount: itemCount, user: user, history: FoldIn.merged(history, itemCount: itemCount))
    }

    /// The mix's scores. Shapes: out (I).
    public func scores(of user: FoldedUser, into out: UnsafeMutableBufferPointer<Float>) {
        check(user)
        for item in 0..<itemCount { out[item] = itemScores[item] }
    }

    public func predictLog1p(of user: FoldedUser, item: ItemIndex) -> Float { 0 }

    public func explain(of user: FoldedUser, item: ItemIndex, count: Int) -> [Contribution] { [] }
}
