import TasteGraphCore
import TasteGraphSupport

/// Seeded random listens for property tests: each user plays `listensPerUser[u]` distinct items (so every
/// (user, item) pair appears once, as a `ListenTable` requires), in random order, with 1–50 plays.
func randomListens(listensPerUser: [Int], itemCount: Int, seed: UInt64) -> ListenTable {
    var rng = SplitMix64(seed: seed)
    var listens = ListenTable()
    for (user, count) in listensPerUser.enumerated() {
        precondition(count <= itemCount, "user \(user) cannot play \(count) distinct items of \(itemCount)")
        var items = Array(0..<itemCount)
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, rng.nextInt(below: i + 1)) }
        for item in items.prefix(count) {
            listens.append(user: Int32(user), item: Int32(item), plays: Float(1 + rng.nextInt(below: 50)))
        }
    }
    // Shuffle the rows too, so nothing below relies on listens arriving grouped by user.
    var order = Array(0..<listens.count)
    for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
    return ListenTable(users: order.map { listens.users[$0] }, items: order.map { listens.items[$0] }, plays: order.map { listens.plays[$0] })
}

/// The rows of a listen table as (user, item, plays) triples, sorted: equal exactly when the tables hold the
/// same listens as multisets.
func sortedTriples(_ tables: ListenTable...) -> [Triple] {
    tables.flatMap { t in (0..<t.count).map { Triple(user: t.users[$0], item: t.items[$0], plays: t.plays[$0]) } }.sorted()
}

struct Triple: Comparable, Hashable {
    var user: Int32
    var item: Int32
    var plays: Float

    static func < (a: Triple, b: Triple) -> Bool { (a.user, a.item, a.plays) < (b.user, b.item, b.plays) }
}
