import Foundation
import Logging
import SQLite
import TasteGraphCore

/// Imports the hetrec2011 Last.fm 2k dataset as shipped (tab-separated, headers, CRLF or LF line ends).
///
/// | file | content | encoding |
/// |---|---|---|
/// | artists.dat | `id name url pictureURL` | UTF-8 |
/// | tags.dat | `tagID tagValue` | ISO-8859-1 |
/// | user_artists.dat | `userID artistID weight` (weight = play count) | ASCII |
/// | user_friends.dat | `userID friendID` | ASCII |
/// | user_taggedartists.dat | `userID artistID tagID day month year` | ASCII |
///
/// Listens are counted per artist, so every artist is also an item. Users are the users of
/// user_artists.dat; friends and tag assignments must name one of them and a known tag. Tag assignments
/// may name an artist missing from artists.dat (1,538 rows of the shipped data do): they are kept, with no
/// item link, and counted in a warning. tags.dat, user_friends.dat and user_taggedartists.dat are optional.
public struct LastfmImporter {
    let store: GraphStore
    let logger: Logger

    public init(store: GraphStore, logger: Logger = Logger(label: "tastegraph.import", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.store = store
        self.logger = logger
    }

    /// Imports the dataset in `directory`, in one transaction.
    /// - Throws: `InputError` or `ImportAborted` for bad data (the store is unchanged), `StoreError` when the
    ///   store holds another dataset kind.
    public func importDirectory(_ directory: String, options: ImportOptions = .init()) throws -> ImportReport {
        let started = Date()
        let db = store.db
        let session = ImportSession(db: db, dataset: .lastfm, options: options, logger: logger)
        let dir = URL(fileURLWithPath: directory)
        func file(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw InputError(file: directory, line: nil, reason: "cannot read: no such directory")
        }
        guard isDirectory.boolValue else {
            throw InputError(file: directory, line: nil, reason: "cannot read: it is a file, not the Last.fm directory")
        }
        guard exists("artists.dat"), exists("user_artists.dat") else {
            throw InputError(
                file: directory, line: nil,
                reason: "not a hetrec2011 Last.fm directory: artists.dat and user_artists.dat are required")
        }
        try store.transaction {
            try store.claim(.lastfm)
            let artists = try importArtists(file("artists.dat"), session: session)
            let tags = exists("tags.dat") ? try importTags(file("tags.dat"), session: session) : nil
            let users = try importListens(file("user_artists.dat"), artists: artists, session: session)
            if exists("user_friends.dat") {
                try importFriends(file("user_friends.dat"), users: users, session: session)
            }
            if exists("user_taggedartists.dat") {
                guard let tags else {
                    throw InputError(file: file("user_taggedartists.dat"), line: nil, reason: "tag assignments need tags.dat beside them")
                }
                try importTagAssignments(file("user_taggedartists.dat"), users: users, artists: artists, tags: tags, session: session)
            }
            try rebuildItemTags(db)
            try Popularity.recompute(store)
        }
        session.report.seconds = Date().timeIntervalSince(started)
        return session.report
    }

    /// Reads one field of a tab-separated row.
    private static func field(_ line: UnsafeRawBufferPointer, _ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: line[range])
    }

    /// Splits a row and checks its column count.
    private static func columns(_ line: UnsafeRawBufferPointer, _ names: [String]) throws -> [Range<Int>] {
        let fields = Fields.split(line, separator: UInt8(ascii: "\t"))
        guard fields.count == names.count else {
            throw FieldError("wrong column count: expected \(names.count) tab-separated fields (\(names.joined(separator: ", "))), found \(fields.count)")
        }
        return fields
    }

    /// An integer id field, kept as its canonical decimal text.
    private static func idText(_ bytes: UnsafeRawBufferPointer, name: String) throws -> String {
        String(try Fields.count(bytes, name: name))
    }

    private func importArtists(_ path: String, session: ImportSession) throws -> IDMap {
        let db = store.db
        let artists = try IDMap(
            db: db, table: "artists", insertSQL: "INSERT INTO artists(id, external_id, name, url, picture_url) VALUES (?, ?, ?, ?, ?)")
        let items = try IDMap(db: db, table: "items", insertSQL: "INSERT INTO items(id, external_id, artist_id, title) VALUES (?, ?, ?, ?)")
        let refresh = try db.prepare("UPDATE artists SET name = ?, url = ?, picture_url = ? WHERE id = ?")
        let refreshItem = try db.prepare("UPDATE items SET title = ? WHERE id = ?")
        var seen = Set<Int64>()
        try session.read(path, kind: "artists", header: "id\tname\turl\tpictureURL") { _, _, line in
            let f = try Self.columns(line, ["id", "name", "url", "pictureURL"])
            let external = try Self.idText(Self.field(line, f[0]), name: "artist id")
            let name = try Fields.utf8(Self.field(line, f[1]), name: "artist name")
            let url = try Fields.utf8(Self.field(line, f[2]), name: "url")
            let picture = try Fields.utf8(Self.field(line, f[3]), name: "pictureURL")
            if let known = artists[external], seen.contains(known) {
                throw FieldError("duplicate artist id \(external): duplicates are rejected")
            }
            let (artist, isNew) = try artists.id(for: external) { insert in
                insert.bind(3, name); insert.bind(4, url); insert.bind(5, picture)
            }
            let (item, itemIsNew) = try items.id(for: external) { insert in insert.bind(3, artist); insert.bind(4, name) }
            if !isNew {
                try refresh.run([.text(name), .text(url), .text(picture), .integer(artist)])
            }
            if !itemIsNew { try refreshItem.run([.text(name), .integer(item)]) }
            seen.insert(artist)
        }
        return artists
    }

    private func importTags(_ path: String, session: ImportSession) throws -> IDMap {
        let db = store.db
        let tags = try IDMap(db: db, table: "tags", insertSQL: "INSERT INTO tags(id, external_id, name) VALUES (?, ?, ?)")
        let refresh = try db.prepare("UPDATE tags SET name = ? WHERE id = ?")
        var seen = Set<Int64>()
        try session.read(path, kind: "tags", header: "tagID\ttagValue") { _, _, line in
            let f = try Self.columns(line, ["tagID", "tagValue"])
            let external = try Self.idText(Self.field(line, f[0]), name: "tag id")
            let name = try Fields.latin1(Self.field(line, f[1]), name: "tag value")
            if let known = tags[external], seen.contains(known) {
                throw FieldError("duplicate tag id \(external): duplicates are rejected")
            }
            let (tag, isNew) = try tags.id(for: external) { $0.bind(3, name) }
            if !isNew { try refresh.run([.text(name), .integer(tag)]) }
            seen.insert(tag)
        }
        return tags
    }

    private func importListens(_ path: String, artists: IDMap, session: ImportSession) throws -> IDMap {
        let db = store.db
        let users = try IDMap(db: db, table: "users", insertSQL: "INSERT INTO users(id, external_id) VALUES (?, ?)")
        let items = try IDMap(db: db, table: "items")
        let writer = try ListenWriter(db: db)
        try session.read(path, kind: "listens", header: "userID\tartistID\tweight") { importID, _, line in
            let f = try Self.columns(line, ["userID", "artistID", "weight"])
            let userText = try Self.idText(Self.field(line, f[0]), name: "user id")
            let artistText = try Self.idText(Self.field(line, f[1]), name: "artist id")
            let plays = try Fields.playCount(Self.field(line, f[2]))
            guard let item = items[artistText] else {
                throw FieldError("unknown artist id \(artistText): not in artists.dat")
            }
            let user = try users.id(for: userText).id
            guard try writer.write(user: user, item: item, plays: plays, importID: importID) else {
                throw FieldError("duplicate (user, artist) pair \(userText), \(artistText): duplicates are rejected, not summed")
            }
        }
        return users
    }

    private func importFriends(_ path: String, users: IDMap, session: ImportSession) throws {
        let upsert = try store.db.prepare(
            """
            INSERT INTO friends(user_id, friend_id, import_id) VALUES (?, ?, ?)
            ON CONFLICT(user_id, friend_id) DO UPDATE SET import_id = excluded.import_id
            WHERE friends.import_id <> excluded.import_id
            """)
        try session.read(path, kind: "friends", header: "userID\tfriendID") { importID, _, line in
            let f = try Self.columns(line, ["userID", "friendID"])
            let userText = try Self.idText(Self.field(line, f[0]), name: "user id")
            let friendText = try Self.idText(Self.field(line, f[1]), name: "friend id")
            guard let user = users[userText] else { throw FieldError("unknown user id \(userText): not in user_artists.dat") }
            guard let friend = users[friendText] else { throw FieldError("unknown user id \(friendText): not in user_artists.dat") }
            upsert.bind(1, user); upsert.bind(2, friend); upsert.bind(3, importID)
            guard try upsert.executeBound() > 0 else {
                throw FieldError("duplicate friend pair \(userText), \(friendText): duplicates are rejected")
            }
        }
    }

    private func importTagAssignments(_ path: String, users: IDMap, artists: IDMap, tags: IDMap, session: ImportSession) throws {
        let upsert = try store.db.prepare(
            """
            INSERT INTO tag_assignments(user_id, artist_external_id, tag_id, artist_id, day, month, year, import_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(user_id, artist_external_id, tag_id) DO UPDATE SET artist_id = excluded.artist_id,
                day = excluded.day, month = excluded.month, year = excluded.year, import_id = excluded.import_id
            WHERE tag_assignments.import_id <> excluded.import_id
            """)
        var unknownArtists = 0
        try session.read(path, kind: "tag-assignments", header: "userID\tartistID\ttagID\tday\tmonth\tyear") { importID, _, line in
            let f = try Self.columns(line, ["userID", "artistID", "tagID", "day", "month", "year"])
            let userText = try Self.idText(Self.field(line, f[0]), name: "user id")
            let artistText = try Self.idText(Self.field(line, f[1]), name: "artist id")
            let tagText = try Self.idText(Self.field(line, f[2]), name: "tag id")
            let day = try Fields.count(Self.field(line, f[3]), name: "day")
            let month = try Fields.count(Self.field(line, f[4]), name: "month")
            let year = try Fields.count(Self.field(line, f[5]), name: "year")
            guard let user = users[userText] else { throw FieldError("unknown user id \(userText): not in user_artists.dat") }
            guard let tag = tags[tagText] else { throw FieldError("unknown tag id \(tagText): not in tags.dat") }
            upsert.bind(1, user); upsert.bind(2, artistText); upsert.bind(3, tag)
            if let artist = artists[artistText] { upsert.bind(4, artist) } else { upsert.bindNull(4) }
            upsert.bind(5, day); upsert.bind(6, month); upsert.bind(7, year); upsert.bind(8, importID)
            guard try upsert.executeBound() > 0 else {
                throw FieldError("duplicate tag assignment (user \(userText), artist \(artistText), tag \(tagText)): duplicates are rejected")
            }
            if artists[artistText] == nil { unknownArtists += 1 }
        }
        if unknownArtists > 0 {
            session.warn("\(path): \(unknownArtists) tag assignments name artists missing from artists.dat; kept, but not linked to an item")
        }
    }

    /// item_tags = number of users who gave each (item, tag), over assignments linked to a known artist,
    /// plus one for each tag given to an item added live (`item_live_tags`, see `GraphStore.addItems`).
    private func rebuildItemTags(_ db: Database) throws {
        try db.execute(
            """
            DELETE FROM item_tags;
            INSERT INTO item_tags(item_id, tag_id, count)
            SELECT i.id, ta.tag_id, COUNT(*) FROM tag_assignments ta JOIN items i ON i.artist_id = ta.artist_id
            GROUP BY i.id, ta.tag_id;
            INSERT INTO item_tags(item_id, tag_id, count)
            SELECT item_id, tag_id, 1 FROM item_live_tags WHERE true
            ON CONFLICT(item_id, tag_id) DO UPDATE SET count = count + 1;
            """)
    }
}
