/// Listens as parallel arrays (struct of arrays): one entry per (user, item) pair.
public struct ListenTable: Sendable, Equatable {
    /// The largest play count one listen may hold: 10⁹ plays.
    ///
    /// Every total the tool forms (per user, per item, over the store) is a sum of at most 2³¹ listens,
    /// and 2³¹ · 10⁹ ≈ 2.1 · 10¹⁸ stays below `Int64.max` ≈ 9.2 · 10¹⁸, so no such sum can overflow; as a
    /// `Float` (what the models read) 10⁹ is far from overflow too. Real data is far below: the Taste
    /// Profile's largest count is 9,667 and hetrec2011 Last.fm's largest weight 352,698. Imports reject a
    /// larger count on its line; a store whose listens break the limit (written by another tool) is
    /// refused with an `InputError` naming it, never summed.
    public static let maximumPlayCount: Int64 = 1_000_000_000

    public var users: [Int32] = []
    public var items: [Int32] = []
    public var plays: [Float] = []

    public init() {}

    public init(users: [Int32], items: [Int32], plays: [Float]) {
        precondition(users.count == items.count && items.count == plays.count)
        self.users = users
        self.items = items
        self.plays = plays
    }

    public var count: Int { users.count }

    public mutating func append(user: Int32, item: Int32, plays count: Float) {
        users.append(user)
        items.append(item)
        plays.append(count)
    }
}

extension ListenTable {
    /// The `k`-th listen with typed indices.
    /// - Precondition: `k < count`.
    public func listen(at k: Int) -> (user: UserIndex, item: ItemIndex, plays: Float) {
        (UserIndex(Int(users[k])), ItemIndex(Int(items[k])), plays[k])
    }
}
