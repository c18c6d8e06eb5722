@testable import TasteGraphAnalytics
import TasteGraphGraph
import TasteGraphStore
import TasteGraphSupport
import Testing

/// The user–user similarity graph and the small-segment merge, checked against references computed here.
@Suite struct SimilarityGraphTests {
    /// Every kept weight is the cosine of the two users' log1p vectors (computed here by merging their sorted
    /// rows), every user keeps each user clearly above its k-th best, and the graph is the same for 1 and 3
    /// workers, bit for bit.
    @Test func keptNeighborsAreTheBruteForceTopKForAnyThreadCount() throws {
        let store = try GraphStore(path: PlantedSample.shared.storePath)
        let catalog = try store.catalog()
        let graph = BipartiteGraph(userCount: catalog.userCount, itemCount: catalog.itemCount, listens: try store.listens(), weighting: .log1p)
        let k = 10
        let serial = UserSimilarityGraph(graph: graph, neighbors: k, listenersPerItem: 1_000_000, threads: 1)
        let threaded = UserSimilarityGraph(graph: graph, neighbors: k, listenersPerItem: 1_000_000, threads: 3)
        #expect(serial.edges.elementsEqual(threaded.edges, by: ==))
        #expect(serial.weights == threaded.weights)

        let rows = graph.userItems
        func row(_ u: Int) -> [(Int32, Double)] {
            (rows.offsets[u]..<rows.offsets[u + 1]).map { (rows.targets[$0], Double(rows.weights[$0])) }.sorted { $0.0 < $1.0 }
        }
        let sortedRows = (0..<graph.userCount).map(row)
        func cosine(_ a: Int, _ b: Int) -> Double {
            let x = sortedRows[a], y = sortedRows[b]
            var i = 0, j = 0, dot = 0.0
            while i < x.count && j < y.count {
                if x[i].0 == y[j].0 { dot += x[i].1 * y[j].1; i += 1; j += 1 } else if x[i].0 < y[j].0 { i += 1 } else { j += 1 }
            }
            let nx = x.reduce(0) { $0 + $1.1 * $1.1 }.squareRoot(), ny = y.reduce(0) { $0 + $1.1 * $1.1 }.squareRoot()
            return nx == 0 || ny == 0 ? 0 : dot / (nx * ny)
        }
        var incident = [[Int: Double]](repeating: [:], count: graph.userCount)
        for (index, (u, v)) in serial.edges.enumerated() {
            #expect(u < v)
            incident[u][v] = serial.weights[index]
            incident[v][u] = serial.weights[index]
        }
        var checked = 0
        for u in stride(from: 0, to: graph.userCount, by: max(1, graph.userCount / 60)) {
            let cosines = (0..<graph.userCount).filter { $0 != u }.map { ($0, cosine(u, $0)) }.filter { $0.1 > 0 }
            let ranked = cosines.sorted { $0.1 > $1.1 }
            guard let kth = ranked.prefix(k).last?.1 else { continue }
            for (v, c) in ranked where c > kth + 1e-9 {
                #expect(incident[u][v] != nil, "user \(u) lost neighbour \(v) (cosine \(c), k-th \(kth))")
            }
            #expect(incident[u].count >= min(k, ranked.count))
            for (v, weight) in incident[u] { #expect(abs(weight - cosine(u, v)) < 1e-9) }
            checked += 1
        }
        #expect(checked >= 30)
    }

    /// Small segments merge smallest first (ties: lower id) into their strongest tie, chain through a segment
    /// that is still small, and are unassigned with no tie outside; a stale queue entry (a segment that grew)
    /// is skipped.
    @Test func smallSegmentsMergeSmallestFirstAndChain() {
        // Segments: 0 = {0…4}, 1 = {5, 6}, 2 = {7, 8, 9}, 3 = {10}, 4 = {11}, 5 = {12}, 6 = {13, 14}; minSize 4.
        let membership: [Int?] = [0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 3, 4, 5, 6, 6]
        let edges: [(Int, Int, Double)] = [
            (0, 1, 1), (1, 2, 1), (2, 3, 1), (3, 4, 1), (7, 8, 1), (8, 9, 1), (13, 14, 1),
            (7, 10, 1.0), (0, 10, 0.5),  // 3 → 2
            (5, 7, 0.3), (1, 6, 0.2), (2, 5, 0.2),  // 1 → 0 (0.4 against 0.3)
            (12, 13, 1.0),  // 5 → 6, still small
            (0, 14, 0.1),  // then 6 → 0
        ]
        let graph = UserSimilarityGraph(userCount: 15, edges: edges.map { ($0.0, $0.1) }, weights: edges.map(\.2))
        let merged = graph.mergingSmallSegments(membership, minSize: 4)
        #expect(merged == [0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, nil, 0, 0, 0])
        #expect(graph.mergingSmallSegments(membership, minSize: 1) == membership)
    }

    /// The heap behind both: pops come out ascending, and replaceTop keeps the heap order (a bounded best-k).
    @Test func minHeapPopsAscendingAndReplacesItsTop() {
        var rng = SplitMix64(seed: 11)
        let values = (0..<200).map { _ in rng.nextInt(below: 50) }
        var heap = MinHeap<Int>()
        for v in values { heap.push(v) }
        var popped: [Int] = []
        while let v = heap.pop() { popped.append(v) }
        #expect(popped == values.sorted())
        var largest = MinHeap<Int>(capacity: 10)
        for v in values {
            if largest.count < 10 { largest.push(v) } else if largest.top! < v { largest.replaceTop(with: v) }
        }
        #expect(largest.elements.sorted() == Array(values.sorted().suffix(10)))
    }
}

