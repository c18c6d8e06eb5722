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
