import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphSupport

/// A planted graph with two disjoint taste groups: 48 users who only play items 0..<30 and 16 users who
/// only play items 30..<60. Each user plays 12 items of their group (lower-numbered items more often chosen,
/// 1–20 plays); 2 of them per user are held out for test.
///
/// A recommender that learned the groups ranks the 20 unheard items of the user's own group first, so its
/// held-out Recall@20 is 1; one that ignores the user (popularity) serves the larger group's items to all.
struct PlantedTasteGroups: Sendable {
    static let groupSizes = (large: 48, small: 16)
    static let itemsPerGroup = 30
    let userCount = groupSizes.large + groupSizes.small
    let itemCount = 2 * itemsPerGroup
    let train: ListenTable
    let test: ListenTable

    init(seed: UInt64 = 7) {
        var rng = SplitMix64(seed: seed)
        var train = ListenTable()
        var test = ListenTable()
        for user in 0..<(Self.groupSizes.large + Self.groupSizes.small) {
            let first = Self.group(ofUser: user) * Self.itemsPerGroup
            var chosen: [Int] = []
            while chosen.count < 12 {
                // Mild skew: item k of the group is drawn with probability ∝ 1 / (1 + k/10).
                let k = Int(rng.next() % UInt64(Self.itemsPerGroup))
                guard Double(rng.next() % 1000) / 1000 < 1 / (1 + Double(k) / 10), !chosen.contains(first + k) else { continue }
                chosen.append(first + k)
            }
            for (n, item) in chosen.enumerated() {
                let plays = Float(1 + rng.next() % 20)
                if n < 2 {
                    test.append(user: Int32(user), item: Int32(item), plays: plays)
                } else {
                    train.append(user: Int32(user), item: Int32(item), plays: plays)
                }
            }
        }
        self.train = train
        self.test = test
    }

    static func group(ofUser user: Int) -> Int { user < groupSizes.large ? 0 : 1 }
    static func group(ofItem item: Int) -> Int { item / itemsPerGroup }

    var catalog: Catalog { Catalog(userCount: userCount, itemCount: itemCount) }
    var identity: ModelIdentity { ModelIdentity(userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: "planted") }

    func heard(_ user: Int) -> Set<Int> {
        Set((0..<train.count).filter { Int(train.users[$0]) == user }.map { Int(train.items[$0]) })
    }

    func heldOut(_ user: Int) -> Set<Int> {
        Set((0..<test.count).filter { Int(test.users[$0]) == user }.map { Int(test.items[$0]) })
    }

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
