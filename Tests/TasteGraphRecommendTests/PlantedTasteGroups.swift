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
        default:
            var settings = BaselineSettings()
            // 64 users: with more factors or less regularization ALS memorizes each user's own items.
            settings.als.factors = 4
            settings.als.regularization = 1
            settings.als.iterations = 15
            settings.als.seed = 3
            settings.itemKNN.neighbors = 20
            let data = try FitData(userCount: userCount, itemCount: itemCount, train: listens)
            return try Baselines.fit(kind, data: data, identity: identity, itemActive: catalog.itemActive, settings: settings)
        }
    }
}
