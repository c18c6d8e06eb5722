import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
import TasteGraphRecommend

/// The model-file reader every command uses, `RecommenderFile.load(_:path:)` over the input's bytes, in two
/// harnesses:
/// - `model-file`: the input is the whole file. Any change to a valid file fails the whole-file SHA-256, so
///   this fuzzes what runs before and around the digest check.
/// - `model-file-sealed`: the input is the file without its digest; the harness appends the right SHA-256,
///   so mutations reach everything behind the check (frame JSON, array table, each model's header and its
///   arrays' shapes), as a file rewritten by someone who recomputes the digest would.
///
/// A file that loads is then used the way `recommend` uses it: scores, a play-count prediction and an
/// explanation for the first and last user, so a header that loads but does not fit its arrays is a
/// finding too.
///
/// Seeds are generated, not hand-written: `tastegraph-fuzz write-seeds model-file FOLDER` fits every model
/// kind on a tiny planted graph and saves it with the library's own writer, so they follow the format of
/// the build (`make fuzz` regenerates them beside the committed corpus).
enum ModelFileHarness {
    static let harness = Harness("model-file", run: { input, _ in
        load(Data(input))
    }, seeds: { folder in try writeSeeds(folder, sealed: false) })

    static let sealed = Harness("model-file-sealed", run: { input, _ in
        var hasher = SHA256()
        hasher.update(input)
        load(Data(input) + hasher.finalize())
    }, seeds: { folder in try writeSeeds(folder, sealed: true) })

    static func load(_ bytes: Data) {
        guard let model = try? RecommenderFile.load(bytes, path: "fuzz-input") else { return }
        for row in Set([0, model.userCount - 1]) where row >= 0 {
            let user = UserIndex(row)
            let scores = model.scores(user: user)
            precondition(scores.count == model.itemCount, "scores has \(scores.count) entries for \(model.itemCount) items")
            if model.itemCount > 0 {
                _ = model.predictLog1p(user: user, item: ItemIndex(model.itemCount - 1))
                _ = model.explain(user: user, item: ItemIndex(0), heard: (0..<min(3, model.itemCount)).map(ItemIndex.init), count: 2)
            }
        }
    }

    /// 6 users in two taste groups over 6 items.
    static func plantedListens() -> ListenTable {
        var table = ListenTable()
        for user in 0..<6 {
            let group = user < 3 ? 0 : 3
            for k in 0..<3 where (user + k) % 4 != 0 {
                table.append(user: Int32(user), item: Int32(group + k), plays: Float(1 + (user * 7 + k) % 5))
            }
        }
        return table
    }

    /// Fits and saves every model kind into `folder`; `sealed`: without the trailing 32-byte digest.
    static func writeSeeds(_ folder: String, sealed: Bool) throws {
        let listens = plantedListens()
        let catalog = Catalog(userCount: 6, itemCount: 6)
        let identity = ModelIdentity(userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: "fuzz-seed")
        var settings = BaselineSettings()
        settings.als.factors = 2
        settings.als.iterations = 2
        settings.als.seed = 1
        settings.itemKNN.neighbors = 2
        let data = try FitData(userCount: 6, itemCount: 6, train: listens)
        // Text-like features for the models that read them: the item's group, then a popularity column.
        let groupFeatures = SparseMatrix<Float>(
            rows: 6, columns: 3, offsets: (0...6).map { $0 * 2 }, indices: (0..<6).flatMap { [Int32($0 < 3 ? 0 : 1), 2] },
            values: (0..<6).flatMap { [1, Float($0) / 6] })
        let split = InteractionSplit.carvingValidation(train: listens, test: ListenTable(), fraction: 0.2, seed: 1)
        for kind in ModelRegistry.kinds where kind != .gcn {
            let model: any Recommender
            if let entry = ModelRegistry.entry(kind), entry.usesFeatures {
                // content, gcn-ease (its GCN as small as the gcn seed's, early-stopping on the carved share).
                let input = FitInput(split: entry.earlyStops ? split : InteractionSplit(train: listens, validation: ListenTable(), test: ListenTable()),
                                     identity: identity, itemActive: catalog.itemActive, features: (groupFeatures, "fuzz groups"))
                model = try entry.fit(input, overrides: entry.earlyStops ? ["weight": 0.5, "gcn": ["model": ["hidden": 2], "training": ["epochs": 2, "patience": 1, "seed": 1]]] : [:])
            } else {
                model = try Baselines.fit(kind, data: data, identity: identity, itemActive: catalog.itemActive, settings: settings)
            }
            try model.save(to: "\(folder)/\(kind.rawValue).model")
            if sealed { try stripDigest("\(folder)/\(kind.rawValue).model") }
        }
        var model = GCNConfig()
        model.hidden = 2
        var training = TrainingConfig()
        training.epochs = 2
        training.patience = 1
        training.seed = 1
        let features = SparseMatrix<Float>(rows: 6, columns: 1, offsets: Array(repeating: 0, count: 7), indices: [], values: [])
        let fit = try GCNRecommender.fit(split: split, identity: identity, features: features, embedderName: "none",
                                         model: model, training: training)
        try fit.recommender.save(to: "\(folder)/gcn.model")
        if sealed { try stripDigest("\(folder)/gcn.model") }
    }

    static func stripDigest(_ path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.dropLast(32).write(to: URL(fileURLWithPath: path))
    }
}
