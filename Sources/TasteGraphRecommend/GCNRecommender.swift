import BLAS
import Foundation
import TasteGraphCore
import TasteGraphMetrics
import TasteGraphFeatures
import TasteGraphGraph
import TasteGraphModel
import TasteGraphSupport

/// The GCN as a `Recommender`, from a trained checkpoint: ranking score ⟨z_u, z_i⟩ + c_i over all items,
/// play counts s·⟨z_u, z_i⟩ + b_u + b_i + μ.
public struct GCNRecommender: RegisteredModel {
    public let checkpoint: Checkpoint
    public static let modelKind = ModelKind.gcn
    public static let summary = "the two-layer GCN (LightGCN-style propagation over text features), early-stopped on validation Recall@20"
    public static var defaultSettings: GCNSettings { GCNSettings() }
    public static var usesFeatures: Bool { true }

    /// Fits on `input.split` (early stopping on its validation listens) with `input.features`.
    /// Settings with friend or tag weights need `input.relations`.
    /// - Throws: `ModelFitError` without features, for non-finite plays, or when the loss diverges.
    public static func fit(_ input: FitInput, settings: GCNSettings) throws -> GCNRecommender {
        guard let features = input.features else { throw ModelFitError(message: "the GCN needs item features (FitInput.features)") }
        return try fit(split: input.split, identity: input.identity, features: features.matrix, embedderName: features.name,
                       model: settings.model, training: settings.training, relations: input.relations, progress: input.progress).recommender
    }

    public init(file: ModelFile, path: String) throws { try self.init(checkpoint: Checkpoint(file: file, path: path)) }
    public let identity: ModelIdentity
    public var predictsPlayCounts: Bool { true }
    let hidden: Int
    /// The ranking and play-count heads, located in `checkpoint.parameters` by its layout.
    let decoder: GCNDecoder
    /// Set by `attachingGraph`: each item's message to its listeners and the normalized adjacency.
    var explanation: Explanation?
    /// Set by `attachingGraph`: the item rows of the layers that a fold-in recomputes a user from (`foldIn`).
    var foldInBasis: GCNFoldInBasis?
    /// The item rows of Z by norm, with the ranking bias, for `topItems` (built at its first call).
    let orderedItems: Lazy<NormOrderedItems>

    /// What the exact score decomposition needs (see `explain`).
    struct Explanation: Sendable {
        /// m_j (I, H): the sum over layers of what item j sends a listener, divided like Z.
        let messages: [Float]
        /// Â (N, N) rows for users.
        let adjacency: SparseMatrix<Float>
        /// o_u (U, H): the part of z_u that comes from u itself (see `explain`).
        let own: [Float]
    }

    /// - Throws: `CheckpointError` when the checkpoint lacks a parameter this decoder needs.
    public init(checkpoint: Checkpoint) throws {
        self.checkpoint = checkpoint
        identity = ModelIdentity(userIDs: checkpoint.header.userIDs, itemIDs: checkpoint.header.itemIDs, dataFingerprint: checkpoint.header.dataFingerprint,
                                 splitFingerprint: checkpoint.header.splitFingerprint)
        hidden = checkpoint.header.model.hidden
        // The decoder checks its entries' sizes (the checkpoint checked that the entries tile the parameters).
        do {
            decoder = try GCNDecoder(layout: checkpoint.header.layout, userCount: identity.userIDs.count,
                                     itemCount: identity.itemIDs.count, hidden: hidden)
        } catch .missingParameters {
            throw CheckpointError(path: "checkpoint", reason: "missing decoder parameters")
        } catch .sizeMismatch {
            throw CheckpointError(path: "checkpoint", reason: "decoder parameters do not match the model's users and items")
        }
        let users = checkpoint.header.userIDs.count
        let hiddenWidth = hidden
        let rankBias = decoder.rankBias
        orderedItems = Lazy {
            checkpoint.embeddings.withUnsafeBufferPointer { z in
                checkpoint.parameters.withUnsafeBufferPointer { p in
                    let items = z.count / hiddenWidth - users
                    return NormOrderedItems(
                        itemRows: UnsafeBufferPointer(rebasing: z[(users * hiddenWidth)...]), width: hiddenWidth,
                        itemBias: UnsafeBufferPointer(rebasing: p[rankBias..<(rankBias + items)]))
                }
            }
        }
    }

    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        decoder.scores(users: users.map(\.rawValue), embeddings: checkpoint.embeddings, parameters: checkpoint.parameters, into: out)
    }

    public func exactScores(user: UserIndex, items: [ItemIndex]) -> (scores: [Float], bound: Float)? {
        checkpoint.embeddings.withUnsafeBufferPointer { z in
            orderedItems.value.exactScores(userRow: UnsafeBufferPointer(rebasing: z[(user.rawValue * hidden)..<((user.rawValue + 1) * hidden)]), items: items.map(\.rawValue))
        }
    }

    public func topItems(users: [UserIndex], count k: Int, where keep: (_ row: Int, _ item: Int) -> Bool) -> [[(item: ItemIndex, score: Float)]] {
        checkpoint.embeddings.withUnsafeBufferPointer { z in
            BatchedScoring.topK(users: users.map(\.rawValue), userRows: UnsafeBufferPointer(rebasing: z[0..<(userCount * hidden)]),
                                ordered: orderedItems.value, k: k, keep: keep)
        }
            .map { $0.map { (item: ItemIndex($0.item), score: $0.score) } }
    }

    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float {
        decoder.predict(checkpoint.embeddings, checkpoint.parameters, user: user.rawValue, item: item.rawValue)
    }

    /// Rebuilds the layer activations on `train` (the listens the model was trained on, or the store's),
    /// so `explain` can decompose scores exactly and `foldIn` can recompute a user through the layers.
    ///
    /// A model trained with friend or tag relations is returned as it is: the exact decomposition and
    /// fold-in are written for the listens-only Â (a user's row there holds its items alone), so such a
    /// model explains by ⟨z_j, z_i⟩ and folds in by the approximation (`foldsThroughGraph` is false).
    /// Its scores come from the stored Z and need no graph.
    public func attachingGraph(catalog: Catalog, train: ListenTable, features: SparseMatrix<Float>) -> GCNRecommender {
        guard !checkpoint.header.model.usesSideRelations else { return self }
        let graph = BipartiteGraph(userCount: userCount, itemCount: itemCount, listens: train, weighting: .log1p)
        let config = checkpoint.header.model
        let model = GCNModel<Float>(config: config, userCount: userCount, itemCount: itemCount,
                                    adjacency: graph.gcnNormalized(), features: features)
        let activations = model.forward(checkpoint.parameters)
        let layers = Float(config.combineLayers ? 3 : 1)
        var messages = [Float](repeating: 0, count: itemCount * hidden)
        for item in 0..<itemCount {
            let node = (userCount + item) * hidden
            for j in 0..<hidden {
                let first = activations.output[0][node + j]
                messages[item * hidden + j] = ((config.combineLayers ? activations.input[node + j] : 0) + first) / layers
            }
        }
        let adjacency = model.adjacency
        var own = [Float](repeating: 0, count: userCount * hidden)
        for user in 0..<userCount {
            var selfWeight: Float = 0
            for e in adjacency.offsets[user]..<adjacency.offsets[user + 1] where Int(adjacency.indices[e]) == user { selfWeight = adjacency.values[e] }
            for j in 0..<hidden {
                let e0 = config.combineLayers ? activations.input[user * hidden + j] : 0
                own[user * hidden + j] = (e0 + selfWeight * (e0 + activations.output[0][user * hidden + j])) / layers
            }
        }
        var copy = self
        copy.explanation = Explanation(messages: messages, adjacency: adjacency, own: own)
        copy.foldInBasis = GCNFoldInBasis(model: model, activations: activations, graph: graph)
        return copy
    }

    /// Heard item j's share of ⟨z_u, z_i⟩.
    ///
    /// With Z = (E0 + H1 + H2)/3 and H_l = Â·H_{l−1} (the default, linear model),
    /// ```
    /// z_u = (E0_u + Â_uu (E0_u + H1_u))/3  +  Σ_j Â_uj · m_j,    m_j = (E0_j + H1_j)/3
    /// ⟨z_u, z_i⟩ = ⟨o_u, z_i⟩  +  Σ_j Â_uj ⟨m_j, z_i⟩,      o_u = (E0_u + Â_uu (E0_u + H1_u))/3 (own taste)
    /// ```
    /// so the terms Â_uj⟨m_j, z_i⟩ are exact contributions; with ReLU or layer weights they are the
    /// first-order approximation. Without `attachingGraph`, ⟨z_j, z_i⟩ stands in.
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] {
        let user = user.rawValue, item = item.rawValue
        let z = checkpoint.embeddings
        let target = (userCount + item) * hidden
        var terms: [Contribution] = []
        if let explanation {
            let a = explanation.adjacency
            for e in a.offsets[user]..<a.offsets[user + 1] {
                let node = Int(a.indices[e])
                guard node >= userCount else { continue }
                let j = node - userCount
                var dot: Float = 0
                for h in 0..<hidden { dot += explanation.messages[j * hidden + h] * z[target + h] }
                terms.append(Contribution(item: ItemIndex(j), weight: Double(a.values[e] * dot)))
            }
        } else {
            for j in heard.map(\.rawValue) {
                var dot: Float = 0
                for h in 0..<hidden { dot += z[(userCount + j) * hidden + h] * z[target + h] }
                terms.append(Contribution(item: ItemIndex(j), weight: Double(dot)))
            }
        }
        return Array(terms.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }.prefix(count))
    }

    /// ⟨o_u, z_i⟩, the share of the score no heard item explains; nil before `attachingGraph`.
    public func ownTaste(user: UserIndex, item: ItemIndex) -> Double? {
        guard let explanation else { return nil }
        let user = user.rawValue, item = item.rawValue
        let z = checkpoint.embeddings
        var dot: Float = 0
        for h in 0..<hidden { dot += explanation.own[user * hidden + h] * z[(userCount + item) * hidden + h] }
        return Double(dot)
    }

    public func save(to path: String) throws { try checkpoint.write(to: path) }
}

/// A trained GCN and how its training went.
public struct GCNFit: Sendable {
    public let recommender: GCNRecommender
    public let result: TrainingResult
    /// Test metrics of the best epoch, when a test set was given.
    public let testMetrics: EvaluationReport?
    /// What the cold-item calibration chose on validation (nil when it is off).
    public var coldItemCalibration: ColdItemCalibration? = nil
    /// Seconds of the ALS fit the embeddings started from (`TrainingConfig.InitialEmbeddings.als`); nil when
    /// they did not (a random start, a warm start or resumed parameters).
    public var alsStartSeconds: Double? = nil
}

/// The GCN's cold-item calibration (`GCNConfig.coldItemBiasQuantiles`), chosen on validation.
///
/// ```
/// cold = { i : i has no listen in the train listens }           (never a BPR positive, often a negative)
/// c'_i = quantile_q({ c_j : j warm })  for i ∈ cold,   c'_i = c_i otherwise     (c: the ranking bias)
/// keep the q (or none) with the best validation Recall@20; ties: none, then the smaller q
/// ```
public struct ColdItemCalibration: Sendable, Equatable {
    /// The chosen quantile, nil when the learned biases won.
    public let quantile: Double?
    /// Validation Recall@20 without calibration, then for each quantile in the order given.
    public let validationRecall: [(quantile: Double?, recall20: Double)]
    public let coldItems: Int

    public static func == (a: Self, b: Self) -> Bool {
        a.quantile == b.quantile && a.coldItems == b.coldItems && a.validationRecall.map(\.recall20) == b.validationRecall.map(\.recall20)
    }

    /// - Throws: `ModelFitError` for a quantile outside [0, 1]; what `recall` throws.
    public static func choose(
        quantiles: [Double], parameters: [Float], rankBias: Int, train: ListenTable, itemCount: Int,
        recall: ([Float]) throws -> Double
    ) throws -> (parameters: [Float], calibration: ColdItemCalibration) {
        guard quantiles.allSatisfy({ $0.isFinite && (0...1).contains($0) }) else {
            throw ModelFitError(message: "coldItemBiasQuantiles must lie in [0, 1], got \(quantiles)")
        }
        var heard = [Bool](repeating: false, count: itemCount)
        for e in 0..<train.count { heard[Int(train.items[e])] = true }
        let cold = (0..<itemCount).filter { !heard[$0] }
        let warm = (0..<itemCount).filter { heard[$0] }.map { parameters[rankBias + $0] }.sorted()
        guard !cold.isEmpty, !warm.isEmpty else {
            return (parameters, ColdItemCalibration(quantile: nil, validationRecall: [], coldItems: cold.count))
        }
        var best = (quantile: Double?.none, parameters: parameters, recall: try recall(parameters))
        var curve: [(quantile: Double?, recall20: Double)] = [(nil, best.recall)]
        for q in quantiles {
            let value = warm[min(warm.count - 1, Int((q * Double(warm.count - 1)).rounded()))]
            var candidate = parameters
            for i in cold { candidate[rankBias + i] = value }
            let r = try recall(candidate)
            curve.append((q, r))
            if r > best.recall { best = (q, candidate, r) }
        }
        return (best.parameters, ColdItemCalibration(quantile: best.quantile, validationRecall: curve, coldItems: cold.count))
    }
}

extension GCNRecommender {
    /// Trains the GCN on `split.train`, early-stopping on `split.validation`, and packs the best epoch
    /// into a checkpoint (`train` and `evaluate` share this path).
    ///
    /// - Parameters:
    ///   - features: item features X (I, F), from `ItemFeatures.matrix`.
    ///   - initial: parameters to resume from (same layout), or nil for a fresh start.
    ///   - warmStart: a checkpoint to start from, matched to `identity` (`GCNWarmStart`); its parameters
    ///     are validated as epoch 0, so early stopping keeps them unless training improves on them.
    ///   - relations: the friend and tag relations on `identity`'s users and items (`SideRelations`), used
    ///     when `model.friendWeight` or `model.tagWeight` is above 0 (Â = Â_L + w_F Â_F + w_T Â_T,
    ///     `BipartiteGraph.heterogeneousNormalized`) and stored in the checkpoint; ignored otherwise.
    ///   - progress: called after every epoch.
    ///   - initializationProgress: called after each iteration of the ALS fit that starts
    ///     `TrainingConfig.InitialEmbeddings.als`, with (done, of).
    /// - Throws: `ModelFitError` when a play count is not finite, the loss diverges, or a relation weight is
    ///   set without `relations`; `WarmStartError` when the warm start's rows do not fit this model.
    public static func fit(
        split: InteractionSplit, identity: ModelIdentity, features: SparseMatrix<Float>, embedderName: String,
        model modelConfig: GCNConfig, training trainingConfig: TrainingConfig, initial: [Float]? = nil,
        warmStart: GCNWarmStart? = nil, relations: SideRelations? = nil, progress: (EpochReport) -> Void = { _ in },
        initializationProgress: (_ iteration: Int, _ of: Int) -> Void = { _, _ in }
    ) throws -> GCNFit {
        let userCount = identity.userIDs.count
        let itemCount = identity.itemIDs.count
        _ = try FitData(userCount: userCount, itemCount: itemCount, train: split.train)
        let data = TrainingData(userCount: userCount, itemCount: itemCount, train: split.train, validation: split.validation)
        let relations = modelConfig.usesSideRelations ? relations : nil
        if modelConfig.usesSideRelations {
            guard let relations else {
                throw ModelFitError(message: "friendWeight/tagWeight are set but no friend or tag relations were given; pass them (the CLI reads them from the store) or set both weights to 0")
            }
            guard relations.userCount == userCount, relations.itemCount == itemCount else {
                throw ModelFitError(message: "the friend and tag relations are on \(relations.userCount) users and \(relations.itemCount) items, the model on \(userCount) and \(itemCount); build them from the same store")
            }
            guard [modelConfig.friendWeight, modelConfig.tagWeight].allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw ModelFitError(message: "friendWeight and tagWeight must be finite and ≥ 0")
            }
        }
        let adjacency = data.graph.heterogeneousNormalized(
            relations: relations, friendWeight: modelConfig.friendWeight, tagWeight: modelConfig.tagWeight)
        let model = GCNModel<Float>(config: modelConfig, userCount: userCount, itemCount: itemCount,
                                    tagCount: modelConfig.tagWeight > 0 ? relations?.tagCount ?? 0 : 0,
                                    adjacency: adjacency, features: features)
        if let initial, initial.count != model.layout.count {
            throw ModelFitError(message: "the resumed parameters do not fit this architecture")
        }
        let trainer = Trainer(model: model, data: data, config: trainingConfig)
        var start = try warmStart.map { try $0.parameters(for: model, fresh: trainer.freshParameters()) } ?? initial
        // ALS's factors as the start (`TrainingConfig.InitialEmbeddings.als`), validated as epoch 0 like a
        // warm start, so the curve shows where the GCN begins. A warm start or resumed parameters win.
        var alsStartSeconds: Double?
        if start == nil && trainingConfig.initialEmbeddings == .als {
            let started = Date()
            start = try ALSStart.parameters(
                for: model, fresh: trainer.freshParameters(), train: split.train, identity: identity, seed: trainingConfig.seed,
                progress: initializationProgress)
            alsStartSeconds = Date().timeIntervalSince(started)
        }
        let result = try trainer.train(initial: start, validatingInitial: warmStart != nil || alsStartSeconds != nil, progress: progress)
        let scorer = Scorer(model: model, parameters: result.parameters)
        func checkpoint(_ parameters: [Float], testMetrics: EvaluationReport?) -> Checkpoint {
            Checkpoint(
                header: .init(
                    model: modelConfig, training: trainingConfig, layout: model.layout, userIDs: identity.userIDs,
                    itemIDs: identity.itemIDs, dataFingerprint: identity.dataFingerprint, splitFingerprint: identity.splitFingerprint, embedder: embedderName,
                    bestEpoch: result.bestEpoch, epochs: result.epochs, testMetrics: testMetrics,
                    createdAt: ISO8601DateFormatter().string(from: Date())),
                parameters: parameters, embeddings: scorer.embeddings, relations: relations)
        }
        var parameters = result.parameters
        var calibration: ColdItemCalibration?
        if !modelConfig.coldItemBiasQuantiles.isEmpty && split.validation.count > 0 {
            let heldOut = trainingConfig.validationSample(of: data.heldOut(split.validation))
            let chosen = try ColdItemCalibration.choose(
                quantiles: modelConfig.coldItemBiasQuantiles, parameters: parameters, rankBias: model.decoder.rankBias,
                train: split.train, itemCount: itemCount
            ) { candidate in try GCNRecommender(checkpoint: checkpoint(candidate, testMetrics: nil)).evaluate(heldOut).recall20 }
            parameters = chosen.parameters
            calibration = chosen.calibration
        }
        // With a validation sample (`TrainingConfig.validationUsers`), the test figures recorded in the
        // checkpoint come from the same number of test users: a full pass at 10⁶ users costs more than an epoch.
        let testHeldOut = split.test.count > 0 ? data.heldOut(split.test, alsoExcluded: split.validation) : nil
        let testMetrics = try testHeldOut.map { heldOut in
            try GCNRecommender(checkpoint: checkpoint(parameters, testMetrics: nil))
                .evaluate(trainingConfig.validationSample(of: heldOut))
        }
        return GCNFit(recommender: try GCNRecommender(checkpoint: checkpoint(parameters, testMetrics: testMetrics)), result: result,
                      testMetrics: testMetrics, coldItemCalibration: calibration, alsStartSeconds: alsStartSeconds)
    }
}

/// The GCN's settings: the architecture and the training schedule.
public struct GCNSettings: Codable, Sendable, Equatable {
    public var model = GCNConfig()
    public var training = TrainingConfig()

    public init(model: GCNConfig = GCNConfig(), training: TrainingConfig = TrainingConfig()) {
        self.model = model
        self.training = training
    }
}

extension ModelKind {
    public static let gcn = ModelKind(rawValue: "gcn")
}

extension GCNRecommender {
    /// The GCN stops at its best validation Recall@20 (`TrainingConfig.patience`).
    public static var earlyStops: Bool { true }
}
