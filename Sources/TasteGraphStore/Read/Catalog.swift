import SQLite
import TasteGraphCore

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
