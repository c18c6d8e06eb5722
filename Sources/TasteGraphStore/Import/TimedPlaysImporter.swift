import Foundation

#if canImport(Glibc)
import Glibc
#endif
import Logging
import SQLite
import TasteGraphCore
import TasteGraphSupport

/// Imports timestamped play events: one row per play, with its time. Every event is kept
/// (`play_chunks`, read back by `GraphStore.timedPlays()`), and the play counts of `listens` are derived
/// from them: a (user, item) pair's count is its number of events.
///
/// Formats:
/// - `lastfm-1k`: the Last.fm 1K users dump, `userid<TAB>timestamp<TAB>artist-id<TAB>artist-name<TAB>track-id<TAB>track-name`,
///   no header. An item is a track: its MusicBrainz id, or where the dump has none (about 12 % of rows)
///   `artist-name – track-name`; an artist is its MusicBrainz id, or its name where it has none.
/// - `plays`: `user<TAB>item<TAB>time`, no header; song metadata (`song_data.csv`, `unique_tracks.txt`)
///   may come with `--metadata`, as for Taste Profile triplets.
///
/// Times are RFC 3339 date-times (`2009-05-04T23:08:57Z`, offsets allowed) or, in `plays`, Unix seconds;
/// they must lie in 1970-01-01 … 2099-12-31 (`RFC3339.storedRange`). Rows may come in any order.
///
/// Rules shared with the other importers: one transaction (on any failure the store is left exactly as
/// it was), line-precise errors, `--max-errors` to skip bad rows. Events are events: the same
/// (user, item, time) twice is two plays, and a second import of the same file (same SHA-256) is refused,
/// because it would count every play twice. Memory grows with distinct users, items and (user, item)
/// pairs, never with rows: events are written in fixed-size chunks as they are read.
public struct TimedPlaysImporter {
    let store: GraphStore
    let logger: Logger

    public init(store: GraphStore, logger: Logger = Logger(label: "tastegraph.import", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.store = store
        self.logger = logger
    }

    /// The row layouts the importer reads.
    public enum Format: String, Sendable, CaseIterable, Codable {
        case lastfm1k = "lastfm-1k"
        case plays
    }

    /// Events buffered before a chunk is written.
    static let chunkSize = 65_536

    /// Imports `path` (and `metadata`, read first; `plays` format only).
    /// - Throws: `InputError` or `ImportAborted` for bad data (the store is unchanged), `StoreError` when the
    ///   store holds another dataset kind.
    public func importPlays(path: String, format: Format, metadata: String? = nil, options: ImportOptions = .init()) throws -> ImportReport {
        let started = Date()
        let db = store.db
        let session = ImportSession(db: db, dataset: .listeningHistory, options: options, logger: logger)
        let metadataFormat = try metadata.map(TasteProfileImporter.MetadataFormat.detect(path:))
        try store.transaction {
            try store.claim(.listeningHistory)
            let artists = try IDMap(db: db, table: "artists", insertSQL: "INSERT INTO artists(id, external_id, name) VALUES (?, ?, ?)")
            let items = try IDMap(
                db: db, table: "items",
                insertSQL: "INSERT INTO items(id, external_id, artist_id, title, release, year) VALUES (?, ?, ?, ?, ?, ?)")
            if let metadata, let metadataFormat {
                try TasteProfileImporter(store: store, logger: logger)
                    .importMetadata(metadata, format: metadataFormat, artists: artists, items: items, session: session)
            }
            let (file, pairs, importID) = try importEvents(path, format: format, artists: artists, items: items, session: session)
            let earlier = try db.integer(
                "SELECT COALESCE(MIN(id), -1) FROM imports WHERE kind = 'plays' AND fingerprint = ? AND id <> ?",
                .text(file.fingerprint), .integer(importID))
            guard earlier < 0 else {
                throw InputError(
                    file: path, line: nil,
                    reason: "this file was imported before (import log entry \(earlier), same SHA-256): its plays are in the store already, and importing it again would count each twice")
            }
            try writeCounts(pairs, importID: importID)
            if format == .plays {
                let withoutMetadata = try db.integer("SELECT COUNT(*) FROM items WHERE artist_id IS NULL")
                if withoutMetadata > 0 { session.warn("\(withoutMetadata) songs with plays have no metadata (no title or artist)") }
            }
            try Popularity.recompute(store)
        }
        session.report.seconds = Date().timeIntervalSince(started)
        return session.report
    }

    // MARK: - Events

    /// Events per (user, item) pair, keyed `user << 32 | item`.
    typealias PairCounts = [UInt64: Int64]

    private func importEvents(
        _ path: String, format: Format, artists: IDMap, items: IDMap, session: ImportSession
    ) throws -> (file: FileImportReport, pairs: PairCounts, importID: Int64) {
        let db = store.db
        let users = try IDMap(db: db, table: "users", insertSQL: "INSERT INTO users(id, external_id) VALUES (?, ?)")
        let chunks = PlayChunkWriter(db: db)
        var pairs = PairCounts()
        var fields: [Range<Int>] = []
        var lastUserBytes: [UInt8] = []
        var lastUser: Int64 = -1
        var key: [UInt8] = []
        var fileImportID: Int64 = -1
        let columns = format == .lastfm1k ? 6 : 3
        let layout = format == .lastfm1k
            ? "userid, timestamp, artist-id, artist-name, track-id, track-name" : "user, item, time"

        func user(_ bytes: UnsafeRawBufferPointer) throws -> Int64 {
            guard !bytes.isEmpty else { throw FieldError("user id is empty") }
            if lastUser >= 0 && bytes.count == lastUserBytes.count
                && lastUserBytes.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
            {
                return lastUser
            }
            let id: Int64
            if let known = users.find(bytes) {
                id = known
            } else {
                _ = try Fields.utf8(bytes, name: "user id")
                id = try users.id(forUTF8: bytes).id
            }
            lastUserBytes = Array(bytes)
            lastUser = id
            return id
        }

        /// The item of a `lastfm-1k` row, created with its artist and title when new.
        func track(_ line: UnsafeRawBufferPointer) throws -> Int64 {
            let artistID = UnsafeRawBufferPointer(rebasing: line[fields[2]])
            let artistName = UnsafeRawBufferPointer(rebasing: line[fields[3]])
            let trackID = UnsafeRawBufferPointer(rebasing: line[fields[4]])
            let trackName = UnsafeRawBufferPointer(rebasing: line[fields[5]])
            let itemKey: UnsafeRawBufferPointer
            if !trackID.isEmpty {
                itemKey = trackID
            } else {
                guard !artistName.isEmpty, !trackName.isEmpty else {
                    throw FieldError("track has no id and no artist and track name to name it by")
                }
                key.removeAll(keepingCapacity: true)
                key.append(contentsOf: artistName)
                key.append(contentsOf: Self.nameSeparator)
                key.append(contentsOf: trackName)
                if let known = key.withUnsafeBytes({ items.find($0) }) { return known }
                return try key.withUnsafeBytes { try newTrack(key: $0) }
            }
            if let known = items.find(itemKey) { return known }
            return try newTrack(key: itemKey)

            func newTrack(key: UnsafeRawBufferPointer) throws -> Int64 {
                let keyText = try Fields.utf8(key, name: "track id")
                guard !artistName.isEmpty || !artistID.isEmpty else { throw FieldError("track \(keyText) has no artist id or name") }
                let name = try Fields.utf8(artistName.isEmpty ? artistID : artistName, name: "artist name")
                let artistKey = try Fields.utf8(artistID.isEmpty ? artistName : artistID, name: "artist id")
                let title = try Fields.utf8(trackName, name: "track name")
                let artist = try artists.id(for: artistKey) { $0.bind(3, name) }.id
                return try items.id(for: keyText) { insert in
                    insert.bind(3, artist)
                    if title.isEmpty { insert.bindNull(4) } else { insert.bind(4, title) }
                    insert.bindNull(5); insert.bindNull(6)
                }.id
            }
        }

        /// The item of a `plays` row (a song without metadata when new).
        func song(_ bytes: UnsafeRawBufferPointer) throws -> Int64 {
            guard !bytes.isEmpty else { throw FieldError("item id is empty") }
            if let known = items.find(bytes) { return known }
            _ = try Fields.utf8(bytes, name: "item id")
            return try items.id(forUTF8: bytes) { insert in
                insert.bindNull(3); insert.bindNull(4); insert.bindNull(5); insert.bindNull(6)
            }.id
        }

        let file = try session.read(path, kind: "plays", header: nil, row: { importID, _, line in
            fileImportID = importID
            Fields.split(line, separator: UInt8(ascii: "\t"), into: &fields)
            guard fields.count == columns else {
                throw FieldError("wrong column count: expected \(columns) tab-separated fields (\(layout)), found \(fields.count)")
            }
            let time = try Self.time(UnsafeRawBufferPointer(rebasing: line[fields[format == .lastfm1k ? 1 : 2]]), allowingUnixSeconds: format == .plays)
            let userID = try user(UnsafeRawBufferPointer(rebasing: line[fields[0]]))
            let item = format == .lastfm1k ? try track(line) : try song(UnsafeRawBufferPointer(rebasing: line[fields[1]]))
            pairs[UInt64(userID) << 32 | UInt64(item), default: 0] += 1
            try chunks.add(user: Int32(userID), item: Int32(item), at: time, importID: importID)
        }, end: {
            try chunks.flush(importID: fileImportID)
        })
        return (file, pairs, fileImportID)
    }

    /// What joins artist and track name into the key of a track without an id: an en dash between spaces.
    static let nameSeparator = Array(" – ".utf8)

    /// The Unix seconds of a time field: RFC 3339, or (when allowed) decimal Unix seconds.
    /// - Throws: `FieldError` for a malformed time or one outside `RFC3339.storedRange`.
    static func time(_ bytes: UnsafeRawBufferPointer, allowingUnixSeconds: Bool) throws -> Int64 {
        var seconds: Int64?
        if allowingUnixSeconds, !bytes.isEmpty, bytes.count <= 18, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            seconds = bytes.reduce(Int64(0)) { $0 * 10 + Int64($1 - 48) }
        } else {
            seconds = RFC3339.seconds(bytes)
        }
        guard let seconds else {
            throw FieldError(
                "bad time '\(Fields.printable(UnsafeRawBufferPointer(rebasing: bytes.prefix(64))))': expected an RFC 3339 date-time such as 2009-05-04T23:08:57Z\(allowingUnixSeconds ? " or Unix seconds" : "")")
        }
        guard RFC3339.storedRange.contains(seconds) else {
            throw FieldError("time '\(Fields.printable(UnsafeRawBufferPointer(rebasing: bytes.prefix(64))))' is out of range: times must lie between 1970-01-01 and 2099-12-31")
        }
        return seconds
    }

    /// Writes the derived play counts: a pair new to the store gets its event count, a pair already there
    /// (an earlier file's events, or play counts from elsewhere) has it added.
    private func writeCounts(_ pairs: PairCounts, importID: Int64) throws {
        let upsert = try store.db.prepare(
            "INSERT INTO listens(user_id, item_id, play_count, import_id) VALUES (?, ?, ?, ?) ON CONFLICT(user_id, item_id) DO UPDATE SET play_count = play_count + excluded.play_count, import_id = excluded.import_id")
        // In key order, the order of the listens B-tree: each insert lands beside the last.
        for key in pairs.keys.sorted() {
            upsert.bind(1, Int64(key >> 32))
            upsert.bind(2, Int64(key & 0xFFFF_FFFF))
            upsert.bind(3, pairs[key]!)
            upsert.bind(4, importID)
            _ = try upsert.executeBound()
        }
    }
}

/// Buffers play events and writes them to `play_chunks` `TimedPlaysImporter.chunkSize` at a time.
final class PlayChunkWriter {
    private let db: Database
    private var users: [Int32] = []
    private var items: [Int32] = []
    private var times: [Int64] = []
    private var insert: Statement?

    init(db: Database) {
        self.db = db
        users.reserveCapacity(TimedPlaysImporter.chunkSize)
        items.reserveCapacity(TimedPlaysImporter.chunkSize)
        times.reserveCapacity(TimedPlaysImporter.chunkSize)
    }

    func add(user: Int32, item: Int32, at time: Int64, importID: Int64) throws {
        users.append(user)
        items.append(item)
        times.append(time)
        if users.count == TimedPlaysImporter.chunkSize { try flush(importID: importID) }
    }

    /// Writes what is buffered (nothing when empty).
    func flush(importID: Int64) throws {
        guard !users.isEmpty else { return }
        if insert == nil { insert = try db.prepare("INSERT INTO play_chunks(import_id, count, users, items, times) VALUES (?, ?, ?, ?, ?)") }
        let insert = insert!
        insert.bind(1, importID)
        insert.bind(2, users.count)
        // Little-endian on every platform Swift runs this on (x86-64, arm64); the reader checks the lengths.
        users.withUnsafeBytes { insert.bindBlob(3, $0) }
        items.withUnsafeBytes { insert.bindBlob(4, $0) }
        times.withUnsafeBytes { insert.bindBlob(5, $0) }
        _ = try insert.executeBound()
        users.removeAll(keepingCapacity: true)
        items.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
    }
}
