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

    /// Recomputes `items.popularity` for the whole store.
    static func recompute(_ db: Database) throws {
        let itemCount = Int(try db.integer("SELECT COALESCE(MAX(id) + 1, 0) FROM items"))
        var plays = [Double](repeating: 0, count: itemCount)
        var listeners = [Double](repeating: 0, count: itemCount)
        var active = [Bool](repeating: false, count: itemCount)
        try db.prepare("SELECT id FROM items WHERE active = 1").query { row in active[row.int(0)] = true }
        try db.prepare(
            "SELECT l.item_id, SUM(l.play_count), COUNT(*) FROM listens l JOIN users u ON u.id = l.user_id WHERE u.active = 1 GROUP BY l.item_id"
        ).query { row in
            plays[row.int(0)] = row.double(1)
            listeners[row.int(0)] = row.double(2)
        }
        let scores = score(plays: plays, listeners: listeners, active: active)
        let update = try db.prepare("UPDATE items SET popularity = ? WHERE id = ?")
        for (item, value) in scores.enumerated() {
            update.bind(1, value)
            update.bind(2, item)
            _ = try update.executeBound()
        }
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
