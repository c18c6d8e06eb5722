import TasteGraphCore
import TasteGraphGraph
import TasteGraphSupport
import TestSupport
import Testing

/// The seeded per-user holdout and the test-set fingerprint.
@Suite struct HoldoutSplitTests {
    /// Listen counts per user: below 3 (kept whole), at 3 and above; three users of each count.
    static let counts = [1, 2, 3, 4, 7, 9, 12, 14]
    static let listens = randomListens(listensPerUser: counts + counts + counts, itemCount: 20, seed: 99)

    /// How many listens a user has in one part of a table.
    static func perUser(_ table: ListenTable) -> [Int32: Int] {
        var result: [Int32: Int] = [:]
        for user in table.users { result[user, default: 0] += 1 }
        return result
    }

    @Test func sameSeedSameSplitAnotherSeedAnother() {
        let a = InteractionSplit.holdout(Self.listens, validationFraction: 0.1, testFraction: 0.2, seed: 5)
        let b = InteractionSplit.holdout(Self.listens, validationFraction: 0.1, testFraction: 0.2, seed: 5)
        #expect(a.train == b.train && a.validation == b.validation && a.test == b.test)
        let c = InteractionSplit.holdout(Self.listens, validationFraction: 0.1, testFraction: 0.2, seed: 6)
        #expect(sortedTriples(c.test) != sortedTriples(a.test), "seed 6 held out the same listens as seed 5")
        #expect(sortedTriples(c.validation) != sortedTriples(a.validation))
        // Still the same sizes: the seed picks which listens, not how many.
        #expect(Self.perUser(c.test) == Self.perUser(a.test) && Self.perUser(c.validation) == Self.perUser(a.validation))
    }

    /// Per-user sizes, rounded down, worked out by hand for each listen count n: n → (validation, test).
    /// Users with fewer than 3 listens keep them all in train; every user keeps at least one train listen,
    /// even when the fractions add up to nearly 1.
    @Test(arguments: [
        (0.1, 0.2, [1: (0, 0), 2: (0, 0), 3: (0, 0), 4: (0, 0), 7: (0, 1), 9: (0, 1), 12: (1, 2), 14: (1, 2)]),
        (0.55, 0.35, [1: (0, 0), 2: (0, 0), 3: (1, 1), 4: (2, 1), 7: (3, 2), 9: (4, 3), 12: (6, 4), 14: (7, 4)]),
        (0.0, 0.5, [1: (0, 0), 2: (0, 0), 3: (0, 1), 4: (0, 2), 7: (0, 3), 9: (0, 4), 12: (0, 6), 14: (0, 7)]),
        (0.5, 0.49, [1: (0, 0), 2: (0, 0), 3: (1, 1), 4: (2, 1), 7: (3, 3), 9: (4, 4), 12: (6, 5), 14: (7, 6)]),
    ] as [(Double, Double, [Int: (Int, Int)])])
    func fractionsAreRespectedPerUser(validationFraction: Double, testFraction: Double, expected: [Int: (Int, Int)]) {
        let split = InteractionSplit.holdout(Self.listens, validationFraction: validationFraction, testFraction: testFraction, seed: 11)
        let all = Self.perUser(Self.listens), train = Self.perUser(split.train)
        let validation = Self.perUser(split.validation), test = Self.perUser(split.test)
        #expect(all.count == 24)
        for (user, n) in all {
            let (wantValidation, wantTest) = expected[n]!
            #expect(validation[user, default: 0] == wantValidation, "user \(user) with \(n) listens: validation")
            #expect(test[user, default: 0] == wantTest, "user \(user) with \(n) listens: test")
            #expect(train[user, default: 0] == n - wantValidation - wantTest, "user \(user) with \(n) listens: train")
            #expect(train[user, default: 0] >= 1, "user \(user) kept no train listen")
            if n < 3 { #expect(train[user] == n, "user \(user) with \(n) listens must keep them all in train") }
        }
        // Nothing lost, nothing invented, nothing in two parts: train ∪ validation ∪ test = the input (multisets).
        #expect(sortedTriples(split.train, split.validation, split.test) == sortedTriples(Self.listens))
    }

    /// The fingerprint depends on the set of held-out (user, item) pairs only: not on row order or play counts.
    @Test func testFingerprintIgnoresOrderAndSeesEveryPair() {
        let split = InteractionSplit.holdout(Self.listens, validationFraction: 0.1, testFraction: 0.2, seed: 5)
        let test = split.test
        #expect(test.count > 3)
        let fingerprint = InteractionSplit.testFingerprint(test)
        #expect(split.testFingerprint == fingerprint)
        #expect(fingerprint.count == 64 && fingerprint.allSatisfy { $0.isHexDigit })
        let reversed = ListenTable(users: test.users.reversed(), items: test.items.reversed(), plays: test.plays.reversed())
        #expect(InteractionSplit.testFingerprint(reversed) == fingerprint)
        var rng = SplitMix64(seed: 3)
        var order = Array(0..<test.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
        let shuffled = ListenTable(users: order.map { test.users[$0] }, items: order.map { test.items[$0] }, plays: order.map { _ in 1 })
        #expect(InteractionSplit.testFingerprint(shuffled) == fingerprint, "row order and play counts must not matter")

        var oneLess = test
        oneLess.users.removeLast(); oneLess.items.removeLast(); oneLess.plays.removeLast()
        #expect(InteractionSplit.testFingerprint(oneLess) != fingerprint)
        var otherItem = test
        otherItem.items[0] = (otherItem.items[0] + 1) % 20
        #expect(InteractionSplit.testFingerprint(otherItem) != fingerprint)
        var otherUser = test
        otherUser.users[0] = (otherUser.users[0] + 1) % 24
        #expect(InteractionSplit.testFingerprint(otherUser) != fingerprint)
        // (user 1, item 2) is not (user 2, item 1).
        #expect(InteractionSplit.testFingerprint(ListenTable(users: [1], items: [2], plays: [1]))
            != InteractionSplit.testFingerprint(ListenTable(users: [2], items: [1], plays: [1])))
        #expect(InteractionSplit.testFingerprint(ListenTable()) != fingerprint)
        let otherSeed = InteractionSplit.holdout(Self.listens, validationFraction: 0.1, testFraction: 0.2, seed: 6)
        #expect(otherSeed.testFingerprint != fingerprint)
    }

    /// An explicit split keeps its test set; validation is carved out of train by the same seeded holdout.
    @Test func carvingValidationKeepsTheTestSet() {
        let planted = PlantedGraph.tasteGroups()
        let split = InteractionSplit.carvingValidation(train: planted.train, test: planted.test, fraction: 0.2, seed: 4)
        #expect(split.test == planted.test)
        #expect(sortedTriples(split.train, split.validation) == sortedTriples(planted.train))
        let direct = InteractionSplit.holdout(planted.train, validationFraction: 0.2, testFraction: 0, seed: 4)
        #expect(split.train == direct.train && split.validation == direct.validation && direct.test.count == 0)
        // 10 train listens per planted user: 2 of them go to validation.
        #expect(Self.perUser(split.validation).values.allSatisfy { $0 == 2 } && Self.perUser(split.validation).count == planted.userCount)
    }
}
