import Foundation
import SQLite
import TasteGraphCore

/// A song (or, in a Last.fm store, an artist) added to a running service's catalog.
public struct NewItem: Sendable, Equatable, Codable {
    /// The item's external id; it must be new to the store.
    public var id: String
    public var title: String
    public var release: String?
    /// The artist's name.
    public var artist: String
    public var year: Int?
    /// Tag names, most telling first; repeats are dropped.
    public var tags: [String]

    public init(id: String, title: String, release: String? = nil, artist: String, year: Int? = nil, tags: [String] = []) {
        self.id = id
        self.title = title
        self.release = release
        self.artist = artist
        self.year = year
        self.tags = tags
    }
}

extension GraphStore {
    /// The most tags one new item may carry.
    public static let maximumTagsPerItem = 100

    /// Adds new items to the catalog in one transaction: all of them, or (on any error) none.
    ///
    /// Each item gets the next dense id, in the order given, and is active with popularity 0 (popularity
    /// is recomputed by the next import or `prepare`). Its artist is found by name (`artists.external_id`,
    /// as the Taste Profile importer keys the artists of songs) or created with that name. In a Last.fm
    /// store, where every item is an artist and both share the Last.fm id, each new item is a new artist
    /// instead: `artists.external_id` = `id`, name = `artist`.
    ///
    /// Tags are matched to stored tags by exact name (lowest id first) or created, with the name as external
    /// id (`live:` + name when a Last.fm numeric id already equals the name). Each tag is counted once in
    /// `item_tags`, so `catalog().artistTags` (the tags the Last.fm item text reads) includes them; the
    /// given order is kept in `item_live_tags` and read back by `tags(ofItem:)`.
    ///
    /// - Returns: the new items' dense ids, in the order given.
    /// - Throws: `LiveWriteError` naming the element's index and field: `.duplicateID` (with the id) for an
    ///   id the store already holds or that appears earlier in the batch (in a Last.fm store, also an id
    ///   already used by an artist); `.invalid` for an empty, over-long (1,024 bytes) or control-character
    ///   id, title, release, artist or tag, a year outside 1…9999, or more than 100 tags. `StoreError` when
    ///   another process holds the write lock. Nothing is stored then.
    /// - Complexity: O((B + T) log n) for B items with T tags in all.
    public func addItems(_ newItems: [NewItem]) throws -> [ItemIndex] {
        for (index, item) in newItems.enumerated() {
            try LiveValidation.checkText(item.id, index: index, field: "id")
            try LiveValidation.checkText(item.title, index: index, field: "title")
            if let release = item.release, !release.isEmpty {
                try LiveValidation.checkText(release, index: index, field: "release")
            }
            try LiveValidation.checkText(item.artist, index: index, field: "artist")
            if let year = item.year, !(1...9999).contains(year) {
                throw LiveWriteError(kind: .invalid, index: index, field: "year", reason: "year is \(year); it must be between 1 and 9999, or absent")
            }
            guard item.tags.count <= Self.maximumTagsPerItem else {
                throw LiveWriteError(
                    kind: .invalid, index: index, field: "tags", reason: "\(item.tags.count) tags, more than \(Self.maximumTagsPerItem)")
            }
            for (position, tag) in item.tags.enumerated() {
                try LiveValidation.checkText(tag, index: index, field: "tags", name: "tag \(position)")
            }
        }
        guard !newItems.isEmpty else { return [] }
        return try transaction {
            let artistIsItem = try datasetKind == .lastfm
            var items = try LiveIDResolver(
                store: self, table: "items", insertSQL: "INSERT INTO items(id, external_id, artist_id, title, release, year) VALUES (?, ?, ?, ?, ?, ?)")
            var artists = try LiveIDResolver(store: self, table: "artists", insertSQL: "INSERT INTO artists(id, external_id, name) VALUES (?, ?, ?)")
            var tags = try LiveIDResolver(store: self, table: "tags", insertSQL: "INSERT INTO tags(id, external_id, name) VALUES (?, ?, ?)")
            let tagByName = try cached("SELECT id FROM tags WHERE name = ? ORDER BY id LIMIT 1")
            let insertLiveTag = try cached("INSERT INTO item_live_tags(item_id, position, tag_id) VALUES (?, ?, ?)")
            let insertItemTag = try cached(
                "INSERT INTO item_tags(item_id, tag_id, count) VALUES (?, ?, 1) ON CONFLICT(item_id, tag_id) DO UPDATE SET count = count + 1")
            var live = try LiveImportRow.fetchOrCreate(self, receivedAt: Int64(Date().timeIntervalSince1970))
            var record: [UInt8] = []
            var added: [ItemIndex] = []
            for (index, item) in newItems.enumerated() {
                if try items.find(item.id) != nil {
                    throw LiveWriteError(
                        kind: .duplicateID, index: index, field: "id", value: item.id,
                        reason: "item \(item.id) is already in the store; items are added once")
                }
                let artist: Int64
                if artistIsItem {
                    let (id, isNew) = try artists.id(for: item.id) { $0.bind(3, item.artist) }
                    guard isNew else {
                        throw LiveWriteError(
                            kind: .duplicateID, index: index, field: "id", value: item.id,
                            reason: "artist \(item.id) is already in this Last.fm store, where every item is an artist; use a new id")
                    }
                    artist = id
                } else {
                    artist = try artists.id(for: item.artist) { $0.bind(3, item.artist) }.id
                }
                let release = item.release.flatMap { $0.isEmpty ? nil : $0 }
                let id = try items.id(for: item.id) { insert in
                    insert.bind(3, artist)
                    insert.bind(4, item.title)
                    if let release { insert.bind(5, release) } else { insert.bindNull(5) }
                    if let year = item.year { insert.bind(6, year) } else { insert.bindNull(6) }
                }.id
                var seen = Set<String>()
                for name in item.tags where seen.insert(name).inserted {
                    tagByName.bind(1, name)
                    var tag: Int64?
                    try tagByName.query { tag = $0.int64(0) }
                    if tag == nil {
                        let external = try tags.find(name) == nil ? name : "live:" + name
                        tag = try tags.id(for: external) { $0.bind(3, name) }.id
                    }
                    insertLiveTag.bind(1, id)
                    insertLiveTag.bind(2, seen.count - 1)
                    insertLiveTag.bind(3, tag!)
                    _ = try insertLiveTag.executeBound()
                    insertItemTag.bind(1, id)
                    insertItemTag.bind(2, tag!)
                    _ = try insertItemTag.executeBound()
                }
                record.appendRecord(
                    "item", item.id, item.title, release ?? "", item.artist, item.year.map(String.init) ?? "", item.tags.joined(separator: "\t"))
                added.append(ItemIndex(Int(id)))
            }
            try live.commit(self, record: record, received: 0, accepted: 0, duplicates: 0)
            return added
        }
    }

    /// The tags an item was given when it was added live, in the order given (empty for imported items).
    /// - Throws: `SQLiteError` when the store cannot be read.
    /// - Complexity: O(log n + tags of the item).
    public func tags(ofItem item: ItemIndex) throws -> [String] {
        var names: [String] = []
        try db.prepare("SELECT t.name FROM item_live_tags l JOIN tags t ON t.id = l.tag_id WHERE l.item_id = ? ORDER BY l.position")
            .query([.integer(Int64(item.rawValue))]) { names.append($0.text(0) ?? "") }
        return names
    }
}
