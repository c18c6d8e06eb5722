import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphSupport

/// Funk SVD with biases (Funk 2006; Koren, Bell & Volinsky 2009), as the `surprise` library's `SVD` fits it:
/// a regression of log1p(play count) on the train listens by stochastic gradient descent.
///
/// ```
/// r_ui = log1p(plays)                                  one per train listen (E of them)
/// r̂_ui = μ + b_u + b_i + ⟨p_u, q_i⟩                    μ the mean train r, fixed
/// L = Σ_{(u,i) ∈ train} [ (r_ui − r̂_ui)² + λ (b_u² + b_i² + ‖p_u‖² + ‖q_i‖²) ]
/// ```
/// Each epoch visits the train listens once, in an order shuffled by a seeded `SplitMix64`, and steps each
/// listen's term ℓ_ui of L by θ ← θ − (γ/2) ∂ℓ_ui/∂θ, with e = r_ui − r̂_ui:
/// ```
/// b_u ← b_u + γ (e − λ b_u)
/// b_i ← b_i + γ (e − λ b_i)
/// p_u ← p_u + γ (e q_i − λ p_u)          (p_u, q_i both from before the step)
/// q_i ← q_i + γ (e p_u − λ q_i)
/// ```
/// The biases start at 0 and the factors at N(0, σ²), drawn in the order P then Q; users and items without
/// a train listen keep zero factors and bias, so their prediction is μ plus the other side's bias.
///
/// Ranking scores are r̂ itself: items rank by predicted play count, which is what the seed analysis
/// does with its regression models. A model fitted only on observed listens knows nothing of the items a
/// user did not play, so expect its ranking to lag the implicit-feedback models' (ALS, the KNNs, EASE); its
/// strength is MAE/RMSE (`predictsPlayCounts`).
///
/// Shapes: P (U, f), Q (I, f), b_u (U), b_i (I); scores (users.count, I) = P[users] · Qᵀ + b_i + (μ + b_u).
public struct SVDRecommender: RegisteredModel {
    /// The defaults are surprise's `SVD` defaults.
    public struct Config: Codable, Sendable, Equatable {
        /// f, the latent factors per user and item: an integer ≥ 1 (memory 4·(U + I)·f bytes).
        public var factors = 100
        /// Passes over the train listens: an integer ≥ 1.
        public var epochs = 20
        /// γ, the SGD step: finite, > 0 (steps much above 0.05 on log1p targets can diverge, and the fit then
        /// throws).
        public var learningRate = 0.005
        /// λ, the L2 penalty on biases and factors, applied at each listen: finite, ≥ 0.
        public var regularization = 0.02
        /// σ of the factors' initial normal draws: finite, ≥ 0 (0 starts every factor at 0, where the gradient
        /// of ⟨p_u, q_i⟩ is 0 and only the biases learn).
        public var initStd = 0.1
        /// Seeds the initial factors and each epoch's shuffle.
        public var seed: UInt64 = 0
        public init() {}
    }

    public static let modelKind = ModelKind.svd
    public static let summary = "Funk SVD with biases (surprise's SVD): SGD on log1p(plays), r̂ = μ + b_u + b_i + p_u·q_i; ranks by r̂"
    public static var defaultSettings: Config { Config() }

    public let identity: ModelIdentity
    public let config: Config
    public var predictsPlayCounts: Bool { true }
    /// μ, the mean train log1p(plays).
    public let mean: Float
    /// b_u (U).
    public let userBias: [Float]
    /// b_i (I).
    public let itemBias: [Float]
    /// P (U, f), row-major.
    public let userFactors: [Float]
    /// Q (I, f), row-major.
    public let itemFactors: [Float]
    /// L after each epoch, over all train listens with the parameters at the epoch's end (epochs values).
    public let epochLosses: [Float]

    public static func fit(_ input: FitInput, settings: Config) throws -> SVDRecommender {
        try fit(try input.fitData(), identity: input.identity, config: settings)
    }

    /// Fits by SGD, `config.epochs` shuffled passes over `data.train`.
    /// - Parameter progress: called after each epoch with its number (from 1) and L.
    /// - Throws: `ModelFitError` for a setting outside its range (see `Config`) and when L stops being finite
    ///   (the steps diverged: lower `learningRate`).
    /// - Complexity: O(epochs · E · f) time; O((U + I) · f + E) memory.
    public static func fit(_ data: FitData, identity: ModelIdentity, config: Config = Config(),
                           progress: (Int, Float) -> Void = { _, _ in }) throws -> SVDRecommender {
        try validate(config)
        let f = config.factors
        guard let userCells = ArchiveChecks.product(data.userCount, f), let itemCells = ArchiveChecks.product(data.itemCount, f) else {
            throw ModelFitError(message: "SVD: \(f) factors for \(data.userCount) users and \(data.itemCount) items overflow; lower factors")
        }
        let train = data.train
        let users = train.users, items = train.items
        let targets = train.plays.map { log1pf($0) }
        let mean = targets.isEmpty ? 0 : Float(targets.reduce(0.0) { $0 + Double($1) } / Double(targets.count))
        var rng = SplitMix64(seed: config.seed)
        var p = (0..<userCells).map { _ in Float(Double(config.initStd) * standardNormal(&rng)) }
        var q = (0..<itemCells).map { _ in Float(Double(config.initStd) * standardNormal(&rng)) }
        // Rows no listen ever reaches stay 0 rather than keep their random draw.
        var userHeard = [Bool](repeating: false, count: data.userCount)
        var itemHeard = [Bool](repeating: false, count: data.itemCount)
        for e in 0..<train.count {
            userHeard[Int(users[e])] = true
            itemHeard[Int(items[e])] = true
        }
        for u in 0..<data.userCount where !userHeard[u] { for k in 0..<f { p[u * f + k] = 0 } }
        for i in 0..<data.itemCount where !itemHeard[i] { for k in 0..<f { q[i * f + k] = 0 } }
        var bu = [Float](repeating: 0, count: data.userCount)
        var bi = [Float](repeating: 0, count: data.itemCount)
        let gamma = Float(config.learningRate), lambda = Float(config.regularization)
        var order = Array(0..<train.count)
        var losses: [Float] = []
        for epoch in 1...config.epochs {
            // Fisher–Yates, seeded.
            for k in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(k, rng.nextInt(below: k + 1)) }
            p.withUnsafeMutableBufferPointer { p in
                q.withUnsafeMutableBufferPointer { q in
                    for e in order {
                        let u = Int(users[e]), i = Int(items[e])
                        let pu = p.baseAddress! + u * f, qi = q.baseAddress! + i * f
                        var dot: Float = 0
                        for k in 0..<f { dot += pu[k] * qi[k] }
                        let error = targets[e] - (mean + bu[u] + bi[i] + dot)
                        bu[u] += gamma * (error - lambda * bu[u])
                        bi[i] += gamma * (error - lambda * bi[i])
                        for k in 0..<f {
                            let puk = pu[k], qik = qi[k]
                            pu[k] += gamma * (error * qik - lambda * puk)
                            qi[k] += gamma * (error * puk - lambda * qik)
                        }
                    }
                }
            }
            let loss = Self.loss(train: train, targets: targets, mean: mean, userBias: bu, itemBias: bi, p: p, q: q, factors: f, lambda: lambda)
            guard loss.isFinite else {
                throw ModelFitError(message: "SVD diverged at epoch \(epoch) (training loss \(loss)); lower learningRate (now \(config.learningRate)) or raise regularization (now \(config.regularization))")
            }
            losses.append(loss)
            progress(epoch, loss)
        }
        return SVDRecommender(identity: identity, config: config, mean: mean, userBias: bu, itemBias: bi,
                              userFactors: p, itemFactors: q, epochLosses: losses)
    }

    /// - Throws: `ModelFitError` naming the first setting outside its range.
    static func validate(_ config: Config) throws {
        func refuse(_ what: String) -> ModelFitError { ModelFitError(message: "SVD: \(what); see SVDRecommender.Config for each setting's range") }
        guard config.factors >= 1 else { throw refuse("factors must be at least 1, got \(config.factors)") }
        guard config.epochs >= 1 else { throw refuse("epochs must be at least 1, got \(config.epochs)") }
        guard config.learningRate > 0, config.learningRate.isFinite else {
            throw refuse("learningRate must be finite and > 0, got \(config.learningRate)")
        }
        guard config.regularization >= 0, config.regularization.isFinite else {
            throw refuse("regularization must be finite and ≥ 0, got \(config.regularization)")
        }
        guard config.initStd >= 0, config.initStd.isFinite else { throw refuse("initStd must be finite and ≥ 0, got \(config.initStd)") }
    }

    /// L = Σ_{(u,i) ∈ train} [(r_ui − r̂_ui)² + λ (b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)], summed in Double.
    static func loss(train: ListenTable, targets: [Float], mean: Float, userBias: [Float], itemBias: [Float],
                     p: [Float], q: [Float], factors f: Int, lambda: Float) -> Float {
        var total = 0.0
        for e in 0..<train.count {
            let u = Int(train.users[e]), i = Int(train.items[e])
            var dot: Float = 0, norms: Float = 0
            for k in 0..<f {
                dot += p[u * f + k] * q[i * f + k]
                norms += p[u * f + k] * p[u * f + k] + q[i * f + k] * q[i * f + k]
            }
            let error = Double(targets[e] - (mean + userBias[u] + itemBias[i] + dot))
            total += error * error + Double(lambda) * Double(userBias[u] * userBias[u] + itemBias[i] * itemBias[i] + norms)
        }
        return Float(total)
    }

    /// A standard normal draw (Box–Muller over two uniforms).
    static func standardNormal(_ rng: inout SplitMix64) -> Double {
        let u1 = 1 - rng.nextUnit(), u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    init(identity: ModelIdentity, config: Config, mean: Float, userBias: [Float], itemBias: [Float],
         userFactors: [Float], itemFactors: [Float], epochLosses: [Float]) {
        self.identity = identity
        self.config = config
        self.mean = mean
        self.userBias = userBias
        self.itemBias = itemBias
        self.userFactors = userFactors
        self.itemFactors = itemFactors
        self.epochLosses = epochLosses
    }

    /// r̂ for `users` × all items: one sgemm P[users] · Qᵀ (`BatchedScoring`), then b_i and μ + b_u.
    /// Shapes: out (users.count, I), row-major.
    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        let n = itemCount
        userFactors.withUnsafeBufferPointer { p in
            itemFactors.withUnsafeBufferPointer { q in
                itemBias.withUnsafeBufferPointer { b in
                    BatchedScoring.scores(users: users.map(\.rawValue), userRows: p, itemRows: q, width: config.factors, itemBias: b, into: out)
                }
            }
        }
        for (row, user) in users.enumerated() {
            let offset = mean + userBias[user.rawValue]
            for item in 0..<n { out[row * n + item] += offset }
        }
    }

    /// r̂_ui = μ + b_u + b_i + ⟨p_u, q_i⟩ (a plain loop: equal to `scores` up to BLAS rounding).
    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float {
        let f = config.factors, u = user.rawValue, i = item.rawValue
        var dot: Float = 0
        for k in 0..<f { dot += userFactors[u * f + k] * itemFactors[i * f + k] }
        return mean + userBias[u] + itemBias[i] + dot
    }

    /// A latent-factor score has no honest split over the heard items (p_u is fitted to all of them jointly,
    /// and μ + b_i is nobody's taste): no contributions, as for popularity.
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] { [] }

    public func save(to path: String) throws {
        try ModelArchive(
            kind: kind.rawValue, settings: JSONEncoder().encode(config), identity: identity,
            arrays: [
                ("mean", .float([mean])), ("userBias", .float(userBias)), ("itemBias", .float(itemBias)),
                ("userFactors", .float(userFactors)), ("itemFactors", .float(itemFactors)), ("epochLosses", .float(epochLosses)),
            ]
        ).write(to: path)
    }

    public init(file: ModelFile, path: String) throws { try self.init(archive: ModelArchive(file: file, path: path), path: path) }

    init(archive: ModelArchive, path: String) throws {
        let config = try ArchiveChecks.settings(Config.self, of: archive, what: "SVD", path: path)
        let users = archive.identity.userIDs.count, items = archive.identity.itemIDs.count
        let mean = try archive.floats("mean", path: path)
        let bu = try archive.floats("userBias", path: path), bi = try archive.floats("itemBias", path: path)
        let p = try archive.floats("userFactors", path: path), q = try archive.floats("itemFactors", path: path)
        let losses = try archive.floats("epochLosses", path: path)
        guard config.factors >= 1, mean.count == 1, bu.count == users, bi.count == items,
              p.count == ArchiveChecks.product(users, config.factors), q.count == ArchiveChecks.product(items, config.factors)
        else { throw CheckpointError(path: path, reason: "SVD arrays do not match the model's users, items and factors") }
        guard ([mean, bu, bi, p, q] as [[Float]]).allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
            throw CheckpointError(path: path, reason: "SVD holds a non-finite bias or factor (the file is corrupt)")
        }
        self.init(identity: archive.identity, config: config, mean: mean[0], userBias: bu, itemBias: bi,
                  userFactors: p, itemFactors: q, epochLosses: losses)
    }
}

extension ModelKind {
    public static let svd = ModelKind(rawValue: "svd")
}

#if canImport(Glibc)
import Glibc
#endif
