import Foundation

#if canImport(Glibc)
import Glibc
#endif
import Logging
import SQLite
import TasteGraphCore
import TasteGraphSupport

/// Imports Echo Nest Taste Profile data: `user<TAB>song<TAB>play_count` triplets and, optionally, song
/// metadata in either MSD `unique_tracks.txt` or `song_data.csv` form (detected from the first line).
///
/// The import is one transaction: on any failure the store is left exactly as it was. Files are streamed;
/// memory grows with the number of distinct users and songs, never with the number of rows.
public struct TasteProfileImporter {
    let store: GraphStore
    let logger: Logger

    public init(store: GraphStore, logger: Logger = Logger(label: "tastegraph.import", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.store = store
        self.logger = logger
    }

    /// The song metadata layouts the importer understands.
    public enum MetadataFormat: String, Sendable {
        /// MSD `unique_tracks.txt`: `track<SEP>song<SEP>artist<SEP>title`, no header.
        case uniqueTracks = "unique_tracks"
        /// `song_data.csv`: quoted CSV with the header `song_id,title,release,artist_name,year`.
        case songDataCSV = "song_data.csv"

        static let songDataHeader = "song_id,title,release,artist_name,year"

        /// Detects the format from the file's first line.
        /// - Throws: `InputError` when the first line matches neither format.
        static func detect(path: String) throws -> MetadataFormat {
            do { try FileReadError.checkReadable(path) } catch let error as FileReadError {
                throw InputError(file: path, line: nil, reason: error.reason)
            }
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw InputError(file: path, line: nil, reason: "cannot read: permission denied")
            }
            defer { try? handle.close() }
            var head = (try? handle.read(upToCount: 4096)) ?? Data()
            if head.starts(with: LineReader.byteOrderMark) { head = head.dropFirst(LineReader.byteOrderMark.count) }
            let firstLine = String(decoding: head.prefix(while: { $0 != 0x0A && $0 != 0x0D }), as: UTF8.self)
            if firstLine.hasPrefix(songDataHeader) { return .songDataCSV }
            if firstLine.contains("<SEP>") { return .uniqueTracks }
            throw InputError(
                file: path, line: 1,
                reason: "unknown metadata format: expected MSD unique_tracks.txt (track<SEP>song<SEP>artist<SEP>title) or song_data.csv (header '\(songDataHeader)')")
        }
    }

    /// Imports `triplets` (and `metadata`, read first) into the store.
    ///
    /// - Throws: `InputError` or `ImportAborted` for bad data (the store is unchanged), `StoreError` when
    ///   the store holds another dataset kind.
    public func importTriplets(path triplets: String, metadata: String? = nil, options: ImportOptions = .init()) throws -> ImportReport {
        let started = Date()
        let db = store.db
        let session = ImportSession(db: db, dataset: .tasteProfile, options: options, logger: logger)
        let format = try metadata.map(MetadataFormat.detect(path:))
        try store.transaction {
            try store.claim(.tasteProfile)
            let artists = try IDMap(db: db, table: "artists", insertSQL: "INSERT INTO artists(id, external_id, name) VALUES (?, ?, ?)")
            let items = try IDMap(
                db: db, table: "items",
                insertSQL: "INSERT INTO items(id, external_id, artist_id, title, release, year) VALUES (?, ?, ?, ?, ?, ?)")
            if let metadata, let format {
                try importMetadata(metadata, format: format, artists: artists, items: items, session: session)
            }
            // Into an empty store every listen passes through the importer, so it can total plays per item
            // on the way and spare popularity a second scan of the listens.
            let fresh = try db.integer("SELECT COUNT(*) FROM listens") == 0
            let totals = try importListens(triplets, items: items, session: session, collectTotals: fresh)
            // Items are created either from metadata or by a listen, so every item without an artist is a
            // song with listens and no metadata.
            let withoutMetadata = try db.integer("SELECT COUNT(*) FROM items WHERE artist_id IS NULL")
            if withoutMetadata > 0 {
                session.warn("\(withoutMetadata) songs with listens have no metadata (no title or artist)")
            }
            try Popularity.recompute(store, totals: totals)
        }
        session.report.seconds = Date().timeIntervalSince(started)
        return session.report
    }

    // MARK: - Listens

    /// - Parameter collectTotals: the listens table is empty: total plays per item on the way.
    /// - Returns: per-item totals of what was imported when `collectTotals`, else nil.
    private func importListens(_ path: String, items: IDMap, session: ImportSession, collectTotals: Bool) throws -> Popularity.ItemTotals? {
        let db = store.db
        let users = try IDMap(db: db, table: "users", insertSQL: "INSERT INTO users(id, external_id) VALUES (?, ?)")
        let writer = try ListenWriter(db: db)
        let userName = try db.prepare("SELECT external_id FROM users WHERE id = ?")
        let itemName = try db.prepare("SELECT external_id FROM items WHERE id = ?")
        var inserter: BatchListenInserter?
        // Triplets come grouped by user: remember the last user's bytes to skip the map lookup.
        var lastUserBytes: [UInt8] = []
        var lastUser: Int64 = -1
        var fields: [Range<Int>] = []
        var totals = Popularity.ItemTotals(itemCount: collectTotals ? items.count : 0)
        func duplicate(_ user: Int64, _ item: Int64) throws -> String {
            var names = ["", ""]
            try userName.query([.integer(user)]) { names[0] = $0.text(0) ?? "" }
            try itemName.query([.integer(item)]) { names[1] = $0.text(0) ?? "" }
            return "duplicate (user, song) pair \(names[0]), \(names[1]): duplicates are rejected, not summed"
        }
        try session.read(path, kind: "listens", header: nil, row: { importID, number, line in
            Fields.split(line, separator: UInt8(ascii: "\t"), into: &fields)
            guard fields.count == 3 else {
                throw FieldError("wrong column count: expected 3 tab-separated fields (user, song, play_count), found \(fields.count)")
            }
            let plays = try Fields.playCount(UnsafeRawBufferPointer(rebasing: line[fields[2]]))
            let userBytes = UnsafeRawBufferPointer(rebasing: line[fields[0]])
            let songBytes = UnsafeRawBufferPointer(rebasing: line[fields[1]])
            guard !userBytes.isEmpty else { throw FieldError("user id is empty") }
            guard !songBytes.isEmpty else { throw FieldError("song id is empty") }
            let user: Int64
            if lastUser >= 0 && userBytes.count == lastUserBytes.count
                && lastUserBytes.withUnsafeBytes({ memcmp($0.baseAddress!, userBytes.baseAddress!, userBytes.count) == 0 })
            {
                user = lastUser
            } else {
                if let known = users.find(userBytes) {
                    user = known
                } else {
                    _ = try Fields.utf8(userBytes, name: "user id")  // new ids are checked once
                    user = try users.id(forUTF8: userBytes).id
                }
                lastUserBytes = Array(userBytes)
                lastUser = user
            }
            let item: Int64
            if let known = items.find(songBytes) {
                item = known
            } else {
                _ = try Fields.utf8(songBytes, name: "song id")
                item = try items.id(forUTF8: songBytes) { insert in
                    insert.bindNull(3); insert.bindNull(4); insert.bindNull(5); insert.bindNull(6)
                }.id
            }
            if collectTotals {
                if inserter == nil {
                    inserter = try BatchListenInserter(db: db, importID: importID) { line, user, item, plays in
                        try session.rejectLine(line, reason: try duplicate(user, item))
                        totals.add(item: Int(item), plays: -plays, listeners: -1)  // the rejected row was counted
                    }
                }
                try inserter!.add(user: user, item: item, plays: plays, line: number)
                totals.add(item: Int(item), plays: plays)
            } else if try !writer.write(user: user, item: item, plays: plays, importID: importID) {
                throw FieldError(try duplicate(user, item))
            }
        }, end: {
            try inserter?.flush()
        })
        return collectTotals ? totals : nil
    }

    // MARK: - Metadata

    private struct SongMetadata: Equatable {
        var song: String
        var title: String
        var release: String?
        var artist: String
        var year: Int64?
    }

    func importMetadata(_ path: String, format: MetadataFormat, artists: IDMap, items: IDMap, session: ImportSession) throws {
        let db = store.db
        let update = try db.prepare("UPDATE items SET artist_id = ?, title = ?, release = ?, year = ? WHERE id = ?")
        let existing = try db.prepare(
            "SELECT a.name, i.title, i.release, i.year FROM items i LEFT JOIN artists a ON a.id = i.artist_id WHERE i.id = ?")
        var seenInFile = Set<Int64>()
        var repeats = 0
        let separator = Array("<SEP>".utf8)
        try session.read(
            path, kind: "metadata", header: format == .songDataCSV ? MetadataFormat.songDataHeader : nil,
            framing: format == .songDataCSV ? .csv : .lines
        ) { _, _, line in
            let meta: SongMetadata
            switch format {
            case .uniqueTracks:
                let fields = Fields.split(line, separator: separator)
                guard fields.count == 4 else {
                    throw FieldError("wrong column count: expected 4 <SEP>-separated fields (track, song, artist, title), found \(fields.count)")
                }
                meta = SongMetadata(
                    song: try Fields.utf8(UnsafeRawBufferPointer(rebasing: line[fields[1]]), name: "song id"),
                    title: try Fields.utf8(UnsafeRawBufferPointer(rebasing: line[fields[3]]), name: "title"),
                    release: nil,
                    artist: try Fields.utf8(UnsafeRawBufferPointer(rebasing: line[fields[2]]), name: "artist name"),
                    year: nil)
            case .songDataCSV:
                let fields = try Fields.splitCSV(line)
                guard fields.count == 5 else {
                    throw FieldError("wrong column count: expected 5 comma-separated fields (song_id, title, release, artist_name, year), found \(fields.count)")
                }
                let year = try fields[4].withUnsafeBytes { (raw) throws -> Int64 in try Fields.count(raw, name: "year") }
                // Quoted text fields may hold tabs and line breaks (RFC 4180); ids may not.
                let release = try Fields.utf8(fields[2], name: "release", allowingTabsAndNewlines: true)
                meta = SongMetadata(
                    song: try Fields.utf8(fields[0], name: "song id"),
                    title: try Fields.utf8(fields[1], name: "title", allowingTabsAndNewlines: true),
                    release: release.isEmpty ? nil : release,
                    artist: try Fields.utf8(fields[3], name: "artist name", allowingTabsAndNewlines: true),
                    year: year == 0 ? nil : year)
            }
            guard !meta.song.isEmpty else { throw FieldError("song id is empty") }
            guard !meta.artist.isEmpty else { throw FieldError("artist name is empty") }

            if let item = items[meta.song], seenInFile.contains(item) {
                // The same song listed again (MSD lists some songs under several tracks): an exact repeat
                // is harmless, a conflicting one is rejected.
                var stored: SongMetadata?
                try existing.query([.integer(item)]) { row in
                    stored = SongMetadata(
                        song: meta.song, title: row.text(1) ?? "", release: row.text(2), artist: row.text(0) ?? "",
                        year: row.isNull(3) ? nil : row.int64(3))
                }
                guard stored == meta else {
                    throw FieldError("song \(meta.song) is listed again with different metadata")
                }
                repeats += 1
                return
            }
            let artist = try artists.id(for: meta.artist) { $0.bind(3, meta.artist) }.id
            let (item, isNew) = try items.id(for: meta.song) { insert in
                insert.bind(3, artist)
                insert.bind(4, meta.title)
                if let release = meta.release { insert.bind(5, release) } else { insert.bindNull(5) }
                if let year = meta.year { insert.bind(6, year) } else { insert.bindNull(6) }
            }
            if !isNew {  // known from an earlier import: refresh its metadata
                update.bind(1, artist)
                update.bind(2, meta.title)
                if let release = meta.release { update.bind(3, release) } else { update.bindNull(3) }
                if let year = meta.year { update.bind(4, year) } else { update.bindNull(4) }
                update.bind(5, item)
                _ = try update.executeBound()
            }
            seenInFile.insert(item)
        }
        if repeats > 0 {
            session.warn("\(path): \(repeats) exact repeats of a song's metadata were ignored")
        }
    }
}
