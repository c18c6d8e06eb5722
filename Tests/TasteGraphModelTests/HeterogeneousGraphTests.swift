import Foundation
import TasteGraphCore
import TasteGraphGraph
import TestSupport
import Testing

@testable import TasteGraphModel

/// The GCN over listens plus friend and tag relations (`BipartiteGraph.heterogeneousNormalized`, issue 16).
@Suite struct HeterogeneousGraphTests {
    /// 3 users, 2 items, 2 tags: u0–i0 (3 plays), u1–i0 (1), u1–i1 (2); friends u0–u1 (listed both ways),
    /// u0–u2; tags i0–t0 (2), i0–t1 (1), i1–t1 (3).
    static func tinyRelations() -> (BipartiteGraph, SideRelations) {
        var listens = ListenTable()
        listens.append(user: 0, item: 0, plays: 3)
        listens.append(user: 1, item: 0, plays: 1)
        listens.append(user: 1, item: 1, plays: 2)
        let graph = BipartiteGraph(userCount: 3, itemCount: 2, listens: listens, weighting: .log1p)
        let relations = SideRelations(
            userCount: 3, itemCount: 2, friendPairs: [(0, 1), (1, 0), (0, 2), (2, 2)], tagNames: ["rock", "indie"],
            itemTags: [(0, 0, 2), (0, 1, 1), (1, 1, 3)])
        return (graph, relations)
    }

    /// Every entry of Â = Â_L + w_F Â_F + w_T Â_T against a hand computation of each relation's own
    /// degrees (tolerance 1e-6: Float values of Double sums).
    @Test func perRelationNormalizationMatchesHandComputation() {
        let (graph, relations) = Self.tinyRelations()
        let wF = 0.5, wT = 2.0
        let a = graph.heterogeneousNormalized(relations: relations, friendWeight: wF, tagWeight: wT)
        let n = 3 + 2 + 2
        #expect(a.rows == n && a.columns == n)
        var expected = [Double](repeating: 0, count: n * n)
        func set(_ r: Int, _ c: Int, _ v: Double) { expected[r * n + c] = v; expected[c * n + r] = v }
        // Listens: d = 1 + Σ log1p(plays): u0 1+l3, u1 1+l1+l2, u2 1, i0 1+l3+l1, i1 1+l2.
        let l1 = log1p(1.0), l2 = log1p(2.0), l3 = log1p(3.0)
        let dU = [1 + l3, 1 + l1 + l2, 1.0], dI = [1 + l3 + l1, 1 + l2]
        for u in 0..<3 { set(u, u, 1 / dU[u]) }
        for i in 0..<2 { set(3 + i, 3 + i, 1 / dI[i]) }
        set(0, 3, l3 / (dU[0] * dI[0]).squareRoot())
        set(1, 3, l1 / (dU[1] * dI[0]).squareRoot())
        set(1, 4, l2 / (dU[1] * dI[1]).squareRoot())
        // Friends: degrees u0 2, u1 1, u2 1 (the repeat and the self pair dropped).
        set(0, 1, wF / (2.0 * 1).squareRoot())
        set(0, 2, wF / (2.0 * 1).squareRoot())
        // Tags: d_i0 = 3, d_i1 = 3, d_t0 = 2, d_t1 = 4; nodes t0 = 5, t1 = 6.
        set(3, 5, wT * 2 / (3.0 * 2).squareRoot())
        set(3, 6, wT * 1 / (3.0 * 4).squareRoot())
        set(4, 6, wT * 3 / (3.0 * 4).squareRoot())
        let dense = a.dense()
        var worst = 0.0
        for k in 0..<(n * n) { worst = max(worst, abs(Double(dense[k]) - expected[k])) }
        #expect(worst < 1e-6, "maxdiff \(worst)")
        // Tags off: no tag nodes, and the listens and friends blocks as above.
        let friendsOnly = graph.heterogeneousNormalized(relations: relations, friendWeight: wF, tagWeight: 0)
        #expect(friendsOnly.rows == 5)
        #expect(abs(Double(friendsOnly.dense()[0 * 5 + 1]) - wF / 2.0.squareRoot()) < 1e-6)
        #expect(friendsOnly.dense()[3 * 5 + 4] == 0)
    }

    /// With both weights 0 (the defaults), Â is today's `gcnNormalized()` exactly, and the model's layout
    /// is the listens-only one: nothing changes for existing configurations.
    @Test func zeroWeightsGiveTodaysAdjacencyAndLayout() {
        let (graph, relations) = Self.tinyRelations()
        #expect(graph.heterogeneousNormalized(relations: relations, friendWeight: 0, tagWeight: 0) == graph.gcnNormalized())
        #expect(graph.heterogeneousNormalized(relations: nil, friendWeight: 1, tagWeight: 1) == graph.gcnNormalized())
        var config = GCNConfig()
        #expect(config.friendWeight == 0 && config.tagWeight == 0 && !config.usesSideRelations)
        config.hidden = 4
        config.textFeatures = false
        let plain = GCNModel<Float>(config: config, userCount: 3, itemCount: 2, adjacency: graph.gcnNormalized(), features: nil)
        var tagged = config
        tagged.tagWeight = 1
        let withTags = GCNModel<Float>(
            config: tagged, userCount: 3, itemCount: 2, tagCount: 2,
            adjacency: graph.heterogeneousNormalized(relations: relations, friendWeight: 0, tagWeight: 1), features: nil)
        #expect(withTags.layout["tagEmbedding"]?.rows == 2)
        #expect(withTags.layout.entries.filter { $0.name != "tagEmbedding" }.map(\.name) == plain.layout.entries.map(\.name))
        #expect(plain.layout["tagEmbedding"] == nil)
        // The shared entries start from the same seeded draws.
        let p0 = plain.initialParameters(seed: 3, mean: 1), p1 = withTags.initialParameters(seed: 3, mean: 1)
        for name in ["userEmbedding", "itemEmbedding"] {
            #expect(Array(p0[plain.layout[name]!.range]) == Array(p1[withTags.layout[name]!.range]))
        }
    }

    /// Settings and checkpoints written before the side relations existed decode with them off.
    @Test func olderConfigJSONDecodesWithRelationsOff() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(GCNConfig())) as! [String: Any]
        for key in ["friendWeight", "tagWeight", "tagsPerItem"] { #expect(object.removeValue(forKey: key) != nil) }
        let decoded = try JSONDecoder().decode(GCNConfig.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(decoded == GCNConfig())
        object.removeValue(forKey: "hidden")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(GCNConfig.self, from: JSONSerialization.data(withJSONObject: object)) }
    }

    /// A checkpoint with friends and tags stores them and reads them back; one without reads as listens-only.
    @Test func checkpointRecordsTheRelations() throws {
        let (graph, relations) = Self.tinyRelations()
        var config = GCNConfig()
        config.hidden = 2
        config.textFeatures = false
        config.friendWeight = 0.5
        config.tagWeight = 2
        let model = GCNModel<Float>(
            config: config, userCount: 3, itemCount: 2, tagCount: 2,
            adjacency: graph.heterogeneousNormalized(relations: relations, friendWeight: 0.5, tagWeight: 2), features: nil)
        let checkpoint = Checkpoint(
            header: .init(model: config, training: TrainingConfig(), layout: model.layout, userIDs: ["a", "b", "c"], itemIDs: ["x", "y"],
                          dataFingerprint: "f", splitFingerprint: nil, embedder: nil, bestEpoch: 1, epochs: 1, testMetrics: nil, createdAt: "now"),
            parameters: model.initialParameters(seed: 1, mean: 0), embeddings: [Float](repeating: 0.5, count: 5 * 2), relations: relations)
        let loaded = try Checkpoint.decode(try checkpoint.modelFile().encoded(), path: "mem")
        #expect(loaded.relations == relations)
        #expect(loaded.header.tagNames == ["rock", "indie"])
        #expect(loaded.relations.map { graph.heterogeneousNormalized(relations: $0, friendWeight: 0.5, tagWeight: 2) } == model.adjacency)
        let plain = TrainerTests.tinyCheckpoint(user: "u", item: "i", dataFingerprint: "f", splitFingerprint: nil)
        #expect(try Checkpoint.decode(try plain.modelFile().encoded(), path: "mem").relations == nil)
    }

    /// Central finite differences in Double for every parameter, tag embeddings included, on the planted
    /// 12-node graph of `GradientCheckTests` plus 3 tag nodes and friend edges: relative error < 1e-4.
    @Test(arguments: ["tags and friends", "tags, weights+relu"])
    func gradientCheckPassesWithTagNodes(name: String) {
        var config = GCNConfig()
        config.hidden = 3
        config.bprWeight = 0.7
        config.initScale = 0.5
        config.trainBiases = true
        config.friendWeight = 0.7
        config.tagWeight = 1.5
        if name == "tags, weights+relu" { config.layerWeights = true; config.activation = .relu }
        let (base, batch) = tinyModel(config)
        var listens = ListenTable()
        let edges: [(Int32, Int32, Float)] = [
            (0, 0, 3), (0, 1, 10), (0, 2, 1), (1, 0, 2), (1, 1, 4), (2, 1, 7), (2, 3, 1), (3, 4, 5), (3, 5, 2), (4, 5, 9), (4, 6, 1), (3, 6, 3),
        ]
        for edge in edges { listens.append(user: edge.0, item: edge.1, plays: edge.2) }
        let graph = BipartiteGraph(userCount: 5, itemCount: 7, listens: listens, weighting: .log1p)
        let relations = SideRelations(
            userCount: 5, itemCount: 7, friendPairs: [(0, 1), (1, 2), (2, 3), (3, 4)], tagNames: ["a", "b", "c"],
            itemTags: [(0, 0, 2), (1, 0, 1), (2, 1, 1), (3, 1, 2), (4, 2, 3), (5, 2, 1), (6, 0, 1), (6, 2, 2)])
        let adjacency = graph.heterogeneousNormalized(relations: relations, friendWeight: config.friendWeight, tagWeight: config.tagWeight)
        let model = GCNModel<Double>(
            config: config, userCount: 5, itemCount: 7, tagCount: 3, adjacency: adjacency.converted(to: Double.self), features: base.features)
        #expect(model.layout["tagEmbedding"]?.count == 3 * 3)
        var parameters = model.initialParameters(seed: 11, mean: 1.2)
        var perturb = GaussianSource(seed: 5)
        for i in parameters.indices { parameters[i] += 0.1 * perturb.next() }
        var analytic = [Double](repeating: 0, count: parameters.count)
        _ = analytic.withUnsafeMutableBufferPointer { g in model.loss(parameters, model.forward(parameters), batch: batch, gradients: g) }
        let epsilon = 1e-6
        for entry in model.layout.entries {
            var entryWorst = 0.0
            for i in entry.range {
                var plus = parameters
                plus[i] += epsilon
                var minus = parameters
                minus[i] -= epsilon
                let numeric = (model.loss(plus, model.forward(plus), batch: batch, gradients: nil)
                    - model.loss(minus, model.forward(minus), batch: batch, gradients: nil)) / (2 * epsilon)
                let error = abs(numeric - analytic[i]) / max(abs(numeric) + abs(analytic[i]), 1e-8)
                entryWorst = max(entryWorst, abs(numeric - analytic[i]) < 1e-9 ? 0 : error)
            }
            #expect(entryWorst < 1e-4, "\(name): \(entry.name) maxdiff \(entryWorst)")
        }
        // The tag embeddings reach the loss (through the items they are linked to).
        let tags = model.layout["tagEmbedding"]!
        #expect(analytic[tags.range].contains { abs($0) > 1e-6 })
    }

    /// Group A: users 0–5 play items 0–4; group B: users 6–11 play items 5–9; bridge item 10 is played by
    /// four B users and two A users. User 12 has played only item 10 and is friends with every A user.
    /// On listens alone the bridge leans B; with friend edges, user 12's top 5 are group A's items.
    @Test func friendsCarryTheSignalForAOneListenUser() throws {
        var listens = ListenTable()
        for u in 0..<12 {
            let items = u < 6 ? Array(0..<5) : Array(5..<10)
            for (k, i) in items.enumerated() { listens.append(user: Int32(u), item: Int32(i), plays: Float(1 + (u + k) % 4)) }
        }
        for u in [0, 1, 6, 7, 8, 9] { listens.append(user: Int32(u), item: 10, plays: 2) }
        listens.append(user: 12, item: 10, plays: 3)
        let relations = SideRelations(
            userCount: 13, itemCount: 11, friendPairs: (0..<6).map { (Int32(12), Int32($0)) }, tagNames: [], itemTags: [])
        func topFive(friendWeight: Double) throws -> [Int] {
            let data = TrainingData(userCount: 13, itemCount: 11, train: listens, validation: ListenTable())
            var config = GCNConfig()
            config.hidden = 16
            config.textFeatures = false
            config.friendWeight = friendWeight
            let adjacency = data.graph.heterogeneousNormalized(relations: relations, friendWeight: friendWeight, tagWeight: 0)
            let model = GCNModel<Float>(config: config, userCount: 13, itemCount: 11, adjacency: adjacency, features: nil)
            var training = TrainingConfig()
            training.epochs = 60
            training.learningRate = 0.05
            training.weightDecay = 0.01
            training.validateEvery = 0
            let result = try Trainer(model: model, data: data, config: training).train()
            let scorer = Scorer(model: model, parameters: result.parameters)
            #expect(scorer.embeddings.count == (13 + 11) * 16)
            var out = [Float](repeating: 0, count: 11)
            out.withUnsafeMutableBufferPointer { scorer.scores(users: [12], into: $0) }
            return (0..<10).sorted { out[$0] > out[$1] || (out[$0] == out[$1] && $0 < $1) }.prefix(5).sorted()
        }
        let withFriends = try topFive(friendWeight: 1)
        let listensOnly = try topFive(friendWeight: 0)
        #expect(withFriends == [0, 1, 2, 3, 4], "with friends: \(withFriends)")
        #expect(listensOnly != [0, 1, 2, 3, 4], "listens only: \(listensOnly)")
    }

    /// With tag nodes the scorer still ranks items only: Z holds U + I rows, scores I columns.
    @Test func tagNodesAreNeverScored() {
        let (graph, relations) = Self.tinyRelations()
        var config = GCNConfig()
        config.hidden = 4
        config.textFeatures = false
        config.tagWeight = 1
        let model = GCNModel<Float>(
            config: config, userCount: 3, itemCount: 2, tagCount: 2,
            adjacency: graph.heterogeneousNormalized(relations: relations, friendWeight: 0, tagWeight: 1), features: nil)
        #expect(model.forward(model.initialParameters(seed: 2, mean: 0)).final.count == 7 * 4)
        let scorer = Scorer(model: model, parameters: model.initialParameters(seed: 2, mean: 0))
        #expect(scorer.embeddings.count == 5 * 4)
    }
}
