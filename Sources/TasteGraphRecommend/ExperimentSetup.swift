import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphMetrics

/// One experiment's data, shared by `train` and `evaluate`: the split of the store's listens, the identity
/// every model fitted on it records, and the held-out set its test listens are scored on.
///
/// ```
/// holdout:  listens → per user, one seeded shuffle → test | validation | train
/// explicit: train file, test file → a seeded per-user share of train → validation
/// ```
/// The test listens do not depend on the validation share (a holdout takes the test positions of the
/// shuffle first), so `identity.splitFingerprint` is the same for a `train` and an `evaluate` run with
/// the same split choice and seed, whatever the validation share.
public struct ExperimentSetup: Sendable {
    /// Where the test listens come from.
    public enum SplitChoice: Sendable {
        /// Train and test listens given as such (split files already loaded, in the store's dense ids),
        /// with the files they came from for the description.
        case explicit(train: ListenTable, test: ListenTable, trainFile: String? = nil, testFile: String? = nil)
        /// A seeded per-user holdout of the store's listens (`InteractionSplit.holdout`); the seed is the
        /// setup's.
        case holdout(testFraction: Double)

        /// Loads `--train` and `--test` split files through the catalog's external ids.
        /// - Throws: `SplitFile.load`'s errors, naming the file and line.
        public static func files(train: String, test: String, catalog: Catalog) throws -> SplitChoice {
            let trainListens = try SplitFile.load(path: train, catalog: catalog)
            let testListens = try SplitFile.load(path: test, catalog: catalog)
            return .explicit(train: trainListens, test: testListens, trainFile: train, testFile: test)
        }
    }

    /// Train / validation / test listens.
    public let split: InteractionSplit
    /// The users and items of the catalog, the data fingerprint, and the split fingerprint
    /// (`InteractionSplit.testFingerprint` of `split.test`).
    public let identity: ModelIdentity
    public let choice: SplitChoice
    /// The share of each user's train listens moved to `split.validation`.
    public let validationFraction: Double
    /// Seeds the holdout and the validation share.
    public let seed: UInt64
    public let userCount: Int
    public let itemCount: Int

    /// Splits the listens.
    ///
    /// - Parameters:
    ///   - catalog: the store's users and items (dense order of every model's rows).
    ///   - dataFingerprint: the store's `dataFingerprint()`.
    ///   - choice: explicit train/test listens, or a holdout of `listens`.
    ///   - validationFraction: the share of each user's train listens held out for early stopping; 0 keeps
    ///     every train listen in train (an explicit split's in the given order). A holdout takes it from the
    ///     same shuffle as the test listens; an explicit split carves it from its train listens
    ///     (`InteractionSplit.carvingValidation`).
    ///   - seed: the holdout's and the validation share's seed.
    ///   - listens: the store's listens; read only for a holdout.
    /// - Throws: what `listens` throws.
    public init(
        catalog: Catalog, dataFingerprint: String, split choice: SplitChoice, validationFraction: Double = 0, seed: UInt64,
        listens: () throws -> ListenTable
    ) rethrows {
        switch choice {
        case let .explicit(train, test, _, _):
            // No share asked for: the train listens stay as given, in their order (a carve reshuffles each user's).
            split = validationFraction > 0
                ? InteractionSplit.carvingValidation(train: train, test: test, fraction: validationFraction, seed: seed)
                : InteractionSplit(train: train, validation: ListenTable(), test: test)
        case let .holdout(testFraction):
            split = InteractionSplit.holdout(try listens(), validationFraction: validationFraction, testFraction: testFraction, seed: seed)
        }
        identity = ModelIdentity(
            userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: dataFingerprint,
            splitFingerprint: split.testFingerprint)
        self.choice = choice
        self.validationFraction = validationFraction
        self.seed = seed
        userCount = catalog.userCount
        itemCount = catalog.itemCount
    }

    /// The test listens to score: every user's test items ranked against all items, with the user's train
    /// and validation items excluded; novelty counts train listeners only (as the GCN's own test metrics do).
    ///
    /// - Complexity: O(E + U) per call (it is built afresh): keep the value when scoring several models.
    public var heldOut: HeldOut {
        HeldOut(scoring: split.test, excludingItemsOf: split.train, and: split.validation, userCount: userCount, itemCount: itemCount)
    }

    /// The split for a model that early-stops inside an experiment whose other models fit on all of
    /// `split.train` (`evaluate`'s GCN row): a seeded per-user `fraction` of `split.train` moved to
    /// validation, and no test listens, since the experiment scores those itself through `heldOut`.
    public func carvingValidation(fraction: Double) -> InteractionSplit {
        precondition(split.validation.count == 0, "the setup already holds out a validation share; fit on `split`")
        return InteractionSplit.carvingValidation(train: split.train, test: ListenTable(), fraction: fraction, seed: seed)
    }

    /// The split's part of the `--json` protocol: `split` (kind, files or test fraction and seed),
    /// `split_fingerprint`, `data_fingerprint`, `seed`, `train_listens`, `test_listens` (and
    /// `validation_listens` when there are any) and `items_ranked`.
    public var jsonDescription: [String: Any] {
        var info: [String: Any] = [
            "data_fingerprint": identity.dataFingerprint, "seed": seed, "split_fingerprint": split.testFingerprint,
            "train_listens": split.train.count, "test_listens": split.test.count, "items_ranked": itemCount,
        ]
        switch choice {
        case let .explicit(_, _, trainFile, testFile):
            var kind: [String: Any] = ["kind": "explicit"]
            if let trainFile { kind["train"] = trainFile }
            if let testFile { kind["test"] = testFile }
            info["split"] = kind
        case let .holdout(testFraction):
            info["split"] = ["kind": "holdout", "test_fraction": testFraction, "seed": seed]
        }
        if split.validation.count > 0 { info["validation_listens"] = split.validation.count }
        return info
    }
}

extension HeldOut {
    /// Held-out data for `test`: each user's `test` items are relevant, and their `train` and `alsoExcluded`
    /// items are removed from their ranking. The same value as `TrainingData.heldOut(_:alsoExcluded:)`,
    /// without building the train graph.
    ///
    /// - Parameters:
    ///   - test: the listens to score; their log1p(plays) are the MAE/RMSE targets, in this order.
    ///   - train: the listens a model fitted on (excluded; their listeners per item give novelty).
    ///   - alsoExcluded: more listens whose items are excluded (a validation share).
    ///   - userCount: U, the users of the dataset.
    ///   - itemCount: I, the items ranked.
    public init(scoring test: ListenTable, excludingItemsOf train: ListenTable, and alsoExcluded: ListenTable = ListenTable(), userCount: Int, itemCount: Int) {
        var relevant = [Set<Int>](repeating: [], count: userCount)
        var regression: [(user: Int, item: Int, target: Float)] = []
        regression.reserveCapacity(test.count)
        for e in 0..<test.count {
            relevant[Int(test.users[e])].insert(Int(test.items[e]))
            regression.append((Int(test.users[e]), Int(test.items[e]), log1pf(test.plays[e])))
        }
        var excluded = [[Int32]](repeating: [], count: userCount)
        var trainListeners = [Int](repeating: 0, count: itemCount)
        for e in 0..<train.count {
            excluded[Int(train.users[e])].append(train.items[e])
            trainListeners[Int(train.items[e])] += 1
        }
        excluded = excluded.map { $0.sorted() }
        for e in 0..<alsoExcluded.count { excluded[Int(alsoExcluded.users[e])].append(alsoExcluded.items[e]) }
        self.init(relevant: relevant, excluded: excluded, trainListeners: trainListeners, userCount: userCount, regression: regression)
    }
}
