import Foundation
import SQLite

/// A stored listener segmentation: its parameters, segments and members.
public struct StoredSegmentation: Sendable, Equatable {
    public struct Segment: Sendable, Equatable, Codable {
        public let index: Int
        public let stableID: String
        public let label: String
        public let size: Int
        /// JSON object: top artists, top tags, median plays.
        public let profileJSON: String

        public init(index: Int, stableID: String, label: String, size: Int, profileJSON: String) {
            self.index = index
            self.stableID = stableID
            self.label = label
            self.size = size
            self.profileJSON = profileJSON
        }
    }

    public struct Member: Sendable, Equatable {
        public let user: Int
        /// nil: unassigned.
        public let segment: Int?
        public let score: Double

        public init(user: Int, segment: Int?, score: Double) {
            self.user = user
            self.segment = segment
            self.score = score
        }
    }

    public var id: Int
    public var algorithm: String
    public var parametersJSON: String
    public var seed: UInt64
    public var dataFingerprint: String
    public var modularity: Double
    public var createdAt: String
    public var segments: [Segment]
    public var members: [Member]

    public init(
        id: Int = 0, algorithm: String, parametersJSON: String, seed: UInt64, dataFingerprint: String, modularity: Double,
        createdAt: String, segments: [Segment], members: [Member]
    ) {
        self.id = id
        self.algorithm = algorithm
        self.parametersJSON = parametersJSON
        self.seed = seed
        self.dataFingerprint = dataFingerprint
        self.modularity = modularity
        self.createdAt = createdAt
        self.segments = segments
        self.members = members
    }
}

/// One artist's stored "fans also like" list.
public struct StoredRelatedList: Sendable, Equatable {
    public let artist: Int
    public let related: [(artist: Int, score: Double)]
    /// How the stored list was ranked (`walk`, `ppr`); nil for a list not read from the store.
    public let method: String?
    /// The parameters it was computed with (JSON, with the seed); nil for a list not read from the store.
    public let parametersJSON: String?

    public init(artist: Int, related: [(artist: Int, score: Double)], method: String? = nil, parametersJSON: String? = nil) {
        self.artist = artist
        self.related = related
        self.method = method
        self.parametersJSON = parametersJSON
    }

    public static func == (a: StoredRelatedList, b: StoredRelatedList) -> Bool {
        a.artist == b.artist && a.related.map(\.artist) == b.related.map(\.artist) && a.related.map(\.score) == b.related.map(\.score)
    }
}

extension GraphStore {
    /// Saves a segmentation in one transaction and returns its id.
    public func saveSegmentation(_ segmentation: StoredSegmentation) throws -> Int {
        try transaction {
            try db.run(
                "INSERT INTO segmentations(algorithm, parameters, seed, data_fingerprint, modularity, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                .text(segmentation.algorithm), .text(segmentation.parametersJSON), .integer(Int64(bitPattern: segmentation.seed)),
                .text(segmentation.dataFingerprint), .real(segmentation.modularity), .text(segmentation.createdAt))
            let id = db.lastInsertRowID
            let segment = try db.prepare(
                "INSERT INTO segments(segmentation_id, segment_index, stable_id, label, size, profile) VALUES (?, ?, ?, ?, ?, ?)")
            for s in segmentation.segments {
                try segment.run([.integer(id), .integer(Int64(s.index)), .text(s.stableID), .text(s.label), .integer(Int64(s.size)), .text(s.profileJSON)])
            }
            let member = try db.prepare("INSERT INTO segment_members(segmentation_id, user_id, segment_index, score) VALUES (?, ?, ?, ?)")
            for m in segmentation.members {
                try member.run([.integer(id), .integer(Int64(m.user)), m.segment.map { .integer(Int64($0)) } ?? .null, .real(m.score)])
            }
            return Int(id)
        }
    }

    /// Loads a segmentation: the given id, or the latest when nil.
    /// - Throws: `StoreError` when there is none.
    public func segmentation(id: Int? = nil) throws -> StoredSegmentation {
        let rows = try id.map {
            try db.rows("SELECT id, algorithm, parameters, seed, data_fingerprint, modularity, created_at FROM segmentations WHERE id = ?", .integer(Int64($0)))
        } ?? db.rows("SELECT id, algorithm, parameters, seed, data_fingerprint, modularity, created_at FROM segmentations ORDER BY id DESC LIMIT 1")
        guard let row = rows.first, case .integer(let sid) = row[0] else {
            throw StoreError(id.map { "no segmentation \($0) in \(path)" } ?? "no segmentation in \(path); run `tastegraph segments` first")
        }
        func text(_ v: SQLValue) -> String { if case .text(let t) = v { return t } else { return "" } }
        func real(_ v: SQLValue) -> Double {
            switch v {
            case .real(let d): return d
            case .integer(let i): return Double(i)
            default: return 0
            }
        }
        var result = StoredSegmentation(
            id: Int(sid), algorithm: text(row[1]), parametersJSON: text(row[2]),
            seed: { if case .integer(let s) = row[3] { return UInt64(bitPattern: s) } else { return 0 } }(),
            dataFingerprint: text(row[4]), modularity: real(row[5]), createdAt: text(row[6]), segments: [], members: [])
        try db.prepare("SELECT segment_index, stable_id, label, size, profile FROM segments WHERE segmentation_id = ? ORDER BY segment_index")
            .query([.integer(sid)]) { r in
                result.segments.append(.init(index: r.int(0), stableID: r.text(1) ?? "", label: r.text(2) ?? "", size: r.int(3), profileJSON: r.text(4) ?? "{}"))
            }
        try db.prepare("SELECT user_id, segment_index, score FROM segment_members WHERE segmentation_id = ? ORDER BY user_id")
            .query([.integer(sid)]) { r in
                result.members.append(.init(user: r.int(0), segment: r.isNull(1) ? nil : r.int(1), score: r.double(2)))
            }
        return result
    }

    /// Replaces the stored related-artist lists of the given artists.
    public func saveRelatedArtists(_ lists: [StoredRelatedList], method: String, parametersJSON: String) throws {
        let now = ISO8601DateFormatter().string(from: Date())
        try transaction {
            let clear = try db.prepare("DELETE FROM related_artists WHERE artist_id = ?")
            let insert = try db.prepare(
                "INSERT INTO related_artists(artist_id, rank, related_artist_id, score, method, parameters, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            for list in lists {
                try clear.run([.integer(Int64(list.artist))])
                for (rank, entry) in list.related.enumerated() {
                    try insert.run([
                        .integer(Int64(list.artist)), .integer(Int64(rank + 1)), .integer(Int64(entry.artist)), .real(entry.score),
                        .text(method), .text(parametersJSON), .text(now),
                    ])
                }
            }
        }
    }

    /// The stored related-artist list of an artist (empty when none was computed).
    public func relatedArtists(of artist: Int) throws -> StoredRelatedList {
        var related: [(artist: Int, score: Double)] = []
        var method: String?
        var parameters: String?
        try db.prepare("SELECT related_artist_id, score, method, parameters FROM related_artists WHERE artist_id = ? ORDER BY rank")
            .query([.integer(Int64(artist))]) {
                related.append(($0.int(0), $0.double(1)))
                method = $0.text(2)
                parameters = $0.text(3)
            }
        return StoredRelatedList(artist: artist, related: related, method: method, parametersJSON: parameters)
    }

    /// Every stored related-artist list (what `related --batch` saved), by artist index, with its method.
    /// - Complexity: one scan of the table, O(rows).
    public func relatedArtistLists() throws -> [StoredRelatedList] {
        var lists: [StoredRelatedList] = []
        var current: (artist: Int, related: [(artist: Int, score: Double)], method: String?, parameters: String?)?
        func flush() {
            if let current { lists.append(StoredRelatedList(artist: current.artist, related: current.related, method: current.method, parametersJSON: current.parameters)) }
        }
        try db.prepare("SELECT artist_id, related_artist_id, score, method, parameters FROM related_artists ORDER BY artist_id, rank")
            .query([]) { row in
                let artist = row.int(0)
                if current?.artist != artist {
                    flush()
                    current = (artist, [], row.text(3), row.text(4))
                }
                current!.related.append((row.int(1), row.double(2)))
            }
        flush()
        return lists
    }
}
