import BLAS
import Dispatch
import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphSupport

/// How play counts become ALS confidences.
public enum ALSWeighting: String, Sendable, Codable, CaseIterable {
    /// c_ui = 1 + α · log1p(plays).
    case confidence
    /// BM25 as in the implicit library's `bm25_weight` on the items × users matrix (K1, B).
    case bm25
}

/// How each row's least-squares problem is solved.
public enum ALSSolver: String, Sendable, Codable, CaseIterable {
    /// A few conjugate-gradient steps from the previous solution (Takács et al. 2011), as implicit does.
    case cg
    /// The exact solution by Cholesky factorization through LAPACK.
    case cholesky
}

/// Settings of implicit-feedback ALS.
public struct ALSConfig: Codable, Sendable, Equatable {
    public var factors = 64
    public var regularization = 0.05
    public var iterations = 20
    public var weighting: ALSWeighting = .bm25
    /// α of the confidence weighting.
    public var alpha = 40.0
    public var bm25K1 = 100.0
    public var bm25B = 0.8
    public var solver: ALSSolver = .cg
    /// Conjugate-gradient steps per row and half-iteration.
    public var cgSteps = 3
    public var seed: UInt64 = 0
    /// Worker threads (rows are split between them; OpenBLAS itself runs single-threaded inside).
    public var threads = 2

    public init() {}
}

/// Implicit-feedback matrix factorization (Hu, Koren & Volinsky 2008).
///
/// ```
/// minimize  Σ_{u,i} c_ui (p_ui − x_uᵀ y_i)²  +  λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)      p_ui = 1 if u played i, else 0
/// x_u = (YᵀY + λI + Yᵀ(Cᵘ − I)Y)⁻¹ · Yᵀ Cᵘ p(u)          (and symmetrically for y_i)
/// score(u, i) = x_uᵀ y_i
/// ```
/// with c_ui = 1 for unplayed pairs, so YᵀY is shared by every row and only the played items add terms.
/// Shapes: X (U, f), Y (I, f). Factors start uniform in [0, 0.01), as in implicit. A live user is one more
/// row solve against the fixed Y (`foldIn`).
public struct ALSRecommender: RegisteredModel {
    public static let modelKind = ModelKind.als
    public static let summary = "implicit-feedback ALS (Hu, Koren, Volinsky), bm25 or confidence weighting"
    public static var defaultSettings: ALSConfig { ALSConfig() }

    public static func fit(_ input: FitInput, settings: ALSConfig) throws -> ALSRecommender {
        try fit(try input.fitData(), identity: input.identity, config: settings)
    }

    public init(file: ModelFile, path: String) throws { try self.init(archive: ModelArchive(file: file, path: path), path: path) }
    public let identity: ModelIdentity
    public var predictsPlayCounts: Bool { false }
    public let config: ALSConfig
    /// X (U, f).
    public let userFactors: [Float]
    /// Y (I, f).
    public let itemFactors: [Float]
    /// Each user's played items with their confidences (explanations).
    let confidences: CSR
    /// YᵀY + λI (f, f), shared by every user's explanation.
    let itemGram: [Float]
    /// BM25's item-length normalizations L_i of the fit (I), for folding users in; nil for the confidence
    /// weighting and for model files written before they were stored (see `foldIn`).
    let itemLengths: [Float]?
    /// Y by norm, for `topItems` (built at its first call).
    let orderedItems: Lazy<NormOrderedItems>

    init(identity: ModelIdentity, config: ALSConfig, userFactors: [Float], itemFactors: [Float], confidences: CSR, itemLengths: [Float]?) {
        self.identity = identity
        self.config = config
        self.userFactors = userFactors
        self.itemFactors = itemFactors
        self.confidences = confidences
        self.itemLengths = itemLengths
        itemGram = RowSolver.regularizedGram(itemFactors, factors: config.factors, regularization: Float(config.regularization))
        let factors = config.factors
        orderedItems = Lazy { itemFactors.withUnsafeBufferPointer { NormOrderedItems(itemRows: $0, width: factors) } }
    }

    /// BM25's length normalization of each item (document): L_i = (1 − B) + B · plays_i / mean plays per
    /// item, over the train listens; nil for the confidence weighting. Shapes: (I).
    /// Kept in Double while fitting (the file stores them as Float for folding users in).
    static func itemLengths(_ graph: BipartiteGraph, _ config: ALSConfig) -> [Double]? {
        guard config.weighting == .bm25 else { return nil }
        let rows = graph.userItems
        var itemTotals = [Double](repeating: 0, count: graph.itemCount)
        for e in 0..<rows.edgeCount { itemTotals[Int(rows.targets[e])] += Double(rows.weights[e]) }
        let average = itemTotals.reduce(0, +) / max(1, Double(graph.itemCount))
        return itemTotals.map { (1 - config.bm25B) + config.bm25B * $0 / max(average, .leastNonzeroMagnitude) }
    }

    /// The confidence of `plays` plays of an item: 1 + α·log1p(plays), or BM25's
    /// plays·(K1 + 1) / (K1·L_i + plays) · idf_u with idf_u = ln I − log1p(items of u) (documents are items,
    /// terms are users).
    static func confidence(plays: Float, length: Double, userItems: Int, itemCount: Int, _ config: ALSConfig) -> Float {
        switch config.weighting {
        case .confidence:
            return 1 + Float(config.alpha) * log1pf(plays)
        case .bm25:
            let idf = log(Double(itemCount)) - log1p(Double(userItems))
            let p = Double(plays)
            return Float(p * (config.bm25K1 + 1) / (config.bm25K1 * length + p) * idf)
        }
    }

    /// Confidences c_ui for every train listen, per `config.weighting`. Shapes: (E) in `graph.userItems` order.
    static func confidences(_ graph: BipartiteGraph, _ config: ALSConfig) -> [Float] {
        let rows = graph.userItems
        let lengths = itemLengths(graph, config)
        var out = [Float](repeating: 0, count: rows.edgeCount)
        for user in 0..<graph.userCount {
            for e in rows.offsets[user]..<rows.offsets[user + 1] {
                out[e] = confidence(plays: rows.weights[e], length: lengths?[Int(rows.targets[e])] ?? 1, userItems: rows.degree(user),
                                    itemCount: graph.itemCount, config)
            }
        }
        return out
    }

    /// - Throws: `ModelFitError` when the factors stop being finite.
    public static func fit(_ data: FitData, identity: ModelIdentity, config: ALSConfig, progress: (Int) -> Void = { _ in }) throws -> ALSRecommender {
        precondition(config.factors > 0 && config.iterations >= 0 && config.regularization >= 0)
        let f = config.factors
        let graph = data.graph
        let userConfidence = confidences(graph, config)
        let byUser = CSR(offsets: graph.userItems.offsets, targets: graph.userItems.targets, weights: userConfidence)
        // The same confidences, item by item.
        var itemRows: [Int32] = []
        itemRows.reserveCapacity(byUser.edgeCount)
        var itemTargets: [Int32] = []
        itemTargets.reserveCapacity(byUser.edgeCount)
        for user in 0..<data.userCount {
            for e in byUser.offsets[user]..<byUser.offsets[user + 1] {
                itemRows.append(byUser.targets[e])
                itemTargets.append(Int32(user))
            }
        }
        let byItem = CSR(rowCount: data.itemCount, rows: itemRows, targets: itemTargets, weights: userConfidence)
        var rng = SplitMix64(seed: config.seed)
        var y = (0..<(data.itemCount * f)).map { _ in Float(rng.nextUnit()) * 0.01 }
        var x = (0..<(data.userCount * f)).map { _ in Float(rng.nextUnit()) * 0.01 }
        let solver = RowSolver(factors: f, regularization: Float(config.regularization), solver: config.solver,
                               cgSteps: config.cgSteps, threads: max(1, config.threads))
        for iteration in 0..<config.iterations {
            solver.solve(rows: byUser, fixed: y, into: &x)
            solver.solve(rows: byItem, fixed: x, into: &y)
            guard x.allSatisfy(\.isFinite) && y.allSatisfy(\.isFinite) else {
                throw ModelFitError(message: "ALS factors became non-finite at iteration \(iteration + 1); raise --regularization or check the input data")
            }
            progress(iteration + 1)
        }
        return ALSRecommender(identity: identity, config: config, userFactors: x, itemFactors: y, confidences: byUser,
                              itemLengths: itemLengths(graph, config)?.map { Float($0) })
    }

    /// ⟨x_u, y_i⟩ for `users` × all items (`BatchedScoring`). Shapes: out (users.count, I).
    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        userFactors.withUnsafeBufferPointer { x in
            itemFactors.withUnsafeBufferPointer { y in
                BatchedScoring.scores(users: users.map(\.rawValue), userRows: x, itemRows: y, width: config.factors, into: out)
            }
        }
    }

    public func exactScores(user: UserIndex, items: [ItemIndex]) -> (scores: [Float], bound: Float)? {
        let f = config.factors
        return userFactors.withUnsafeBufferPointer { x in
            orderedItems.value.exactScores(userRow: UnsafeBufferPointer(rebasing: x[(user.rawValue * f)..<((user.rawValue + 1) * f)]), items: items.map(\.rawValue))
        }
    }

    public func topItems(users: [UserIndex], count k: Int, where keep: (_ row: Int, _ item: Int) -> Bool) -> [[(item: ItemIndex, score: Float)]] {
        userFactors.withUnsafeBufferPointer { x in
            BatchedScoring.topK(users: users.map(\.rawValue), userRows: x, ordered: orderedItems.value, k: k, keep: keep)
        }.map { $0.map { (item: ItemIndex($0.item), score: $0.score) } }
    }

    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float { 0 }

    /// Hu et al.'s explanation (§5): with Wᵘ = (YᵀCᵘY + λI)⁻¹,
    /// ```
    /// score(u, i) = Σ_{j played by u} c_uj · y_iᵀ Wᵘ y_j
    /// ```
    /// so the term of heard item j is c_uj · ⟨Wᵘ y_i, y_j⟩ (exact for the exact solution; the CG solver's
    /// few steps make it close).
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] {
        let user = user.rawValue, item = item.rawValue
        let f = config.factors
        var a = itemGram
        let solved = itemFactors.withUnsafeBufferPointer { y in
            a.withUnsafeMutableBufferPointer { ab in
                RowSolver.addRowSystem(confidences, user, y: y.baseAddress!, factors: f, a: ab.baseAddress!, b: nil)
            }
            var w = Array(y[(item * f)..<((item + 1) * f)])
            guard a.withUnsafeMutableBufferPointer({ ab in w.withUnsafeMutableBufferPointer { BLAS.solvePositiveDefinite(ab, $0, n: f) } })
            else { return [Float]?.none }
            return w
        }
        guard let w = solved else { return [] }
        var terms: [Contribution] = []
        for e in confidences.offsets[user]..<confidences.offsets[user + 1] {
            let j = Int(confidences.targets[e])
            var dot: Float = 0
            for r in 0..<f { dot += w[r] * itemFactors[j * f + r] }
            terms.append(Contribution(item: ItemIndex(j), weight: Double(confidences.weights[e] * dot)))
        }
        return Array(terms.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }.prefix(count))
    }

    public func save(to path: String) throws {
        try ModelArchive(
            kind: kind.rawValue, settings: JSONEncoder().encode(config), identity: identity,
            arrays: [
                ("userFactors", .float(userFactors)), ("itemFactors", .float(itemFactors)),
                ("offsets", .int(confidences.offsets.map { Int32($0) })), ("items", .int(confidences.targets)),
                ("confidences", .float(confidences.weights)),
            ] + (itemLengths.map { [("itemLengths", .float($0))] } ?? [])
        ).write(to: path)
    }

    init(archive: ModelArchive, path: String) throws {
        let config = try ArchiveChecks.settings(ALSConfig.self, of: archive, what: "ALS", path: path)
        let x = try archive.floats("userFactors", path: path)
        let y = try archive.floats("itemFactors", path: path)
        let offsets = try archive.ints("offsets", path: path).map(Int.init)
        let items = try archive.ints("items", path: path)
        let c = try archive.floats("confidences", path: path)
        let users = archive.identity.userIDs.count, itemCount = archive.identity.itemIDs.count
        guard config.factors >= 1, x.count == ArchiveChecks.product(users, config.factors),
              y.count == ArchiveChecks.product(itemCount, config.factors)
        else { throw CheckpointError(path: path, reason: "ALS arrays do not match the model's users, items and factors") }
        let confidences = try ArchiveChecks.csr(offsets: offsets, targets: items, weights: c, rows: users, columns: itemCount, what: "ALS", path: path)
        // Optional: files written before fold-in lack it.
        let lengths = archive.arrays.contains { $0.name == "itemLengths" } ? try archive.floats("itemLengths", path: path) : nil
        guard lengths.map({ $0.count == itemCount && $0.allSatisfy(\.isFinite) }) ?? true else {
            throw CheckpointError(path: path, reason: "ALS item lengths do not match the model's items")
        }
        self.init(identity: archive.identity, config: config, userFactors: x, itemFactors: y, confidences: confidences, itemLengths: lengths)
    }
}

/// One half-iteration of ALS: every row's factors given the other side's.
///
/// Conjugate gradient runs in lockstep over blocks of rows, so the dense part of A·p, (YᵀY + λI)·p,
/// is one GEMM per block and step; only the played items' terms Σ (c − 1)(y_j·p) y_j are per row.
struct RowSolver: Sendable {
    let factors: Int
    let regularization: Float
    let solver: ALSSolver
    let cgSteps: Int
    let threads: Int
    let blockSize = 256

    /// Solves each row r of `rows` for X[r] given the fixed factors F (n, f). Shapes: X (R, f).
    func solve(rows: CSR, fixed: [Float], into x: inout [Float]) {
        let f = factors
        let gram = Self.regularizedGram(fixed, factors: f, regularization: regularization)
        let blockCount = (rows.rowCount + blockSize - 1) / blockSize
        let workers = min(threads, max(1, blockCount))
        // Each worker runs its own sgemm calls: OpenBLAS should run single-threaded (the CLI sets it once per
        // process; library code never changes it).
        x.withUnsafeMutableBufferPointer { xb in
            let out = UnsafeSendable(xb)
            fixed.withUnsafeBufferPointer { fb in
                let y = UnsafeSendable(fb)
                gram.withUnsafeBufferPointer { gb in
                    let g = UnsafeSendable(gb)
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        var scratch = Scratch(rows: blockSize, factors: f)
                        for block in stride(from: worker, to: blockCount, by: workers) {
                            let first = block * blockSize
                            let last = min(rows.rowCount, first + blockSize)
                            switch solver {
                            case .cg: conjugateGradient(rows: rows, range: first..<last, y: y.value, gram: g.value, x: out.value, scratch: &scratch)
                            case .cholesky: cholesky(rows: rows, range: first..<last, y: y.value, gram: g.value, x: out.value)
                            }
                        }
                    }
                }
            }
        }
    }

    /// G = FᵀF + λI (f, f): the part of every row's system A·x = b that all rows share.
    static func regularizedGram(_ fixed: [Float], factors f: Int, regularization: Float) -> [Float] {
        var gram = [Float](repeating: 0, count: f * f)
        fixed.withUnsafeBufferPointer { fb in
            gram.withUnsafeMutableBufferPointer { g in BLAS.sgemm(.transposed, .none, m: f, n: f, k: fixed.count / f, a: fb, b: fb, c: g) }
        }
        for d in 0..<f { gram[d * f + d] += regularization }
        return gram
    }

    /// Adds one row's own part of its system: Σ_j (c_j − 1) y_j y_jᵀ to `a` (f, f) and, when given,
    /// Σ_j c_j y_j to `b` (f), over the row's played items j.
    static func addRowSystem(_ rows: CSR, _ row: Int, y: UnsafePointer<Float>, factors f: Int,
                             a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>?) {
        for e in rows.offsets[row]..<rows.offsets[row + 1] {
            let yj = y + Int(rows.targets[e]) * f
            let c = rows.weights[e]
            for r in 0..<f {
                b?[r] += c * yj[r]
                let scaled = (c - 1) * yj[r]
                for s in 0..<f { a[r * f + s] += scaled * yj[s] }
            }
        }
    }

    struct Scratch {
        var r: [Float]
        var p: [Float]
        var ap: [Float]
        var rsOld: [Float]
        var active: [Bool]

        init(rows: Int, factors: Int) {
            r = [Float](repeating: 0, count: rows * factors)
            p = r
            ap = r
            rsOld = [Float](repeating: 0, count: rows)
            active = [Bool](repeating: false, count: rows)
        }
    }

    /// Adds Σ_j (c_j − 1)(y_j·v) y_j to `out` for one row (the played items' part of A·v).
    @inline(__always)
    private func addPlayed(_ rows: CSR, _ row: Int, y: UnsafeBufferPointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, bTerm: Bool) {
        let f = factors
        rows.targets.withUnsafeBufferPointer { targets in
            rows.weights.withUnsafeBufferPointer { weights in
                for e in rows.offsets[row]..<rows.offsets[row + 1] {
                    let yj = y.baseAddress! + Int(targets[e]) * f
                    let c = weights[e]
                    let d = VectorKernels.dot(yj, v, f)
                    // r: (c − (c − 1)·(y_j·x)) y_j (b's term c·y_j minus the played part of A·x); A·p: (c − 1)(y_j·p) y_j.
                    let scale = bTerm ? c - (c - 1) * d : (c - 1) * d
                    for k in 0..<f { out[k] += scale * yj[k] }
                }
            }
        }
    }

    private func conjugateGradient(rows: CSR, range: Range<Int>, y: UnsafeBufferPointer<Float>, gram: UnsafeBufferPointer<Float>,
                                   x: UnsafeMutableBufferPointer<Float>, scratch: inout Scratch) {
        let f = factors
        let count = range.count
        let xBlock = UnsafeMutableBufferPointer(rebasing: x[(range.lowerBound * f)..<(range.upperBound * f)])
        scratch.r.withUnsafeMutableBufferPointer { r in
            scratch.p.withUnsafeMutableBufferPointer { p in
                scratch.ap.withUnsafeMutableBufferPointer { ap in
                    // r = b − A·x = −G·x + Σ (c − (c − 1) y_j·x) y_j
                    BLAS.sgemm(.none, .none, m: count, n: f, k: f, alpha: -1, a: UnsafeBufferPointer(xBlock), b: gram, c: r)
                    for i in 0..<count {
                        addPlayed(rows, range.lowerBound + i, y: y, v: xBlock.baseAddress! + i * f, out: r.baseAddress! + i * f, bTerm: true)
                        let rs = VectorKernels.dot(r.baseAddress! + i * f, r.baseAddress! + i * f, f)
                        scratch.rsOld[i] = rs
                        scratch.active[i] = rs >= 1e-20
                        for k in 0..<f { p[i * f + k] = r[i * f + k] }
                    }
                    for _ in 0..<cgSteps {
                        BLAS.sgemm(.none, .none, m: count, n: f, k: f, a: UnsafeBufferPointer(p), b: gram, c: ap)
                        var anyActive = false
                        for i in 0..<count where scratch.active[i] {
                            let pi = p.baseAddress! + i * f
                            let api = ap.baseAddress! + i * f
                            let ri = r.baseAddress! + i * f
                            let xi = xBlock.baseAddress! + i * f
                            addPlayed(rows, range.lowerBound + i, y: y, v: pi, out: api, bTerm: false)
                            let alpha = scratch.rsOld[i] / VectorKernels.dot(pi, api, f)
                            for k in 0..<f {
                                xi[k] += alpha * pi[k]
                                ri[k] -= alpha * api[k]
                            }
                            let rsNew = VectorKernels.dot(ri, ri, f)
                            if rsNew < 1e-20 {
                                scratch.active[i] = false
                                continue
                            }
                            let beta = rsNew / scratch.rsOld[i]
                            for k in 0..<f { pi[k] = ri[k] + beta * pi[k] }
                            scratch.rsOld[i] = rsNew
                            anyActive = true
                        }
                        if !anyActive { break }
                    }
                }
            }
        }
    }

    private func cholesky(rows: CSR, range: Range<Int>, y: UnsafeBufferPointer<Float>, gram: UnsafeBufferPointer<Float>, x: UnsafeMutableBufferPointer<Float>) {
        let f = factors
        var a = [Float](repeating: 0, count: f * f)
        var b = [Float](repeating: 0, count: f)
        for row in range {
            for k in 0..<(f * f) { a[k] = gram[k] }
            for k in 0..<f { b[k] = 0 }
            a.withUnsafeMutableBufferPointer { ab in
                b.withUnsafeMutableBufferPointer { bb in
                    Self.addRowSystem(rows, row, y: y.baseAddress!, factors: f, a: ab.baseAddress!, b: bb.baseAddress!)
                }
            }
            let solved = a.withUnsafeMutableBufferPointer { ab in b.withUnsafeMutableBufferPointer { BLAS.solvePositiveDefinite(ab, $0, n: f) } }
            if solved { for k in 0..<f { x[row * f + k] = b[k] } }
        }
    }
}

/// Hands a buffer pointer to `concurrentPerform` workers that write disjoint rows.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

#if canImport(Glibc)
import Glibc
#endif

extension ModelKind {
    public static let als = ModelKind(rawValue: "als")
}
