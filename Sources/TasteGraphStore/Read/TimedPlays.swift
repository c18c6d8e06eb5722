import SQLite
import TasteGraphCore

extension GraphStore {
    /// Every timestamped play of active users on active items: the imported events (`play_chunks`, in file
    /// order) then the live ones (`listen_events`, in arrival order; an event of `plays` n counts once, at
    /// its time). Sessions and next-item models read this (`ListeningSessions`).
    /// - Throws: `InputError` naming the store when a chunk's lengths disagree or an id is beyond the dense
    ///   ids (a store written by another tool).
    /// - Complexity: O(P) time and memory, P the plays.
    public func timedPlays() throws -> TimedPlays {
        let userCount = try denseCount("users"), itemCount = try denseCount("items")
        var userActive = [Bool](repeating: false, count: userCount)
        var itemActive = [Bool](repeating: false, count: itemCount)
        try db.prepare("SELECT id FROM users WHERE active = 1").query { userActive[$0.int(0)] = true }
        try db.prepare("SELECT id FROM items WHERE active = 1").query { itemActive[$0.int(0)] = true }
        var plays = TimedPlays()
        let total = Int(try db.integer("SELECT COALESCE(SUM(count), 0) FROM play_chunks")) + (try listenEventCount())
        plays.users.reserveCapacity(total)
        plays.items.reserveCapacity(total)
        plays.times.reserveCapacity(total)
        func add(_ user: Int32, _ item: Int32, _ time: Int64) throws {
            guard (0..<Int32(userCount)).contains(user), (0..<Int32(itemCount)).contains(item) else {
                throw corruptError("a play names user \(user) and item \(item), beyond the store's dense ids")
            }
            if userActive[Int(user)] && itemActive[Int(item)] { plays.append(user: user, item: item, at: time) }
        }
        try db.prepare("SELECT count, users, items, times FROM play_chunks ORDER BY id").query { row in
            let count = row.int(0)
            let users = row.blob(1), items = row.blob(2), times = row.blob(3)
            guard count >= 0, users.count == 4 * count, items.count == 4 * count, times.count == 8 * count else {
                throw corruptError("a chunk of \(count) plays holds \(users.count), \(items.count) and \(times.count) bytes")
            }
            for k in 0..<count {
                try add(
                    users.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self), items.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self),
                    times.loadUnaligned(fromByteOffset: 8 * k, as: Int64.self))
            }
        }
        try db.prepare("SELECT user_id, item_id, at FROM listen_events ORDER BY seq").query { row in
            try add(Int32(truncatingIfNeeded: row.int64(0)), Int32(truncatingIfNeeded: row.int64(1)), row.int64(2))
        }
        return plays
    }

    /// How many play events the store holds (imported and live, active or not).
    public func timedPlayCount() throws -> Int {
        Int(try db.integer("SELECT COALESCE(SUM(count), 0) FROM play_chunks")) + (try listenEventCount())
    }
}
