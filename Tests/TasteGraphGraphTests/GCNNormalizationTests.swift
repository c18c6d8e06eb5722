import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphSupport
import Testing

/// `gcnNormalized`: Â = D^-1/2 (A + I) D^-1/2 over the nodes [users; items].
@Suite struct GCNNormalizationTests {
    /// Â as a dense N × N matrix in Double.
    func dense(_ a: SparseMatrix<Float>) -> [[Double]] {
        let flat = a.dense()
        return (0..<a.rows).map { r in (0..<a.columns).map { Double(flat[r * a.columns + $0]) } }
    }

    /// The definition, written out densely in Double from the listens (the reference the sparse build must match).
    func reference(userCount: Int, itemCount: Int, listens: ListenTable, weighting: EdgeWeighting, selfLoops: Bool) -> [[Double]] {
        let n = userCount + itemCount
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for e in 0..<listens.count {
            let u = Int(listens.users[e]), i = userCount + Int(listens.items[e])
            let w = Double(weighting.weight(listens.plays[e]))
            a[u][i] += w
            a[i][u] += w
        }
        if selfLoops { for v in 0..<n { a[v][v] += 1 } }
        let degree = a.map { $0.reduce(0, +) }
        return (0..<n).map { r in
            (0..<n).map { c in degree[r] > 0 && degree[c] > 0 ? a[r][c] / (degree[r] * degree[c]).squareRoot() : 0 }
        }
    }

    /// 2 users, 2 items (N = 4), raw weights: u0–i0 ×2, u0–i1 ×1, u1–i1 ×3, values worked out by hand.
    @Test func handComputedValuesOnFourNodes() {
        let listens = ListenTable(users: [0, 0, 1], items: [0, 1, 1], plays: [2, 1, 3])
        let graph = BipartiteGraph(userCount: 2, itemCount: 2, listens: listens, weighting: .raw)
        // With self-loops the degrees (row sums of A + I) are u0 4, u1 4, i0 3, i1 5; nodes in order u0 u1 i0 i1.
        let withLoops: [[Double]] = [
            [1.0 / 4, 0, 2 / 12.0.squareRoot(), 1 / 20.0.squareRoot()],
            [0, 1.0 / 4, 0, 3 / 20.0.squareRoot()],
            [2 / 12.0.squareRoot(), 0, 1.0 / 3, 0],
            [1 / 20.0.squareRoot(), 3 / 20.0.squareRoot(), 0, 1.0 / 5],
        ]
        // Without: degrees u0 3, u1 3, i0 2, i1 4, and a zero diagonal.
        let withoutLoops: [[Double]] = [
            [0, 0, 2 / 6.0.squareRoot(), 1 / 12.0.squareRoot()],
            [0, 0, 0, 3 / 12.0.squareRoot()],
            [2 / 6.0.squareRoot(), 0, 0, 0],
            [1 / 12.0.squareRoot(), 3 / 12.0.squareRoot(), 0, 0],
        ]
        for (selfLoops, expected) in [(true, withLoops), (false, withoutLoops)] {
            let a = graph.gcnNormalized(selfLoops: selfLoops)
            #expect(a.rows == 4 && a.columns == 4)
            #expect(a.nonZeroCount == 2 * 3 + (selfLoops ? 4 : 0), "one entry per edge direction, plus the self-loops")
            let got = dense(a)
            for r in 0..<4 {
                for c in 0..<4 {
                    #expect(abs(got[r][c] - expected[r][c]) < 1e-6, "selfLoops \(selfLoops): Â[\(r)][\(c)] = \(got[r][c]), expected \(expected[r][c])")
                }
            }
        }
    }

    /// On random graphs (with isolated users and items), for both weightings and with or without self-loops,
    /// Â equals the dense definition and is symmetric.
    @Test(arguments: [(EdgeWeighting.raw, true), (.raw, false), (.log1p, true), (.log1p, false)])
    func matchesTheDefinitionAndIsSymmetric(weighting: EdgeWeighting, selfLoops: Bool) {
        let listens = randomListens(listensPerUser: [3, 0, 7, 1, 5, 2, 8, 0, 4, 6, 1, 9], itemCount: 15, seed: 17)
        let graph = BipartiteGraph(userCount: 12, itemCount: 15, listens: listens, weighting: weighting)
        let a = graph.gcnNormalized(selfLoops: selfLoops)
        let got = dense(a)
        let want = reference(userCount: 12, itemCount: 15, listens: listens, weighting: weighting, selfLoops: selfLoops)
        let n = 27
        var worst = 0.0, asymmetry = 0.0
        for r in 0..<n {
            for c in 0..<n {
                worst = max(worst, abs(got[r][c] - want[r][c]))
                asymmetry = max(asymmetry, abs(got[r][c] - got[c][r]))
            }
        }
        #expect(worst < 1e-6, "Â maxdiff from the definition \(worst)")
        #expect(asymmetry < 1e-7, "Â − Âᵀ max \(asymmetry)")
        // No entry twice in a row (dense() sums duplicates, which would hide them from the comparison above).
        for r in 0..<n {
            let columns = a.indices[a.offsets[r]..<a.offsets[r + 1]]
            #expect(Set(columns).count == columns.count, "row \(r) repeats a column")
        }
    }

    /// Isolated nodes (no listens, or only zero-play listens) get 0 rows and columns without self-loops and
    /// just their self-loop (1) with them; nothing is inf or NaN.
    @Test func isolatedNodesGetZeroNotInfinity() {
        // user 2 and item 3 have no listens; user 1's only listen (item 2) has 0 plays, so both have degree 0.
        let listens = ListenTable(users: [0, 0, 1], items: [0, 1, 2], plays: [5, 2, 0])
        for weighting in EdgeWeighting.allCases {
            let graph = BipartiteGraph(userCount: 3, itemCount: 4, listens: listens, weighting: weighting)
            let n = 7
            let isolated = [1, 2, 3 + 2, 3 + 3]  // users 1, 2; items 2, 3
            for selfLoops in [false, true] {
                let a = graph.gcnNormalized(selfLoops: selfLoops)
                #expect(a.values.allSatisfy { $0.isFinite }, "\(weighting), selfLoops \(selfLoops): non-finite entry")
                let got = dense(a)
                for v in isolated {
                    for c in 0..<n where c != v {
                        #expect(got[v][c] == 0 && got[c][v] == 0, "\(weighting), selfLoops \(selfLoops): node \(v) touches \(c)")
                    }
                    #expect(got[v][v] == (selfLoops ? 1 : 0), "\(weighting), selfLoops \(selfLoops): node \(v) diagonal \(got[v][v])")
                }
            }
        }
        // No listens at all: the identity with self-loops, the zero matrix (no entries) without.
        let empty = BipartiteGraph(userCount: 2, itemCount: 2, listens: ListenTable(), weighting: .log1p)
        #expect(empty.gcnNormalized(selfLoops: true).dense() == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
        #expect(empty.gcnNormalized(selfLoops: false).nonZeroCount == 0)
        #expect(empty.gcnNormalized(selfLoops: false).dense().allSatisfy { $0 == 0 })
    }

    /// The spectrum lies in [-1, 1]: power iteration on a random graph finds the largest |λ| ≤ 1, and
    /// v = D^1/2 · 1 is an eigenvector with eigenvalue exactly 1 (so the bound is reached, not just respected).
    @Test(arguments: [true, false])
    func largestEigenvalueMagnitudeIsOne(selfLoops: Bool) {
        let userCount = 9, itemCount = 11, n = 20
        let listens = randomListens(listensPerUser: [4, 2, 6, 3, 5, 1, 7, 2, 4], itemCount: itemCount, seed: 23)
        let graph = BipartiteGraph(userCount: userCount, itemCount: itemCount, listens: listens, weighting: .log1p)
        let a = dense(graph.gcnNormalized(selfLoops: selfLoops))
        func times(_ x: [Double]) -> [Double] { a.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } } }
        func norm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        var rng = SplitMix64(seed: 5)
        var x = (0..<n).map { _ in rng.nextUnit() * 2 - 1 }
        var estimate = 0.0
        for _ in 0..<2000 {
            let y = times(x)
            estimate = norm(y) / norm(x)  // ≤ max |λ| for a symmetric matrix, converging to it
            x = y.map { $0 / norm(y) }
        }
        #expect(estimate <= 1 + 1e-6, "largest |λ| estimate \(estimate)")
        #expect(estimate >= 1 - 1e-3, "largest |λ| estimate \(estimate): 1 should be an eigenvalue")
        // D^1/2 · 1: degree d_v = row sum of A (+ 1 with self-loops).
        var degree = [Double](repeating: selfLoops ? 1 : 0, count: n)
        for e in 0..<listens.count {
            let w = log1p(Double(listens.plays[e]))
            degree[Int(listens.users[e])] += w
            degree[userCount + Int(listens.items[e])] += w
        }
        let v = degree.map { $0.squareRoot() }
        let av = times(v)
        #expect(zip(av, v).allSatisfy { abs($0 - $1) < 1e-5 }, "Â·D^1/2·1 ≠ D^1/2·1")
    }
}
