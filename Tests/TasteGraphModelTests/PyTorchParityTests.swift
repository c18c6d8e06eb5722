import Foundation
import TasteGraphCore
import TasteGraphGraph
import TestSupport
import Testing

@testable import TasteGraphModel

/// Parity with PyTorch + torch_geometric's GCNConv: Tests/Fixtures/gcn_fixture.json, written once by the
/// committed Tests/Fixtures/make_gcn_fixture.py. Every tensor must match to 1e-4 relative
/// (max |Swift − PyTorch| / max |PyTorch| per tensor), and so must the first 10 AdamW losses.
@Suite struct PyTorchParityTests {
    struct Fixture: Decodable {
        let format: String
        let version: Int
        let config: [String: AnyDecodable]
        let edges: [[Double]]
        let negatives: [Int32]
        let features: [[Double]]
        let adjacency: [Float]
        let initial: [String: [Float]]
        let loss: Float
        let gradients: [String: [Float]]
        let adam_losses: [Float]
    }

    struct AnyDecodable: Decodable {
        let value: Double?
        init(from decoder: Decoder) throws { value = try? decoder.singleValueContainer().decode(Double.self) }
    }

    static func load() throws -> Fixture {
        let path = SharedData.packageRoot + "/Tests/Fixtures/gcn_fixture.json"
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "sizes \(a.count) ≠ \(b.count)")
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    @Test func lossGradientsAndAdamStepsMatchPyTorch() throws {
        let fixture = try Self.load()
        #expect(fixture.format == "tastegraph-gcn-fixture" && fixture.version == 1)
        let users = Int(fixture.config["users"]!.value!)
        let items = Int(fixture.config["items"]!.value!)
        var listens = ListenTable()
        for edge in fixture.edges { listens.append(user: Int32(edge[0]), item: Int32(edge[1]), plays: Float(edge[2])) }
        let graph = BipartiteGraph(userCount: users, itemCount: items, listens: listens, weighting: .log1p)
        let adjacency = graph.gcnNormalized()
        let adjacencyError = Self.relativeError(adjacency.dense(), fixture.adjacency)
        #expect(adjacencyError < 1e-5, "Â maxdiff \(adjacencyError)")
        let features = SparseMatrix<Float>(
            rows: items, columns: Int(fixture.config["features"]!.value!),
            entries: fixture.features.map { (Int($0[0]), Int($0[1]), Float($0[2])) })
        var config = GCNConfig()
        config.hidden = Int(fixture.config["hidden"]!.value!)
        config.bprWeight = fixture.config["bpr_weight"]!.value!
        config.layerWeights = true
        config.activation = .relu
        config.combineLayers = true
        config.trainBiases = true
        let model = GCNModel<Float>(config: config, userCount: users, itemCount: items, adjacency: adjacency, features: features)
        var parameters = [Float](repeating: 0, count: model.layout.count)
        for entry in model.layout.entries {
            let values = try #require(fixture.initial[entry.name], "fixture lacks \(entry.name)")
            #expect(values.count == entry.count, "\(entry.name): \(values.count) values for \(entry.count)")
            for (offset, value) in values.enumerated() { parameters[entry.offset + offset] = value }
        }
        var batch = EdgeBatch()
        for (index, edge) in fixture.edges.enumerated() {
            batch.users.append(Int32(edge[0]))
            batch.items.append(Int32(edge[1]))
            batch.targets.append(log1pf(Float(edge[2])))
            batch.negatives.append(fixture.negatives[index])
        }
        var gradients = [Float](repeating: 0, count: parameters.count)
        let loss = gradients.withUnsafeMutableBufferPointer { model.loss(parameters, model.forward(parameters), batch: batch, gradients: $0) }
        #expect(abs(loss - fixture.loss) / fixture.loss < 1e-4, "loss \(loss) vs \(fixture.loss)")
        for entry in model.layout.entries {
            let error = Self.relativeError(Array(gradients[entry.range]), fixture.gradients[entry.name]!)
            print("TENSOR d\(entry.name): relative maxdiff \(error)")
            #expect(error < 1e-4, "d\(entry.name) maxdiff \(error)")
        }
        // The first 10 AdamW steps, decay on embeddings and weights only, as in the script.
        var optimizer = AdamW(
            parameterCount: parameters.count, learningRate: Float(fixture.config["learning_rate"]!.value!),
            weightDecay: Float(fixture.config["weight_decay"]!.value!), decayMask: model.decayMask)
        var losses: [Float] = []
        for _ in 0..<10 {
            for i in gradients.indices { gradients[i] = 0 }
            losses.append(gradients.withUnsafeMutableBufferPointer { model.loss(parameters, model.forward(parameters), batch: batch, gradients: $0) })
            optimizer.update(&parameters, gradients: gradients)
        }
        let lossError = Self.relativeError(losses, fixture.adam_losses)
        print("TENSOR Â: relative maxdiff \(adjacencyError); loss \(loss) vs \(fixture.loss); 10 AdamW losses: relative maxdiff \(lossError)")
        #expect(lossError < 1e-4, "Adam losses maxdiff \(lossError): \(losses) vs \(fixture.adam_losses)")
    }
}
