import SQLite

/// The seed analysis's per-item popularity score.
///
/// ```
/// avg_i   = plays_i / listeners_i          (0 for an item nobody played)
/// total_i = plays_i
/// popularity_i = 0.6 · minmax(avg)_i + 0.4 · minmax(total)_i,   minmax(x)_i = (x_i − min x) / (max x − min x)
/// ```
/// over the active catalog (all active items; a constant column normalizes to 0). Only listens of active
/// users count. Inactive items get 0.
public enum Popularity {
    /// Weights of the two normalized components.
    public static let averageWeight = 0.6
    public static let totalWeight = 0.4

    /// Per-item totals over the listens of active users.
    struct ItemTotals {
        var plays: [Double]
        var listeners: [Double]

        init(itemCount: Int) {
            plays = [Double](repeating: 0, count: itemCount)
            listeners = [Double](repeating: 0, count: itemCount)
        }

        /// Makes room for items `0..<count`.
        mutating func reserve(_ count: Int) {
            guard count > plays.count else { return }
            plays += [Double](repeating: 0, count: count - plays.count)
            listeners += [Double](repeating: 0, count: count - listeners.count)
        }

        mutating func add(item: Int, plays count: Int64, listeners listenerCount: Double = 1) {
            if item >= plays.count { reserve(max(item + 1, plays.count * 2)) }
            plays[item] += Double(count)
            listeners[item] += listenerCount
        }
    }

    /// Recomputes `items.popularity` for the whole store.
    ///
    /// - Parameter totals: per-item totals the caller already knows to be exact (an import into an empty
    ///   store, where every listen passed through it); nil scans the listens table.
    /// - Throws: `InputError` naming the store when a stored listen breaks what imports write.
    static func recompute(_ store: GraphStore, totals known: ItemTotals? = nil) throws {
        let db = store.db
        let itemCount = try store.denseCount("items")
        var active = [Bool](repeating: false, count: itemCount)
        try db.prepare("SELECT id FROM items WHERE active = 1").query { row in active[row.int(0)] = true }
        var totals = try known ?? scanTotals(store, itemCount: itemCount)
        totals.reserve(itemCount)
        let scores = score(
            plays: Array(totals.plays.prefix(itemCount)), listeners: Array(totals.listeners.prefix(itemCount)), active: active)
        let update = try db.prepare("UPDATE items SET popularity = ? WHERE id = ?")
        for (item, value) in scores.enumerated() {
            update.bind(1, value)
            update.bind(2, item)
            _ = try update.executeBound()
        }
    }

    private static func scanTotals(_ store: GraphStore, itemCount: Int) throws -> ItemTotals {
        let db = store.db
        var totals = ItemTotals(itemCount: itemCount)
        let userCount = try store.denseCount("users")
        var userActive = [Bool](repeating: false, count: userCount)
        try db.prepare("SELECT id FROM users WHERE active = 1").query { row in userActive[row.int(0)] = true }
        // One scan in primary-key order; dense ids index the accumulators (no GROUP BY sort).
        try db.prepare("SELECT user_id, item_id, play_count FROM listens").query { row in
            let user = row.int(0)
            let item = row.int(1)
            guard (0..<userCount).contains(user), (0..<itemCount).contains(item) else {
                throw store.corruptError("a listen names user \(user) and item \(item), not both in the store")
            }
            guard userActive[user] else { return }
            totals.add(item: item, plays: try store.checkedPlayCount(row, column: 2, user: user, item: item))
        }
        return totals
    }

    /// The score for every item, from its total plays and listener count (pure; see the type's formula).
    public static func score(plays: [Double], listeners: [Double], active: [Bool]) -> [Double] {
        precondition(plays.count == listeners.count && plays.count == active.count)
        let averages = zip(plays, listeners).map { $1 > 0 ? $0 / $1 : 0 }
        let normAverage = minMax(averages, active: active)
        let normTotal = minMax(plays, active: active)
        return active.indices.map { active[$0] ? averageWeight * normAverage[$0] + totalWeight * normTotal[$0] : 0 }
    }

    private static func minMax(_ values: [Double], active: [Bool]) -> [Double] {
        let considered = values.indices.filter { active[$0] }.map { values[$0] }
        guard let low = considered.min(), let high = considered.max(), high > low else {
            return [Double](repeating: 0, count: values.count)
        }
        return values.map { ($0 - low) / (high - low) }
    }
}
