import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
import TasteGraphRecommend
import TestSupport
import Testing

/// `train --warm-start` in the library: a GCN trained before the store gained a user and an item starts the
/// training on the store as it is now (`GCNWarmStart`), on the planted taste groups.
@Suite struct WarmStartTests {
    static let planted = PlantedGraph.tasteGroups()

    /// The last user (group 1) and the last item (group 1) arrived by live writes after the old model was
    /// trained: the old world is the planted graph without them (so its ids are a prefix of the new ones).
    static var oldIdentity: ModelIdentity {
        let full = planted.identity
        return ModelIdentity(userIDs: Array(full.userIDs.dropLast()), itemIDs: Array(full.itemIDs.dropLast()), dataFingerprint: "before")
    }

    static var oldListens: ListenTable {
        var listens = ListenTable()
        let train = planted.train
        for e in 0..<train.count where Int(train.users[e]) < planted.userCount - 1 && Int(train.items[e]) < planted.itemCount - 1 {
            listens.append(user: train.users[e], item: train.items[e], plays: train.plays[e])
        }
        return listens
    }

    static func features(items: Int) -> SparseMatrix<Float> {
        SparseMatrix(rows: items, columns: 1, offsets: Array(repeating: 0, count: items + 1), indices: [], values: [])
    }

    static var model: GCNConfig {
        var model = GCNConfig()
        model.hidden = 16
        return model
    }

    static var training: TrainingConfig {
        var training = TrainingConfig()
        training.epochs = 300
        training.patience = 10
        training.learningRate = 0.005
        training.seed = 3
        return training
    }

    static func split(_ listens: ListenTable) -> InteractionSplit {
        InteractionSplit.carvingValidation(train: listens, test: ListenTable(), fraction: 0.1, seed: 3)
    }

    /// The old model, trained cold on the old world.
    static func oldFit() throws -> GCNFit {
        try GCNRecommender.fit(split: split(oldListens), identity: oldIdentity, features: features(items: planted.itemCount - 1),
                               embedderName: "none", model: model, training: training)
    }

    @Test func knownRowsKeepTheirValuesByExternalIDAndNewRowsStartFresh() throws {
        var short = Self.training
        short.epochs = 4
        let old = try GCNRecommender.fit(split: Self.split(Self.oldListens), identity: Self.oldIdentity,
                                         features: Self.features(items: Self.planted.itemCount - 1), embedderName: "none",
                                         model: Self.model, training: short).recommender.checkpoint
        // A store whose dense order differs from the model's (reversed) and that gained one user and one item:
        // rows must follow the external ids, not the positions.
        let identity = ModelIdentity(userIDs: Self.oldIdentity.userIDs.reversed() + ["new-user"],
                                     itemIDs: Self.oldIdentity.itemIDs.reversed() + ["new-item"], dataFingerprint: "after")
        let users = identity.userIDs.count, items = identity.itemIDs.count
        for trainBiases in [false, true] {
            var config = Self.model
            config.trainBiases = trainBiases
            let graph = BipartiteGraph(userCount: users, itemCount: items, listens: ListenTable(), weighting: .log1p)
            let model = GCNModel<Float>(config: config, userCount: users, itemCount: items, adjacency: graph.gcnNormalized(),
                                        features: Self.features(items: items))
            let fresh = model.initialParameters(seed: 11, mean: 0.5)
            let warm = try GCNWarmStart(previous: old, identity: identity)
            #expect(warm.keptUsers == users - 1 && warm.newUsers == 1 && warm.keptItems == items - 1 && warm.newItems == 1)
            let start = try warm.parameters(for: model, fresh: fresh)
            let layout = old.header.layout
            func row(_ p: [Float], _ entry: ParameterLayout.Entry, _ r: Int) -> [Float] {
                Array(p[(entry.offset + r * entry.columns)..<(entry.offset + (r + 1) * entry.columns)])
            }
            for name in ["userEmbedding", "userBias"] {
                let new = model.layout[name]!, before = layout[name]!
                let copied = name == "userEmbedding" || trainBiases
                for u in 0..<(users - 1) {
                    let oldRow = users - 2 - u  // reversed
                    #expect(row(start, new, u) == (copied ? row(old.parameters, before, oldRow) : row(fresh, new, u)), "\(name) row \(u)")
                }
                #expect(row(start, new, users - 1) == row(fresh, new, users - 1), "the new user's \(name) starts fresh")
            }
            for name in ["itemEmbedding", "rankBias", "itemBias"] {
                let new = model.layout[name]!, before = layout[name]!
                let copied = name != "itemBias" || trainBiases
                for i in 0..<(items - 1) {
                    #expect(row(start, new, i) == (copied ? row(old.parameters, before, items - 2 - i) : row(fresh, new, i)), "\(name) row \(i)")
                }
                #expect(row(start, new, items - 1) == row(fresh, new, items - 1), "the new item's \(name) starts fresh")
            }
            for name in ["textProjection", "dotScale"] {
                #expect(Array(start[model.layout[name]!.range]) == Array(old.parameters[layout[name]!.range]), "\(name) is carried over")
            }
            let mu = model.layout["globalMean"]!.offset
            #expect(start[mu] == (trainBiases ? old.parameters[layout["globalMean"]!.offset] : fresh[mu]))
        }
    }

    @Test func warmStartReachesTheColdRecallInFewerEpochs() throws {
        let old = try Self.oldFit()
        let full = Self.planted.identity
        let split = Self.split(Self.planted.train)
        let features = Self.features(items: Self.planted.itemCount)
        let cold = try GCNRecommender.fit(split: split, identity: full, features: features, embedderName: "none",
                                          model: Self.model, training: Self.training)
        let warmStart = try GCNWarmStart(previous: old.recommender.checkpoint, identity: full)
        let warm = try GCNRecommender.fit(split: split, identity: full, features: features, embedderName: "none",
                                          model: Self.model, training: Self.training, warmStart: warmStart)
        let coldRecall = try #require(cold.result.bestValidationRecall)
        let warmRecall = try #require(warm.result.bestValidationRecall)
        let startRecall = try #require(warm.result.initialValidationRecall)
        #expect(warmRecall >= coldRecall - 0.02, "warm \(warmRecall) vs cold \(coldRecall)")
        #expect(warm.result.epochs < cold.result.epochs, "warm \(warm.result.epochs) epochs vs cold \(cold.result.epochs)")
        #expect(warm.result.bestEpoch < cold.result.bestEpoch, "warm best epoch \(warm.result.bestEpoch) vs cold \(cold.result.bestEpoch)")
        // The old model is already good on the new data: that is what makes the run short.
        #expect(startRecall >= coldRecall - 0.1, "start \(startRecall) vs cold \(coldRecall)")
        // The new model knows everyone: the old users and items first, in their order, then the new ones.
        let identity = warm.recommender.identity
        #expect(Array(identity.userIDs.prefix(Self.oldIdentity.userIDs.count)) == Self.oldIdentity.userIDs)
        #expect(Array(identity.itemIDs.prefix(Self.oldIdentity.itemIDs.count)) == Self.oldIdentity.itemIDs)
        #expect(identity.userIDs.count == Self.planted.userCount && identity.itemIDs.count == Self.planted.itemCount)
        // The new user (group 1) was trained: its list is its own group's items.
        let newUser = UserIndex(Self.planted.userCount - 1)
        let list = warm.recommender.recommend(user: newUser, count: 10, heard: Self.planted.heard(newUser), filter: RecommendationFilter(),
                                              catalog: Self.planted.catalog)
        #expect(list.count == 10)
        #expect(list.allSatisfy { Self.planted.group(of: $0.item) == Self.planted.group(of: newUser) }, "\(list.map(\.item))")
    }

    @Test func aModelOfAnotherDatasetIsRefused() throws {
        var short = Self.training
        short.epochs = 2
        let old = try GCNRecommender.fit(split: Self.split(Self.oldListens), identity: Self.oldIdentity,
                                         features: Self.features(items: Self.planted.itemCount - 1), embedderName: "none",
                                         model: Self.model, training: short).recommender.checkpoint
        let other = ModelIdentity(userIDs: Self.oldIdentity.userIDs, itemIDs: Self.oldIdentity.itemIDs.map { "other-" + $0 }, dataFingerprint: "x")
        #expect(throws: WarmStartError.self) { _ = try GCNWarmStart(previous: old, identity: other) }
        let warm = try GCNWarmStart(previous: old, identity: Self.planted.identity)
        var wider = Self.model
        wider.hidden = 8
        wider.activation = .relu
        let conflicts = warm.conflicts(with: wider)
        #expect(conflicts.map(\.field) == ["hidden", "activation"])
        #expect(conflicts.first?.checkpoint == "16" && conflicts.first?.requested == "8")
        var lossOnly = Self.model
        lossOnly.bprWeight = 1
        lossOnly.trainBiases = true
        #expect(warm.conflicts(with: lossOnly).isEmpty, "loss weights are not architecture")
    }
}
