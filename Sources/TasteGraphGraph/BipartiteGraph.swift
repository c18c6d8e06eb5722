import TasteGraphCore

/// Compressed sparse rows: the neighbours of row `r` are `targets[offsets[r]..<offsets[r+1]]`, with
/// one weight each.
///
/// Shapes: offsets (R + 1), targets (E), weights (E).
public struct CSR: Sendable, Equatable {
    public let offsets: [Int]
    public let targets: [Int32]
    public let weights: [Float]

    public var rowCount: Int { offsets.count - 1 }
    public var edgeCount: Int { targets.count }

    public func degree(_ row: Int) -> Int { offsets[row + 1] - offsets[row] }

    public func neighbors(_ row: Int) -> ArraySlice<Int32> { targets[offsets[row]..<offsets[row + 1]] }

    /// Wraps arrays that already form a CSR (offsets ascending from 0 to E).
    public init(offsets: [Int], targets: [Int32], weights: [Float]) {
        precondition(offsets.first == 0 && offsets.last == targets.count && targets.count == weights.count, "not a CSR")
        self.offsets = offsets
        self.targets = targets
        self.weights = weights
    }

    /// Builds rows from (row, target, weight) triples in any order; within a row, targets keep input order.
    /// - Complexity: O(R + E) (counting sort).
    public init(rowCount: Int, rows: [Int32], targets: [Int32], weights: [Float]) {
        var offsets = [Int](repeating: 0, count: rowCount + 1)
        for r in rows { offsets[Int(r) + 1] += 1 }
        for r in 0..<rowCount { offsets[r + 1] += offsets[r] }
        var cursor = offsets
        var sortedTargets = [Int32](repeating: 0, count: rows.count)
        var sortedWeights = [Float](repeating: 0, count: rows.count)
        for e in rows.indices {
            let r = Int(rows[e])
            sortedTargets[cursor[r]] = targets[e]
            sortedWeights[cursor[r]] = weights[e]
            cursor[r] += 1
        }
        self.offsets = offsets
        self.targets = sortedTargets
        self.weights = sortedWeights
    }
}

/// How a play count becomes an edge weight.
public enum EdgeWeighting: String, Sendable, Codable, CaseIterable {
    /// The play count itself.
    case raw
    /// log(1 + play count): tames the heavy tail of play counts.
    case log1p

    public func weight(_ plays: Float) -> Float {
        switch self {
        case .raw: return plays
        case .log1p: return Float(log1pf(plays))
        }
    }
}

/// The user–item graph in both directions: users × items with one weighted edge per listen.
///
/// Indices are the store's dense ids (see `Catalog`). Shapes: U users, I items, E edges.
public struct BipartiteGraph: Sendable {
    public let userCount: Int
    public let itemCount: Int
    /// U rows of items.
    public let userItems: CSR
    /// I rows of users.
    public let itemUsers: CSR

    /// - Parameters:
    ///   - listens: one entry per (user, item) pair; indices must be < `userCount` / `itemCount`.
    ///   - weighting: turns play counts into edge weights.
    public init(userCount: Int, itemCount: Int, listens: ListenTable, weighting: EdgeWeighting) {
        precondition(listens.users.allSatisfy { Int($0) < userCount } && listens.items.allSatisfy { Int($0) < itemCount },
                     "listen index out of range")
        self.userCount = userCount
        self.itemCount = itemCount
        let weights = listens.plays.map(weighting.weight)
        userItems = CSR(rowCount: userCount, rows: listens.users, targets: listens.items, weights: weights)
        itemUsers = CSR(rowCount: itemCount, rows: listens.items, targets: listens.users, weights: weights)
    }

    public var edgeCount: Int { userItems.edgeCount }
}

#if canImport(Glibc)
import Glibc
#endif
