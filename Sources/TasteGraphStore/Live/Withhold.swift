import Foundation
import SQLite
import TasteGraphCore

extension GraphStore {
    /// Deletes the listens of the given (user, item) pairs (external ids), for a replay's working copy:
    /// the held-out listens leave the copy so that they can arrive again as live events. Pairs the store
    /// does not hold are ignored. One transaction.
    ///
    /// Only `tastegraph replay` calls this, on a copy of the store it made itself; never on a user's store.
    /// - Returns: how many listens were deleted.
    /// - Throws: `StoreError` when another process holds the write lock.
    public func withholdListens(_ pairs: [(user: String, item: String)]) throws -> Int {
        let users = try catalog().userIDs(), items = try catalog().itemIDs()
        return try transaction {
            let delete = try cached("DELETE FROM listens WHERE user_id = ? AND item_id = ?")
            var removed = 0
            for pair in pairs {
                guard let user = users.index(of: pair.user), let item = items.index(of: pair.item) else { continue }
                delete.bind(1, user.rawValue)
                delete.bind(2, item.rawValue)
                removed += try delete.executeBound()
            }
            return removed
        }
    }
}

extension GraphStore {
    /// Writes a consistent copy of the whole store (the WAL's committed changes included) to a new file at
    /// `path`, without changing this store (`VACUUM INTO`).
    /// - Throws: `StoreError` when `path` exists; SQLite's errors.
    public func copy(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError("\(path) exists; a store copy goes to a new file") }
        let statement = try db.prepare("VACUUM INTO ?")
        statement.bind(1, path)
        _ = try statement.executeBound()
    }
}
