import SQLite
import TasteGraphSupport

/// The numbers `tastegraph stats` prints. Counts cover the active data (after `prepare`'s filters).
public struct StoreStats: Codable, Sendable, Equatable {
    public let dataset: String?
    public let schemaVersion: Int
    public let users: Int
    public let items: Int
    public let artists: Int
    public let listens: Int
    public let plays: Int64
    public let tags: Int
    public let tagAssignments: Int
    public let friendPairs: Int
    /// listens / (users × items).
    public let density: Double
    /// Total plays of each user with at least one listen.
    public let playsPerUser: Quantiles?
    /// Distinct items of each user with at least one listen.
    public let itemsPerUser: Quantiles?
    /// Total plays of each item with at least one listener.
    public let playsPerItem: Quantiles?
    /// Listeners of each item with at least one listener.
    public let listenersPerItem: Quantiles?
    public let inactiveUsers: Int
    public let inactiveItems: Int
}

extension GraphStore {
    /// Computes the store's statistics in one scan of the listens.
    /// - Complexity: O(listens + users + items).
    /// - Throws: `InputError` naming the store when its content breaks what imports write (a play count
    ///   above `GraphStore.maximumPlayCount`, ids that are not dense, a listen naming a missing row).
    public func stats() throws -> StoreStats {
        let userCount = try denseCount("users")
        let itemCount = try denseCount("items")
        var userActive = [Bool](repeating: false, count: userCount)
        var itemActive = [Bool](repeating: false, count: itemCount)
        try db.prepare("SELECT id FROM users WHERE active = 1").query { userActive[$0.int(0)] = true }
        try db.prepare("SELECT id FROM items WHERE active = 1").query { itemActive[$0.int(0)] = true }
        var userPlays = [Double](repeating: 0, count: userCount)
        var userItems = [Double](repeating: 0, count: userCount)
        var itemPlays = [Double](repeating: 0, count: itemCount)
        var itemListeners = [Double](repeating: 0, count: itemCount)
        var listens = 0
        var plays: Int64 = 0
        try db.prepare("SELECT user_id, item_id, play_count FROM listens").query { row in
            let user = row.int(0)
            let item = row.int(1)
            guard (0..<userCount).contains(user), (0..<itemCount).contains(item) else {
                throw corruptError("a listen names user \(user) and item \(item), not both in the store")
            }
            guard userActive[user], itemActive[item] else { return }
            let count = try checkedPlayCount(row, column: 2, user: user, item: item)
            listens += 1
            // Cannot overflow below 2³¹ listens of at most 10⁹ plays each; checked all the same.
            let (sum, overflow) = plays.addingReportingOverflow(count)
            guard !overflow else { throw corruptError("the store's total play count exceeds \(Int64.max)") }
            plays = sum
            userPlays[user] += Double(count)
            userItems[user] += 1
            itemPlays[item] += Double(count)
            itemListeners[item] += 1
        }
        let users = userActive.filter { $0 }.count
        let items = itemActive.filter { $0 }.count
        func summary(_ values: [Double], _ counts: [Double]) -> Quantiles? {
            let present = zip(values, counts).filter { $0.1 > 0 }.map(\.0)
            return present.isEmpty ? nil : Quantiles(present)
        }
        return StoreStats(
            dataset: try datasetKind?.rawValue,
            schemaVersion: try schemaVersion,
            users: users, items: items,
            artists: Int(try db.integer("SELECT COUNT(*) FROM artists")),
            listens: listens, plays: plays,
            tags: Int(try db.integer("SELECT COUNT(*) FROM tags")),
            tagAssignments: Int(try db.integer("SELECT COUNT(*) FROM tag_assignments")),
            friendPairs: Int(try db.integer("SELECT COUNT(*) FROM friends")),
            density: users > 0 && items > 0 ? Double(listens) / (Double(users) * Double(items)) : 0,
            playsPerUser: summary(userPlays, userItems),
            itemsPerUser: summary(userItems, userItems),
            playsPerItem: summary(itemPlays, itemListeners),
            listenersPerItem: summary(itemListeners, itemListeners),
            inactiveUsers: userCount - users, inactiveItems: itemCount - items)
    }
}
