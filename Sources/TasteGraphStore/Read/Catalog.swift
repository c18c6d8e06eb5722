import SQLite

/// Everything about users, items, artists and tags that the layers above need, in dense-id arrays.
///
/// Indices are the store's internal ids: `userExternalIDs[u]` is user `u`'s id as imported, and so on.
/// Inactive rows (filtered by `prepare`) stay in the arrays, flagged in `userActive` / `itemActive`.
public struct Catalog: Sendable {
    public var dataset: DatasetKind?
    public var userExternalIDs: [String]
    public var userActive: [Bool]
    public var itemExternalIDs: [String]
    public var itemTitles: [String?]
    public var itemReleases: [String?]
    /// The stored popularity score of each item (see `Popularity`).
    public var itemPopularity: [Double]
    /// Artist of each item, or -1 for a song without metadata.
    public var itemArtist: [Int]
    public var itemActive: [Bool]
    public var artistExternalIDs: [String]
    public var artistNames: [String]
    public var tagNames: [String]
    /// Tags of each artist with how many users gave them, most frequent first (ties: lower tag id first).
    public var artistTags: [[(tag: Int, count: Int)]]

    public var userCount: Int { userExternalIDs.count }
    public var itemCount: Int { itemExternalIDs.count }
    public var artistCount: Int { artistExternalIDs.count }

    /// The top `count` tag ids of an artist.
    public func topTags(ofArtist artist: Int, count: Int) -> [Int] {
        artistTags[artist].prefix(count).map(\.tag)
    }
}

extension Catalog {
    /// A catalog without metadata: users "u0"…, items "i0"…, every item active, by its own artist, with
    /// popularity 0 (tests and planted graphs).
    public init(userCount: Int, itemCount: Int) {
        self.init(
            dataset: nil, userExternalIDs: (0..<userCount).map { "u\($0)" }, userActive: Array(repeating: true, count: userCount),
            itemExternalIDs: (0..<itemCount).map { "i\($0)" }, itemTitles: Array(repeating: nil, count: itemCount),
            itemReleases: Array(repeating: nil, count: itemCount), itemPopularity: Array(repeating: 0, count: itemCount),
            itemArtist: Array(0..<itemCount), itemActive: Array(repeating: true, count: itemCount),
            artistExternalIDs: (0..<itemCount).map { "a\($0)" }, artistNames: (0..<itemCount).map { "Artist \($0)" },
            tagNames: [], artistTags: Array(repeating: [], count: itemCount))
    }
}

/// Listens as parallel arrays (struct of arrays): one entry per (user, item) pair.
public struct ListenTable: Sendable, Equatable {
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

extension GraphStore {
    /// Reads the catalog (users, items, artists, tags) into memory.
    /// - Throws: `InputError` naming the store when ids are not dense or a reference points nowhere (a store
    ///   written by another tool): the layers above index arrays by these ids.
    /// - Complexity: O(users + items + artists + item_tags).
    public func catalog() throws -> Catalog {
        for table in ["users", "items"] { _ = try denseCount(table) }
        let artistCount = try denseCount("artists")
        let tagCount = try denseCount("tags")
        var catalog = Catalog(
            dataset: try datasetKind, userExternalIDs: [], userActive: [], itemExternalIDs: [], itemTitles: [], itemReleases: [], itemPopularity: [],
            itemArtist: [], itemActive: [], artistExternalIDs: [], artistNames: [], tagNames: [], artistTags: [])
        try db.prepare("SELECT external_id, active FROM users ORDER BY id").query { row in
            catalog.userExternalIDs.append(row.text(0) ?? "")
            catalog.userActive.append(row.int(1) != 0)
        }
        try db.prepare("SELECT external_id, title, artist_id, active, release, popularity FROM items ORDER BY id").query { row in
            catalog.itemExternalIDs.append(row.text(0) ?? "")
            catalog.itemTitles.append(row.text(1))
            let artist = row.isNull(2) ? -1 : row.int(2)
            guard (-1..<artistCount).contains(artist) else { throw corruptError("an item names artist \(artist), not in the store") }
            catalog.itemArtist.append(artist)
            catalog.itemActive.append(row.int(3) != 0)
            catalog.itemReleases.append(row.text(4))
            catalog.itemPopularity.append(row.double(5))
        }
        try db.prepare("SELECT external_id, name FROM artists ORDER BY id").query { row in
            catalog.artistExternalIDs.append(row.text(0) ?? "")
            catalog.artistNames.append(row.text(1) ?? "")
        }
        try db.prepare("SELECT name FROM tags ORDER BY id").query { catalog.tagNames.append($0.text(0) ?? "") }
        catalog.artistTags = Array(repeating: [], count: catalog.artistCount)
        try db.prepare(
            """
            SELECT i.artist_id, it.tag_id, SUM(it.count) AS n FROM item_tags it JOIN items i ON i.id = it.item_id
            WHERE i.artist_id IS NOT NULL GROUP BY i.artist_id, it.tag_id ORDER BY i.artist_id, n DESC, it.tag_id
            """
        ).query { row in
            guard (0..<artistCount).contains(row.int(0)), (0..<tagCount).contains(row.int(1)) else {
                throw corruptError("an item tag names artist \(row.int(0)) and tag \(row.int(1)), not both in the store")
            }
            catalog.artistTags[row.int(0)].append((row.int(1), row.int(2)))
        }
        return catalog
    }

    /// The listens between active users and active items, in (user, item) order.
    /// - Throws: `InputError` naming the store when a play count breaks `GraphStore.maximumPlayCount` or an
    ///   id is not a dense index (a store written by another tool): the layers above sum these counts.
    public func listens() throws -> ListenTable {
        let userCount = try denseCount("users")
        let itemCount = try denseCount("items")
        var table = ListenTable()
        try db.prepare(
            """
            SELECT l.user_id, l.item_id, l.play_count FROM listens l
            JOIN users u ON u.id = l.user_id AND u.active = 1 JOIN items i ON i.id = l.item_id AND i.active = 1
            ORDER BY l.user_id, l.item_id
            """
        ).query { row in
            let user = row.int(0)
            let item = row.int(1)
            guard user < userCount, item < itemCount, let user32 = Int32(exactly: user), let item32 = Int32(exactly: item) else {
                throw corruptError("a listen names user \(user) and item \(item), beyond the store's dense ids")
            }
            let plays = try checkedPlayCount(row, column: 2, user: user, item: item)
            table.append(user: user32, item: item32, plays: Float(plays))
        }
        return table
    }
}
