import Foundation
import TasteGraphCore
import TasteGraphGraph
import TestSupport
import Testing

@testable import TasteGraphModel

@Suite struct TrainerTests {
    /// The implicit-style checkerboard: even users like even items, odd users odd items; each user's own
    /// diagonal item (user u ↔ item u) is withheld. The trained GCN must rank it first among unheard items
    /// for most users, and never recommend across the groups at the top.
    @Test func recoversTheHeldOutCheckerboardItems() throws {
        let n = 20
        let planted = PlantedGraph.checkerboard(size: n)
        let data = TrainingData(userCount: n, itemCount: n, train: planted.train, validation: planted.test)
        var config = GCNConfig()
        config.hidden = 16
        config.textFeatures = false
        let model = GCNModel<Float>(config: config, userCount: n, itemCount: n, adjacency: data.graph.gcnNormalized(), features: nil)
        var training = TrainingConfig()
        training.epochs = 60
        training.learningRate = 0.05
        training.weightDecay = 0.01
        training.patience = 100
        let result = try Trainer(model: model, data: data, config: training).train()
        let scorer = Scorer(model: model, parameters: result.parameters)
        var hits = 0
        var out = [Float](repeating: 0, count: n)
        for u in 0..<n {
            out.withUnsafeMutableBufferPointer { scorer.scores(users: [u], into: $0) }
            let unheard = (0..<n).filter { !data.trainItems[u].contains(Int32($0)) }
            let best = unheard.max { out[$0] < out[$1] }!
            if planted.heldOut(u) == [best] { hits += 1 }
            #expect(planted.itemGroup[best] == planted.userGroup[u], "user \(u) got item \(best) from the other group")
        }
        #expect(hits >= 18, "held-out item ranked first for \(hits)/\(n) users")
        // Same seed, same parameters.
        let again = try Trainer(model: model, data: data, config: training).train()
        #expect(again.parameters == result.parameters)
    }

    @Test func nanTrainingIsAClearError() {
        var train = ListenTable()
        train.append(user: 0, item: 0, plays: .infinity)
        train.append(user: 1, item: 1, plays: 2)
        let data = TrainingData(userCount: 2, itemCount: 2, train: train, validation: ListenTable())
        var config = GCNConfig()
        config.textFeatures = false
        let model = GCNModel<Float>(config: config, userCount: 2, itemCount: 2, adjacency: data.graph.gcnNormalized(), features: nil)
        #expect(throws: ModelFitError.self) { _ = try Trainer(model: model, data: data, config: TrainingConfig()).train() }
    }

    /// A one-user, one-item GCN checkpoint (H = 2) with parameters 0, 1, 2, … and embeddings 1…4.
    static func tinyCheckpoint(user: String, item: String, dataFingerprint: String, splitFingerprint: String?) -> Checkpoint {
        var config = GCNConfig()
        config.hidden = 2
        let model = GCNModel<Float>(
            config: config, userCount: 1, itemCount: 1,
            adjacency: SparseMatrix(rows: 2, columns: 2, entries: [(0, 0, 1), (1, 1, 1)]), features: nil)
        return Checkpoint(
            header: .init(model: config, training: TrainingConfig(), layout: model.layout, userIDs: [user], itemIDs: [item],
                          dataFingerprint: dataFingerprint, splitFingerprint: splitFingerprint, embedder: nil, bestEpoch: 1, epochs: 1,
                          testMetrics: nil, createdAt: "now"),
            parameters: (0..<model.layout.count).map(Float.init), embeddings: [1, 2, 3, 4])
    }

    @Test func checkpointRoundTripsAndRejectsCorruption() throws {
        let path = NSTemporaryDirectory() + "ck-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let checkpoint = Self.tinyCheckpoint(user: "u", item: "i", dataFingerprint: "f", splitFingerprint: nil)
        try checkpoint.write(to: path)
        let loaded = try Checkpoint.read(from: path)
        #expect(loaded.parameters == checkpoint.parameters && loaded.embeddings == checkpoint.embeddings)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) { try Checkpoint.read(from: path) }
        try bytes.prefix(bytes.count - 8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) { try Checkpoint.read(from: path) }
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) { try Checkpoint.read(from: path) }
    }

    /// The whole file is sealed: flipping any single byte — magic, version, a user id or the data
    /// fingerprint in the JSON header, a weight, the digest itself — is rejected, never loaded.
    @Test func everyChangedByteOfACheckpointIsRejected() throws {
        let checkpoint = Self.tinyCheckpoint(user: "user-1", item: "item-1", dataFingerprint: "fingerprint", splitFingerprint: "split")
        let bytes = try checkpoint.modelFile().encoded()
        #expect(try Checkpoint.decode(bytes, path: "ok").header.userIDs == ["user-1"])
        var accepted: [Int] = []
        for position in 0..<bytes.count {
            for flip: UInt8 in [0x01, 0x80] {
                var changed = bytes
                changed[position] ^= flip
                if (try? Checkpoint.decode(changed, path: "x")) != nil { accepted.append(position) }
            }
        }
        #expect(bytes.count > 300)
        #expect(accepted.isEmpty, "changed bytes that still loaded: \(accepted.prefix(10))")
    }
}
