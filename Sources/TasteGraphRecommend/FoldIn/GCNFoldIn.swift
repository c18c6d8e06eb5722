import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
import TasteGraphSupport

/// The item side of the GCN's layers on the attached graph, fixed while users are folded in
/// (`GCNRecommender.foldIn`). Built once by `attachingGraph` from its forward pass.
///
/// Shapes: E0, P1, L (I, H) for the items; d (I).
struct GCNFoldInBasis: Sendable {
    /// E0_j = I_emb_j + X_j·W_x, the items' input rows (I, H).
    let itemInput: [Float]
    /// P1_j = (Â·E0)_j, the items' layer-1 propagation before W_1 and the activation (I, H).
    let itemPropagated: [Float]
    /// d_j = 1 + Σ_v w_vj, the degrees Â was normalized with (self loop included). Shapes: (I).
    let itemDegree: [Double]
    /// The graph's user rows with their log1p edge weights: the edges a known user had in Â.
    let userItems: CSR
    /// L_j = Σ_v w_vj E0_v / Σ_v w_vj, the mean layer-0 embedding of item j's listeners (I, H); 0 without listeners.
    let listenerMean: [Float]

    init(model: GCNModel<Float>, activations: Activations<Float>, graph: BipartiteGraph) {
        let h = model.config.hidden
        let users = model.userCount
        itemInput = Array(activations.input[(users * h)...])
        itemPropagated = Array(activations.propagated[0][(users * h)...])
        // The same sums as `gcnNormalized`, in its order, so Â_uj below is the forward's value.
        var degree = [Double](repeating: 1, count: model.itemCount)
        for u in 0..<users {
            for e in graph.userItems.offsets[u]..<graph.userItems.offsets[u + 1] {
                degree[Int(graph.userItems.targets[e])] += Double(graph.userItems.weights[e])
            }
        }
        itemDegree = degree
        userItems = graph.userItems
        var mean = [Float](repeating: 0, count: model.itemCount * h)
        let rows = graph.itemUsers
        for j in 0..<model.itemCount {
            var total: Float = 0
            for e in rows.offsets[j]..<rows.offsets[j + 1] {
                let w = rows.weights[e]
                total += w
                let v = Int(rows.targets[e])
                for k in 0..<h { mean[j * h + k] += w * activations.input[v * h + k] }
            }
            if total > 0 { for k in 0..<h { mean[j * h + k] /= total } }
        }
        listenerMean = mean
    }
}

/// A song with no listens placed in the GCN's space through the learned feature projection
/// (`GCNRecommender.placeNewItem`).
public struct PlacedItem: Sendable {
    /// z_new (H): the item's final embedding.
    public let embedding: [Float]
    /// c_new: its ranking bias (the mean c_i of the model's items).
    public let rankBias: Float
    /// b_new: its play-count bias, 0 (an item without listens has no offset from the baseline).
    public let itemBias: Float
}

/// Why a fold-in request cannot be served; the message says what to do.
public struct FoldInError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public var description: String { message }
}

extension GCNRecommender: FoldingRecommender {
    /// Whether `foldIn` runs the exact propagation (`attachingGraph` was called) rather than the
    /// approximation from the final item embeddings alone.
    public var foldsThroughGraph: Bool { foldInBasis != nil }

    /// The user's final embedding recomputed from its history through the model's two layers and layer
    /// combination, every other node held fixed.
    ///
    /// The forward pass (`GCNModel.forward`) computes, for the user's row of Â = D^{-1/2}(A + I)D^{-1/2}
    /// with edge weights w_uj = log1p(plays_uj) and degrees d = 1 + Σ w:
    /// ```
    /// P1_u = Â_uu E0_u + Σ_j Â_uj E0_j          H1_u = act(P1_u·W_1)
    /// P2_u = Â_uu H1_u + Σ_j Â_uj H1_j          H2_u = act(P2_u·W_2)
    /// z_u  = (E0_u + H1_u + H2_u)/3   (combineLayers)   or   z_u = H2_u
    /// ```
    /// The fold-in evaluates exactly these rows with the new history (W_l = I and act = id by default):
    /// ```
    /// d_u  = 1 + Σ_j w_uj,   d_j' = d_j − w⁰_uj + w_uj,   Â_uu = 1/d_u,   Â_uj = w_uj / √(d_u d_j')
    /// P1_j' = (√d_j (P1_j − E0_j/d_j) − w⁰_uj E0_u/√d⁰_u + w_uj E0_u/√d_u) / √d_j'  +  E0_j/d_j'
    /// H1_j' = act(P1_j'·W_1)
    /// ```
    /// where w⁰ and d⁰_u are the user's edges and degree in the attached graph (0 and 1 for a new user):
    /// each heard item's degree and layer-1 row are corrected for the user's new edge (the user's own
    /// embedding reaches it through the item and comes back in H2_u), so a known user folded in from the
    /// attached graph's own history gets the forward pass's z_u back. Every other row (other users, the
    /// items' final Z, the biases c_i, b_i) stays as trained: the change a user's listens would make to
    /// the items, and through them to other users, waits for the next training.
    ///
    /// Layer 0: a known user keeps its learned E0_u. A new user has no free embedding of its own; it gets
    /// the mean layer-0 embedding of its items' listeners, weighted by the edges,
    /// `E0_u = Σ_j w_uj L_j / Σ_j w_uj` with `L_j = Σ_v w_vj E0_v / Σ_v w_vj` — "listeners who played
    /// what you played": the same scale as a trained user's and the direction of its co-listeners, where
    /// zero would drop a third of z_u and the mean of all users would pull everyone toward the largest group.
    ///
    /// The play-count bias is the bias baseline's user update from the history (`FoldIn.userBias`,
    /// λ = the training's `biasRegularization`), the item biases and μ as trained.
    ///
    /// Without `attachingGraph` the layers cannot be rerun; the fold-in then falls back to the direction
    /// of the heard items' final embeddings, `z_u ∝ Σ_j w_uj Z_j`, scaled to the mean ‖Z_u‖ of the
    /// trained users (an approximation; `foldsThroughGraph` says which one ran).
    ///
    /// Shapes: history (n) → embedding z_u (H).
    /// - Complexity: O(n·H) (O(n·H²) with layer weights) plus O(U·H) for the fallback; the scoring
    ///   afterwards is O(I·H).
    public func foldIn(user: UserIndex?, history: [HeardItem]) -> FoldedUser {
        let merged = FoldIn.merged(history, itemCount: itemCount)
        let p = checkpoint.parameters
        let bias = FoldIn.userBias(merged, mean: p[decoder.globalMean], itemBias: { p[decoder.itemBias + $0] },
                                   regularization: checkpoint.header.training.biasRegularization)
        let known = user.flatMap { (0..<userCount).contains($0.rawValue) ? $0 : nil }
        let z = foldInBasis.map { propagate(user: known?.rawValue, history: merged, basis: $0).z } ?? approximate(merged)
        return FoldedUser(kind: kind, itemCount: itemCount, user: known, history: merged, embedding: z, bias: bias)
    }

    /// The rows of the fold-in (see `foldIn`): z_u, Â_uu, Â_uj and E0_j, H1_j' per heard item.
    /// Shapes: history (n) → z (H), coefficients (n), itemInput and itemLayer (n, H).
    func propagate(user: Int?, history: [HeardItem], basis: GCNFoldInBasis)
        -> (z: [Float], selfWeight: Float, coefficients: [Float], itemLayer: [Float])
    {
        let h = hidden
        let n = history.count
        let p = checkpoint.parameters
        var e0 = [Float](repeating: 0, count: h)
        // The user's edges and degree in the attached graph (a new user: none, degree 1).
        var oldWeight: [Int: Float] = [:]
        var oldDegree = 1.0
        if let user {
            let entry = checkpoint.header.layout["userEmbedding"]!
            for k in 0..<h { e0[k] = p[entry.offset + user * h + k] }
            let rows = basis.userItems
            for e in rows.offsets[user]..<rows.offsets[user + 1] {
                oldWeight[Int(rows.targets[e])] = rows.weights[e]
                oldDegree += Double(rows.weights[e])
            }
        }
        let weights = history.map { EdgeWeighting.log1p.weight($0.plays) }
        var degree = 1.0
        for w in weights { degree += Double(w) }
        if user == nil {
            // E0_u = Σ_j w_uj L_j / Σ_j w_uj
            var total: Float = 0
            for (index, entry) in history.enumerated() {
                total += weights[index]
                for k in 0..<h { e0[k] += weights[index] * basis.listenerMean[entry.item.rawValue * h + k] }
            }
            if total > 0 { for k in 0..<h { e0[k] /= total } }
        }
        let rootU = 1 / degree.squareRoot()
        let rootOld = 1 / oldDegree.squareRoot()
        let selfWeight = Float(1 * rootU * rootU)
        var coefficients = [Float](repeating: 0, count: n)
        var itemLayer = [Float](repeating: 0, count: n * h)
        var p1 = e0.map { $0 * selfWeight }
        var row = [Float](repeating: 0, count: h)
        for (index, entry) in history.enumerated() {
            let j = entry.item.rawValue
            let w = weights[index]
            let old = oldWeight[j] ?? 0
            let dj = basis.itemDegree[j]
            let newDegree = dj - Double(old) + Double(w)
            let rootJ = 1 / newDegree.squareRoot()
            coefficients[index] = Float(Double(w) * rootU * rootJ)  // as `gcnNormalized` emits Â_uj
            let input = j * h
            if old == w && degree == oldDegree {
                for k in 0..<h { row[k] = basis.itemPropagated[input + k] }
            } else {
                // P1_j' = (√d_j (P1_j − E0_j/d_j) − w⁰ E0_u/√d⁰_u + w E0_u/√d_u) / √d_j' + E0_j/d_j'
                let sqrtOld = Float(dj.squareRoot()), inverseOld = Float(1 / dj), inverseNew = Float(1 / newDegree)
                let removed = Float(Double(old) * rootOld), added = Float(Double(w) * rootU), scale = Float(rootJ)
                for k in 0..<h {
                    let e0j = basis.itemInput[input + k]
                    let others = sqrtOld * (basis.itemPropagated[input + k] - e0j * inverseOld)
                    row[k] = (others - removed * e0[k] + added * e0[k]) * scale + e0j * inverseNew
                }
            }
            let h1 = layer(1, row)
            for k in 0..<h {
                itemLayer[index * h + k] = h1[k]
                p1[k] += coefficients[index] * basis.itemInput[input + k]
            }
        }
        let h1u = layer(1, p1)
        var p2 = h1u.map { $0 * selfWeight }
        for index in 0..<n {
            let c = coefficients[index]
            for k in 0..<h { p2[k] += c * itemLayer[index * h + k] }
        }
        let h2u = layer(2, p2)
        var z = h2u
        if checkpoint.header.model.combineLayers {
            // forward: Z = (E0 + H1 + H2) / 3
            let scale = 1 / Float(GCNModel<Float>.layerCount + 1)
            for k in 0..<h { z[k] = (e0[k] + h1u[k] + h2u[k]) * scale }
        }
        return (z, selfWeight, coefficients, itemLayer)
    }

    /// act(x·W_l) for one row (x itself for the default weight-free, linear layers). Shapes: x (H) → (H).
    func layer(_ l: Int, _ x: [Float]) -> [Float] {
        let config = checkpoint.header.model
        var out = x
        if let w = checkpoint.header.layout["W\(l)"] {
            let h = hidden
            let p = checkpoint.parameters
            for c in 0..<h {
                var sum: Float = 0
                for r in 0..<h { sum += x[r] * p[w.offset + r * h + c] }
                out[c] = sum
            }
        }
        if config.activation == .relu { for k in out.indices { out[k] = max(out[k], 0) } }
        return out
    }

    /// The fallback without the graph: z_u = ρ · v / ‖v‖ with v = Σ_j w_uj Z_j and ρ the mean ‖Z_u‖ of the
    /// trained users. Shapes: history (n) → (H).
    func approximate(_ history: [HeardItem]) -> [Float] {
        let h = hidden
        let z = checkpoint.embeddings
        var v = [Float](repeating: 0, count: h)
        for entry in history {
            let w = EdgeWeighting.log1p.weight(entry.plays)
            for k in 0..<h { v[k] += w * z[(userCount + entry.item.rawValue) * h + k] }
        }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0, userCount > 0 else { return [Float](repeating: 0, count: h) }
        var total = 0.0
        for u in 0..<userCount {
            var sum: Float = 0
            for k in 0..<h { sum += z[u * h + k] * z[u * h + k] }
            total += Double(sum.squareRoot())
        }
        let scale = Float(total / Double(userCount)) / norm
        return v.map { $0 * scale }
    }

    /// r_ui = ⟨z_u, z_i⟩ + c_i over all items (`BatchedScoring`, one row). Shapes: out (I).
    public func scores(of user: FoldedUser, into out: UnsafeMutableBufferPointer<Float>) {
        check(user, width: hidden)
        let h = hidden
        user.embedding.withUnsafeBufferPointer { zu in
            checkpoint.embeddings.withUnsafeBufferPointer { z in
                checkpoint.parameters.withUnsafeBufferPointer { p in
                    BatchedScoring.scores(
                        users: [0], userRows: zu, itemRows: UnsafeBufferPointer(rebasing: z[(userCount * h)...]), width: h,
                        itemBias: UnsafeBufferPointer(rebasing: p[decoder.rankBias..<(decoder.rankBias + itemCount)]), into: out)
                }
            }
        }
    }

    /// ŷ_ui = s·⟨z_u, z_i⟩ + b_u + b_i + μ with the folded z_u and b_u.
    public func predictLog1p(of user: FoldedUser, item: ItemIndex) -> Float {
        check(user, width: hidden)
        let item = item.rawValue
        let h = hidden
        var dot: Float = 0
        for k in 0..<h { dot += user.embedding[k] * checkpoint.embeddings[(userCount + item) * h + k] }
        let p = checkpoint.parameters
        return p[decoder.dotScale] * dot + user.bias + p[decoder.itemBias + item] + p[decoder.globalMean]
    }

    /// Heard item j's share of ⟨z_u, z_i⟩ for the folded user: with the rows of `foldIn` (linear layers),
    /// ```
    /// z_u = (1 + Â_uu + Â_uu²)/3 · E0_u  +  Σ_j Â_uj m_j,    m_j = ((1 + Â_uu) E0_j + H1_j')/3
    /// ```
    /// (without combineLayers: Â_uu² E0_u + Σ_j Â_uj (Â_uu E0_j + H1_j')), so Â_uj ⟨m_j, z_i⟩ are exact
    /// contributions; with ReLU or layer weights, the first-order approximation. The fallback's terms are
    /// its own: w_uj ⟨Z_j, z_i⟩ scaled like z_u.
    /// - Complexity: O(n·H), the fold-in's rows rebuilt.
    public func explain(of user: FoldedUser, item: ItemIndex, count: Int) -> [Contribution] {
        check(user, width: hidden)
        let item = item.rawValue
        let h = hidden
        let z = checkpoint.embeddings
        let target = (userCount + item) * h
        var terms: [Contribution] = []
        if let basis = foldInBasis {
            let rows = propagate(user: user.user?.rawValue, history: user.history, basis: basis)
            let combine = checkpoint.header.model.combineLayers
            let a = rows.selfWeight
            for (index, entry) in user.history.enumerated() {
                var dot: Float = 0
                for k in 0..<h {
                    let e0j = basis.itemInput[entry.item.rawValue * h + k]
                    let m = combine ? ((1 + a) * e0j + rows.itemLayer[index * h + k]) / 3 : a * e0j + rows.itemLayer[index * h + k]
                    dot += m * z[target + k]
                }
                terms.append(Contribution(item: entry.item, weight: Double(rows.coefficients[index] * dot)))
            }
        } else {
            var norm: Float = 0
            var v = [Float](repeating: 0, count: h)
            for entry in user.history {
                let w = EdgeWeighting.log1p.weight(entry.plays)
                for k in 0..<h { v[k] += w * z[(userCount + entry.item.rawValue) * h + k] }
            }
            norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let zNorm = user.embedding.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let scale = norm > 0 ? zNorm / norm : 0
            for entry in user.history {
                let w = EdgeWeighting.log1p.weight(entry.plays)
                var dot: Float = 0
                for k in 0..<h { dot += z[(userCount + entry.item.rawValue) * h + k] * z[target + k] }
                terms.append(Contribution(item: entry.item, weight: Double(scale * w * dot)))
            }
        }
        return Array(terms.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }.prefix(count))
    }
}

extension GCNRecommender {
    /// A song with no listens in the model's space, from its feature row alone.
    ///
    /// The input layer gives item nodes `E0_j = I_emb_j + X_j·W_x`. A new song has no ID embedding (that part
    /// is learned from listens; it starts at 0, weight decay's prior), so `E0_new = x·W_x`. Placed as an
    /// isolated node it has no edge in A: its degree is d = 1 (the self loop alone), Â_nn = 1, no other
    /// node reaches it and it reaches none, so the layers only pass it through:
    /// ```
    /// H1 = act(E0_new·W_1),   H2 = act(H1·W_2),   z_new = (E0_new + H1 + H2)/3  (or H2)
    /// ```
    /// which is E0_new itself for the default weight-free linear layers. Its ranking bias c_new is the mean
    /// c_i (how likely an item is to be played at all is unknown for it), its play-count bias b_new = 0.
    ///
    /// - Parameter features: x (F), the song's row as the model's item features X were built: with
    ///   `ItemFeatures.matrix`, the embedder named in `checkpoint.header.embedder` (e.g. `hashing-256`) applied
    ///   to the text `ItemFeatures.texts` writes for an item ("title. release. artist" for songs), then
    ///   its popularity score in the last column (0 for a song without listens); F = embedder dimension + 1.
    /// - Throws: `FoldInError` when the model has no feature projection or F does not match it.
    /// - Complexity: O(F·H) (+ O(H²) per layer with layer weights), and O(I) for c_new.
    public func placeNewItem(features: [Float]) throws(FoldInError) -> PlacedItem {
        guard let projection = checkpoint.header.layout["textProjection"] else {
            throw FoldInError(message: "this GCN was trained without text features (--text-features false); it cannot place a song without listens: retrain with text features")
        }
        guard features.count == projection.rows else {
            throw FoldInError(message: "the feature row has \(features.count) values; this model's features have \(projection.rows) (the \(checkpoint.header.embedder ?? "unnamed") embedding plus the popularity column)")
        }
        guard features.allSatisfy(\.isFinite) else { throw FoldInError(message: "the feature row holds a value that is not finite") }
        let h = hidden
        let p = checkpoint.parameters
        var e0 = [Float](repeating: 0, count: h)
        for (f, x) in features.enumerated() where x != 0 {
            for k in 0..<h { e0[k] += x * p[projection.offset + f * h + k] }
        }
        let h1 = layer(1, e0)
        let h2 = layer(2, h1)
        var z = h2
        if checkpoint.header.model.combineLayers {
            let scale = 1 / Float(GCNModel<Float>.layerCount + 1)
            for k in 0..<h { z[k] = (e0[k] + h1[k] + h2[k]) * scale }
        }
        var rank = 0.0
        for i in 0..<itemCount { rank += Double(p[decoder.rankBias + i]) }
        return PlacedItem(embedding: z, rankBias: itemCount > 0 ? Float(rank / Double(itemCount)) : 0, itemBias: 0)
    }

    /// r = ⟨z_u, z_new⟩ + c_new for a folded user.
    public func score(of user: FoldedUser, placed: PlacedItem) -> Float {
        check(user, width: hidden)
        return dot(user.embedding[...], placed.embedding) + placed.rankBias
    }

    /// r = ⟨z_u, z_new⟩ + c_new for a user of the model.
    public func score(user: UserIndex, placed: PlacedItem) -> Float {
        let user = user.rawValue
        return dot(checkpoint.embeddings[(user * hidden)..<((user + 1) * hidden)], placed.embedding) + placed.rankBias
    }

    /// ŷ = s·⟨z_u, z_new⟩ + b_u + b_new + μ for a folded user.
    public func predictLog1p(of user: FoldedUser, placed: PlacedItem) -> Float {
        check(user, width: hidden)
        let p = checkpoint.parameters
        return p[decoder.dotScale] * dot(user.embedding[...], placed.embedding) + user.bias + placed.itemBias + p[decoder.globalMean]
    }

    private func dot(_ a: ArraySlice<Float>, _ b: [Float]) -> Float {
        var sum: Float = 0
        for (x, y) in zip(a, b) { sum += x * y }
        return sum
    }
}
