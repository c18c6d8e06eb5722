import TasteGraphCore
import TasteGraphGraph

/// Every store user's listens as one `CSR`, in store order: user u's items are `rows.neighbors(u)` and
/// their plays the matching `rows.weights`. Shapes: offsets (U + 1); targets, weights (E).
///
/// Three arrays instead of a `Set` and an array per user: at the Taste Profile's 10⁶ users and 48M
/// listens that is 0.4 GB in three allocations, built by one counting sort, where the per-user sets and
/// arrays took ≈ 2.5 GB and two million allocations. A request builds its user's heard set from its row.
struct StoreHistories: Sendable {
    let rows: CSR

    /// - Complexity: O(U + E); stable, so each user's listens keep the order of `listens`.
    init(userCount: Int, listens: ListenTable) {
        rows = CSR(rowCount: userCount, rows: listens.users, targets: listens.items, weights: listens.plays)
    }

    /// Every listen's item, in this CSR's order. Shape: (E).
    var items: [Int32] { rows.targets }

    /// The distinct items `user` heard.
    func heard(_ user: Int) -> Set<ItemIndex> {
        var set = Set<ItemIndex>(minimumCapacity: rows.degree(user))
        for item in rows.neighbors(user) { set.insert(ItemIndex(Int(item))) }
        return set
    }

    /// `user`'s listens (item, plays), in store order.
    func history(_ user: Int) -> [(item: ItemIndex, plays: Float)] {
        (rows.offsets[user]..<rows.offsets[user + 1]).map { (item: ItemIndex(Int(rows.targets[$0])), plays: rows.weights[$0]) }
    }

    /// The store user of each listen, in this CSR's order (the row index expanded). Shape: (E).
    func listenUsers() -> [Int32] {
        var users = [Int32](repeating: 0, count: rows.edgeCount)
        for u in 0..<rows.rowCount { for e in rows.offsets[u]..<rows.offsets[u + 1] { users[e] = Int32(u) } }
        return users
    }
}
