// `tastegraph-bench-train --levers`: where a GCN training step spends its time at scale, and what two
// levers of issue 17 do to the one kernel that is not GEMM — Y = Â·X — on the same graph, in one run:
//
//   order     nodes renumbered by degree (`LocalityOrderedMatrix`, or users and songs each by degree), or
//             users grouped by their heaviest song (so a song's listeners sit closer)
//   bfloat16  Â's values stored in 16 bits (the top half of each Float, rounded), widened in the loop
//
// The variants run interleaved, round after round (`--repeats`, default 3), and each reports its median
// and best round and its largest difference from the plain product (rows mapped back). Data: the store of
// `make bench-scale` (`--store`), or the generated power-law graph of `--scale`.
import Foundation
import TasteGraphCore
import TasteGraphFeatures
import TasteGraphGraph
import TasteGraphModel
import TasteGraphStore
import TasteGraphSupport
import BLAS

func runLevers() throws {
    BLAS.setThreadCount(1)
    let repeats = Int(argument("--repeats") ?? "") ?? 3
    var started = Date()
    let (userCount, itemCount, listens, features) = try leverData()
    let loadSeconds = Date().timeIntervalSince(started)
    started = Date()
    let data = TrainingData(userCount: userCount, itemCount: itemCount, train: listens, validation: ListenTable())
    let adjacency = data.graph.gcnNormalized()
    let setupSeconds = Date().timeIntervalSince(started)
    let h = GCNConfig().hidden
    let n = adjacency.rows
    var rng = SplitMix64(seed: 7)
    let x = (0..<(n * h)).map { _ in Float(rng.nextUnit() - 0.5) }

    // Each variant is a product into its own output; the rounds interleave the variants (noise from the
    // machine's other core then hits all of them alike), and each reports its median and best round.
    struct Variant {
        let name: String
        let run: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
        let input: [Float]
        /// The output row that holds the plain product's row r.
        let row: (Int) -> Int
    }
    let degree = degreeOrder(data.graph)
    let heaviest = heaviestSongOrder(data.graph)
    let degreeSorted = renumbered(adjacency, newIndex: degree)
    let heaviestSorted = renumbered(adjacency, newIndex: heaviest)
    let inPlace = LocalityOrderedMatrix(adjacency)
    let inPlaceSorted = LocalityOrderedMatrix(adjacency, sortedColumns: true)
    let narrow = BFloat16Matrix(adjacency)
    func permutedInput(_ order: [Int]) -> [Float] {
        var px = [Float](repeating: 0, count: n * h)
        for old in 0..<n { for j in 0..<h { px[order[old] * h + j] = x[old * h + j] } }
        return px
    }
    let variants = [
        Variant(name: "plain", run: { Kernels.spmm(adjacency, $0, columns: h, into: $1) }, input: x, row: { $0 }),
        Variant(name: "degree order, kernel only (X given permuted)", run: { Kernels.spmm(degreeSorted, $0, columns: h, into: $1) },
                input: permutedInput(degree), row: { degree[$0] }),
        Variant(name: "users by heaviest song, kernel only", run: { Kernels.spmm(heaviestSorted, $0, columns: h, into: $1) },
                input: permutedInput(heaviest), row: { heaviest[$0] }),
        Variant(name: "degree order, entries in place (bit-identical), X and Y copied", run: { inPlace.multiply($0, columns: h, into: $1) }, input: x, row: { $0 }),
        Variant(name: "degree order, columns sorted, X and Y copied", run: { inPlaceSorted.multiply($0, columns: h, into: $1) }, input: x, row: { $0 }),
        Variant(name: "bfloat16 values", run: { narrow.multiply($0, columns: h, into: $1) }, input: x, row: { $0 }),
    ]
    var outputs = variants.map { _ in [Float](repeating: 0, count: n * h) }
    var seconds = variants.map { _ in [Double]() }
    for _ in 0..<repeats {
        for (v, variant) in variants.enumerated() {
            let start = Date()
            variant.input.withUnsafeBufferPointer { input in outputs[v].withUnsafeMutableBufferPointer { variant.run(input.baseAddress!, $0.baseAddress!) } }
            seconds[v].append(Date().timeIntervalSince(start))
        }
    }
    let report = variants.enumerated().map { v, variant -> [String: Any] in
        var difference: Float = 0
        for r in 0..<n { for j in 0..<h { difference = max(difference, abs(outputs[v][variant.row(r) * h + j] - outputs[0][r * h + j])) } }
        let sorted = seconds[v].sorted()
        return ["variant": variant.name, "median_seconds": sorted[sorted.count / 2], "best_seconds": sorted[0],
                "max_abs_difference": Double(difference)]
    }
    outputs = []

    // One training step (of `batchesPerEpoch`), timed by part, with the default model and features.
    let model = GCNModel<Float>(config: GCNConfig(), userCount: userCount, itemCount: itemCount, adjacency: adjacency, features: features)
    let training = TrainingConfig()
    let trainer = Trainer(model: model, data: data, config: training)
    var parameters = trainer.freshParameters()
    var batch = EdgeBatch()
    let batchSize = (listens.count + training.batchesPerEpoch - 1) / training.batchesPerEpoch
    for e in 0..<min(batchSize, listens.count) {
        batch.users.append(listens.users[e])
        batch.items.append(listens.items[e])
        batch.targets.append(log1pf(listens.plays[e]))
        batch.negatives.append(Int32(rng.nextInt(below: itemCount)))
    }
    var gradients = [Float](repeating: 0, count: parameters.count)
    var optimizer = AdamW(parameterCount: parameters.count, learningRate: 0.01, weightDecay: 0, decayMask: model.decayMask)
    var start = Date()
    let activations = model.forward(parameters)
    let forwardSeconds = Date().timeIntervalSince(start)
    start = Date()
    _ = gradients.withUnsafeMutableBufferPointer { model.loss(parameters, activations, batch: batch, gradients: $0) }
    let lossSeconds = Date().timeIntervalSince(start)
    start = Date()
    optimizer.update(&parameters, gradients: gradients)
    let updateSeconds = Date().timeIntervalSince(start)

    let json: [String: Any] = [
        "users": userCount, "items": itemCount, "listens": listens.count, "nonzeros": adjacency.nonZeroCount, "hidden": h,
        "load_seconds": loadSeconds, "setup_seconds": setupSeconds, "repeats": repeats,
        "spmm": report,
        "step": [
            "edges": batch.count, "parameters": parameters.count, "forward_seconds": forwardSeconds,
            "loss_and_backward_seconds": lossSeconds, "adamw_seconds": updateSeconds,
            "spmm_per_forward": GCNModel<Float>.layerCount, "spmm_per_backward": GCNModel<Float>.layerCount,
        ],
        "peak_rss_mib": ProcessStats.peakRSSMiB,
    ]
    print(String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
}

/// The listens of `--store` (with its catalog's hashed text features) or the generated `--scale` graph.
func leverData() throws -> (users: Int, items: Int, listens: ListenTable, features: SparseMatrix<Float>) {
    if let path = argument("--store") {
        let store = try GraphStore(path: path)
        let catalog = try store.catalog()
        let features = ItemFeatures.matrix(catalog, embedder: HashingEmbedder())
        return (catalog.userExternalIDs.count, catalog.itemExternalIDs.count, try store.listens(), features)
    }
    let graph = generatedScaleGraph()
    let texts = (0..<graph.items).map { "song \($0 % 977) title \($0 % 131) artist \($0 % 10_000)" }
    return (graph.users, graph.items, graph.listens, HashingEmbedder().embed(texts))
}

/// A new index for every node: users by degree, then items by degree, each largest first (ties by id).
func degreeOrder(_ graph: BipartiteGraph) -> [Int] {
    let users = (0..<graph.userCount).sorted { (graph.userItems.degree($0), -$0) > (graph.userItems.degree($1), -$1) }
    let items = (0..<graph.itemCount).sorted { (graph.itemUsers.degree($0), -$0) > (graph.itemUsers.degree($1), -$1) }
    var newIndex = [Int](repeating: 0, count: graph.userCount + graph.itemCount)
    for (position, user) in users.enumerated() { newIndex[user] = position }
    for (position, item) in items.enumerated() { newIndex[graph.userCount + item] = graph.userCount + position }
    return newIndex
}

/// Items by degree as in `degreeOrder`; users grouped by their most played song (in the items' new order),
/// so the listeners an item row gathers are more often neighbours in memory.
func heaviestSongOrder(_ graph: BipartiteGraph) -> [Int] {
    var newIndex = degreeOrder(graph)
    let heaviest = (0..<graph.userCount).map { u -> Int in
        var best = (weight: -Float.infinity, item: Int.max)
        for e in graph.userItems.offsets[u]..<graph.userItems.offsets[u + 1] {
            let item = newIndex[graph.userCount + Int(graph.userItems.targets[e])]
            let weight = graph.userItems.weights[e]
            if weight > best.weight || (weight == best.weight && item < best.item) { best = (weight, item) }
        }
        return best.item
    }
    let users = (0..<graph.userCount).sorted { (heaviest[$0], $0) < (heaviest[$1], $1) }
    for (position, user) in users.enumerated() { newIndex[user] = position }
    return newIndex
}

/// P·A·Pᵀ for the permutation `newIndex` (old node → new node), columns sorted within each row (or left
/// in the old row's order).
func renumbered(_ a: SparseMatrix<Float>, newIndex: [Int], sortColumns: Bool = true) -> SparseMatrix<Float> {
    var oldOf = [Int](repeating: 0, count: a.rows)
    for (old, new) in newIndex.enumerated() { oldOf[new] = old }
    var offsets = [0]
    offsets.reserveCapacity(a.rows + 1)
    var indices = [Int32]()
    var values = [Float]()
    indices.reserveCapacity(a.nonZeroCount)
    values.reserveCapacity(a.nonZeroCount)
    var row: [(Int32, Float)] = []
    for new in 0..<a.rows {
        let old = oldOf[new]
        row.removeAll(keepingCapacity: true)
        for e in a.offsets[old]..<a.offsets[old + 1] { row.append((Int32(newIndex[Int(a.indices[e])]), a.values[e])) }
        if sortColumns { row.sort { $0.0 < $1.0 } }
        for (column, value) in row {
            indices.append(column)
            values.append(value)
        }
        offsets.append(indices.count)
    }
    return SparseMatrix(rows: a.rows, columns: a.columns, offsets: offsets, indices: indices, values: values)
}

/// Â with each value kept as bfloat16: the upper 16 bits of its Float, rounded to nearest even. Widening is
/// a shift, so the loop costs what the Float one does; only the value stream shrinks (4 → 2 bytes a nonzero).
struct BFloat16Matrix {
    let rows: Int
    let offsets: [Int]
    let indices: [Int32]
    let values: [UInt16]

    init(_ a: SparseMatrix<Float>) {
        rows = a.rows
        offsets = a.offsets
        indices = a.indices
        values = a.values.map { value in
            let bits = value.bitPattern
            return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
        }
    }

    /// Y ← Â·X. Shapes: Â (R, C) · X (C, H) → Y (R, H), H a multiple of 16.
    func multiply(_ x: UnsafePointer<Float>, columns h: Int, into y: UnsafeMutablePointer<Float>) {
        precondition(h % 16 == 0)
        offsets.withUnsafeBufferPointer { offsets in
            indices.withUnsafeBufferPointer { indices in
                values.withUnsafeBufferPointer { values in
                    for row in 0..<rows {  // four accumulators, 64 columns a pass, as `Kernels.spmm`
                        let out = UnsafeMutableRawPointer(y + row * h)
                        var base = 0
                        while base + 256 <= h * 4 {
                            var a0 = SIMD16<Float>.zero, a1 = SIMD16<Float>.zero, a2 = SIMD16<Float>.zero, a3 = SIMD16<Float>.zero
                            for e in offsets[row]..<offsets[row + 1] {
                                let v = Float(bitPattern: UInt32(values[e]) << 16)
                                let source = UnsafeRawPointer(x + Int(indices[e]) * h) + base
                                a0 += v * source.loadUnaligned(as: SIMD16<Float>.self)
                                a1 += v * source.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
                                a2 += v * source.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
                                a3 += v * source.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
                            }
                            out.storeBytes(of: a0, toByteOffset: base, as: SIMD16<Float>.self)
                            out.storeBytes(of: a1, toByteOffset: base + 64, as: SIMD16<Float>.self)
                            out.storeBytes(of: a2, toByteOffset: base + 128, as: SIMD16<Float>.self)
                            out.storeBytes(of: a3, toByteOffset: base + 192, as: SIMD16<Float>.self)
                            base += 256
                        }
                        while base < h * 4 {
                            var acc = SIMD16<Float>.zero
                            for e in offsets[row]..<offsets[row + 1] {
                                let v = Float(bitPattern: UInt32(values[e]) << 16)
                                acc += v * (UnsafeRawPointer(x + Int(indices[e]) * h) + base).loadUnaligned(as: SIMD16<Float>.self)
                            }
                            out.storeBytes(of: acc, toByteOffset: base, as: SIMD16<Float>.self)
                            base += 64
                        }
                    }
                }
            }
        }
    }
}

/// Â·X with the nodes renumbered busiest first, so that the rows of X a product reads most often sit
/// together in memory (issue 17's SpMM-locality lever, measured here and not kept: README, "Training
/// levers at seed scale").
///
/// ```
/// π: nodes by nonzeros per row, most first (ties by index);  P the permutation matrix of π
/// Â·X = Pᵀ · (P Â Pᵀ) · (P X)
/// ```
/// P X is one gather of X's rows into a scratch buffer, and the product's rows are copied back to Y's
/// order (row r to π⁻¹(r)). By default each row of P Â Pᵀ keeps its entries in Â's order, so every output value is
/// summed in the same order as `Kernels.spmm(Â, X)`: the result is bit-identical. With `sortedColumns` a
/// row's entries are sorted by their new column, so the gathers walk forward through P X (the sums then
/// differ from Â's in their last bits).
///
/// Shapes: Â (N, N) · X (N, H) → Y (N, H). Memory: a second copy of Â, and a scratch (N, H) per product.
struct LocalityOrderedMatrix {
    /// P Â Pᵀ (`renumbered`), each row's entries in the original row's order unless `sortedColumns`.
    let permuted: SparseMatrix<Float>
    /// π⁻¹: row r of `permuted` is node `node[r]`.
    let node: [Int32]

    /// - Complexity: O(N log N + nnz), and O(nnz log d) more with `sortedColumns`.
    init(_ a: SparseMatrix<Float>, sortedColumns: Bool = false) {
        precondition(a.rows == a.columns, "locality ordering needs a square matrix, got \(a.rows)×\(a.columns)")
        let order = (0..<a.rows).sorted {
            let (d0, d1) = (a.offsets[$0 + 1] - a.offsets[$0], a.offsets[$1 + 1] - a.offsets[$1])
            return d0 != d1 ? d0 > d1 : $0 < $1
        }
        var position = [Int](repeating: 0, count: a.rows)
        for (row, old) in order.enumerated() { position[old] = row }
        permuted = renumbered(a, newIndex: position, sortColumns: sortedColumns)
        node = order.map(Int32.init)
    }

    /// Y ← Â·X, bit-identical to `Kernels.spmm(Â, X, columns: h, into: Y)` unless built with `sortedColumns`.
    /// Shapes: X (N, H) → Y (N, H).
    func multiply(_ x: UnsafePointer<Float>, columns h: Int, into y: UnsafeMutablePointer<Float>) {
        let n = permuted.rows
        let gathered = [Float](unsafeUninitializedCapacity: n * h) { buffer, count in
            for row in 0..<n { (buffer.baseAddress! + row * h).initialize(from: x + Int(node[row]) * h, count: h) }
            count = n * h
        }
        let product = [Float](unsafeUninitializedCapacity: n * h) { buffer, count in
            gathered.withUnsafeBufferPointer { Kernels.spmm(permuted, $0.baseAddress!, columns: h, into: buffer.baseAddress!) }
            count = n * h
        }
        product.withUnsafeBufferPointer { py in
            for row in 0..<n { (y + Int(node[row]) * h).update(from: py.baseAddress! + row * h, count: h) }
        }
    }
}
