import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphMetrics
import TasteGraphRecommend
import TasteGraphSupport
import TestSupport
import Testing

/// Co-clustering and the content model, fitted through `fit(_:settings:)` on small examples whose answers are
/// known by construction or by hand.
@Suite struct CoClusteringAndContentTests {
    // MARK: - Co-clustering

    /// Two user groups (users 0–7, 8–15) × two item groups (items 0–3, 4–7): a user plays their own group's
    /// items 20–22 times (y ≈ 3.09) and the other group's 3–4 times (y ≈ 1.50). Each user skips one item of
    /// each group, chosen so that every user hears 3 + 3 items and every item 6 + 6 users: then μ_u ≈ C̄_g and
    /// μ_i ≈ C̄_h, and ŷ ≈ the block mean. The skipped pairs are the held-out listens. User 16 and item 8
    /// have no train listens.
    struct Blocks {
        let train: ListenTable
        let test: ListenTable
        let identity = ModelIdentity(userIDs: (0..<17).map { "u\($0)" }, itemIDs: (0..<9).map { "i\($0)" }, dataFingerprint: "blocks")
        static func userGroup(_ user: Int) -> Int { user < 8 ? 0 : 1 }
        static func itemGroup(_ item: Int) -> Int { item < 4 ? 0 : 1 }

        init() {
            var rng = SplitMix64(seed: 5)
            var train = ListenTable(), test = ListenTable()
            for user in 0..<16 {
                let skipped: Set<Int> = [user % 4, 4 + (user + 1) % 4]
                for item in 0..<8 {
                    let own = Self.userGroup(user) == Self.itemGroup(item)
                    let plays = Float(own ? 20 + rng.nextInt(below: 3) : 3 + rng.nextInt(below: 2))
                    if skipped.contains(item) {
                        test.append(user: Int32(user), item: Int32(item), plays: plays)
                    } else {
                        train.append(user: Int32(user), item: Int32(item), plays: plays)
                    }
                }
            }
            self.train = train
            self.test = test
        }

        var input: FitInput {
            FitInput(split: InteractionSplit(train: train, validation: ListenTable(), test: ListenTable()), identity: identity,
                     itemActive: Array(repeating: true, count: 9))
        }

        /// The mean train y of block (g, h).
        func blockMean(_ g: Int, _ h: Int) -> Double {
            let ys = (0..<train.count).filter { Self.userGroup(Int(train.users[$0])) == g && Self.itemGroup(Int(train.items[$0])) == h }
                .map { Double(log1pf(train.plays[$0])) }
            return ys.reduce(0, +) / Double(ys.count)
        }

        /// ŷ_ui by the formula with the planted groups as the clusters, every mean over the train y.
        func formula(_ user: Int, _ item: Int) -> Double {
            func mean(_ keep: (Int, Int) -> Bool) -> Double {
                let ys = (0..<train.count).filter { keep(Int(train.users[$0]), Int(train.items[$0])) }.map { Double(log1pf(train.plays[$0])) }
                return ys.reduce(0, +) / Double(ys.count)
            }
            let g = Self.userGroup(user), h = Self.itemGroup(item)
            return blockMean(g, h) + (mean { u, _ in u == user } - mean { u, _ in Self.userGroup(u) == g })
                + (mean { _, i in i == item } - mean { _, i in Self.itemGroup(i) == h })
        }

        var globalMean: Double { train.plays.map { Double(log1pf($0)) }.reduce(0, +) / Double(train.count) }
    }

    static func coClustering(seed: UInt64, epochs: Int = 20) -> CoClusteringRecommender.Config {
        var config = CoClusteringRecommender.Config()
        config.userClusters = 2
        config.itemClusters = 2
        config.epochs = epochs
        config.seed = seed
        return config
    }

    /// Tolerance 0.15 to the block mean: ŷ − C̄_gh = (μ_u − C̄_g) + (μ_i − C̄_h), two averages of the plays' noise
    /// (y spreads over 0.09 in the own-group block and 0.22 in the other; the largest gap here is 0.084). And
    /// 1e-5 to the formula itself with the planted groups as clusters (float32 output of Double means).
    @Test(arguments: [UInt64(1), 2, 3])
    func coClusteringRecoversPlantedBlocks(seed: UInt64) throws {
        let blocks = Blocks()
        let model = try CoClusteringRecommender.fit(blocks.input, settings: Self.coClustering(seed: seed))
        // The clusters are the planted groups, up to the clusters' names.
        for (clusters, group, count) in [(model.userClusters, Blocks.userGroup, 16), (model.itemClusters, Blocks.itemGroup, 8)] {
            let first = (0..<count).filter { group($0) == 0 }.map { clusters[$0] }
            let second = (0..<count).filter { group($0) == 1 }.map { clusters[$0] }
            #expect(Set(first).count == 1 && Set(second).count == 1 && first[0] != second[0], "seed \(seed): \(clusters)")
        }
        #expect(model.predictsPlayCounts)
        for user in 0..<16 {
            let scores = model.scores(user: UserIndex(user))
            for item in 0..<8 {
                let expected = blocks.blockMean(Blocks.userGroup(user), Blocks.itemGroup(item))
                let predicted = Double(model.predictLog1p(user: UserIndex(user), item: ItemIndex(item)))
                #expect(abs(predicted - expected) < 0.15, "seed \(seed) (\(user), \(item)): \(predicted) vs block mean \(expected)")
                #expect(abs(predicted - blocks.formula(user, item)) < 1e-5, "seed \(seed) (\(user), \(item)): the formula")
                #expect(scores[item] == Float(predicted), "ranking scores are ŷ")
            }
        }
        // No train listens: the global mean, for the unknown item and for the unknown user.
        let global = blocks.globalMean
        #expect(abs(Double(model.predictLog1p(user: UserIndex(3), item: ItemIndex(8))) - global) < 1e-5)
        #expect(model.scores(user: UserIndex(16)).allSatisfy { abs(Double($0) - global) < 1e-5 })
    }

    @Test func coClusteringIsReproducibleForASeedAndBeatsTheGlobalMean() throws {
        let blocks = Blocks()
        let a = try CoClusteringRecommender.fit(blocks.input, settings: Self.coClustering(seed: 9))
        let b = try CoClusteringRecommender.fit(blocks.input, settings: Self.coClustering(seed: 9))
        #expect(a.userClusters == b.userClusters && a.itemClusters == b.itemClusters)
        for user in [0, 9, 16].map(UserIndex.init) { #expect(a.scores(user: user) == b.scores(user: user)) }
        // Zero epochs keep the seeded random start: another seed gives other clusters.
        let start9 = try CoClusteringRecommender.fit(blocks.input, settings: Self.coClustering(seed: 9, epochs: 0))
        let start10 = try CoClusteringRecommender.fit(blocks.input, settings: Self.coClustering(seed: 10, epochs: 0))
        #expect(start9.userClusters + start9.itemClusters != start10.userClusters + start10.itemClusters)

        // MAE on the held-out listens through `evaluate`, against always predicting the train mean.
        let test = blocks.test
        let regression = (0..<test.count).map { (user: Int(test.users[$0]), item: Int(test.items[$0]), target: log1pf(test.plays[$0])) }
        var relevant = [Set<Int>](repeating: [], count: 17)
        var excluded = [[Int32]](repeating: [], count: 17)
        for e in 0..<test.count { relevant[Int(test.users[e])].insert(Int(test.items[e])) }
        for e in 0..<blocks.train.count { excluded[Int(blocks.train.users[e])].append(blocks.train.items[e]) }
        let heldOut = HeldOut(relevant: relevant, excluded: excluded, trainListeners: Array(repeating: 12, count: 9), userCount: 17, regression: regression)
        let report = a.evaluate(heldOut)
        let mae = try #require(report.mae)
        let baseline = regression.map { abs(Double($0.target) - blocks.globalMean) }.reduce(0, +) / Double(regression.count)
        #expect(mae < 0.15, "co-clustering MAE \(mae)")
        #expect(baseline > 0.7, "the global mean misses every block by about half their gap: \(baseline)")
        #expect(report.rmse != nil)
    }

    /// The explanation is the user's own share of the block mean: their heard items of i's item cluster,
    /// each y_uj / n_block.
    @Test func coClusteringExplainsByTheUsersShareOfTheBlock() throws {
        let blocks = Blocks()
        let model = try CoClusteringRecommender.fit(blocks.input, settings: Self.coClustering(seed: 1))
        let user = 2, item = 2  // held out: user 2 skips item 2
        let reasons = model.explain(user: UserIndex(user), item: ItemIndex(item), heard: [], count: 10)
        let heardSameGroup = (0..<blocks.train.count).filter { Int(blocks.train.users[$0]) == user && Blocks.itemGroup(Int(blocks.train.items[$0])) == 0 }
        #expect(Set(reasons.map(\.item.rawValue)) == Set(heardSameGroup.map { Int(blocks.train.items[$0]) }))
        let blockListens = Double((0..<blocks.train.count).filter {
            Blocks.userGroup(Int(blocks.train.users[$0])) == 0 && Blocks.itemGroup(Int(blocks.train.items[$0])) == 0
        }.count)
        for reason in reasons {
            let e = try #require(heardSameGroup.first { Int(blocks.train.items[$0]) == reason.item.rawValue })
            #expect(abs(reason.weight - Double(log1pf(blocks.train.plays[e])) / blockListens) < 1e-6)
        }
        #expect(zip(reasons, reasons.dropFirst()).allSatisfy { $0.weight >= $1.weight })
        #expect(model.explain(user: UserIndex(16), item: ItemIndex(2), heard: [], count: 10).isEmpty, "a user without listens")
    }

    // MARK: - Content

    /// Items with text rows (3 columns) and a popularity column; `users` lists (item, plays) per user.
    static func contentInput(text: [[Float]], popularity: [Float], users: [[(item: Int, plays: Float)]])
        -> (input: FitInput, features: SparseMatrix<Float>)
    {
        let columns = text[0].count
        var entries: [(row: Int, column: Int, value: Float)] = []
        for (row, values) in text.enumerated() {
            for (column, value) in values.enumerated() where value != 0 { entries.append((row, column, value)) }
            if popularity[row] != 0 { entries.append((row, columns, popularity[row])) }
        }
        let features = SparseMatrix(rows: text.count, columns: columns + 1, entries: entries)
        var listens = ListenTable()
        for (user, heard) in users.enumerated() {
            for listen in heard { listens.append(user: Int32(user), item: Int32(listen.item), plays: listen.plays) }
        }
        let identity = ModelIdentity(userIDs: users.indices.map { "u\($0)" }, itemIDs: text.indices.map { "i\($0)" }, dataFingerprint: "content")
        let input = FitInput(split: InteractionSplit(train: listens, validation: ListenTable(), test: ListenTable()), identity: identity,
                             itemActive: Array(repeating: true, count: text.count), features: (features, "test-\(columns)"))
        return (input, features)
    }

    /// x_0 = (1, 2, 0), x_1 = (0, 1, 1), x_2 = (3, 0, 4); popularity (5, 0, 9) is dropped. User 0 played item 0
    /// 3 times and item 1 once: w = (ln 4, ln 2) = ln 2 · (2, 1), so p ∝ 2x̂_0 + x̂_1 with
    /// ‖2x̂_0 + x̂_1‖² = 5 + 4⟨x̂_0, x̂_1⟩ = 5 + 8/√10, ⟨x̂_0, x̂_1⟩ = 2/√10, ⟨x̂_0, x̂_2⟩ = 3/(5√5), ⟨x̂_1, x̂_2⟩ = 4/(5√2).
    @Test func contentScoresAreTheHandComputedCosines() throws {
        let (input, _) = Self.contentInput(text: [[1, 2, 0], [0, 1, 1], [3, 0, 4]], popularity: [5, 0, 9],
                                           users: [[(0, 3), (1, 1)], []])
        let model = try ContentRecommender.fit(input, settings: ContentRecommender.Config())
        let norm = (5 + 8 / 10.0.squareRoot()).squareRoot()
        let c01 = 2 / 10.0.squareRoot(), c02 = 3 / (5 * 5.0.squareRoot()), c12 = 4 / (5 * 2.0.squareRoot())
        let expected = [(2 + c01) / norm, (2 * c01 + 1) / norm, (2 * c02 + c12) / norm]  // ≈ 0.95933, 0.82539, 0.40172
        let scores = model.scores(user: UserIndex(0))
        for item in 0..<3 { #expect(abs(Double(scores[item]) - expected[item]) < 1e-5, "item \(item): \(scores[item]) vs \(expected[item])") }
        #expect(model.scores(user: UserIndex(1)) == [0, 0, 0], "a user without listens has no profile")
        // The explanation's terms w_uj · cos(x_j, x_i) / ‖p_u‖ add up to the score.
        let reasons = model.explain(user: UserIndex(0), item: ItemIndex(2), heard: [], count: 5)
        // ln 4 · c02 / (ln 2 · norm) = 2·c02 / norm ≈ 0.1956 < c12 / norm ≈ 0.2061: item 1 explains more.
        #expect(reasons.map(\.item) == [ItemIndex(1), ItemIndex(0)])
        #expect(abs(reasons.map(\.weight).reduce(0, +) - expected[2]) < 1e-5)
        #expect(abs(reasons.first { $0.item == ItemIndex(1) }!.weight - c12 / norm) < 1e-5)
        // Binary weights: p ∝ x̂_0 + x̂_1, ‖x̂_0 + x̂_1‖² = 2 + 2⟨x̂_0, x̂_1⟩.
        var binary = ContentRecommender.Config()
        binary.binary = true
        let flat = try ContentRecommender.fit(input, settings: binary).scores(user: UserIndex(0))
        let binaryNorm = (2 + 2 * c01).squareRoot()
        #expect(abs(Double(flat[2]) - (c02 + c12) / binaryNorm) < 1e-5)
        #expect(abs(Double(flat[0]) - (1 + c01) / binaryNorm) < 1e-5)
    }

    /// Rock items 0–3 (text columns 0–2), jazz items 4–7 (columns 3–5), item 8 a new rock item nobody has
    /// heard. The jazz items are by far the most popular (the popularity column), which must not leak in.
    static func coldStartExample() -> (input: FitInput, features: SparseMatrix<Float>) {
        let text: [[Float]] = [
            [1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [1, 0.2, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 1, 1, 0],
            [1, 1, 0.9, 0, 0, 0],
        ]
        let popularity: [Float] = [1, 2, 1, 3, 900, 800, 700, 950, 0]
        let users: [[(item: Int, plays: Float)]] = [
            [(0, 5), (1, 4), (2, 5)],             // a rock listener
            [(3, 2), (0, 1)],                     // another rock listener, the only one of item 3
            [(4, 9), (5, 9), (6, 9), (7, 9)],     // a jazz listener
        ]
        return contentInput(text: text, popularity: popularity, users: users)
    }

    @Test func contentReachesAColdItemWithMatchingText() throws {
        let (input, _) = Self.coldStartExample()
        #expect(!input.split.train.items.contains(8), "item 8 has no train listens")
        let model = try ContentRecommender.fit(input, settings: ContentRecommender.Config())
        let catalog = Catalog(userCount: 3, itemCount: 9)
        let heard = Set([0, 1, 2].map(ItemIndex.init))
        let top = model.recommend(user: UserIndex(0), count: 3, heard: heard, filter: RecommendationFilter(), catalog: catalog)
        #expect(top.first?.item == ItemIndex(8), "the cold rock item first: \(top)")
        #expect(top.first.map { $0.score > 0.95 } == true)
        #expect(top.dropFirst().first?.item == ItemIndex(3))
        // Popularity is not content: the rock listener's scores of the (very popular) jazz items are exactly 0.
        let scores = model.scores(user: UserIndex(0))
        #expect((4...7).allSatisfy { scores[$0] == 0 }, "\(scores)")
        // Why item 8: the heard rock items, the most played with the closest text first.
        let reasons = model.explain(user: UserIndex(0), item: ItemIndex(8), heard: heard.sorted(), count: 2)
        #expect(reasons.count == 2 && reasons.allSatisfy { heard.contains($0.item) })
        #expect(reasons.first?.item == ItemIndex(0), "\(reasons)")  // w = ln 6 with cos 1/√2.81 beats item 1's ln 5 and item 2's 0.9·ln 6
        // The jazz listener gets the jazz items and nothing of the cold rock item.
        #expect(model.scores(user: UserIndex(2))[8] == 0)
    }

    // MARK: - Model files

    @Test func saveThenLoadGivesTheSameModels() throws {
        let dir = TemporaryDirectory()
        let blocks = Blocks()
        let coClustering = try CoClusteringRecommender.fit(blocks.input, settings: Self.coClustering(seed: 2))
        let (input, _) = Self.coldStartExample()
        let content = try ContentRecommender.fit(input, settings: ContentRecommender.Config())
        // Read back through the model's own `init(file:path:)` (`RecommenderFile.load` finds it by kind once
        // the model is registered).
        func reloaded<M: RegisteredModel>(_ model: M) throws -> any Recommender {
            let path = dir.file("\(model.kind).tgm")
            try model.save(to: path)
            return try M(file: ModelFile.decode(RecommenderFile.bytes(at: path)), path: path)
        }
        for (model, loaded, users) in [(coClustering as any Recommender, try reloaded(coClustering), [0, 8, 16]), (content, try reloaded(content), [0, 1, 2])] {
            #expect(loaded.kind == model.kind && loaded.identity == model.identity)
            #expect(loaded.predictsPlayCounts == model.predictsPlayCounts)
            for user in users.map(UserIndex.init) {
                #expect(loaded.scores(user: user) == model.scores(user: user), "\(model.kind) user \(user)")
                for item in [0, 3, 8].map(ItemIndex.init) {
                    #expect(loaded.predictLog1p(user: user, item: item) == model.predictLog1p(user: user, item: item))
                    #expect(loaded.explain(user: user, item: item, heard: [], count: 5) == model.explain(user: user, item: item, heard: [], count: 5))
                }
            }
        }
    }

    // MARK: - Refusals

    @Test func badSettingsAreRefusedWithTheSettingNamed() throws {
        let blocks = Blocks()
        for (field, value) in [("userClusters", 0), ("itemClusters", -1), ("userClusters", 20_000), ("epochs", -1)] {
            var config = CoClusteringRecommender.Config()
            switch field {
            case "userClusters": config.userClusters = value
            case "itemClusters": config.itemClusters = value
            default: config.epochs = value
            }
            let error = #expect(throws: ModelFitError.self) { try CoClusteringRecommender.fit(blocks.input, settings: config) }
            #expect(error?.message.contains("\(field) must be") == true, "\(String(describing: error))")
        }
    }

    @Test func contentRefusesMissingOrMismatchedFeatures() throws {
        let (input, features) = Self.coldStartExample()
        var missing = input
        missing.features = nil
        let noFeatures = #expect(throws: ModelFitError.self) { try ContentRecommender.fit(missing, settings: ContentRecommender.Config()) }
        #expect(noFeatures?.message.contains("needs item features") == true)

        var short = input
        short.features = (features.firstRows(8), "short")
        let wrongRows = #expect(throws: ModelFitError.self) { try ContentRecommender.fit(short, settings: ContentRecommender.Config()) }
        #expect(wrongRows?.message.contains("8 rows for 9 items") == true, "\(String(describing: wrongRows))")

        var popularityOnly = input
        popularityOnly.features = (SparseMatrix(rows: 9, columns: 1, entries: [(0, 0, 3)]), "popularity")
        let noText = #expect(throws: ModelFitError.self) { try ContentRecommender.fit(popularityOnly, settings: ContentRecommender.Config()) }
        #expect(noText?.message.contains("text column") == true)

        var nonFinite = input
        nonFinite.features = (SparseMatrix(rows: 9, columns: 3, entries: [(2, 1, .nan)]), "nan")
        #expect(throws: ModelFitError.self) { try ContentRecommender.fit(nonFinite, settings: ContentRecommender.Config()) }
    }
}
