import Foundation
import TasteGraphCore
import TasteGraphGraph
import TestSupport
import Testing

@testable import TasteGraphModel

/// A planted graph: 5 users, 7 items (N = 12) in two taste groups (users 0–2 play items 0–3, users 3–4 items
/// 4–6), and item features.
func tinyModel(_ config: GCNConfig) -> (GCNModel<Double>, EdgeBatch) {
    let edges: [(user: Int32, item: Int32, plays: Float)] = [
        (0, 0, 3), (0, 1, 10), (0, 2, 1), (1, 0, 2), (1, 1, 4), (2, 1, 7), (2, 3, 1),
        (3, 4, 5), (3, 5, 2), (4, 5, 9), (4, 6, 1), (3, 6, 3),
    ]
    let planted = PlantedGraph(userGroup: [0, 0, 0, 1, 1], itemGroup: [0, 0, 0, 0, 1, 1, 1], edges: edges)
    let graph = BipartiteGraph(userCount: planted.userCount, itemCount: planted.itemCount, listens: planted.train, weighting: .log1p)
    let features = SparseMatrix<Double>(rows: 7, columns: 4, entries: [
        (0, 0, 0.6), (0, 3, 0.8), (1, 1, 1), (2, 0, 0.5), (2, 2, -0.5), (3, 3, 1), (4, 2, 0.3), (5, 1, -0.7), (6, 0, 0.2), (6, 3, 0.9),
    ])
    let model = GCNModel<Double>(
        config: config, userCount: 5, itemCount: 7, adjacency: graph.gcnNormalized().converted(to: Double.self), features: features)
    var batch = EdgeBatch()
    let negatives: [Int32] = [5, 4, 6, 2, 0, 3, 5, 1, 0, 2, 3, 0]
    for (index, edge) in edges.enumerated() {
        batch.users.append(edge.0)
        batch.items.append(edge.1)
        batch.targets.append(log1pf(edge.2))
        batch.negatives.append(negatives[index])
    }
    return (model, batch)
}

@Suite struct GradientCheckTests {
    /// Central finite differences in Double for every parameter: relative error < 1e-4 (an absolute
    /// floor of 1e-8 covers exact zeros), for each architecture the ablation can pick.
    @Test(arguments: ["default (LightGCN-style)", "weights+relu", "weights, last layer only", "no text features", "no item ids, biases trained"])
    func finiteDifferencesMatchBackward(name: String) {
        var config = GCNConfig()
        config.hidden = 3
        config.bprWeight = 0.7
        config.initScale = 0.5
        config.trainBiases = true
        switch name {
        case "weights+relu": config.layerWeights = true; config.activation = .relu
        case "weights, last layer only": config.layerWeights = true; config.combineLayers = false
        case "no text features": config.textFeatures = false
        case "no item ids, biases trained": config.itemEmbeddings = false
        default: break
        }
        let (model, batch) = tinyModel(config)
        var parameters = model.initialParameters(seed: 11, mean: 1.2)
        // Perturb W and biases away from their identity/zero start so every path carries gradient.
        var perturb = GaussianSource(seed: 5)
        for i in parameters.indices { parameters[i] += 0.1 * perturb.next() }
        var analytic = [Double](repeating: 0, count: parameters.count)
        _ = analytic.withUnsafeMutableBufferPointer { g in model.loss(parameters, model.forward(parameters), batch: batch, gradients: g) }
        let epsilon = 1e-6
        var worst = 0.0
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
            worst = max(worst, entryWorst)
        }
        #expect(worst < 1e-4)
    }

    /// Â is symmetric, rows of isolated nodes are 0 without self-loops, and with self-loops its
    /// eigenvalues are ≤ 1 (checked through ‖Â x‖ ≤ ‖x‖ on random vectors, since Â is symmetric).
    @Test func normalizedAdjacencyIsSymmetricAndContracting() {
        var listens = ListenTable()
        listens.append(user: 0, item: 0, plays: 3)
        listens.append(user: 0, item: 1, plays: 1)
        listens.append(user: 1, item: 1, plays: 8)
        let graph = BipartiteGraph(userCount: 3, itemCount: 3, listens: listens, weighting: .log1p)  // user 2, item 2 isolated
        let a = graph.gcnNormalized(selfLoops: true)
        let dense = a.dense()
        let n = 6
        for r in 0..<n { for c in 0..<n { #expect(abs(dense[r * n + c] - dense[c * n + r]) < 1e-7) } }
        #expect(dense[2 * n + 2] == 1)  // isolated user with a self-loop: degree 1
        let noLoops = graph.gcnNormalized(selfLoops: false).dense()
        #expect((0..<n).allSatisfy { noLoops[2 * n + $0] == 0 && noLoops[5 * n + $0] == 0 })
        // Hand value: Â[user0, item0] = log1p(3) / √((1 + log1p3 + log1p1)(1 + log1p3)).
        let w0 = log1p(3.0), w1 = log1p(1.0)
        #expect(abs(Double(dense[0 * n + 3]) - w0 / ((1 + w0 + w1) * (1 + w0)).squareRoot()) < 1e-6)
        var rng = GaussianSource(seed: 3)
        for _ in 0..<20 {
            let x = (0..<n).map { _ in Float(rng.next()) }
            let y = Kernels.spmmReference(a, x, columns: 1)
            let normY: Float = y.reduce(0) { $0 + $1 * $1 }
            let normX: Float = x.reduce(0) { $0 + $1 * $1 }
            #expect(normY <= normX * 1.0001)
        }
    }

    /// spmm equals its dense twin on random shapes, including 0 and 1.
    @Test(arguments: [(1, 1, 1), (3, 5, 2), (7, 4, 0), (0, 3, 4), (6, 6, 9)])
    func spmmMatchesDenseProduct(shape: (Int, Int, Int)) {
        let (rows, columns, h) = shape
        var rng = GaussianSource(seed: UInt64(rows * 100 + columns * 10 + h))
        var entries: [(row: Int, column: Int, value: Float)] = []
        for r in 0..<rows { for c in 0..<columns where rng.next() > 0.3 { entries.append((r, c, Float(rng.next()))) } }
        let a = SparseMatrix(rows: rows, columns: columns, entries: entries)
        let x = (0..<(columns * h)).map { _ in Float(rng.next()) }
        var y = [Float](repeating: 0, count: rows * h)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                if let xb = xp.baseAddress, let yb = yp.baseAddress { Kernels.spmm(a, xb, columns: h, into: yb) }
            }
        }
        let expected = Kernels.spmmReference(a, x, columns: h)
        #expect(zip(y, expected).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
