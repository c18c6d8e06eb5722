import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphSupport
import TestSupport
import Testing
@testable import TasteGraphRecommend

/// User-KNN against hand computation and a dense reference; Funk SVD's descent, determinism and fit; both
/// models' files and setting checks.
@Suite struct UserKNNAndSVDTests {
    // MARK: - Fixtures

    /// u0 hears {0, 1}, u1 {1, 2}, u2 {0, 1, 2}, u3 {3} (5 plays each; binary weighting makes them 1).
    /// Norms √2, √2, √3, 1; ⟨u0, u1⟩ = 1, ⟨u0, u2⟩ = 2, ⟨u1, u2⟩ = 2, u3 shares nothing.
    static func tiny() throws -> (FitData, ModelIdentity) {
        var listens = ListenTable()
        for (user, items) in [[0, 1], [1, 2], [0, 1, 2], [3]].enumerated() {
            for item in items { listens.append(user: Int32(user), item: Int32(item), plays: 5) }
        }
        let identity = ModelIdentity(userIDs: ["u0", "u1", "u2", "u3"], itemIDs: ["i0", "i1", "i2", "i3"], dataFingerprint: "test")
        return (try FitData(userCount: 4, itemCount: 4, train: listens), identity)
    }

    /// 40 users × 12 items, seeded; each user hears 3–6 items with 1–9 plays.
    static func seeded() throws -> (FitData, ModelIdentity) {
        var rng = SplitMix64(seed: 11)
        var listens = ListenTable()
        for user in 0..<40 {
            var items = Set<Int>()
            let count = 3 + rng.nextInt(below: 4)
            while items.count < count { items.insert(rng.nextInt(below: 12)) }
            for item in items.sorted() { listens.append(user: Int32(user), item: Int32(item), plays: Float(1 + rng.nextInt(below: 9))) }
        }
        let identity = ModelIdentity(userIDs: (0..<40).map { "u\($0)" }, itemIDs: (0..<12).map { "i\($0)" }, dataFingerprint: "test")
        return (try FitData(userCount: 40, itemCount: 12, train: listens), identity)
    }

    static func planted() throws -> (PlantedGraph, FitData) {
        let planted = PlantedGraph.tasteGroups()
        return (planted, try FitData(userCount: planted.userCount, itemCount: planted.itemCount, train: planted.train))
    }

    /// Held-out Recall@20 of one group's users (train items excluded), as the conformance suite measures it.
    static func recall(_ model: any Recommender, _ planted: PlantedGraph, group: Int) -> Double {
        let users = planted.users(inGroup: group).map(UserIndex.init)
        return users.map { user -> Double in
            let top = model.recommend(user: user, count: 20, heard: planted.heard(user), filter: RecommendationFilter(), catalog: planted.catalog)
            let held = planted.heldOut(user)
            return Double(top.filter { held.contains($0.item) }.count) / Double(held.count)
        }.reduce(0, +) / Double(users.count)
    }

    // MARK: - User-KNN

    @Test func userKNNScoresMatchTheHandComputation() throws {
        let (data, identity) = try Self.tiny()
        var config = UserKNNRecommender.Config()
        config.weighting = .binary
        config.shrink = 1
        config.neighbors = 2
        let model = try UserKNNRecommender.fit(data, identity: identity, config: config)
        // sim(u0, u1) = 1 / (√2·√2 + 1) = 1/3;  sim(u0, u2) = sim(u1, u2) = 2 / (√6 + 1) =: a.
        let a = 2 / (6.0.squareRoot() + 1), third = 1.0 / 3
        func expect(_ user: Int, _ want: [Double], _ label: String) {
            let got = model.scores(user: UserIndex(user))
            for item in 0..<4 { #expect(abs(Double(got[item]) - want[item]) < 1e-5, "\(label) u\(user) i\(item): \(got[item]) vs \(want[item])") }
        }
        // u0's neighbours: u2 (a) hears {0, 1, 2}, u1 (1/3) hears {1, 2}.
        expect(0, [a, a + third, a + third, 0], "k = 2")
        expect(1, [third + a, third + a, a, 0], "k = 2")
        expect(3, [0, 0, 0, 0], "k = 2")  // u3 shares no item: no neighbours, all zero
        #expect(model.neighbors(of: UserIndex(0)).map(\.user) == [UserIndex(2), UserIndex(1)])
        #expect(model.neighbors(of: UserIndex(3)).isEmpty)
        // The explanation splits score(u0, i2) = a + 1/3 over u0's items: j = 1 through u1 (1/3) and u2
        // (1/(√6 + 1)), j = 0 through u2 alone (1/(√6 + 1)).
        let terms = model.explain(user: UserIndex(0), item: ItemIndex(2), heard: [], count: 5)
        #expect(terms.map(\.item) == [ItemIndex(1), ItemIndex(0)])
        #expect(abs(terms[0].weight - (third + a / 2)) < 1e-6 && abs(terms[1].weight - a / 2) < 1e-6)
        #expect(model.explain(user: UserIndex(0), item: ItemIndex(2), heard: [], count: 1).count == 1)
        // k = 1 keeps only the most similar neighbour; shrink 0 is the plain cosine 2/√6.
        config.neighbors = 1
        config.shrink = 0
        let nearest = try UserKNNRecommender.fit(data, identity: identity, config: config)
        let cosine = 2 / 6.0.squareRoot()
        let scores = nearest.scores(user: UserIndex(0))
        for (item, want) in [cosine, cosine, cosine, 0].enumerated() { #expect(abs(Double(scores[item]) - want) < 1e-5) }
    }

    /// A dense Double reference of the same formula on seeded data with log1p weights: similarities,
    /// top-k selection and scores; and every explanation adds up to its score.
    @Test func userKNNAgreesWithADenseReference() throws {
        let (data, identity) = try Self.seeded()
        var config = UserKNNRecommender.Config()
        config.neighbors = 5
        config.shrink = 3
        let model = try UserKNNRecommender.fit(data, identity: identity, config: config)
        var x = [[Double]](repeating: [Double](repeating: 0, count: 12), count: 40)
        for e in 0..<data.train.count { x[Int(data.train.users[e])][Int(data.train.items[e])] = log1p(Double(data.train.plays[e])) }
        let norm: [Double] = x.map { row in row.reduce(0.0) { $0 + $1 * $1 }.squareRoot() }
        func similarity(_ u: Int, _ v: Int) -> Double {
            var dot = 0.0
            for i in 0..<12 { dot += x[u][i] * x[v][i] }
            return dot / (norm[u] * norm[v] + 3)
        }
        for u in 0..<40 {
            let all: [(user: Int, similarity: Double)] = (0..<40).filter { $0 != u }.map { (user: $0, similarity: similarity(u, $0)) }
            let sims = all.filter { $0.similarity > 0 }
                .sorted { $0.similarity > $1.similarity || ($0.similarity == $1.similarity && $0.user < $1.user) }.prefix(5)
            let got = model.neighbors(of: UserIndex(u))
            #expect(got.count == sims.count)
            for (g, s) in zip(got, sims) {
                #expect(abs(Double(g.similarity) - s.similarity) < 1e-5, "u\(u) neighbour \(g.user) vs \(s.user)")
            }
            let scores = model.scores(user: UserIndex(u))
            for i in 0..<12 {
                let want = sims.reduce(0.0) { $0 + $1.similarity * x[$1.user][i] }
                #expect(abs(Double(scores[i]) - want) < 1e-5, "u\(u) i\(i)")
                let explained = model.explain(user: UserIndex(u), item: ItemIndex(i), heard: [], count: 100).reduce(0.0) { $0 + $1.weight }
                #expect(abs(explained - want) < 1e-5, "explanation of u\(u) i\(i): \(explained) vs \(want)")
            }
        }
    }

    @Test func userKNNRecoversThePlantedGroups() throws {
        let (planted, data) = try Self.planted()
        let model = try UserKNNRecommender.fit(data, identity: planted.identity)
        #expect(Self.recall(model, planted, group: 0) >= 0.9)
        #expect(Self.recall(model, planted, group: 1) >= 0.9)
        // Neighbours never cross the groups (they share no item).
        for u in 0..<planted.userCount {
            #expect(model.neighbors(of: UserIndex(u)).allSatisfy { planted.userGroup[$0.user.rawValue] == planted.userGroup[u] })
        }
    }

    // MARK: - SVD

    /// Train MAE of a play-count predictor over the planted train listens.
    static func trainMAE(_ data: FitData, _ predict: (Int, Int) -> Float) -> Double {
        (0..<data.train.count).reduce(0.0) { sum, e in
            sum + Double(abs(log1pf(data.train.plays[e]) - predict(Int(data.train.users[e]), Int(data.train.items[e]))))
        } / Double(data.train.count)
    }

    @Test func svdDescendsAndBeatsTheGlobalMeanOnTrain() throws {
        let (planted, data) = try Self.planted()
        let model = try SVDRecommender.fit(data, identity: planted.identity)
        let losses = model.epochLosses
        #expect(losses.count == 20)
        // SGD steps need not lower L every epoch, but at γ = 0.005 on 640 listens they do.
        for (before, after) in zip(losses, losses.dropFirst()) { #expect(after < before, "L rose from \(before) to \(after)") }
        #expect(losses.last! < 0.7 * losses.first!, "L \(losses.first!) → \(losses.last!)")
        let mean = model.mean
        let globalMAE = Self.trainMAE(data) { _, _ in mean }
        let svdMAE = Self.trainMAE(data) { model.predictLog1p(user: UserIndex($0), item: ItemIndex($1)) }
        #expect(svdMAE < 0.9 * globalMAE, "SVD train MAE \(svdMAE) vs the global mean's \(globalMAE)")
        // μ is the mean train target.
        let targets = data.train.plays.map { Double(log1pf($0)) }
        #expect(abs(Double(mean) - targets.reduce(0, +) / Double(targets.count)) < 1e-5)
        // Scores (sgemm) and predictLog1p (a loop) are the same r̂.
        let scores = model.scores(user: UserIndex(5))
        for item in [0, 7, 33, 59] { #expect(abs(scores[item] - model.predictLog1p(user: UserIndex(5), item: ItemIndex(item))) < 1e-5) }
    }

    @Test func svdWithTheSameSeedGivesTheSameFactors() throws {
        let (planted, data) = try Self.planted()
        var config = SVDRecommender.Config()
        config.factors = 8
        config.epochs = 5
        config.seed = 42
        let a = try SVDRecommender.fit(data, identity: planted.identity, config: config)
        let b = try SVDRecommender.fit(data, identity: planted.identity, config: config)
        // No BLAS in training: the same seed replays the same float operations.
        #expect(a.userFactors == b.userFactors && a.itemFactors == b.itemFactors)
        #expect(a.userBias == b.userBias && a.itemBias == b.itemBias && a.epochLosses == b.epochLosses)
        config.seed = 43
        let c = try SVDRecommender.fit(data, identity: planted.identity, config: config)
        #expect(c.userFactors != a.userFactors)
    }

    /// Where the play counts do carry the taste, the factors must learn it. Two groups of 20 users and 20
    /// items; every user plays every item, 20 times in the own group and once outside it, so each item's and
    /// each user's mean is the same and only ⟨p_u, q_i⟩ can tell the groups apart. Held out per user: one item
    /// of each group. (On `PlantedGraph.tasteGroups`, whose counts are random, SVD ranks no better than
    /// chance: Recall@20 0.39 / 0.38 against 20/58 ≈ 0.34 for a random pick of the unheard items.)
    @Test func svdLearnsTasteThatThePlayCountsCarry() throws {
        var train = ListenTable()
        var heldOut: [(user: Int, own: Int, other: Int)] = []
        for user in 0..<40 {
            let group = user / 20
            let own = group * 20 + user % 20, other = (1 - group) * 20 + (user * 7) % 20
            heldOut.append((user, own, other))
            for item in 0..<40 where item != own && item != other {
                train.append(user: Int32(user), item: Int32(item), plays: item / 20 == group ? 20 : 1)
            }
        }
        let identity = ModelIdentity(userIDs: (0..<40).map { "u\($0)" }, itemIDs: (0..<40).map { "i\($0)" }, dataFingerprint: "test")
        var config = SVDRecommender.Config()
        config.factors = 8
        config.epochs = 200
        config.learningRate = 0.01
        let model = try SVDRecommender.fit(try FitData(userCount: 40, itemCount: 40, train: train), identity: identity, config: config)
        let ranked = heldOut.filter { model.predictLog1p(user: UserIndex($0.user), item: ItemIndex($0.own)) > model.predictLog1p(user: UserIndex($0.user), item: ItemIndex($0.other)) }
        #expect(ranked.count >= 38, "own-group item above the other group's for \(ranked.count) of 40 users")
        // Held-out RMSE well below the global mean's (which misses every held-out listen by about 1.2).
        var squared = 0.0, squaredMean = 0.0
        for h in heldOut {
            for (item, plays) in [(h.own, Float(20)), (h.other, Float(1))] {
                let target = Double(log1pf(plays))
                squared += pow(Double(model.predictLog1p(user: UserIndex(h.user), item: ItemIndex(item))) - target, 2)
                squaredMean += pow(Double(model.mean) - target, 2)
            }
        }
        #expect(squared < 0.25 * squaredMean, "held-out squared error \(squared) vs the global mean's \(squaredMean)")
    }

    /// Users and items without a train listen keep zero factors and bias: r̂ = μ + the other side's bias.
    @Test func svdLeavesUnseenUsersAndItemsAtTheBiases() throws {
        var listens = ListenTable()
        for (user, items) in [[0, 1], [1, 2], [0, 1, 2], [3]].enumerated() {
            for item in items { listens.append(user: Int32(user), item: Int32(item), plays: Float(2 + user + item)) }
        }
        let identity = ModelIdentity(userIDs: (0..<5).map { "u\($0)" }, itemIDs: (0..<5).map { "i\($0)" }, dataFingerprint: "test")
        let model = try SVDRecommender.fit(try FitData(userCount: 5, itemCount: 5, train: listens), identity: identity)
        let f = model.config.factors
        #expect(model.userFactors[(4 * f)...].allSatisfy { $0 == 0 } && model.itemFactors[(4 * f)...].allSatisfy { $0 == 0 })
        #expect(model.userFactors[..<(4 * f)].contains { $0 != 0 })
        #expect(model.predictLog1p(user: UserIndex(4), item: ItemIndex(4)) == model.mean)
        #expect(model.predictLog1p(user: UserIndex(0), item: ItemIndex(4)) == model.mean + model.userBias[0])
        #expect(model.userBias[0] != 0)
    }

    // MARK: - Files and settings

    @Test func saveThenLoadGivesTheSameScores() throws {
        let (planted, data) = try Self.planted()
        let dir = TemporaryDirectory()
        let knn = try UserKNNRecommender.fit(data, identity: planted.identity)
        try knn.save(to: dir.file("userknn.tgm"))
        let knnLoaded = try UserKNNRecommender(file: ModelFile.decode(RecommenderFile.bytes(at: dir.file("userknn.tgm"))), path: "userknn.tgm")
        var config = SVDRecommender.Config()
        config.factors = 16
        let svd = try SVDRecommender.fit(data, identity: planted.identity, config: config)
        try svd.save(to: dir.file("svd.tgm"))
        let svdLoaded = try SVDRecommender(file: ModelFile.decode(RecommenderFile.bytes(at: dir.file("svd.tgm"))), path: "svd.tgm")
        #expect(knnLoaded.config == knn.config && svdLoaded.config == svd.config)
        #expect(knnLoaded.identity == knn.identity && svdLoaded.identity == svd.identity)
        #expect(svdLoaded.epochLosses == svd.epochLosses)
        for user in [0, 30, 50, 63].map(UserIndex.init) {
            for (a, b) in [(knn as any Recommender, knnLoaded as any Recommender), (svd, svdLoaded)] {
                let gap = zip(a.scores(user: user), b.scores(user: user)).map { abs($0 - $1) }.max()!
                #expect(gap < 1e-6, "\(a.kind) user \(user): scores differ by \(gap)")
            }
            #expect(svdLoaded.predictLog1p(user: user, item: ItemIndex(3)) == svd.predictLog1p(user: user, item: ItemIndex(3)))
            #expect(knnLoaded.explain(user: user, item: ItemIndex(3), heard: [], count: 5) == knn.explain(user: user, item: ItemIndex(3), heard: [], count: 5))
        }
    }

    @Test func aFileWhoseArraysDisagreeWithItsSettingsIsRefused() throws {
        let (data, identity) = try Self.tiny()
        var config = SVDRecommender.Config()
        config.factors = 3
        config.epochs = 2
        let model = try SVDRecommender.fit(data, identity: identity, config: config)
        var wrong = config
        wrong.factors = 4
        let dir = TemporaryDirectory()
        let archive = ModelArchive(kind: "svd", settings: try JSONEncoder().encode(wrong), identity: identity, arrays: [
            ("mean", .float([model.mean])), ("userBias", .float(model.userBias)), ("itemBias", .float(model.itemBias)),
            ("userFactors", .float(model.userFactors)), ("itemFactors", .float(model.itemFactors)), ("epochLosses", .float(model.epochLosses)),
        ])
        try archive.write(to: dir.file("svd.tgm"))
        #expect(throws: CheckpointError.self) {
            try SVDRecommender(file: ModelFile.decode(RecommenderFile.bytes(at: dir.file("svd.tgm"))), path: "svd.tgm")
        }
    }

    @Test func badUserKNNSettingsAreRefused() throws {
        let (data, identity) = try Self.tiny()
        let changes: [(inout UserKNNRecommender.Config) -> Void] = [
            { $0.neighbors = 0 }, { $0.neighbors = -3 }, { $0.shrink = -1 }, { $0.shrink = .nan }, { $0.shrink = .infinity },
        ]
        for change in changes {
            var config = UserKNNRecommender.Config()
            change(&config)
            #expect(throws: ModelFitError.self, "\(config)") { try UserKNNRecommender.fit(data, identity: identity, config: config) }
        }
    }

    @Test func badSVDSettingsAreRefusedAndDivergenceThrows() throws {
        let (data, identity) = try Self.tiny()
        let changes: [(inout SVDRecommender.Config) -> Void] = [
            { $0.factors = 0 }, { $0.epochs = 0 }, { $0.learningRate = 0 }, { $0.learningRate = -0.1 }, { $0.learningRate = .nan },
            { $0.regularization = -1 }, { $0.regularization = .infinity }, { $0.initStd = -0.1 }, { $0.initStd = .nan },
        ]
        for change in changes {
            var config = SVDRecommender.Config()
            change(&config)
            #expect(throws: ModelFitError.self, "\(config)") { try SVDRecommender.fit(data, identity: identity, config: config) }
        }
        // A step far too large blows the factors up; the fit says so instead of returning NaN scores.
        var config = SVDRecommender.Config()
        config.learningRate = 50
        config.epochs = 50
        do {
            _ = try SVDRecommender.fit(data, identity: identity, config: config)
            Issue.record("a learning rate of 50 should diverge")
        } catch let error as ModelFitError {
            #expect(error.message.contains("learningRate"))
        }
    }
}
