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
        // The active flags first, then one scan of the listens in primary-key order (the table is WITHOUT
        // ROWID on (user_id, item_id)), filtered here: a join would seek both tables for every listen
        // (96M B-tree seeks at the Taste Profile's 48M listens).
        var userActive = [Bool](repeating: false, count: userCount)
        var itemActive = [Bool](repeating: false, count: itemCount)
        for (table, flags) in [("users", 0), ("items", 1)] {
            try db.prepare("SELECT id, active FROM \(table)").query { row in
                let id = row.int(0)
                guard id >= 0 && id < (flags == 0 ? userCount : itemCount) else { return }
                if flags == 0 { userActive[id] = row.int(1) == 1 } else { itemActive[id] = row.int(1) == 1 }
            }
        }
        var table = ListenTable()
        try db.prepare("SELECT user_id, item_id, play_count FROM listens ORDER BY user_id, item_id").query { row in
            let user = row.int(0)
            let item = row.int(1)
            guard user >= 0, item >= 0, user < userCount, item < itemCount, let user32 = Int32(exactly: user), let item32 = Int32(exactly: item) else {
                throw corruptError("a listen names user \(user) and item \(item), beyond the store's dense ids")
            }
            guard userActive[user], itemActive[item] else { return }
            let plays = try checkedPlayCount(row, column: 2, user: user, item: item)
            table.append(user: user32, item: item32, plays: Float(plays))
        }
        return table
    }
}
