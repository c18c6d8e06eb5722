import SQLite
import TasteGraphCore

extension GraphStore {
    /// The friendships between active users, as stored (lastfm-2k lists each pair in both directions), in
    /// (user, friend) order of dense user ids.
    /// - Throws: `InputError` naming the store when an id is not a dense user index (a store written by
    ///   another tool).
    /// - Complexity: O(F).
    public func friendPairs() throws -> [(user: Int32, friend: Int32)] {
        let userCount = try denseCount("users")
        var pairs: [(user: Int32, friend: Int32)] = []
        try db.prepare(
            """
            SELECT f.user_id, f.friend_id FROM friends f
            JOIN users a ON a.id = f.user_id AND a.active = 1 JOIN users b ON b.id = f.friend_id AND b.active = 1
            ORDER BY f.user_id, f.friend_id
            """
        ).query { row in
            let user = row.int(0), friend = row.int(1)
            guard (0..<userCount).contains(user), (0..<userCount).contains(friend) else {
                throw corruptError("a friendship names users \(user) and \(friend), beyond the store's dense ids")
            }
            pairs.append((Int32(user), Int32(friend)))
        }
        return pairs
    }
}
