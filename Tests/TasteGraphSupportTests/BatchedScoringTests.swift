import Testing

import TasteGraphSupport

/// The sgemm scoring kernel agrees with its naive-loop twin on random shapes, including one user, one item,
/// width 1, repeated users, no users, and with and without the item bias.
@Suite struct BatchedScoringTests {
    @Test(arguments: [(0, 5, 3), (1, 1, 1), (3, 7, 1), (4, 1, 16), (9, 13, 5), (2, 40, 32)])
    func matchesTheReference(users userCount: Int, items: Int, width: Int) {
        var rng = SplitMix64(seed: UInt64(userCount * 1000 + items * 10 + width))
        let rowCount = max(userCount, 1) + 2
        let userRows = (0..<(rowCount * width)).map { _ in Float(rng.nextUnit()) * 2 - 1 }
        let itemRows = (0..<(items * width)).map { _ in Float(rng.nextUnit()) * 2 - 1 }
        let bias = (0..<items).map { _ in Float(rng.nextUnit()) - 0.5 }
        let users = (0..<userCount).map { _ in rng.nextInt(below: rowCount) }
        for itemBias in [nil, bias] {
            let expected = BatchedScoring.scoresReference(users: users, userRows: userRows, itemRows: itemRows, width: width, itemBias: itemBias)
            var out = [Float](repeating: .nan, count: users.count * items)
            out.withUnsafeMutableBufferPointer { o in
                userRows.withUnsafeBufferPointer { p in
                    itemRows.withUnsafeBufferPointer { q in
                        if let itemBias {
                            itemBias.withUnsafeBufferPointer { c in
                                BatchedScoring.scores(users: users, userRows: p, itemRows: q, width: width, itemBias: c, into: o)
                            }
                        } else {
                            BatchedScoring.scores(users: users, userRows: p, itemRows: q, width: width, into: o)
                        }
                    }
                }
            }
            #expect(out.count == expected.count)
            let maxdiff = zip(out, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(maxdiff < 1e-5, "maxdiff \(maxdiff) for \(userCount)×\(items)×\(width), bias \(itemBias != nil)")
        }
    }

    /// A planted case worked by hand: S = P[users]·Qᵀ + c.
    @Test func plantedScores() {
        let p: [Float] = [1, 0, 0, 2, 3, -1]          // three users, width 2
        let q: [Float] = [1, 1, 2, -1]                // two items
        let c: [Float] = [0.5, -1]
        var out = [Float](repeating: 0, count: 4)
        out.withUnsafeMutableBufferPointer { o in
            p.withUnsafeBufferPointer { pb in
                q.withUnsafeBufferPointer { qb in
                    c.withUnsafeBufferPointer { cb in
                        BatchedScoring.scores(users: [2, 1], userRows: pb, itemRows: qb, width: 2, itemBias: cb, into: o)
                    }
                }
            }
        }
        let expected: [Float] = [2.5, 6, 2.5, -3]
        #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(out)")
    }
}

/// `BatchedScoring.topK` (tiles of items, a running top-k per user) picks `TopK.select`'s lists over the
/// full score rows, with the same `keep`, for tiles that do and do not divide the catalog.
@Suite struct TiledTopKTests {
    @Test(arguments: [(5, 100, 8, 7, 3), (3, 64, 4, 64, 10), (1, 37, 2, 16, 37), (4, 50, 3, 1_000, 0), (6, 200, 16, 33, 25)])
    func picksTheFullRowsLists(users userCount: Int, items: Int, width: Int, tile: Int, k: Int) {
        var rng = SplitMix64(seed: UInt64(userCount * 7 + items * 3 + tile))
        let userRows = (0..<(userCount * width)).map { _ in Float(rng.nextUnit()) * 2 - 1 }
        let itemRows = (0..<(items * width)).map { _ in Float(rng.nextUnit()) * 2 - 1 }
        let bias = (0..<items).map { _ in Float(rng.nextUnit()) - 0.5 }
        let users = Array(0..<userCount)
        let keep: (Int, Int) -> Bool = { row, item in (item + row) % 5 != 0 }
        let reference = BatchedScoring.scoresReference(users: users, userRows: userRows, itemRows: itemRows, width: width, itemBias: bias)
        let lists = userRows.withUnsafeBufferPointer { p in
            itemRows.withUnsafeBufferPointer { q in
                bias.withUnsafeBufferPointer { c in
                    BatchedScoring.topK(users: users, userRows: p, itemRows: q, width: width, itemBias: c, k: k, tile: tile, keep: keep)
                }
            }
        }
        #expect(lists.count == userCount)
        for row in 0..<userCount {
            let scores = Array(reference[(row * items)..<((row + 1) * items)])
            let expected = TopK.select(k, of: scores, where: { keep(row, $0) })
            #expect(lists[row].map(\.item) == expected, "row \(row)")
            #expect(lists[row].allSatisfy { abs($0.score - scores[$0.item]) < 1e-5 })
        }
    }

    /// The running top-k over runs equals one selection over their concatenation: ties go to the lower
    /// index, NaN and infinities never rank, and `keep` is honoured.
    @Test func runsEqualOneSelection() {
        var rng = SplitMix64(seed: 11)
        var scores = (0..<1_000).map { _ in Float(rng.nextInt(below: 40)) }  // many ties
        scores[3] = .nan
        scores[500] = .infinity
        scores[501] = -.infinity
        for k in [0, 1, 5, 20, 999, 2_000] {
            var running = RunningTopK(k: k)
            var first = 0
            scores.withUnsafeBufferPointer { all in
                while first < all.count {
                    let count = min(all.count - first, 1 + first % 37)
                    running.offer(UnsafeBufferPointer(rebasing: all[first..<(first + count)]), firstIndex: first) { $0 % 3 != 1 }
                    first += count
                }
            }
            let expected = TopK.select(k, of: scores, where: { scores[$0].isFinite && $0 % 3 != 1 })
            #expect(running.sorted().map(\.item) == expected, "k \(k)")
        }
    }
}
