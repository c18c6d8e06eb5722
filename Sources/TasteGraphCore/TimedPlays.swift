/// Timestamped plays as parallel arrays (struct of arrays): one entry per play event, in no particular
/// order. Users and items are the store's dense ids; times are Unix seconds (UTC).
///
/// Shapes: `users`, `items`, `times` all (N).
public struct TimedPlays: Sendable, Equatable {
    public var users: [Int32] = []
    public var items: [Int32] = []
    public var times: [Int64] = []

    public init() {}

    public init(users: [Int32], items: [Int32], times: [Int64]) {
        precondition(users.count == items.count && items.count == times.count)
        self.users = users
        self.items = items
        self.times = times
    }

    public var count: Int { users.count }

    public mutating func append(user: Int32, item: Int32, at time: Int64) {
        users.append(user)
        items.append(item)
        times.append(time)
    }
}
