import TasteGraphCore
import TasteGraphSupport

/// Train / validation / test listens.
public struct InteractionSplit: Sendable {
    public var train: ListenTable
    public var validation: ListenTable
    public var test: ListenTable

    public init(train: ListenTable, validation: ListenTable, test: ListenTable) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// A seeded per-user holdout: each user's listens are shuffled and `validationFraction` and
    /// `testFraction` of them (rounded down) are held out; users with fewer than 3 listens keep all of
    /// them in train, and every user keeps at least one train listen.
    public static func holdout(_ listens: ListenTable, validationFraction: Double, testFraction: Double, seed: UInt64) -> InteractionSplit {
        precondition(validationFraction >= 0 && testFraction >= 0 && validationFraction + testFraction < 1)
        var byUser: [Int32: [Int]] = [:]
        for e in 0..<listens.count { byUser[listens.users[e], default: []].append(e) }
        var split = InteractionSplit(train: ListenTable(), validation: ListenTable(), test: ListenTable())
        var rng = SplitMix64(seed: seed)
        for user in byUser.keys.sorted() {
            var edges = byUser[user]!
            for i in stride(from: edges.count - 1, to: 0, by: -1) { edges.swapAt(i, rng.nextInt(below: i + 1)) }
            let n = edges.count
            let testCount = n >= 3 ? Int(Double(n) * testFraction) : 0
            let validationCount = n >= 3 ? min(Int(Double(n) * validationFraction), n - testCount - 1) : 0
            for (position, e) in edges.enumerated() {
                let row = (listens.users[e], listens.items[e], listens.plays[e])
                if position < testCount {
                    split.test.append(user: row.0, item: row.1, plays: row.2)
                } else if position < testCount + validationCount {
                    split.validation.append(user: row.0, item: row.1, plays: row.2)
                } else {
                    split.train.append(user: row.0, item: row.1, plays: row.2)
                }
            }
        }
        return split
    }

    /// A fingerprint of this split's test listens (see `testFingerprint(_:)`).
    public var testFingerprint: String { Self.testFingerprint(test) }

    /// SHA-256 over the sorted (user, item) pairs of `test`, with their count: two splits share it exactly
    /// when they hold out the same listens. Model files record it, and evaluation refuses a model whose
    /// fingerprint differs from the evaluation split's, since that model may have trained on its test listens.
    public static func testFingerprint(_ test: ListenTable) -> String {
        var pairs = (0..<test.count).map { (test.users[$0], test.items[$0]) }
        pairs.sort { $0 < $1 }
        var hasher = SHA256()
        hasher.update(Array("test-listens:\(pairs.count)\n".utf8))
        for (user, item) in pairs {
            withUnsafeBytes(of: user.littleEndian) { hasher.update($0) }
            withUnsafeBytes(of: item.littleEndian) { hasher.update($0) }
        }
        return hasher.hexDigest()
    }

    /// Moves a seeded per-user `fraction` of `train` into validation (for an explicit train/test split).
    public static func carvingValidation(train: ListenTable, test: ListenTable, fraction: Double, seed: UInt64) -> InteractionSplit {
        var split = holdout(train, validationFraction: fraction, testFraction: 0, seed: seed)
        split.test = test
        return split
    }
}
