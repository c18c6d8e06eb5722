import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
@testable import TasteGraphRecommend
import TasteGraphSupport
import TestSupport
import Testing

/// Folding users in without retraining (`FoldingRecommender`), on the planted taste groups: group A is users
/// 0..<48 with items 0..<30, group B users 48..<64 with items 30..<60.
@Suite struct FoldInTests {
    let planted = Fitted.planted

    /// The shared GCN with its training graph attached (the exact fold-in).
    var gcn: GCNRecommender {
        (Fitted.models[.gcn] as! GCNRecommender).attachingGraph(catalog: planted.catalog, train: planted.gcnTrain, features: planted.noFeatures)
    }

    func folding(_ kind: ModelKind) -> any FoldingRecommender {
        kind == .gcn ? gcn : Fitted.models[kind] as! any FoldingRecommender
    }

    /// The listens of `user` in `listens`, in their order (the order of the user's row in the model's graph).
    func history(_ user: UserIndex, in listens: ListenTable) -> [HeardItem] {
        (0..<listens.count).filter { Int(listens.users[$0]) == user.rawValue }.map { HeardItem(item: ItemIndex(Int(listens.items[$0])), plays: listens.plays[$0]) }
    }

    /// The listens a model was fitted on (the GCN trains on `gcnTrain`, the baselines on `train`).
    func trainHistory(_ user: UserIndex, for kind: ModelKind) -> [HeardItem] {
        history(user, in: kind == .gcn ? planted.gcnTrain : planted.train)
    }

    func top(_ model: any FoldingRecommender, _ user: FoldedUser, count: Int = 10) -> [ItemIndex] {
        model.recommend(folded: user, count: count, heard: user.heard, filter: RecommendationFilter(), catalog: planted.catalog).map(\.item)
    }

    func groupB(_ items: [ItemIndex]) -> Int { items.filter { planted.group(of: $0) == 1 }.count }

    /// The items as history entries with `plays` each.
    func heardItems(_ items: some Sequence<Int>, plays: Float) -> [HeardItem] { items.map { HeardItem(item: ItemIndex($0), plays: plays) } }

    static let users = [0, 5, 47, 48, 63].map(UserIndex.init)

    // MARK: - A trained user folded in from its own history

    /// GCN: the fold-in evaluates the forward pass's own rows of Â for the user (same degrees, same item
    /// rows), so it gives z_u back; the sums run in another order (one row here, the SIMD spmm there), so
    /// the scores agree to float rounding — 1e-5 of the largest score, `FloatAgreement`'s bound for 16-wide
    /// dot products, with room to spare — and not bit for bit.
    @Test func gcnFoldsATrainedUserBackToItsOwnScores() {
        let model = gcn
        #expect(model.foldsThroughGraph)
        for user in Self.users {
            let folded = model.foldIn(user: user, history: trainHistory(user, for: .gcn))
            let stored = model.scores(user: user)
            let again = model.scores(of: folded)
            #expect(FloatAgreement.agree(stored, again, tolerance: 1e-5), "user \(user): \(FloatAgreement.relativeDifference(stored, again))")
            #expect(FloatAgreement.rankAlike(stored, again))
            let heard = planted.heard(user)
            #expect(model.recommend(user: user, count: 10, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog).map(\.item)
                == model.recommend(folded: folded, count: 10, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog).map(\.item))
            // The play-count head: b_u is the baseline's user update from the final item biases, over the
            // history folded in. Training starts b_u at the baseline of all train listens (validation
            // included) with the user update first in each sweep, so from the full train history the
            // stored b_u comes back close, not equal (the last item update came after it).
            let full = model.foldIn(user: user, history: history(user, in: planted.train))
            let storedBias = model.checkpoint.parameters[model.decoder.userBias + user.rawValue]
            #expect(abs(full.bias - storedBias) < 0.02, "user \(user): \(full.bias) vs \(storedBias)")
            let p = model.checkpoint.parameters, h = folded.embedding.count
            let dot = (0..<h).map { folded.embedding[$0] * model.checkpoint.embeddings[(planted.userCount + 31) * h + $0] }.reduce(0, +)
            #expect(abs(model.predictLog1p(of: folded, item: ItemIndex(31)) - (p[model.decoder.dotScale] * dot + folded.bias + p[model.decoder.itemBias + 31] + p[model.decoder.globalMean])) < 1e-5)
        }
    }

    /// ALS: the fold-in is the fit's own row system for the user (same confidences, same G = YᵀY + λI)
    /// solved exactly against the final Y, so it matches that solve to float rounding (sgemm there, loops
    /// here: 1e-4). It is not the stored x_u: that one was solved against the Y of the iteration before (the
    /// item half-step comes after it), by 3 warm-started CG steps, so the stored scores agree only as far as
    /// the fit converged: within 5% of the largest score here, and the same top 10 up to a near-tie.
    @Test func alsFoldsATrainedUserBackCloseToItsOwnScores() {
        let model = Fitted.models[.als] as! ALSRecommender
        let f = model.config.factors
        for user in Self.users {
            let folded = model.foldIn(user: user, history: trainHistory(user, for: .als))
            var a = model.itemGram
            var b = [Float](repeating: 0, count: f)
            model.itemFactors.withUnsafeBufferPointer { y in
                a.withUnsafeMutableBufferPointer { ab in
                    b.withUnsafeMutableBufferPointer { bb in
                        RowSolver.addRowSystem(model.confidences, user.rawValue, y: y.baseAddress!, factors: f, a: ab.baseAddress!, b: bb.baseAddress!)
                    }
                }
            }
            let row = model.confidences.offsets[user.rawValue]..<model.confidences.offsets[user.rawValue + 1]
            // The fit weighs with BM25 item lengths in Double; the model file keeps them as Float, which the
            // fold-in reads: the confidences agree to Float rounding (≤ 1e-6 relative), not bit for bit.
            #expect(FloatAgreement.agree(Array(model.confidences.weights[row]), folded.weights, tolerance: 1e-6),
                    "\(FloatAgreement.relativeDifference(Array(model.confidences.weights[row]), folded.weights))")
            let x = Self.solve(a, b, n: f)
            #expect(FloatAgreement.agree(x, folded.embedding, tolerance: 1e-4), "user \(user): \(FloatAgreement.relativeDifference(x, folded.embedding))")
            let stored = model.scores(user: user)
            let again = model.scores(of: folded)
            #expect(FloatAgreement.relativeDifference(stored, again) < 5e-2, "user \(user): \(FloatAgreement.relativeDifference(stored, again))")
            let heard = planted.heard(user)
            let list = model.recommend(user: user, count: 10, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog).map(\.item)
            #expect(Set(list).intersection(top(model, folded)).count >= 9, "user \(user)")
        }
    }

    /// A·x = b by Gaussian elimination in Double (the naive twin of the fold-in's Cholesky). Shapes: a (n, n), b (n).
    static func solve(_ a: [Float], _ b: [Float], n: Int) -> [Float] {
        var m = a.map(Double.init), r = b.map(Double.init)
        for c in 0..<n {
            let pivot = (c..<n).max { abs(m[$0 * n + c]) < abs(m[$1 * n + c]) }!
            for k in 0..<n { m.swapAt(c * n + k, pivot * n + k) }
            r.swapAt(c, pivot)
            for row in (c + 1)..<n {
                let factor = m[row * n + c] / m[c * n + c]
                for k in c..<n { m[row * n + k] -= factor * m[c * n + k] }
                r[row] -= factor * r[c]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            x[row] = (r[row] - ((row + 1)..<n).reduce(0) { $0 + m[row * n + $1] * x[$1] }) / m[row * n + row]
        }
        return x.map(Float.init)
    }

    /// GCN, a changed history: the fold-in's rows are those of a full forward pass on the graph with the
    /// user's edges replaced (its degree, its items' degrees and layer-1 rows all change; nobody else's row
    /// of Â does), so z_u agrees with that pass's Z_u to float rounding — whichever items were added,
    /// dropped or replayed.
    @Test func gcnFoldInEqualsTheForwardPassOnTheChangedGraph() {
        let model = gcn
        let train = planted.gcnTrain
        for user in [0, 50].map(UserIndex.init) {
            var changed = history(user, in: train)
            changed.removeFirst()                       // an old edge dropped
            changed[0].plays += 7                       // one replayed
            changed += [HeardItem(item: ItemIndex(40), plays: 3), HeardItem(item: ItemIndex(2), plays: 12)]  // new ones or repeats (merged), both groups
            var listens = ListenTable()
            for e in 0..<train.count where Int(train.users[e]) != user.rawValue { listens.append(user: train.users[e], item: train.items[e], plays: train.plays[e]) }
            let merged = model.foldIn(user: user, history: changed).history
            for entry in merged { listens.append(user: Int32(user.rawValue), item: Int32(entry.item.rawValue), plays: entry.plays) }
            let graph = BipartiteGraph(userCount: planted.userCount, itemCount: planted.itemCount, listens: listens, weighting: .log1p)
            let forward = GCNModel<Float>(config: model.checkpoint.header.model, userCount: planted.userCount, itemCount: planted.itemCount,
                                          adjacency: graph.gcnNormalized(), features: planted.noFeatures).forward(model.checkpoint.parameters).final
            let h = model.checkpoint.header.model.hidden
            let folded = model.foldIn(user: user, history: changed).embedding
            let rows = (user.rawValue * h)..<((user.rawValue + 1) * h)
            #expect(FloatAgreement.agree(Array(forward[rows]), folded, tolerance: 1e-5),
                    "user \(user): \(FloatAgreement.relativeDifference(Array(forward[rows]), folded))")
            // The stored z_u is not that (the user's edges changed), so the check has teeth.
            #expect(!FloatAgreement.agree(Array(model.checkpoint.embeddings[rows]), folded, tolerance: 1e-3))
        }
    }

    /// Item-KNN: the folded row is the stored row (same weights, same order), and scoring is the same loop
    /// without BLAS, so scores and lists are exactly the same.
    @Test func itemKNNFoldsATrainedUserBackExactly() {
        let model = folding(.itemknn)
        for user in Self.users {
            let folded = model.foldIn(user: user, history: trainHistory(user, for: .itemknn))
            #expect(model.scores(user: user) == model.scores(of: folded))
            let heard = planted.heard(user)
            #expect(model.recommend(user: user, count: 20, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog)
                == model.recommend(folded: folded, count: 20, heard: heard, filter: RecommendationFilter(), catalog: planted.catalog))
            let item = top(model, folded)[0]
            #expect(model.explain(user: user, item: item, heard: Array(heard), count: 5) == model.explain(of: folded, item: item, count: 5))
        }
    }

    /// Popularity: the same scores for everyone, and the bias baseline's last update (users, items held
    /// fixed) gives the stored b_u back up to float rounding.
    @Test func popularityFoldsATrainedUserBack() {
        let model = folding(.popularity)
        for user in Self.users {
            let folded = model.foldIn(user: user, history: trainHistory(user, for: .popularity))
            #expect(model.scores(user: user) == model.scores(of: folded))
            for item in [0, 30].map(ItemIndex.init) { #expect(abs(model.predictLog1p(user: user, item: item) - model.predictLog1p(of: folded, item: item)) < 1e-5) }
        }
    }

    // MARK: - Adaptivity

    /// A listener of group A whose history gains 20 group-B items gets mostly B in the next top 10, and
    /// never an item it heard.
    @Test(arguments: [ModelKind.gcn, .als, .itemknn])
    func aListenerWhoTurnsToGroupBGetsGroupB(kind: ModelKind) {
        let model = folding(kind)
        let user = UserIndex(0)
        let before = model.foldIn(user: user, history: trainHistory(user, for: kind))
        #expect(groupB(top(model, before)) == 0, "\(kind) starts in group A")
        let turned = trainHistory(user, for: kind) + heardItems(30..<50, plays: 10)
        let after = model.foldIn(user: user, history: turned)
        let list = top(model, after)
        #expect(groupB(list) >= 7, "\(kind): \(list)")
        #expect(list.allSatisfy { !after.heard.contains($0) })
    }

    /// Without the graph the GCN folds from its final item embeddings (the approximation) and still adapts.
    @Test func gcnWithoutTheGraphStillAdapts() {
        let model = Fitted.models[.gcn] as! GCNRecommender
        #expect(!model.foldsThroughGraph)
        let turned = trainHistory(UserIndex(0), for: .gcn) + heardItems(30..<50, plays: 10)
        #expect(groupB(top(model, model.foldIn(user: UserIndex(0), history: turned))) >= 7)
        #expect(groupB(top(model, model.foldIn(history: heardItems(30..<38, plays: 5)))) >= 7)
    }

    /// Popularity cannot adapt: the folded list is everyone's list without the heard items.
    @Test func popularityOnlyDropsHeardItems() {
        let model = folding(.popularity)
        let folded = model.foldIn(user: UserIndex(0), history: trainHistory(UserIndex(0), for: .popularity) + heardItems(0..<10, plays: 1))
        let list = top(model, folded)
        #expect(list == model.recommend(user: UserIndex(0), count: 10, heard: folded.heard, filter: RecommendationFilter(), catalog: planted.catalog).map(\.item))
        #expect(list.allSatisfy { !folded.heard.contains($0) })
    }

    /// A listener the model never saw, with a group-B history, gets mostly group B.
    @Test(arguments: [ModelKind.gcn, .als, .itemknn])
    func aNewListenerOfGroupBGetsGroupB(kind: ModelKind) {
        let model = folding(kind)
        let folded = model.foldIn(history: heardItems([30, 33, 35, 38, 41, 44, 47, 52], plays: 5))
        #expect(folded.user == nil)
        let list = top(model, folded)
        #expect(groupB(list) >= 7, "\(kind): \(list)")
        // And one of group A gets group A (the larger group is not simply everyone's answer).
        let a = model.foldIn(history: heardItems([1, 4, 9, 12, 17, 22], plays: 5))
        #expect(groupB(top(model, a)) <= 3, "\(kind)")
    }

    /// The GCN's explanation of a group-B item for the turned listener names group-B items first.
    @Test func gcnExplainsAFoldedUsersScoreByTheRightItems() {
        let model = gcn
        let turned = trainHistory(UserIndex(0), for: .gcn) + heardItems(30..<50, plays: 10)
        let folded = model.foldIn(user: UserIndex(0), history: turned)
        let item = top(model, folded).first { planted.group(of: $0) == 1 }!
        let terms = model.explain(of: folded, item: item, count: 5)
        #expect(terms.count == 5)
        #expect(terms.allSatisfy { planted.group(of: $0.item) == 1 && folded.heard.contains($0.item) })
        #expect(zip(terms, terms.dropFirst()).allSatisfy { $0.weight >= $1.weight })
    }

    // MARK: - The history's bookkeeping and the model file

    /// Repeats of an item sum their plays; items outside the model and bad play counts are left out.
    @Test func historiesAreMergedAndCleaned() {
        let model = folding(.itemknn)
        let folded = model.foldIn(history: [
            HeardItem(item: ItemIndex(31), plays: 2), HeardItem(item: ItemIndex(999), plays: 1), HeardItem(item: ItemIndex(31), plays: 3),
            HeardItem(item: ItemIndex(32), plays: -1), HeardItem(item: ItemIndex(33), plays: .nan), HeardItem(item: ItemIndex(34), plays: 1),
        ])
        #expect(folded.history == [HeardItem(item: ItemIndex(31), plays: 5), HeardItem(item: ItemIndex(34), plays: 1)])
        #expect(folded.heard == [ItemIndex(31), ItemIndex(34)])
    }

    /// ALS keeps BM25's item lengths in its file, so a loaded model folds a user exactly as the fitted one.
    @Test func alsFoldsTheSameAfterSaveAndLoad() throws {
        let model = Fitted.models[.als] as! ALSRecommender
        let directory = TemporaryDirectory()
        try model.save(to: directory.file("als.model"))
        let loaded = try #require(try RecommenderFile.load(directory.file("als.model")) as? ALSRecommender)
        let history = (30..<40).map { HeardItem(item: ItemIndex($0), plays: Float($0 % 7 + 1)) }
        #expect(model.foldIn(history: history).embedding == loaded.foldIn(history: history).embedding)
    }

    // MARK: - New songs in the GCN

    /// Item features that name the group (one column each) plus two seeded noise columns, then the
    /// popularity column `ItemFeatures.matrix` appends (0 here).
    static func groupFeatures(_ planted: PlantedGraph) -> [[Float]] {
        var rng = SplitMix64(seed: 11)
        return planted.itemGroup.map { group in
            [group == 0 ? 1 : 0, group == 1 ? 1 : 0, Float(rng.nextUnit()), Float(rng.nextUnit()), 0]
        }
    }

    /// A song with no listens placed through the learned projection from group-B features scores higher
    /// for group-B listeners (known or folded in) than for group-A ones, and group-A features the other way.
    @Test func aPlacedSongWithGroupBFeaturesReachesGroupB() throws {
        let rows = Self.groupFeatures(planted)
        let features = ItemFeaturesFixture.sparse(rows)
        var config = GCNConfig()
        config.hidden = 16
        var training = TrainingConfig()
        training.epochs = 80
        training.patience = 10
        training.seed = 3
        let split = InteractionSplit.carvingValidation(train: planted.train, test: ListenTable(), fraction: 0.1, seed: 3)
        let model = try GCNRecommender.fit(split: split, identity: planted.identity, features: features, embedderName: "planted-groups",
                                           model: config, training: training).recommender
        let placedB = try model.placeNewItem(features: [0, 1, 0.5, 0.5, 0])
        let placedA = try model.placeNewItem(features: [1, 0, 0.5, 0.5, 0])
        func mean(_ users: [Int], _ placed: PlacedItem) -> Float {
            users.map { model.score(user: UserIndex($0), placed: placed) }.reduce(0, +) / Float(users.count)
        }
        let a = planted.users(inGroup: 0), b = planted.users(inGroup: 1)
        #expect(mean(b, placedB) > mean(a, placedB))
        #expect(mean(a, placedA) > mean(b, placedA))
        let attached = model.attachingGraph(catalog: planted.catalog, train: split.train, features: features)
        let newB = attached.foldIn(history: heardItems([30, 36, 42, 48], plays: 5))
        let newA = attached.foldIn(history: heardItems([0, 6, 12, 18], plays: 5))
        #expect(attached.score(of: newB, placed: placedB) > attached.score(of: newA, placed: placedB))
        #expect(attached.score(of: newA, placed: placedA) > attached.score(of: newB, placed: placedA))
        // The wrong feature width is refused with what the model expects.
        #expect(throws: FoldInError.self) { try model.placeNewItem(features: [0, 1]) }
    }
}

/// Dense feature rows as the sparse X the GCN takes.
enum ItemFeaturesFixture {
    static func sparse(_ rows: [[Float]]) -> SparseMatrix<Float> {
        let columns = rows.first?.count ?? 0
        var offsets = [0]
        var indices: [Int32] = []
        var values: [Float] = []
        for row in rows {
            for (column, value) in row.enumerated() where value != 0 {
                indices.append(Int32(column))
                values.append(value)
            }
            offsets.append(indices.count)
        }
        return SparseMatrix(rows: rows.count, columns: columns, offsets: offsets, indices: indices, values: values)
    }
}
