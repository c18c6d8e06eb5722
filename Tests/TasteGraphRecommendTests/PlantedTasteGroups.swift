import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphSupport
import TestSupport

/// Fitting recommenders on the planted graphs of `TestSupport` (`PlantedGraph.tasteGroups()` above all: two
/// disjoint taste groups of 48 and 16 users, 2 held-out listens per user).
extension PlantedGraph {
    var identity: ModelIdentity { ModelIdentity(userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: "planted") }

    /// The GCN's item features here: none (one all-zero column).
    var noFeatures: SparseMatrix<Float> {
        SparseMatrix(rows: itemCount, columns: 1, offsets: Array(repeating: 0, count: itemCount + 1), indices: [], values: [])
    }

    /// Text-like item features for the models that read them (content): one column per taste group (1 on
    /// the item's group) and a popularity column last, as `ItemFeatures` lays them out. Shapes: (I, 3).
    var groupFeatures: SparseMatrix<Float> {
        var offsets = [0]
        var indices: [Int32] = []
        var values: [Float] = []
        for item in 0..<itemCount {
            indices += [Int32(group(of: ItemIndex(item))), 2]
            values += [1, Float(item % 5) / 5]
            offsets.append(indices.count)
        }
        return SparseMatrix(rows: itemCount, columns: 3, offsets: offsets, indices: indices, values: values)
    }

    /// The listens the GCN trains on: `train` less its seeded validation share.
    var gcnTrain: ListenTable {
        InteractionSplit.carvingValidation(train: train, test: ListenTable(), fraction: 0.1, seed: 3).train
    }

    /// Fits `kind` on `listens` with settings small enough for a test.
    func fit(_ kind: ModelKind, listens: ListenTable? = nil) throws -> any Recommender {
        let listens = listens ?? train
        switch kind {
        case .gcn:
            var model = GCNConfig()
            model.hidden = 16
            var training = TrainingConfig()
            training.epochs = 80
            training.patience = 10
            training.seed = 3
            let split = InteractionSplit.carvingValidation(train: listens, test: ListenTable(), fraction: 0.1, seed: 3)  // as gcnTrain
            return try GCNRecommender.fit(split: split, identity: identity, features: noFeatures, embedderName: "none",
                                          model: model, training: training).recommender
        case .gcnEASE:
            // The GCN row's small settings, EASE's defaults; the weight chosen on the same validation share.
            let split = InteractionSplit.carvingValidation(train: listens, test: ListenTable(), fraction: 0.1, seed: 3)
            let input = FitInput(split: split, identity: identity, itemActive: catalog.itemActive, features: (noFeatures, "none"))
            return try ModelRegistry.entry(.gcnEASE)!.fit(input, overrides: [
                "gcn": ["model": ["hidden": 16], "training": ["epochs": 80, "patience": 10, "seed": 3]],
            ])
        default:
            var settings = BaselineSettings()
            // 64 users: with more factors or less regularization ALS memorizes each user's own items.
            settings.als.factors = 4
            settings.als.regularization = 1
            settings.als.iterations = 15
            settings.als.seed = 3
            settings.itemKNN.neighbors = 20
            guard let entry = ModelRegistry.entry(kind), entry.usesFeatures else {
                let data = try FitData(userCount: userCount, itemCount: itemCount, train: listens)
                return try Baselines.fit(kind, data: data, identity: identity, itemActive: catalog.itemActive, settings: settings)
            }
            let input = FitInput(
                split: InteractionSplit(train: listens, validation: ListenTable(), test: ListenTable()), identity: identity,
                itemActive: catalog.itemActive, features: (groupFeatures, "planted groups"))
            return try entry.fit(input)
        }
    }
}
