import Foundation
import TasteGraphCore
import TasteGraphStore
import TasteGraphSupport

/// Options of `segments export`.
public struct ExportOptions: Sendable {
    /// Replace external user ids by SHA-256(salt ‖ id) when set.
    public var salt: String?
    /// Segments with fewer members are not exported (the manifest counts them).
    public var minAudience = 100
    /// Split members into numbered files of at most this many rows (0: one file).
    public var maxRowsPerFile = 0
    /// Also write the subgraph of this segment (stable id or index) as GraphML.
    public var graphMLSegment: String?
    /// An earlier export's manifest: write entered.csv / exited.csv against it.
    public var previousManifest: String?

    public init() {}
}

/// What an export wrote.
public struct ExportResult: Sendable, Codable {
    public let directory: String
    public let files: [String]
    public let exportedSegments: Int
    public let suppressedSegments: Int
    public let members: Int
}

/// An export failed; the previous export in the target directory is untouched.
public struct ExportError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Writes a segmentation as files marketing can load.
///
/// - `members.csv` (or `members-0001.csv`, …): RFC 4180, UTF-8, header, ordered by segment then user key:
///   `segment_id,user_key,user_key_type,score,assigned_at`.
/// - `manifest.json`: per segment id, label, description, size; algorithm, parameters, seed, data
///   fingerprint, hashing scheme, minimum audience, schema version, and the SHA-256 of every file.
/// - optional `segment-<id>.graphml` (users, their top items, labels) and `entered.csv` / `exited.csv`.
///
/// Atomic: everything is written into a temporary sibling directory, which then replaces `directory` by
/// rename; an export that fails or is interrupted leaves the previous export as it was.
public struct SegmentExporter {
    public static let schemaVersion = 1

    let store: GraphStore

    public init(store: GraphStore) { self.store = store }

    public func export(segmentation: StoredSegmentation, to directory: String, options: ExportOptions) throws -> ExportResult {
        let catalog = try store.catalog()
        let target = URL(fileURLWithPath: OutputGuard.canonical(directory))
        let existing = try ExportTarget.check(target, requestedAs: directory, store: store.path)
        ExportTarget.removeStaleFolders(beside: target)
        let staging = try ExportTarget.makeFolder(ExportTarget.folderName(for: target, role: "staging"), beside: target)
        do {
            let result = try write(segmentation, catalog: catalog, into: staging, options: options, finalDirectory: target.path)
            if let existing {
                // old export → marked trash folder, staging → target, then the trash's own files are removed.
                let trash = target.deletingLastPathComponent().appendingPathComponent(ExportTarget.folderName(for: target, role: "old"))
                try FileManager.default.moveItem(at: target, to: trash)
                try ExportTarget.mark(trash)
                do {
                    try FileManager.default.moveItem(at: staging, to: target)
                } catch {
                    try? FileManager.default.moveItem(at: trash, to: target)
                    try? ExportTarget.unmark(target)
                    throw error
                }
                ExportTarget.removeExportFolder(trash, files: existing + [ExportTarget.markerName])
            } else {
                try FileManager.default.moveItem(at: staging, to: target)
            }
            try ExportTarget.unmark(target)
            AtomicFile.syncFolder(of: target.path)
            return result
        } catch {
            ExportTarget.removeExportFolder(staging, files: nil)
            throw error
        }
    }

    /// A short check value of the salt, recorded in hashed manifests so `--since` can tell whether two
    /// exports used the same salt: the first 16 hex digits of SHA-256("tastegraph-salt-check" ‖ 0 ‖ salt). It
    /// reveals no user key; guessing the salt from it is no easier than from the keys themselves.
    static func saltCheck(_ salt: String) -> String {
        String(SHA256.hex(of: "tastegraph-salt-check\u{0}" + salt).prefix(16))
    }

    private func userKey(_ user: Int, catalog: Catalog, salt: String?) -> String {
        let external = catalog.userExternalIDs[user]
        guard let salt else { return external }
        return SHA256.hex(of: salt + external)
    }


    private func write(
        _ segmentation: StoredSegmentation, catalog: Catalog, into staging: URL, options: ExportOptions, finalDirectory: String
    ) throws -> ExportResult {
        let keyType = options.salt == nil ? "external_id" : "sha256_salted"
        let exported = segmentation.segments.filter { $0.size >= options.minAudience }
        let exportedIndex = Dictionary(uniqueKeysWithValues: exported.map { ($0.index, $0) })
        var rows: [(segment: String, key: String, score: Double)] = []
        for member in segmentation.members {
            guard let s = member.segment, let segment = exportedIndex[s] else { continue }
            rows.append((segment.stableID, userKey(member.user, catalog: catalog, salt: options.salt), member.score))
        }
        rows.sort { ($0.segment, $0.key) < ($1.segment, $1.key) }

        // members.csv, chunked.
        let header = "segment_id,user_key,user_key_type,score,assigned_at\n"
        let chunk = options.maxRowsPerFile > 0 ? options.maxRowsPerFile : max(rows.count, 1)
        let chunkCount = max(1, (rows.count + chunk - 1) / chunk)
        var files: [(name: String, rows: Int)] = []
        for c in 0..<chunkCount {
            let name = chunkCount == 1 && options.maxRowsPerFile == 0 ? "members.csv" : String(format: "members-%04d.csv", c + 1)
            let slice = rows[min(rows.count, c * chunk)..<min(rows.count, (c + 1) * chunk)]
            try AtomicTextFile.write(to: staging.appendingPathComponent(name).path) { out in
                out.write(header)
                for row in slice {
                    out.write("\(CSV.field(row.segment)),\(CSV.field(row.key)),\(keyType),\(String(format: "%.6f", row.score)),\(CSV.field(segmentation.createdAt))\n")
                }
            }
            files.append((name, slice.count))
        }

        if let wanted = options.graphMLSegment {
            guard let segment = segmentation.segments.first(where: { $0.stableID == wanted || String($0.index) == wanted }) else {
                throw ExportError(message: "no segment '\(wanted)' in segmentation \(segmentation.id); use a segment id or index from `tastegraph segments`")
            }
            let name = "segment-\(segment.stableID).graphml"
            try writeGraphML(segment, segmentation: segmentation, catalog: catalog, to: staging.appendingPathComponent(name).path, salt: options.salt)
            files.append((name, segment.size))
        }

        if let previous = options.previousManifest {
            let (entered, exited) = try difference(since: previous, current: rows.map { ($0.segment, $0.key) }, salt: options.salt)
            for (name, list) in [("entered.csv", entered), ("exited.csv", exited)] {
                try AtomicTextFile.write(to: staging.appendingPathComponent(name).path) { out in
                    out.write("segment_id,user_key\n")
                    for (segment, key) in list { out.write("\(CSV.field(segment)),\(CSV.field(key))\n") }
                }
                files.append((name, list.count))
            }
        }

        let manifest = try manifestJSON(segmentation, exported: exported, files: files, staging: staging, options: options, keyType: keyType)
        try AtomicTextFile.write(to: staging.appendingPathComponent("manifest.json").path) { $0.write(manifest) }
        return ExportResult(
            directory: finalDirectory, files: files.map(\.name) + ["manifest.json"], exportedSegments: exported.count,
            suppressedSegments: segmentation.segments.count - exported.count, members: rows.count)
    }

    private func manifestJSON(
        _ segmentation: StoredSegmentation, exported: [StoredSegmentation.Segment], files: [(name: String, rows: Int)],
        staging: URL, options: ExportOptions, keyType: String
    ) throws -> String {
        var fileEntries: [[String: Any]] = []
        for file in files {
            let data = try Data(contentsOf: staging.appendingPathComponent(file.name))
            var hasher = SHA256()
            data.withUnsafeBytes { hasher.update($0) }
            fileEntries.append(["name": file.name, "rows": file.rows, "sha256": hasher.hexDigest(), "bytes": data.count])
        }
        let suppressed = segmentation.segments.filter { $0.size < options.minAudience }
        let segments: [[String: Any]] = exported.map { segment in
            let profile = (try? JSONSerialization.jsonObject(with: Data(segment.profileJSON.utf8))) as? [String: Any] ?? [:]
            let artists = profile["top_artists"] as? [String] ?? []
            let tags = profile["top_tags"] as? [String] ?? []
            return [
                "id": segment.stableID, "index": segment.index, "label": segment.label, "size": segment.size,
                "description": "top artists: \(artists.joined(separator: ", ")); top tags: \(tags.isEmpty ? "none" : tags.joined(separator: ", "))",
                "top_artists": artists, "top_tags": tags, "median_plays": profile["median_plays"] ?? 0,
            ]
        }
        var hashing: [String: Any] = [
            "user_key_type": keyType,
            "scheme": options.salt == nil ? "none: user_key is the external user id" : "sha256(salt + external user id), lower-case hex; the salt is not recorded",
        ]
        if let salt = options.salt { hashing["salt_check"] = Self.saltCheck(salt) }
        let manifest: [String: Any] = [
            "generator": ExportTarget.generator,
            "schema_version": Self.schemaVersion,
            "created_at": ISO8601DateFormatter().string(from: Date()),
            "segmentation_id": segmentation.id,
            "segmented_at": segmentation.createdAt,
            "algorithm": segmentation.algorithm,
            "parameters": (try? JSONSerialization.jsonObject(with: Data(segmentation.parametersJSON.utf8))) ?? [:],
            "seed": segmentation.seed,
            "data_fingerprint": segmentation.dataFingerprint,
            "modularity": segmentation.modularity,
            "hashing": hashing,
            "min_audience": options.minAudience,
            "segments": segments,
            "suppressed_segments": suppressed.count,
            "suppressed_members": suppressed.reduce(0) { $0 + $1.size },
            "unassigned_users": segmentation.members.filter { $0.segment == nil }.count,
            "files": fileEntries,
        ]
        let data = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Members entered and exited since an earlier export, per segment id.
    private func difference(
        since manifestPath: String, current: [(String, String)], salt: String?
    ) throws -> ([(String, String)], [(String, String)]) {
        guard let data = FileManager.default.contents(atPath: manifestPath),
              let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = manifest["files"] as? [[String: Any]]
        else {
            throw ExportError(message: "\(manifestPath): not a TasteGraph export manifest (unreadable or not JSON with a 'files' list)")
        }
        // Keys of two exports compare only under the same scheme (and, hashed, the same salt).
        let hashing = manifest["hashing"] as? [String: Any]
        let previousType = hashing?["user_key_type"] as? String
        let keyType = salt == nil ? "external_id" : "sha256_salted"
        guard previousType == keyType else {
            throw ExportError(message: "--since \(manifestPath): that export's user keys are '\(previousType ?? "unknown")', this one's are '\(keyType)'; compare exports made with the same id scheme")
        }
        if let salt, hashing?["salt_check"] as? String != Self.saltCheck(salt) {
            throw ExportError(message: "--since \(manifestPath): that export was hashed with another salt; compare exports made with the same salt")
        }
        let base = URL(fileURLWithPath: manifestPath).deletingLastPathComponent()
        var previous = Set<Pair>()
        for file in files {
            guard let name = file["name"] as? String, name.hasPrefix("members") else { continue }
            let text = try String(contentsOf: base.appendingPathComponent(name), encoding: .utf8)
            for record in try CSVRecords.parse(text).dropFirst() where record.count >= 2 {
                previous.insert(Pair(segment: record[0], key: record[1]))
            }
        }
        let now = Set(current.map { Pair(segment: $0.0, key: $0.1) })
        let entered = now.subtracting(previous).sorted().map { ($0.segment, $0.key) }
        let exited = previous.subtracting(now).sorted().map { ($0.segment, $0.key) }
        return (entered, exited)
    }

    private struct Pair: Hashable, Comparable {
        let segment: String
        let key: String
        static func < (a: Pair, b: Pair) -> Bool { (a.segment, a.key) < (b.segment, b.key) }
    }

    private func writeGraphML(
        _ segment: StoredSegmentation.Segment, segmentation: StoredSegmentation, catalog: Catalog, to path: String, salt: String?
    ) throws {
        let members = segmentation.members.filter { $0.segment == segment.index }.map(\.user)
        let listens = try store.listens()
        var byUser: [Int: [(item: Int, plays: Float)]] = [:]
        let memberSet = Set(members)
        for e in 0..<listens.count where memberSet.contains(Int(listens.users[e])) {
            byUser[Int(listens.users[e]), default: []].append((Int(listens.items[e]), listens.plays[e]))
        }
        func xml(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        try AtomicTextFile.write(to: path) { out in
            out.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n")
            out.write("  <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n")
            out.write("  <key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n")
            out.write("  <key id=\"plays\" for=\"edge\" attr.name=\"plays\" attr.type=\"double\"/>\n")
            out.write("  <graph id=\"\(xml(segment.stableID))\" edgedefault=\"undirected\">\n")
            // Users appear only by their key (hashed in a hashed export), in key order: neither node ids nor the
            // order of nodes and edges carry the internal ids, which follow the import file's order.
            var items = Set<Int>()
            var edges: [(String, Int, Float)] = []
            let keyed = members.map { (key: userKey($0, catalog: catalog, salt: salt), user: $0) }.sorted { $0.key < $1.key }
            for (key, user) in keyed {
                out.write("    <node id=\"u:\(xml(key))\"><data key=\"label\">\(xml(key))</data><data key=\"kind\">user</data></node>\n")
                let top = (byUser[user] ?? []).sorted { ($0.plays, -$0.item) > ($1.plays, -$1.item) }.prefix(10)
                for entry in top {
                    items.insert(entry.item)
                    edges.append((key, entry.item, entry.plays))
                }
            }
            for item in items.sorted() {
                let artist = catalog.itemArtist[item]
                let title = catalog.itemTitles[item] ?? catalog.itemExternalIDs[item]
                let label = artist >= 0 && catalog.artistNames[artist] != title ? "\(title) — \(catalog.artistNames[artist])" : title
                out.write("    <node id=\"i:\(xml(catalog.itemExternalIDs[item]))\"><data key=\"label\">\(xml(label))</data><data key=\"kind\">item</data></node>\n")
            }
            for (index, edge) in edges.enumerated() {
                out.write("    <edge id=\"e\(index)\" source=\"u:\(xml(edge.0))\" target=\"i:\(xml(catalog.itemExternalIDs[edge.1]))\"><data key=\"plays\">\(edge.2)</data></edge>\n")
            }
            out.write("  </graph>\n</graphml>\n")
        }
    }
}

/// A small RFC 4180 reader (quoted fields, doubled quotes, CRLF or LF), for reading exports back.
public enum CSVRecords {
    public static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var atFieldStart = true
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        while let c = next() {
            if quoted {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = n }
                    } else { quoted = false }
                } else { field.unicodeScalars.append(c) }
                continue
            }
            switch c {
            case "\"" where atFieldStart:
                quoted = true
                atFieldStart = false
            case ",":
                record.append(field); field = ""; atFieldStart = true
            case "\r":
                continue
            case "\n":
                record.append(field); records.append(record); record = []; field = ""; atFieldStart = true
            default:
                field.unicodeScalars.append(c); atFieldStart = false
            }
        }
        if quoted { throw ExportError(message: "unterminated quoted CSV field") }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        return records
    }
}
