import TasteGraphCore
import TasteGraphSupport

/// One listen that a planted graph's rule asks for: the item, its play count, and whether it is held out
/// (goes to `test` instead of `train`).
public struct PlantedListen: Sendable {
    public var item: Int
    public var plays: Float
    public var heldOut: Bool

    public init(item: Int, plays: Float, heldOut: Bool = false) {
        self.item = item
        self.plays = plays
        self.heldOut = heldOut
    }
}

/// A small user–item graph whose taste groups are known: every user and every item belongs to one group, and
/// a rule decides which items each user plays (normally items of the user's own group, so the groups are the
/// graph's components), how often, and which of those listens are held out.
///
/// Tests that must recover structure (recommenders, segments, walks, the GCN) build their graphs here, so
/// the graph and its ground truth come from one place. Shapes: U users, I items; a rule-built graph lists
/// listens in user order, and within a user in the order the rule returned them.
public struct PlantedGraph: Sendable {
    public let userCount: Int
    public let itemCount: Int
    /// The group of each user (U).
    public let userGroup: [Int]
    /// The group of each item (I).
    public let itemGroup: [Int]
    public let train: ListenTable
    public let test: ListenTable

    /// Builds the graph user by user: `listens(user, group, groupItems)` returns the listens of `user`, whose
    /// group is `group` and whose group's items are `groupItems` (ascending); the rule may also return items of
    /// other groups, as bridges.
    public init(userGroup: [Int], itemGroup: [Int], listens rule: (_ user: Int, _ group: Int, _ groupItems: [Int]) -> [PlantedListen]) {
        var itemsOfGroup: [Int: [Int]] = [:]
        for (item, group) in itemGroup.enumerated() { itemsOfGroup[group, default: []].append(item) }
        var train = ListenTable()
        var test = ListenTable()
        for (user, group) in userGroup.enumerated() {
            for listen in rule(user, group, itemsOfGroup[group] ?? []) {
                precondition((0..<itemGroup.count).contains(listen.item), "planted listen of user \(user) names item \(listen.item) of \(itemGroup.count)")
                if listen.heldOut {
                    test.append(user: Int32(user), item: Int32(listen.item), plays: listen.plays)
                } else {
                    train.append(user: Int32(user), item: Int32(listen.item), plays: listen.plays)
                }
            }
        }
        self.userCount = userGroup.count
        self.itemCount = itemGroup.count
        self.userGroup = userGroup
        self.itemGroup = itemGroup
        self.train = train
        self.test = test
    }

    /// Contiguous groups: group g owns the next `usersPerGroup[g]` users and the next `itemsPerGroup[g]` items.
    public init(usersPerGroup: [Int], itemsPerGroup: [Int], listens rule: (_ user: Int, _ group: Int, _ groupItems: [Int]) -> [PlantedListen]) {
        precondition(usersPerGroup.count == itemsPerGroup.count, "one item count per user group")
        self.init(
            userGroup: usersPerGroup.enumerated().flatMap { Array(repeating: $0.offset, count: $0.element) },
            itemGroup: itemsPerGroup.enumerated().flatMap { Array(repeating: $0.offset, count: $0.element) },
            listens: rule)
    }

    /// A literal edge list, all in train and in the order given, with the groups stated by the caller.
    public init(userGroup: [Int], itemGroup: [Int], edges: [(user: Int32, item: Int32, plays: Float)]) {
        precondition(edges.allSatisfy { Int($0.user) < userGroup.count && Int($0.item) < itemGroup.count }, "planted edge outside \(userGroup.count)×\(itemGroup.count)")
        self.userCount = userGroup.count
        self.itemCount = itemGroup.count
        self.userGroup = userGroup
        self.itemGroup = itemGroup
        self.train = ListenTable(users: edges.map(\.user), items: edges.map(\.item), plays: edges.map(\.plays))
        self.test = ListenTable()
    }

    public var groupCount: Int { (userGroup.max() ?? -1) + 1 }

    /// The users of one group, ascending.
    public func users(inGroup group: Int) -> [Int] { userGroup.indices.filter { userGroup[$0] == group } }

    /// A catalog without metadata for these users and items (`Catalog(userCount:itemCount:)`).
    public var catalog: Catalog { Catalog(userCount: userCount, itemCount: itemCount) }

    /// The items `user` played in train.
    public func heard(_ user: Int) -> Set<Int> {
        Set((0..<train.count).filter { Int(train.users[$0]) == user }.map { Int(train.items[$0]) })
    }

    /// The items of `user` held out for test.
    public func heldOut(_ user: Int) -> Set<Int> {
        Set((0..<test.count).filter { Int(test.users[$0]) == user }.map { Int(test.items[$0]) })
    }

    // Typed twins for the recommenders' API (dense indices, `DenseIndex`).

    /// The items `user` played in train.
    public func heard(_ user: UserIndex) -> Set<ItemIndex> { Set(heard(user.rawValue).map(ItemIndex.init)) }

    /// The items of `user` held out for test.
    public func heldOut(_ user: UserIndex) -> Set<ItemIndex> { Set(heldOut(user.rawValue).map(ItemIndex.init)) }

    /// The group of a user or an item.
    public func group(of user: UserIndex) -> Int { userGroup[user.rawValue] }
    public func group(of item: ItemIndex) -> Int { itemGroup[item.rawValue] }
}

extension PlantedGraph {
    /// Two disjoint taste groups of unequal size: 48 users who only play items 0..<30 and 16 users who only
    /// play items 30..<60. Each user plays 12 items of their group (lower-numbered items more often chosen,
    /// 1–20 plays); the first 2 chosen per user are held out for test.
    ///
    /// A recommender that learned the groups ranks the 20 unheard items of the user's own group first, so its
    /// held-out Recall@20 is 1; one that ignores the user (popularity) serves the larger group's items to all.
    public static func tasteGroups(seed: UInt64 = 7) -> PlantedGraph {
        let itemsPerGroup = 30
        var rng = SplitMix64(seed: seed)
        return PlantedGraph(usersPerGroup: [48, 16], itemsPerGroup: [itemsPerGroup, itemsPerGroup]) { _, _, groupItems in
            let first = groupItems[0]
            var chosen: [Int] = []
            while chosen.count < 12 {
                // Mild skew: item k of the group is drawn with probability ∝ 1 / (1 + k/10).
                let k = Int(rng.next() % UInt64(itemsPerGroup))
                guard Double(rng.next() % 1000) / 1000 < 1 / (1 + Double(k) / 10), !chosen.contains(first + k) else { continue }
                chosen.append(first + k)
            }
            return chosen.enumerated().map { n, item in PlantedListen(item: item, plays: Float(1 + rng.next() % 20), heldOut: n < 2) }
        }
    }

    /// The implicit-style checkerboard: `size` users and `size` items, even users play every even item and odd
    /// users every odd item (group = parity), and each user's diagonal item (user u ↔ item u, 3 plays) is
    /// held out. Train plays are 1 + (u + i) mod 4.
    public static func checkerboard(size: Int) -> PlantedGraph {
        let parity = (0..<size).map { $0 % 2 }
        return PlantedGraph(userGroup: parity, itemGroup: parity) { user, _, groupItems in
            groupItems.map { item in
                item == user ? PlantedListen(item: item, plays: 3, heldOut: true) : PlantedListen(item: item, plays: Float(1 + (user + item) % 4))
            }
        }
    }
}
