import BLAS
import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphMetrics
import TasteGraphSupport

/// Optimization settings (every one a `train` flag).
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var epochs = 300
    public var learningRate = 0.01
    public var weightDecay = 0.5
    /// Mini-batches per epoch: each is one Adam step over a share of the train edges.
    public var batchesPerEpoch = 4
    /// Stop after this many validations without a better validation Recall@20.
    public var patience = 20
    /// Validate every this many epochs (0: never; the last epoch is then the result).
    public var validateEvery = 2
    /// Share of each user's train listens held out for validation (early stopping).
    public var validationFraction = 0.1
    /// λ of the bias baseline the play-count head starts from (see `Trainer.initializeBiases`).
    public var biasRegularization = 5.0
    public var seed: UInt64 = 0
    /// The learning rate over the epochs: constant, or a cosine decay from `learningRate` at epoch 1 to
    /// 0.1 · `learningRate` at epoch `epochs`:  lr(e) = lr · (0.1 + 0.45 · (1 + cos(π · (e − 1) / (epochs − 1)))).
    public var learningRateSchedule: LearningRateSchedule = .constant
    /// β of the BPR negatives' distribution: item j drawn with probability ∝ (1 + train listeners of j)^β
    /// (0: uniform, the default; 0.75: word2vec's popularity-aware sampling, harder negatives for a popular
    /// model). Heard items are redrawn as before.
    public var negativePopularityExponent = 0.0
    /// Validate on a seeded sample of this many validation users (`HeldOut.sampled`; nil: all of them). A
    /// full validation at the Taste Profile's 10⁶ users scores every user against every song.
    public var validationUsers: Int? = nil
    /// Where the user and item embedding rows start (`InitialEmbeddings`).
    public var initialEmbeddings: InitialEmbeddings = .random

    public init() {}

    /// The start of U_emb and I_emb.
    public enum InitialEmbeddings: String, Codable, Sendable, CaseIterable {
        /// N(0, initScale²), seeded (`GCNModel.initialParameters`).
        case random
        /// The factors of implicit ALS (BM25 weights, H factors, its default settings otherwise) fit on the
        /// same train listens, each matrix scaled so its entries' RMS is `initScale`: the random start's size
        /// with ALS's directions. The ALS fit counts in the training time (`TrainingResult.trainSeconds`
        /// does not hold it; `GCNFit.alsStartSeconds` does).
        case als
    }

    /// `full` cut to the validation sample (`validationUsers`, seeded by `seed`), or `full` when unset: the
    /// users early stopping scores, and the ones every later choice on validation (cold-item calibration)
    /// must score too, so that no pass after training costs a full validation at 10⁶ users.
    public func validationSample(of full: HeldOut) -> HeldOut {
        validationUsers.map { full.sampled(users: $0, seed: seed) } ?? full
    }

    public enum LearningRateSchedule: String, Codable, Sendable, CaseIterable {
        case constant
        case cosine
    }

    /// The learning rate at `epoch` (1-based) under `learningRateSchedule`.
    public func learningRate(atEpoch epoch: Int) -> Double {
        switch learningRateSchedule {
        case .constant: return learningRate
        case .cosine:
            guard epochs > 1 else { return learningRate }
            let progress = Double(min(max(epoch, 1), epochs) - 1) / Double(epochs - 1)
            return learningRate * (0.1 + 0.45 * (1 + cos(Double.pi * progress)))
        }
    }
}

extension TrainingConfig {
    /// Settings written before the schedule, the negatives' exponent and the initial embeddings existed
    /// decode with them at their defaults (constant, uniform, random).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        epochs = try c.decode(Int.self, forKey: .epochs)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        weightDecay = try c.decode(Double.self, forKey: .weightDecay)
        batchesPerEpoch = try c.decode(Int.self, forKey: .batchesPerEpoch)
        patience = try c.decode(Int.self, forKey: .patience)
        validateEvery = try c.decode(Int.self, forKey: .validateEvery)
        validationFraction = try c.decode(Double.self, forKey: .validationFraction)
        biasRegularization = try c.decode(Double.self, forKey: .biasRegularization)
        seed = try c.decode(UInt64.self, forKey: .seed)
        learningRateSchedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .learningRateSchedule) ?? .constant
        negativePopularityExponent = try c.decodeIfPresent(Double.self, forKey: .negativePopularityExponent) ?? 0
        validationUsers = try c.decodeIfPresent(Int.self, forKey: .validationUsers)
        initialEmbeddings = try c.decodeIfPresent(InitialEmbeddings.self, forKey: .initialEmbeddings) ?? .random
    }
}

/// One epoch's figures, for progress lines and the training log.
public struct EpochReport: Codable, Sendable {
    public let epoch: Int
    public let loss: Double
    /// Validation Recall@20, when this epoch was validated.
    public let validationRecall: Double?
    public let seconds: Double
}

/// What training produced.
public struct TrainingResult: Sendable {
    public let parameters: [Float]
    public let bestEpoch: Int
    public let epochs: Int
    public let history: [EpochReport]
    /// Mean wall time of an epoch's optimization (validation excluded).
    public let secondsPerEpoch: Double
    /// Wall time until the end of the best epoch, validation included.
    public let secondsToBest: Double
    public let trainSeconds: Double
    /// Validation Recall@20 of the best epoch (nil when nothing was validated).
    public let bestValidationRecall: Double?
    /// Validation NDCG@20 of the best epoch (nil when nothing was validated).
    public let bestValidationNDCG: Double?
    /// Validation Recall@20 of the initial parameters, when `train(validatingInitial:)` asked for it
    /// (a warm start: how good the previous model already is on the new data).
    public let initialValidationRecall: Double?
}

/// The data a model is fit on: the graph of train edges and the held-out sets.
public struct TrainingData: Sendable {
    public let userCount: Int
    public let itemCount: Int
    public let train: ListenTable
    public let validation: ListenTable
    /// Each user's train items, sorted (negative sampling, exclusion from rankings).
    public let trainItems: [[Int32]]
    public let graph: BipartiteGraph

    public init(userCount: Int, itemCount: Int, train: ListenTable, validation: ListenTable) {
        self.userCount = userCount
        self.itemCount = itemCount
        self.train = train
        self.validation = validation
        var items = [[Int32]](repeating: [], count: userCount)
        for e in 0..<train.count { items[Int(train.users[e])].append(train.items[e]) }
        trainItems = items.map { $0.sorted() }
        graph = BipartiteGraph(userCount: userCount, itemCount: itemCount, listens: train, weighting: .log1p)
    }

    /// Train listeners of each item (novelty).
    public var trainListeners: [Int] {
        var counts = [Int](repeating: 0, count: itemCount)
        for item in train.items { counts[Int(item)] += 1 }
        return counts
    }

    /// Held-out data for `listens`, excluding each user's train items and `alsoExcluded`.
    public func heldOut(_ listens: ListenTable, alsoExcluded: ListenTable? = nil) -> HeldOut {
        var relevant = [Set<Int>](repeating: [], count: userCount)
        var regression: [(user: Int, item: Int, target: Float)] = []
        for e in 0..<listens.count {
            relevant[Int(listens.users[e])].insert(Int(listens.items[e]))
            regression.append((Int(listens.users[e]), Int(listens.items[e]), log1pf(listens.plays[e])))
        }
        var excluded = trainItems
        if let alsoExcluded {
            for e in 0..<alsoExcluded.count { excluded[Int(alsoExcluded.users[e])].append(alsoExcluded.items[e]) }
        }
        return HeldOut(relevant: relevant, excluded: excluded, trainListeners: trainListeners, userCount: userCount, regression: regression)
    }
}

/// Fits a `GCNModel<Float>` with AdamW on mini-batches of train edges, validating Recall@20 for early stopping.
public struct Trainer {
    public let model: GCNModel<Float>
    public let data: TrainingData
    public let config: TrainingConfig

    public init(model: GCNModel<Float>, data: TrainingData, config: TrainingConfig) {
        self.model = model
        self.data = data
        self.config = config
    }

    /// The parameters a cold start begins from: seeded embeddings and projections
    /// (`GCNModel.initialParameters`, seed `config.seed`) with μ, b_u, b_i at the bias baseline
    /// (`initializeBiases`). A warm start takes the rows it cannot carry over from here.
    /// Shapes: (layout.count).
    public func freshParameters() -> [Float] {
        let targets = data.train.plays.map { log1pf($0) }
        let mean = targets.isEmpty ? 0 : targets.reduce(0, +) / Float(targets.count)
        var parameters = model.initialParameters(seed: config.seed, mean: mean)
        initializeBiases(&parameters, targets: targets)
        return parameters
    }

    /// Trains from `initial` parameters (or a fresh seeded start, `freshParameters()`).
    /// - Parameters:
    ///   - validatingInitial: validate `initial` before the first epoch and count it as epoch 0 of the early
    ///     stopping, so a start already at the optimum (a warm start) is kept and training stops after
    ///     `patience` validations without a better one. Off, the first validated epoch is the first best.
    ///   - progress: called after every epoch.
    /// - Throws: `ModelFitError` when the loss becomes NaN or infinite.
    public func train(initial: [Float]? = nil, validatingInitial: Bool = false, progress: (EpochReport) -> Void = { _ in }) throws -> TrainingResult {
        let started = Date()
        let targets = data.train.plays.map { log1pf($0) }
        var parameters = initial ?? freshParameters()
        guard parameters.count == model.layout.count else {
            throw ModelFitError(message: "initial parameters have \(parameters.count) values, the model needs \(model.layout.count)")
        }
        var optimizer = AdamW(
            parameterCount: parameters.count, learningRate: Float(config.learningRate), weightDecay: Float(config.weightDecay),
            decayMask: model.decayMask)
        var rng = SplitMix64(seed: config.seed &+ 1)
        var order = Array(0..<data.train.count)
        var gradients = [Float](repeating: 0, count: parameters.count)
        let updateMask = model.updateMask
        let frozen = updateMask.indices.filter { updateMask[$0] == 0 }
        let fullValidation = data.heldOut(data.validation)
        let validation = config.validationSample(of: fullValidation)
        var history: [EpochReport] = []
        var best = (recall: -1.0, epoch: 0, parameters: parameters, elapsed: 0.0)
        var bestNDCG = 0.0
        var initialRecall: Double?
        if validatingInitial && config.validateEvery > 0 {
            let report = evaluate(parameters, on: validation, regression: false)
            initialRecall = report.recall20
            best = (report.recall20, 0, parameters, Date().timeIntervalSince(started))
            bestNDCG = report.ndcg20
        }
        var optimizationSeconds = 0.0
        var sinceBest = 0
        var epoch = 0
        let negatives = NegativeSampler(data: data, exponent: config.negativePopularityExponent)
        while epoch < config.epochs {
            epoch += 1
            let epochStart = Date()
            optimizer.learningRate = Float(config.learningRate(atEpoch: epoch))
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
            var epochLoss = 0.0
            let batchSize = (order.count + config.batchesPerEpoch - 1) / max(1, config.batchesPerEpoch)
            for start in stride(from: 0, to: order.count, by: max(1, batchSize)) {
                let batch = makeBatch(order[start..<min(order.count, start + batchSize)], targets: targets, negatives: negatives, rng: &rng)
                let activations = model.forward(parameters)
                gradients.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
                let loss = gradients.withUnsafeMutableBufferPointer { g in model.loss(parameters, activations, batch: batch, gradients: g) }
                guard loss.isFinite else {
                    throw ModelFitError(message: "the training loss became \(loss) at epoch \(epoch); lower --learning-rate or check the input data")
                }
                epochLoss += Double(loss) * Double(batch.count)
                for i in frozen { gradients[i] = 0 }
                optimizer.update(&parameters, gradients: gradients)
            }
            let seconds = Date().timeIntervalSince(epochStart)
            optimizationSeconds += seconds
            var recall: Double?
            if config.validateEvery > 0 && (epoch % config.validateEvery == 0 || epoch == config.epochs) {
                let report = evaluate(parameters, on: validation, regression: false)
                recall = report.recall20
                if report.recall20 > best.recall {
                    best = (report.recall20, epoch, parameters, Date().timeIntervalSince(started))
                    bestNDCG = report.ndcg20
                    sinceBest = 0
                } else {
                    sinceBest += 1
                }
            }
            let entry = EpochReport(epoch: epoch, loss: epochLoss / Double(max(1, order.count)), validationRecall: recall, seconds: seconds)
            history.append(entry)
            progress(entry)
            if sinceBest >= config.patience { break }
        }
        let validated = best.recall >= 0
        if !validated { best = (0, epoch, parameters, Date().timeIntervalSince(started)) }
        return TrainingResult(
            parameters: best.parameters, bestEpoch: best.epoch, epochs: epoch, history: history,
            secondsPerEpoch: optimizationSeconds / Double(max(1, epoch)), secondsToBest: best.elapsed,
            trainSeconds: Date().timeIntervalSince(started), bestValidationRecall: validated ? best.recall : nil,
            bestValidationNDCG: validated ? bestNDCG : nil,
            initialValidationRecall: initialRecall)
    }

    /// Starts μ, b_u, b_i at the regularized bias baseline (`BiasBaseline`: λ = biasRegularization,
    /// 10 sweeps, users first), fit on all train listens (validation included: it is held out for ranking
    /// only), so the play-count head begins where the baseline ends.
    func initializeBiases(_ parameters: inout [Float], targets trainTargets: [Float]) {
        guard !trainTargets.isEmpty, let userBias = model.layout["userBias"], let itemBias = model.layout["itemBias"],
              let mu = model.layout["globalMean"] else { return }
        var listens = data.train
        for e in 0..<data.validation.count {
            listens.append(user: data.validation.users[e], item: data.validation.items[e], plays: data.validation.plays[e])
        }
        let baseline = BiasBaseline.fit(
            users: listens.users.map(Int.init), items: listens.items.map(Int.init),
            targets: listens.plays.map { Double(log1pf($0)) }, userCount: data.userCount, itemCount: data.itemCount,
            regularization: config.biasRegularization, sweeps: 10, order: .usersFirst)
        parameters[mu.offset] = Float(baseline.mean)
        for u in 0..<data.userCount { parameters[userBias.offset + u] = Float(baseline.userBias[u]) }
        for i in 0..<data.itemCount { parameters[itemBias.offset + i] = Float(baseline.itemBias[i]) }
    }

    private func makeBatch(_ edges: ArraySlice<Int>, targets: [Float], negatives: NegativeSampler, rng: inout SplitMix64) -> EdgeBatch {
        var batch = EdgeBatch()
        batch.users.reserveCapacity(edges.count)
        for e in edges {
            let user = data.train.users[e]
            batch.users.append(user)
            batch.items.append(data.train.items[e])
            batch.targets.append(targets[e])
            var negative = negatives.draw(&rng)
            for _ in 0..<10 where Self.contains(data.trainItems[Int(user)], negative) {
                negative = negatives.draw(&rng)
            }
            batch.negatives.append(negative)
        }
        return batch
    }

    static func contains(_ sorted: [Int32], _ value: Int32) -> Bool {
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low < sorted.count && sorted[low] == value
    }

    /// The evaluation protocol on `heldOut` with the given parameters.
    public func evaluate(_ parameters: [Float], on heldOut: HeldOut, regression: Bool = true) -> EvaluationReport {
        Scorer(model: model, parameters: parameters).evaluate(heldOut, regression: regression)
    }
}

/// Scores users against all items with fixed parameters (evaluation and `recommend`).
public struct Scorer: Sendable {
    public let model: GCNModel<Float>
    public let parameters: [Float]
    /// Z (U + I, H), computed once: the user and item rows only (tag nodes, if any, are never scored).
    public let embeddings: [Float]

    public init(model: GCNModel<Float>, parameters: [Float]) {
        self.model = model
        self.parameters = parameters
        let z = model.forward(parameters).final
        let scored = (model.userCount + model.itemCount) * model.config.hidden
        embeddings = z.count == scored ? z : Array(z[..<scored])
    }

    /// Ranking scores ⟨z_u, z_i⟩ + c_i for `users` × all items (`GCNDecoder.scores`).
    /// Shapes: out (users.count, I).
    public func scores(users: [Int], into out: UnsafeMutableBufferPointer<Float>) {
        model.decoder.scores(users: users, embeddings: embeddings, parameters: parameters, into: out)
    }

    /// Predicted log1p(play count) (`GCNDecoder.predict`).
    public func predict(user: Int, item: Int) -> Float {
        model.decoder.predict(embeddings, parameters, user: user, item: item)
    }

    public func evaluate(_ heldOut: HeldOut, regression: Bool = true) -> EvaluationReport {
        Evaluation.evaluate(
            heldOut: heldOut, itemCount: model.itemCount,
            scoreUsers: { users, out in scores(users: users, into: out) },
            predict: regression ? { predict(user: $0, item: $1) } : nil)
    }
}

/// BPR negatives: uniform over items (β = 0, one `nextInt` as before), or ∝ (1 + train listeners)^β by a
/// binary search in the cumulative weights.
public struct NegativeSampler: Sendable {
    public let itemCount: Int
    /// Cumulative weights (I), nil for uniform.
    let cumulative: [Double]?

    init(data: TrainingData, exponent: Double) {
        var listeners = [Double](repeating: 0, count: data.itemCount)
        for e in 0..<data.train.count { listeners[Int(data.train.items[e])] += 1 }
        self.init(listeners: listeners, exponent: exponent)
    }

    /// - Parameter listeners: train listeners per item (I).
    public init(listeners: [Double], exponent: Double) {
        itemCount = listeners.count
        guard exponent != 0 else { cumulative = nil; return }
        var total = 0.0
        cumulative = listeners.map { count in total += pow(1 + count, exponent); return total }
    }

    public func draw(_ rng: inout SplitMix64) -> Int32 {
        guard let cumulative, let total = cumulative.last, total > 0 else { return Int32(rng.nextInt(below: itemCount)) }
        let target = rng.nextUnit() * total
        var low = 0, high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        return Int32(low)
    }
}
