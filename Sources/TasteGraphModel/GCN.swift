import BLAS
import TasteGraphGraph
import TasteGraphSupport

/// The activation after each GCN layer's linear map.
public enum Activation: String, Codable, Sendable, CaseIterable {
    case none, relu
}

/// Architecture and loss of the GCN. Every field is a `train` flag; the defaults are the ablation's winner
/// (README, "Ablation").
public struct GCNConfig: Codable, Sendable, Equatable {
    /// H, the width of every layer.
    public var hidden = 64
    /// Learned ID embeddings for items beside their projected text features.
    public var itemEmbeddings = true
    /// Project item text features (F → H) into the input layer.
    public var textFeatures = true
    /// A learned H×H weight per layer (a classic GCN layer); off, propagation is weight-free (LightGCN).
    public var layerWeights = false
    public var activation: Activation = .none
    /// Final embedding = mean of the input and both layers' outputs (LightGCN); off, the last layer only.
    public var combineLayers = true
    /// λ: weight of the BPR ranking loss beside the MSE on log1p(play count).
    public var bprWeight: Double = 5.0
    /// Standard deviation of the initial embeddings.
    public var initScale: Double = 0.1
    /// Keep training b_u, b_i, μ after their start at the damped bias baseline; off, they stay there.
    public var trainBiases = false
    /// Let the play-count error reach the embeddings; off, only s, b_u, b_i, μ learn from play counts and
    /// the embeddings learn from the ranking loss (and from the log1p edge weights of Â).
    public var playCountGradient = true
    /// w_F ≥ 0: weight of the user–user friend relation in Â (`BipartiteGraph.heterogeneousNormalized`);
    /// 0 leaves friends out (the listens-only graph).
    public var friendWeight: Double = 0
    /// w_T ≥ 0: weight of the item–tag relation in Â, tags as extra nodes with their own learned embeddings;
    /// 0 leaves tags out and adds no nodes.
    public var tagWeight: Double = 0
    /// With tags on: each item is linked to at most this many of its (artist's) most frequent tags.
    public var tagsPerItem = 10
    /// Cold-item calibration after training, each value a quantile q in [0, 1]: an item with no train listens
    /// is only ever a BPR negative, so its ranking bias c_i learns "never"; each q sets those items' c_i to
    /// the q-quantile of the other items' c, and the variant (or none) with the best validation Recall@20 is
    /// kept (ties: none). Empty: off.
    public var coldItemBiasQuantiles: [Double] = []

    public init() {}

    /// Whether Â holds a relation beside the listens (friends or tags).
    public var usesSideRelations: Bool { friendWeight > 0 || tagWeight > 0 }
}

extension GCNConfig {
    /// Decodes the fields written before the side relations existed as required, and `friendWeight`,
    /// `tagWeight` and `tagsPerItem` as optional (absent in older checkpoints and settings: off).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        hidden = try c.decode(Int.self, forKey: .hidden)
        itemEmbeddings = try c.decode(Bool.self, forKey: .itemEmbeddings)
        textFeatures = try c.decode(Bool.self, forKey: .textFeatures)
        layerWeights = try c.decode(Bool.self, forKey: .layerWeights)
        activation = try c.decode(Activation.self, forKey: .activation)
        combineLayers = try c.decode(Bool.self, forKey: .combineLayers)
        bprWeight = try c.decode(Double.self, forKey: .bprWeight)
        initScale = try c.decode(Double.self, forKey: .initScale)
        trainBiases = try c.decode(Bool.self, forKey: .trainBiases)
        playCountGradient = try c.decode(Bool.self, forKey: .playCountGradient)
        friendWeight = try c.decodeIfPresent(Double.self, forKey: .friendWeight) ?? friendWeight
        tagWeight = try c.decodeIfPresent(Double.self, forKey: .tagWeight) ?? tagWeight
        tagsPerItem = try c.decodeIfPresent(Int.self, forKey: .tagsPerItem) ?? tagsPerItem
        coldItemBiasQuantiles = try c.decodeIfPresent([Double].self, forKey: .coldItemBiasQuantiles) ?? coldItemBiasQuantiles
    }
}

/// Where each parameter lives in the flat buffer: one list of (name, shape).
public struct ParameterLayout: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public let name: String
        public let rows: Int
        public let columns: Int
        public let offset: Int
        public var count: Int { rows * columns }
        public var range: Range<Int> { offset..<(offset + count) }
    }

    public let entries: [Entry]
    public var count: Int { entries.last.map { $0.offset + $0.count } ?? 0 }

    init(_ shapes: [(String, Int, Int)]) {
        var offset = 0
        var entries: [Entry] = []
        for (name, rows, columns) in shapes {
            entries.append(Entry(name: name, rows: rows, columns: columns, offset: offset))
            offset += rows * columns
        }
        self.entries = entries
    }

    public subscript(name: String) -> Entry? { entries.first { $0.name == name } }
}

/// One mini-batch of training edges with one sampled negative item each.
public struct EdgeBatch: Sendable {
    public var users: [Int32] = []
    public var items: [Int32] = []
    /// log1p(play count).
    public var targets: [Float] = []
    /// A sampled unheard item per edge, for BPR.
    public var negatives: [Int32] = []

    public init() {}

    public var count: Int { users.count }
}

/// Everything the forward pass computed that the backward pass needs. Only `forward` makes one, so
/// backward-before-forward does not compile.
///
/// Shapes: every matrix is (N, H), N = U + I + T (T = 0 without tag nodes).
public struct Activations<T: BLASScalar> {
    /// E0 = [userEmbedding; itemEmbedding + X·textProjection; tagEmbedding].
    public fileprivate(set) var input: [T]
    /// Per layer l: P_l = Â·H_{l−1}, S_l = P_l·W_l (pre-activation), H_l = act(S_l).
    public fileprivate(set) var propagated: [[T]]
    public fileprivate(set) var preActivation: [[T]]
    public fileprivate(set) var output: [[T]]
    /// Z: the final node embeddings the decoder reads.
    public fileprivate(set) var final: [T]
}

/// A two-layer GCN over the normalized user–item graph (optionally with friend and tag relations) that
/// predicts log1p(play count).
///
/// ```
/// E0  = [U_emb ; I_emb + X·W_x ; T_emb]                          (N, H), T_emb only with tag nodes
/// H_l = act(Â·H_{l−1}·W_l),  l = 1, 2   (W_l = I, act = id when layerWeights is off: LightGCN)
/// Z   = (E0 + H1 + H2) / 3   (combineLayers)   or   Z = H2
/// ŷ_ui = s·⟨z_u, z_i⟩ + b_u + b_i + μ
/// r_ui = ⟨z_u, z_i⟩ + c_i                                        (ranking score)
/// L   = (1/B) Σ (ŷ_ui − y_ui)²  +  λ · (1/B) Σ −log σ(r_ui − r_uj)
/// ```
/// with j a sampled unheard item per edge, and s a learned scale: BPR stretches the dot products, and s
/// lets the play-count head use as much of them as helps. The ranking score has its own item bias c_i:
/// b_i measures how intensely an item is played, c_i how likely it is to be played at all. Forward and backward are written by hand: Â products by
/// `Kernels.spmm`, dense ones by GEMM.
///
/// Â is `BipartiteGraph.gcnNormalized()`, or with side relations `heterogeneousNormalized`
/// (Â = Â_L + w_F Â_F + w_T Â_T, each relation normalized by its own degrees): the layers are the same,
/// only Â is bigger. Tag nodes get E0 rows of their own (T_emb) and propagate like any node, but the
/// decoder reads users and items only: a tag is never scored or recommended.
///
/// Shapes: Â (N, N) symmetric, N = U + I + T; X (I, F); U_emb (U, H); I_emb (I, H); T_emb (T, H); W_x (F, H); W_l (H, H);
/// b_u (U); b_i (I); c_i (I); μ (1); s (1).
public struct GCNModel<T: BLASScalar>: Sendable {
    public let config: GCNConfig
    public let userCount: Int
    public let itemCount: Int
    /// T, the tag nodes after the items (0 without tags).
    public let tagCount: Int
    public let adjacency: SparseMatrix<T>
    public let features: SparseMatrix<T>?
    let featuresTransposed: SparseMatrix<T>?
    public let layout: ParameterLayout
    /// The ranking and play-count heads over Z (see `GCNDecoder`).
    public let decoder: GCNDecoder
    public static var layerCount: Int { 2 }

    public var nodeCount: Int { userCount + itemCount + tagCount }

    /// - Parameter tagCount: T, tag nodes after the items with embeddings of their own (Â must cover them).
    public init(config: GCNConfig, userCount: Int, itemCount: Int, tagCount: Int = 0, adjacency: SparseMatrix<T>, features: SparseMatrix<T>?) {
        let n = userCount + itemCount + tagCount
        precondition(tagCount >= 0 && adjacency.rows == n && adjacency.columns == n, "Â must be (N, N), N = U + I + T")
        let features = config.textFeatures ? features : nil
        if let features { precondition(features.rows == itemCount, "X must have one row per item") }
        self.config = config
        self.userCount = userCount
        self.itemCount = itemCount
        self.tagCount = tagCount
        self.adjacency = adjacency
        self.features = features
        self.featuresTransposed = features?.transposed()
        let h = config.hidden
        var shapes: [(String, Int, Int)] = [("userEmbedding", userCount, h)]
        if config.itemEmbeddings { shapes.append(("itemEmbedding", itemCount, h)) }
        if let features { shapes.append(("textProjection", features.columns, h)) }
        // After the projection, so the seeded draws of every other entry are those of the listens-only model.
        if tagCount > 0 { shapes.append(("tagEmbedding", tagCount, h)) }
        if config.layerWeights { for l in 1...Self.layerCount { shapes.append(("W\(l)", h, h)) } }
        shapes += [
            ("userBias", userCount, 1), ("itemBias", itemCount, 1), ("rankBias", itemCount, 1),
            ("globalMean", 1, 1), ("dotScale", 1, 1),
        ]
        layout = ParameterLayout(shapes)
        // The layout above holds every decoder entry at the right size, so this cannot throw.
        decoder = try! GCNDecoder(layout: layout, userCount: userCount, itemCount: itemCount, hidden: h)
    }

    /// Initial parameters: embeddings and W_x ~ N(0, initScale²) (seeded), W_l = I, biases 0, μ = `mean`.
    public func initialParameters(seed: UInt64, mean: T) -> [T] {
        var rng = GaussianSource(seed: seed)
        var parameters = [T](repeating: 0, count: layout.count)
        for entry in layout.entries {
            switch entry.name {
            case "userEmbedding", "itemEmbedding", "textProjection", "tagEmbedding":
                for i in entry.range { parameters[i] = T(rng.next() * config.initScale) }
            case let name where name.hasPrefix("W"):
                for d in 0..<entry.rows { parameters[entry.offset + d * entry.columns + d] = 1 }
            case "globalMean":
                parameters[entry.offset] = mean
            case "dotScale":
                parameters[entry.offset] = 1
            default:
                break
            }
        }
        return parameters
    }

    /// 1 for parameters the optimizer may change, 0 for frozen ones (the biases when `trainBiases` is off).
    public var updateMask: [Float] {
        var mask = [Float](repeating: 1, count: layout.count)
        if !config.trainBiases {
            for name in ["userBias", "itemBias", "globalMean"] { for i in layout[name]!.range { mask[i] = 0 } }
        }
        return mask
    }

    /// 1 for weights that take weight decay (embeddings, projections, layer weights), 0 for biases and μ.
    public var decayMask: [Float] {
        var mask = [Float](repeating: 0, count: layout.count)
        for entry in layout.entries where !entry.name.hasSuffix("Bias") && entry.name != "globalMean" && entry.name != "dotScale" {
            for i in entry.range { mask[i] = 1 }
        }
        return mask
    }

    // MARK: - Forward

    /// Runs the layers. Shapes: parameters (layout.count) → activations, every matrix (N, H).
    ///
    /// Fold-in (`GCNRecommender.foldIn` in TasteGraphRecommend, where the math is written out) re-evaluates
    /// one user's rows of this pass for a new history, every other row fixed:
    /// `P1_u = Â_uu E0_u + Σ_j Â_uj E0_j`, `P2_u = Â_uu H1_u + Σ_j Â_uj H1_j'`, with Â_u· from the user's new
    /// degree and each heard item's H1_j' corrected for the user's new edge.
    ///
    /// `@_specialize`: callers in other modules (the recommender, benchmarks) see only the generic entry
    /// point; without a Float specialization there, every element operation went through a protocol witness.
    @_specialize(where T == Float)
    public func forward(_ parameters: [T]) -> Activations<T> {
        let h = config.hidden
        let n = nodeCount
        var input = [T](repeating: 0, count: n * h)
        parameters.withUnsafeBufferPointer { p in
            input.withUnsafeMutableBufferPointer { e0 in
                let users = layout["userEmbedding"]!
                e0.baseAddress!.update(from: p.baseAddress! + users.offset, count: users.count)
                let items = e0.baseAddress! + userCount * h
                if let entry = layout["itemEmbedding"] {
                    items.update(from: p.baseAddress! + entry.offset, count: entry.count)
                }
                if let features, let projection = layout["textProjection"] {
                    // forward: E0[items] += X·W_x  (sparse X)
                    sparseTimesDense(features, p.baseAddress! + projection.offset, into: items)
                }
                if let tags = layout["tagEmbedding"] {
                    // forward: E0[tags] = T_emb
                    (e0.baseAddress! + (userCount + itemCount) * h).update(from: p.baseAddress! + tags.offset, count: tags.count)
                }
            }
        }
        var propagated: [[T]] = []
        var preActivation: [[T]] = []
        var outputs: [[T]] = []
        var previous = input
        for l in 1...Self.layerCount {
            var p = [T](repeating: 0, count: n * h)
            previous.withUnsafeBufferPointer { x in
                p.withUnsafeMutableBufferPointer { y in Kernels.spmm(adjacency, x.baseAddress!, columns: h, into: y.baseAddress!) }
            }
            var s = p
            if let w = layout["W\(l)"] {
                parameters.withUnsafeBufferPointer { params in
                    p.withUnsafeBufferPointer { pp in
                        s.withUnsafeMutableBufferPointer { ss in
                            BLAS.gemm(.none, .none, m: n, n: h, k: h, a: pp.baseAddress!, b: params.baseAddress! + w.offset, c: ss.baseAddress!)
                        }
                    }
                }
            }
            let out = config.activation == .relu ? s.map { max($0, 0) } : s
            propagated.append(p)
            preActivation.append(s)
            outputs.append(out)
            previous = out
        }
        var final = outputs[Self.layerCount - 1]
        if config.combineLayers {
            // forward: Z = (E0 + H1 + H2) / 3
            let scale = 1 / T(Self.layerCount + 1)
            final.withUnsafeMutableBufferPointer { z in
                input.withUnsafeBufferPointer { e0 in
                    outputs[0].withUnsafeBufferPointer { h1 in
                        for i in 0..<z.count { z[i] = (e0[i] + h1[i] + z[i]) * scale }
                    }
                }
            }
        }
        return Activations(input: input, propagated: propagated, preActivation: preActivation, output: outputs, final: final)
    }

    /// Y += S·D for a sparse S (R, C) and dense D (C, H).
    private func sparseTimesDense(_ s: SparseMatrix<T>, _ d: UnsafePointer<T>, into y: UnsafeMutablePointer<T>) {
        Kernels.spmm(s, d, columns: config.hidden, into: y, accumulate: true)
    }

    // MARK: - Decoder

    /// ŷ = s·⟨z_u, z_i⟩ + b_u + b_i + μ for one pair (`GCNDecoder.predict`). Shapes: z (N, H).
    @inline(__always)
    public func predict(_ z: UnsafePointer<T>, _ parameters: UnsafePointer<T>, user: Int, item: Int) -> T {
        decoder.predict(z, parameters, user: user, item: item)
    }

    // MARK: - Loss and backward

    /// The loss of `batch` and, when `gradients` is given, its gradient with respect to every parameter,
    /// *accumulated* into it (callers zero it).
    ///
    /// Shapes: parameters, gradients (layout.count). Specialized for Float as `forward` is.
    @_specialize(where T == Float)
    public func loss(_ parameters: [T], _ activations: Activations<T>, batch: EdgeBatch, gradients: UnsafeMutableBufferPointer<T>?) -> T {
        let h = config.hidden
        let b = T(batch.count)
        let lambda = T(config.bprWeight)
        let userBias = decoder.userBias
        let itemBias = decoder.itemBias
        let mu = decoder.globalMean
        let scale = decoder.dotScale
        let rankBias = decoder.rankBias
        var dZ = gradients == nil ? [] : [T](repeating: 0, count: nodeCount * h)
        var total: T = 0
        parameters.withUnsafeBufferPointer { p in
            activations.final.withUnsafeBufferPointer { zBuffer in
                dZ.withUnsafeMutableBufferPointer { dz in
                    let z = zBuffer.baseAddress!
                    for e in 0..<batch.count {
                        let u = Int(batch.users[e])
                        let i = Int(batch.items[e])
                        let j = Int(batch.negatives[e])
                        let zu = z + u * h
                        let zi = z + (userCount + i) * h
                        let zj = z + (userCount + j) * h
                        let dotI = VectorKernels.dot(zu, zi, h)
                        let dotJ = VectorKernels.dot(zu, zj, h)
                        // MSE: r = ŷ − y,  ŷ = s·⟨z_u, z_i⟩ + b_u + b_i + μ
                        let r = decoder.playCount(dot: dotI, user: u, item: i, p.baseAddress!) - T(batch.targets[e])
                        total += r * r / b
                        // BPR: x = r_ui − r_uj, loss −log σ(x) = log(1 + e^{−x})
                        let x = decoder.rank(dot: dotI, item: i, p.baseAddress!) - decoder.rank(dot: dotJ, item: j, p.baseAddress!)
                        total += lambda * T(softplus(-Double(x))) / b
                        guard let g = gradients, let dzBase = dz.baseAddress else { continue }
                        let dPred = 2 * r / b                                   // ∂L/∂ŷ
                        let dDot = config.playCountGradient ? dPred * p[scale] : 0   // ∂L/∂⟨z_u, z_i⟩ through ŷ
                        let dX = -lambda * T(sigmoid(-Double(x))) / b          // ∂L/∂x
                        let dzu = dzBase + u * h
                        let dzi = dzBase + (userCount + i) * h
                        let dzj = dzBase + (userCount + j) * h
                        for k in 0..<h {
                            // ŷ = ⟨z_u, z_i⟩ + …  and  x = ⟨z_u, z_i⟩ − ⟨z_u, z_j⟩ + …
                            dzu[k] += dDot * zi[k] + dX * (zi[k] - zj[k])
                            dzi[k] += dDot * zu[k] + dX * zu[k]
                            dzj[k] -= dX * zu[k]
                        }
                        g[userBias + u] += dPred
                        g[itemBias + i] += dPred
                        g[rankBias + i] += dX
                        g[rankBias + j] -= dX
                        g[mu] += dPred
                        g[scale] += dPred * dotI
                    }
                }
            }
        }
        if let gradients { backward(parameters, activations, dFinal: dZ, gradients: gradients) }
        return total
    }

    /// Backpropagates ∂L/∂Z through the layers into the parameter gradients (accumulating).
    private func backward(_ parameters: [T], _ activations: Activations<T>, dFinal: [T], gradients: UnsafeMutableBufferPointer<T>) {
        let h = config.hidden
        let n = nodeCount
        // forward: Z = (E0 + H1 + H2)/3  ⇒  dE0 = dH1 = dH2 = dZ/3   (or Z = H2 ⇒ dH2 = dZ)
        let share = config.combineLayers ? 1 / T(Self.layerCount + 1) : 1
        var dInput = config.combineLayers ? dFinal.map { $0 * share } : [T](repeating: 0, count: n * h)
        var dOutput = dFinal.map { $0 * share }  // dH_L
        for l in stride(from: Self.layerCount, through: 1, by: -1) {
            // forward: H_l = act(S_l)  ⇒  dS_l = dH_l ⊙ act'(S_l)
            var dS = dOutput
            if config.activation == .relu {
                let s = activations.preActivation[l - 1]
                for i in 0..<dS.count where s[i] <= 0 { dS[i] = 0 }
            }
            // forward: S_l = P_l·W_l  ⇒  dW_l = P_lᵀ·dS_l,  dP_l = dS_l·W_lᵀ
            var dP = dS
            if let w = layout["W\(l)"] {
                activations.propagated[l - 1].withUnsafeBufferPointer { p in
                    dS.withUnsafeBufferPointer { ds in
                        BLAS.gemm(.transposed, .none, m: h, n: h, k: n, a: p.baseAddress!, b: ds.baseAddress!, beta: 1, c: gradients.baseAddress! + w.offset)
                    }
                }
                parameters.withUnsafeBufferPointer { params in
                    dS.withUnsafeBufferPointer { ds in
                        dP.withUnsafeMutableBufferPointer { dp in
                            BLAS.gemm(.none, .transposed, m: n, n: h, k: h, a: ds.baseAddress!, b: params.baseAddress! + w.offset, c: dp.baseAddress!)
                        }
                    }
                }
            }
            // forward: P_l = Â·H_{l−1}  ⇒  dH_{l−1} = Âᵀ·dP_l = Â·dP_l  (Â symmetric)
            var dPrevious = [T](repeating: 0, count: n * h)
            dP.withUnsafeBufferPointer { dp in
                dPrevious.withUnsafeMutableBufferPointer { out in Kernels.spmm(adjacency, dp.baseAddress!, columns: h, into: out.baseAddress!) }
            }
            if l > 1 {
                // H_{l−1} also feeds Z directly when layers are combined.
                if config.combineLayers {
                    dPrevious.withUnsafeMutableBufferPointer { d in
                        dFinal.withUnsafeBufferPointer { f in for i in 0..<d.count { d[i] += f[i] * share } }
                    }
                }
                dOutput = dPrevious
            } else {
                dInput.withUnsafeMutableBufferPointer { d in
                    dPrevious.withUnsafeBufferPointer { p in for i in 0..<d.count { d[i] += p[i] } }
                }
            }
        }
        // forward: E0 = [U_emb; I_emb + X·W_x; T_emb]
        //   ⇒  dU_emb = dE0[users], dI_emb = dE0[items], dW_x = Xᵀ·dE0[items], dT_emb = dE0[tags]
        let users = layout["userEmbedding"]!
        dInput.withUnsafeBufferPointer { d in
            for i in 0..<users.count { gradients[users.offset + i] += d[i] }
            if let items = layout["itemEmbedding"] {
                for i in 0..<items.count { gradients[items.offset + i] += d[userCount * h + i] }
            }
            if let tags = layout["tagEmbedding"] {
                for i in 0..<tags.count { gradients[tags.offset + i] += d[(userCount + itemCount) * h + i] }
            }
        }
        if let featuresTransposed, let projection = layout["textProjection"] {
            dInput.withUnsafeBufferPointer { d in
                Kernels.spmm(featuresTransposed, d.baseAddress! + userCount * h, columns: h, into: gradients.baseAddress! + projection.offset, accumulate: true)
            }
        }
    }
}

@inline(__always) func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
/// log(1 + eˣ), stable for large |x|.
@inline(__always) func softplus(_ x: Double) -> Double { x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)) }

/// Seeded standard normal draws (Box–Muller over `SplitMix64`).
struct GaussianSource {
    private var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func next() -> Double {
        let u1 = 1 - rng.nextUnit()
        let u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
#endif
