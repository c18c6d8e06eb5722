import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphSupport
import TestSupport
import Testing

/// Every model fitted once on the planted groups, shared by the conformance tests.
enum Fitted {
    static let planted = PlantedGraph.tasteGroups()
    static let models: [ModelKind: any Recommender] = Dictionary(uniqueKeysWithValues: ModelRegistry.kinds.map { ($0, try! planted.fit($0)) })
    static let personalized: [ModelKind] = [.gcn, .itemknn, .userknn, .als, .ease, .rp3beta, .content, .gcnEASE]
    /// Models whose explanations name heard items without being tied to the taste groups' recall.
    static let explainedOnly: [ModelKind] = [.coclustering]
}

/// The contract every recommender keeps, run against all of them (ModelRegistry.kinds).
@Suite struct RecommenderConformanceTests {
    let planted = Fitted.planted

    /// Held-out Recall@20 of the users of one group (train items excluded).
    func recall(_ model: any Recommender, group: Int) -> Double {
        let users = (0..<planted.userCount).filter { planted.userGroup[$0] == group }.map(UserIndex.init)
        let total = users.map { user -> Double in
            let top = model.recommend(user: user, count: 20, heard: planted.heard(user), filter: RecommendationFilter(), catalog: planted.catalog)
            let held = planted.heldOut(user)
            return Double(top.filter { held.contains($0.item) }.count) / Double(held.count)
        }.reduce(0, +)
        return total / Double(users.count)
    }

    @Test(arguments: Fitted.personalized)
    func personalizedModelsRecoverTheHeldOutItemsOfBothGroups(kind: ModelKind) {
        let model = Fitted.models[kind]!
        #expect(recall(model, group: 0) >= 0.9, "\(kind) large group")
        #expect(recall(model, group: 1) >= 0.9, "\(kind) small group")
        // And the top 10 stays within the user's own group.
        for user in [0, 47, 48, 63].map(UserIndex.init) {
            let top = model.recommend(user: user, count: 10, heard: planted.heard(user), filter: RecommendationFilter(), catalog: planted.catalog)
            let own = top.filter { planted.group(of: $0.item) == planted.group(of: user) }.count
            #expect(own >= 9, "\(kind) user \(user): \(own) of 10 from the own group")
        }
    }

    /// Popularity ignores the user: it recovers the large group's items and misses the small group's.
    /// The cold-start mix is the same list for everyone.
    @Test func nonPersonalizedModelsServeEveryoneTheSameList() {
        let popularity = Fitted.models[.popularity]!
        #expect(recall(popularity, group: 0) >= 0.9)
        #expect(recall(popularity, group: 1) <= 0.2)
        for kind in [ModelKind.popularity, .coldstart] {
            let model = Fitted.models[kind]!
            #expect(model.scores(user: UserIndex(0)) == model.scores(user: UserIndex(60)), "\(kind)")
        }
        let mix = Fitted.models[.coldstart]!.scores(user: UserIndex(0))
        #expect(mix.filter { $0 > 1 }.count == 30, "the mix holds 10 popular + 20 discovery items")
    }

    @Test(arguments: ModelRegistry.kinds)
    func rankingContract(kind: ModelKind) {
        let model = Fitted.models[kind]!
        for user in [0, 50].map(UserIndex.init) {
            let heard = planted.heard(user)
            for k in [1, 5, 20] {
                let top = model.recommend(user: user, count: k, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog)
                #expect(top.count == k, "\(kind): count respected")
                #expect(zip(top, top.dropFirst()).allSatisfy { $0.score >= $1.score }, "\(kind): scores sorted")
                #expect(top.allSatisfy { !heard.contains($0.item) }, "\(kind): heard items excluded")
            }
            // With includeHeard the list is simply the top of the raw scores (ties: lower index).
            var filter = RecommendationFilter()
            filter.includeHeard = true
            let all = model.recommend(user: user, count: 15, heard: heard, filter: filter, catalog: planted.catalog).map(\.item)
            let scores = model.scores(user: user)
            let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            #expect(all == Array(order.prefix(15)).map(ItemIndex.init), "\(kind): includeHeard keeps heard items")
            // Asking for more than there is returns everything there is.
            let everything = model.recommend(user: user, count: 500, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog)
            #expect(everything.count == planted.itemCount - heard.count)
        }
    }

    @Test(arguments: ModelRegistry.kinds)
    func batchScoresEqualSingleScores(kind: ModelKind) {
        let model = Fitted.models[kind]!
        let users = [3, 0, 63, 48, 3].map(UserIndex.init)
        var batch = [Float](repeating: .nan, count: users.count * planted.itemCount)
        batch.withUnsafeMutableBufferPointer { model.scores(users: users, into: $0) }
        // The batch goes through one sgemm, a single user through another shape of it: the same values up to
        // float32 rounding (FloatAgreement), and the same ranking, on every CPU.
        for (row, user) in users.enumerated() {
            let rowScores = Array(batch[(row * planted.itemCount)..<((row + 1) * planted.itemCount)])
            let single = model.scores(user: user)
            #expect(FloatAgreement.agree(rowScores, single), "\(kind) user \(user): relative difference \(FloatAgreement.relativeDifference(rowScores, single))")
            #expect(FloatAgreement.rankAlike(single, rowScores), "\(kind) user \(user): batch ranks otherwise")
        }
    }

    @Test(arguments: ModelRegistry.kinds)
    func saveLoadGivesIdenticalOutput(kind: ModelKind) throws {
        let model = Fitted.models[kind]!
        let dir = TemporaryDirectory()
        let path = dir.file("model." + (kind == .gcn ? "tgck" : "tgm"))
        try model.save(to: path)
        let loaded = try RecommenderFile.load(path)
        #expect(loaded.kind == kind)
        #expect(loaded.identity == model.identity)
        for user in [0, 50].map(UserIndex.init) {
            #expect(loaded.scores(user: user) == model.scores(user: user), "\(kind)")
            let heard = planted.heard(user)
            let a = model.recommend(user: user, count: 10, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog)
            let b = loaded.recommend(user: user, count: 10, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog)
            #expect(a.map(\.item) == b.map(\.item) && a.map(\.score) == b.map(\.score))
            #expect(loaded.predictLog1p(user: user, item: ItemIndex(5)) == model.predictLog1p(user: user, item: ItemIndex(5)))
        }
        // A damaged file is a clear error, not a crash or a silently different model.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 3] ^= 0x5A
        try bytes.write(to: URL(fileURLWithPath: dir.file("bad")))
        #expect(throws: CheckpointError.self) { try RecommenderFile.load(dir.file("bad")) }
    }

    /// Every model file is sealed as a whole: a seeded sample of 400 byte positions (and every byte of the
    /// first 64: magic, version, lengths and the start of the JSON header), each flipped, is rejected each time.
    @Test(arguments: ModelRegistry.kinds)
    func anyChangedByteOfAModelFileIsRejected(kind: ModelKind) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("model")
        try Fitted.models[kind]!.save(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var rng = SplitMix64(seed: 12)
        let positions = Array(0..<64) + (0..<400).map { _ in rng.nextInt(below: bytes.count) }
        var accepted: [Int] = []
        for position in positions {
            var changed = bytes
            changed[position] ^= UInt8(1 << (position % 8))
            if (try? RecommenderFile.load(changed, path: path)) != nil { accepted.append(position) }
        }
        #expect(accepted.isEmpty, "\(kind): changed bytes that still loaded: \(accepted.prefix(10))")
        #expect((try? RecommenderFile.load(bytes, path: path)) != nil)
    }

    @Test(arguments: ModelRegistry.kinds)
    func nanInTrainingIsAClearError(kind: ModelKind) {
        var listens = planted.train
        listens.plays[17] = .nan
        let error = #expect(throws: ModelFitError.self) { try planted.fit(kind, listens: listens) }
        #expect(error?.message.contains("play count nan") == true, "\(String(describing: error))")
    }

    @Test(arguments: ModelRegistry.kinds)
    func explanationsNameHeardItemsLargestFirst(kind: ModelKind) {
        let model = Fitted.models[kind]!
        let user = UserIndex(5)
        let heard = planted.heard(user)
        let top = model.recommend(user: user, count: 3, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog)
        for r in top {
            let reasons = model.explain(user: user, item: r.item, heard: heard.sorted(), count: 4)
            if Fitted.personalized.contains(kind) {
                #expect(!reasons.isEmpty && reasons.count <= 4, "\(kind)")
                #expect(reasons.allSatisfy { heard.contains($0.item) }, "\(kind): reasons are heard items")
                #expect(zip(reasons, reasons.dropFirst()).allSatisfy { $0.weight >= $1.weight })
                #expect(reasons.allSatisfy { planted.group(of: $0.item) == 0 })
            } else if Fitted.explainedOnly.contains(kind) {
                #expect(reasons.count <= 4 && reasons.allSatisfy { heard.contains($0.item) }, "\(kind): reasons are heard items")
                #expect(zip(reasons, reasons.dropFirst()).allSatisfy { $0.weight >= $1.weight }, "\(kind): largest first")
            } else {
                #expect(reasons.isEmpty, "\(kind) has no per-listener reason")
            }
        }
    }

    /// The GCN's explanation terms plus the user's own share add up to the score ⟨z_u, z_i⟩ (default, linear model).
    @Test func gcnExplanationTermsAddUpToTheScore() throws {
        let gcn = try #require(Fitted.models[.gcn] as? GCNRecommender)
        let attached = gcn.attachingGraph(catalog: planted.catalog, train: planted.gcnTrain, features: planted.noFeatures)
        let z = gcn.checkpoint.embeddings
        let h = z.count / (planted.userCount + planted.itemCount)
        let train = planted.gcnTrain
        for (user, item) in [(0, 3), (0, 40), (50, 3), (50, 40)] {
            let terms = attached.explain(user: UserIndex(user), item: ItemIndex(item), heard: [], count: .max)
            let neighbours = Set((0..<train.count).filter { Int(train.users[$0]) == user }.map { ItemIndex(Int(train.items[$0])) })
            #expect(Set(terms.map(\.item)) == neighbours, "one term per item the user played in training")
            let total = try #require(attached.ownTaste(user: UserIndex(user), item: ItemIndex(item))) + terms.map(\.weight).reduce(0, +)
            var dot: Float = 0
            for k in 0..<h { dot += z[user * h + k] * z[(planted.userCount + item) * h + k] }
            #expect(abs(total - Double(dot)) < 1e-4 * max(1, abs(Double(dot))), "user \(user) item \(item): \(total) vs \(dot)")
        }
    }
}
