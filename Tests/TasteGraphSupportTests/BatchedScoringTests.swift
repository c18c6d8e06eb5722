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

/// `BatchedScoring.topK(…ordered:…)` (items by norm, stopping once no item left can enter) picks the same
/// lists as `TopK.select` over the full rows, on embeddings where a few items carry large norms (as a
/// popularity-biased model's do) and on plain ones; ties still go to the lower item index.
@Suite struct NormOrderedTopKTests {
    @Test(arguments: [(5, 300, 8, 16, 10), (3, 64, 4, 64, 3), (1, 37, 2, 16, 37), (4, 50, 3, 1_000, 0), (6, 500, 16, 32, 20)])
    func picksTheFullRowsLists(users userCount: Int, items: Int, width: Int, tile: Int, k: Int) {
        var rng = SplitMix64(seed: UInt64(userCount * 11 + items * 5 + tile))
        let userRows = (0..<(userCount * width)).map { _ in Float(rng.nextUnit()) * 2 - 1 }
        var itemRows = (0..<(items * width)).map { _ in Float(rng.nextUnit()) * 2 - 1 }
        for item in 0..<items where item % 9 == 4 {  // a few "popular" items with large norms
            for j in 0..<width { itemRows[item * width + j] *= 6 }
        }
        let bias = (0..<items).map { _ in Float(rng.nextUnit()) - 0.5 }
        let users = Array(0..<userCount)
        let keep: (Int, Int) -> Bool = { row, item in (item + row) % 5 != 0 }
        for itemBias in [nil, bias] {
            let reference = BatchedScoring.scoresReference(users: users, userRows: userRows, itemRows: itemRows, width: width, itemBias: itemBias)
            let ordered = itemRows.withUnsafeBufferPointer { q in
                itemBias.map { b in b.withUnsafeBufferPointer { NormOrderedItems(itemRows: q, width: width, itemBias: $0) } }
                    ?? NormOrderedItems(itemRows: q, width: width)
            }
            let lists = userRows.withUnsafeBufferPointer { p in
                BatchedScoring.topK(users: users, userRows: p, ordered: ordered, k: k, tile: tile, keep: keep)
            }
            #expect(lists.count == userCount)
            for row in 0..<userCount {
                let scores = Array(reference[(row * items)..<((row + 1) * items)])
                let expected = TopK.select(k, of: scores, where: { keep(row, $0) })
                #expect(lists[row].map(\.item) == expected, "row \(row), bias \(itemBias != nil)")
                #expect(lists[row].allSatisfy { abs($0.score - scores[$0.item]) < 1e-5 })
            }
        }
    }

    /// Item 0 (norm 0.5, bias 0.5) ties item 1 (norm 1, bias 0) at 1 for the user (1, 0): it is visited
    /// after item 1, which is already held, and still takes the place by its lower index.
    @Test func aTieVisitedLaterGoesToTheLowerIndex() {
        let itemRows: [Float] = [0.5, 0, 1, 0, 0.25, 0]
        let bias: [Float] = [0.5, 0, 0]
        let user: [Float] = [1, 0]
        let ordered = itemRows.withUnsafeBufferPointer { q in bias.withUnsafeBufferPointer { NormOrderedItems(itemRows: q, width: 2, itemBias: $0) } }
        let lists = user.withUnsafeBufferPointer { BatchedScoring.topK(users: [0], userRows: $0, ordered: ordered, k: 1, tile: 1) { _, _ in true } }
        #expect(lists[0].map(\.item) == [0])
        #expect(lists[0].first?.score == 1)
    }

    /// A user's list, scores bit for bit, is the same at any place in blocks of any size and company
    /// (OpenBLAS rounds a row by its place in the block; the lists are rescored exactly), and its scores
    /// are `exactScores`'.
    @Test func aUsersListDoesNotDependOnItsPlaceInTheBlock() {
        var rng = SplitMix64(seed: 21)
        let userCount = 70, items = 900, width = 24
        let userRows = (0..<(userCount * width)).map { _ in Float(rng.nextUnit()) * 2 - 1 }
        let itemRows = (0..<(items * width)).map { _ in Float(rng.nextUnit()) * 2 - 1 }
        let bias = (0..<items).map { _ in Float(rng.nextUnit()) - 0.5 }
        let ordered = itemRows.withUnsafeBufferPointer { q in bias.withUnsafeBufferPointer { NormOrderedItems(itemRows: q, width: width, itemBias: $0) } }
        func lists(_ users: [Int]) -> [Int: [(item: Int, score: Float)]] {
            let picked = userRows.withUnsafeBufferPointer { p in
                BatchedScoring.topK(users: users, userRows: p, ordered: ordered, k: 12, tile: 128) { _, item in item % 4 != 1 }
            }
            return Dictionary(zip(users, picked), uniquingKeysWith: { first, _ in first })
        }
        let all = lists(Array(0..<userCount))
        let companies = [Array((0..<userCount).reversed()), Array(stride(from: 3, to: userCount, by: 7)), [41], Array(0..<33) + Array(0..<33)]
        for company in companies {
            for (user, list) in lists(company) {
                #expect(list.map(\.item) == all[user]!.map(\.item), "user \(user)")
                #expect(list.map(\.score) == all[user]!.map(\.score), "user \(user)")
            }
        }
        for user in [0, 41, 69] {
            let exact = userRows.withUnsafeBufferPointer { p in
                ordered.exactScores(userRow: UnsafeBufferPointer(rebasing: p[(user * width)..<((user + 1) * width)]), items: all[user]!.map(\.item))
            }
            #expect(exact.scores == all[user]!.map(\.score))
            #expect(exact.bound > 0 && exact.bound < 1e-3)
        }
    }
}

/// `RunningTopK`, the per-user selection behind `BatchedScoring.topK`.
@Suite struct RunningTopKTests {
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

    /// With a margin, `held()` is every kept finite pair within it of the k-th best (by brute force), across
    /// runs long enough to prune the band many times; `sorted()` is still the k best.
    @Test func aMarginHoldsEveryPairWithinItOfTheKthBest() {
        var rng = SplitMix64(seed: 13)
        let scores = (0..<20_000).map { i in i == 77 ? Float.nan : Float(rng.nextUnit()) + Float(i) * 1e-5 }
        for (k, margin) in [(1, Float(0.01)), (10, 0.05), (25, 0.0), (40, 0.3)] {
            var running = RunningTopK(k: k, margin: margin)
            scores.withUnsafeBufferPointer { all in
                for first in stride(from: 0, to: all.count, by: 333) {
                    running.offer(UnsafeBufferPointer(rebasing: all[first..<min(all.count, first + 333)]), firstIndex: first) { $0 % 3 != 0 }
                }
            }
            let expected = TopK.select(k, of: scores, where: { scores[$0].isFinite && $0 % 3 != 0 })
            #expect(running.sorted().map(\.item) == expected, "k \(k)")
            let kth = scores[expected.last!]
            let within = Set(scores.indices.filter { scores[$0].isFinite && $0 % 3 != 0 && scores[$0] >= kth - margin })
            #expect(Set(running.held().map(\.item)) == within, "k \(k), margin \(margin)")
            #expect(running.held().count == within.count)
        }
    }

    /// A bias added as the scores are offered gives the same list, scores bit for bit, as offering the
    /// sums formed first (both are the same float additions; no BLAS is involved).
    @Test func anOfferedBiasEqualsTheSumsFormedFirst() {
        var rng = SplitMix64(seed: 12)
        let scores = (0..<700).map { _ in Float(rng.nextUnit() * 4 - 2) }
        let bias = (0..<700).map { _ in Float(rng.nextInt(below: 8)) / 4 }  // ties after the sum
        let sums = zip(scores, bias).map { $0 + $1 }
        for k in [1, 7, 50, 700] {
            var added = RunningTopK(k: k)
            var formed = RunningTopK(k: k)
            scores.withUnsafeBufferPointer { s in
                bias.withUnsafeBufferPointer { b in
                    sums.withUnsafeBufferPointer { t in
                        for first in stride(from: 0, to: 700, by: 99) {
                            let range = first..<min(700, first + 99)
                            added.offer(UnsafeBufferPointer(rebasing: s[range]), adding: UnsafeBufferPointer(rebasing: b[range]), firstIndex: first) { $0 % 5 != 2 }
                            formed.offer(UnsafeBufferPointer(rebasing: t[range]), firstIndex: first) { $0 % 5 != 2 }
                        }
                    }
                }
            }
            #expect(added.sorted().map(\.item) == formed.sorted().map(\.item), "k \(k)")
            #expect(added.sorted().map(\.score) == formed.sorted().map(\.score), "k \(k)")
        }
    }
}

