import Foundation
import SQLite

/// The seed analysis's data filters, applied in order, each on what the previous one left:
///
/// 1. users: keep users with ≥ `minUserPlays` total plays and ≥ `minUserItems` distinct items;
/// 2. items: keep items whose average plays per (remaining) listener exceed `minItemAveragePlays`.
///
/// Filters never delete: they set `active = 0`, and every run starts again from the full data, so
/// running `prepare` twice with the same parameters gives the same store. Popularity is recomputed on
/// the kept data.
public struct PreparationParameters: Codable, Sendable, Equatable {
    public var minUserPlays: Int64?
    public var minUserItems: Int64?
    public var minItemAveragePlays: Double?

    public init(minUserPlays: Int64? = nil, minUserItems: Int64? = nil, minItemAveragePlays: Double? = nil) {
        self.minUserPlays = minUserPlays
        self.minUserItems = minUserItems
        self.minItemAveragePlays = minItemAveragePlays
    }
}

/// What one filter removed.
public struct FilterStep: Codable, Sendable, Equatable {
    public let filter: String
    public let usersRemoved: Int
    public let itemsRemoved: Int
    public let listensRemoved: Int
    public let playsRemoved: Int64
}

/// The outcome of `prepare`: each filter's removals and what remains.
public struct PreparationReport: Codable, Sendable, Equatable {
    public let parameters: PreparationParameters
    public let steps: [FilterStep]
    public let usersKept: Int
    public let itemsKept: Int
    public let listensKept: Int
}

extension GraphStore {
    /// Applies the filters, records the run in `preparations` and recomputes popularity; one transaction.
    /// - Throws: `InputError` naming the store when a stored play count breaks `GraphStore.maximumPlayCount`
    ///   (the filters' sums are then refused rather than overflowing), `StoreError` when it is locked.
    public func prepare(_ parameters: PreparationParameters) throws -> PreparationReport {
        try transaction {
            try checkPlayCounts()
            try db.execute("UPDATE users SET active = 1 WHERE active = 0; UPDATE items SET active = 1 WHERE active = 0;")
            var steps: [FilterStep] = []
            if parameters.minUserPlays != nil || parameters.minUserItems != nil {
                let before = try activeTotals()
                try db.run(
                    """
                    UPDATE users SET active = 0 WHERE id NOT IN (
                        SELECT user_id FROM listens GROUP BY user_id HAVING SUM(play_count) >= ? AND COUNT(*) >= ?)
                    """, .integer(parameters.minUserPlays ?? 0), .integer(parameters.minUserItems ?? 0))
                let after = try activeTotals()
                steps.append(FilterStep(
                    filter: "users with ≥ \(parameters.minUserPlays ?? 0) plays and ≥ \(parameters.minUserItems ?? 0) items",
                    usersRemoved: before.users - after.users, itemsRemoved: 0,
                    listensRemoved: before.listens - after.listens, playsRemoved: before.plays - after.plays))
            }
            if let threshold = parameters.minItemAveragePlays {
                let before = try activeTotals()
                try db.run(
                    """
                    UPDATE items SET active = 0 WHERE id NOT IN (
                        SELECT l.item_id FROM listens l JOIN users u ON u.id = l.user_id AND u.active = 1
                        GROUP BY l.item_id HAVING CAST(SUM(l.play_count) AS REAL) / COUNT(*) > ?)
                    """, .real(threshold))
                let after = try activeTotals()
                steps.append(FilterStep(
                    filter: "items with average plays per listener > \(threshold)",
                    usersRemoved: 0, itemsRemoved: before.items - after.items,
                    listensRemoved: before.listens - after.listens, playsRemoved: before.plays - after.plays))
            }
            try Popularity.recompute(self)
            let totals = try activeTotals()
            let report = PreparationReport(
                parameters: parameters, steps: steps, usersKept: totals.users, itemsKept: totals.items, listensKept: totals.listens)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            try db.run(
                "INSERT INTO preparations(parameters, report, created_at) VALUES (?, ?, ?)",
                .text(String(decoding: try encoder.encode(parameters), as: UTF8.self)),
                .text(String(decoding: try encoder.encode(report), as: UTF8.self)),
                .text(ISO8601DateFormatter().string(from: Date())))
            return report
        }
    }

    /// Checks that every stored play count is an integer in 0…`maximumPlayCount`, so that no SQL `SUM` over
    /// them can overflow. One scan of the listens.
    /// - Throws: `InputError` naming the store and the first offending listen.
    func checkPlayCounts() throws {
        try db.prepare(
            "SELECT user_id, item_id, play_count FROM listens WHERE typeof(play_count) <> 'integer' OR play_count < 0 OR play_count > ? LIMIT 1"
        ).query([.integer(Self.maximumPlayCount)]) { row in
            _ = try checkedPlayCount(row, column: 2, user: row.int(0), item: row.int(1))
        }
    }

    private func activeTotals() throws -> (users: Int, items: Int, listens: Int, plays: Int64) {
        let users = Int(try db.integer("SELECT COUNT(*) FROM users WHERE active = 1"))
        let items = Int(try db.integer("SELECT COUNT(*) FROM items WHERE active = 1"))
        let listens = try db.rows(
            """
            SELECT COUNT(*), COALESCE(SUM(l.play_count), 0) FROM listens l
            JOIN users u ON u.id = l.user_id AND u.active = 1 JOIN items i ON i.id = l.item_id AND i.active = 1
            """)[0]
        guard case .integer(let count) = listens[0], case .integer(let plays) = listens[1] else { return (users, items, 0, 0) }
        return (users, items, Int(count), plays)
    }
}
