import Foundation
import TasteGraphAnalytics
import TasteGraphCore
import TasteGraphStore
import TasteGraphSupport
import TestSupport
import Testing

@Suite struct SegmentExportTests {
    /// A store with one saved segmentation of the planted sample.
    static func prepared(_ dir: TemporaryDirectory) throws -> (GraphStore, StoredSegmentation) {
        let store = PlantedSample.shared.copy(into: dir)
        var parameters = SegmentationParameters()
        parameters.seed = 0
        let run = try ListenerSegments.detect(store: store, parameters: parameters)
        _ = try store.saveSegmentation(run.stored)
        return (store, try store.segmentation())
    }

    /// members.csv and manifest.json parse back to exactly what was written: every assigned user of every
    /// exported segment once, in stable order, with checksums that match the files.
    @Test func exportParsesBackExactly() throws {
        let dir = TemporaryDirectory()
        let (store, segmentation) = try Self.prepared(dir)
        var options = ExportOptions()
        options.minAudience = 240
        let out = dir.file("export")
        let result = try SegmentExporter(store: store).export(segmentation: segmentation, to: out, options: options)
        let records = try CSVRecords.parse(String(contentsOfFile: out + "/members.csv", encoding: .utf8))
        #expect(records[0] == ["segment_id", "user_key", "user_key_type", "score", "assigned_at"])
        let rows = Array(records.dropFirst())
        let big = segmentation.segments.filter { $0.size >= 240 }
        #expect(rows.count == big.reduce(0) { $0 + $1.size })
        #expect(rows.count == result.members)
        #expect(rows == rows.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) })
        let catalog = try store.catalog()
        let byUser = Dictionary(uniqueKeysWithValues: segmentation.members.map { (catalog.userExternalIDs[$0.user], $0) })
        let stable = Dictionary(uniqueKeysWithValues: segmentation.segments.map { ($0.index, $0.stableID) })
        for row in rows {
            let member = byUser[row[1]]!
            #expect(stable[member.segment!] == row[0])
            #expect(row[2] == "external_id")
            #expect(abs(Double(row[3])! - member.score) < 1e-6)
            #expect(row[4] == segmentation.createdAt)
        }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as! [String: Any]
        #expect(manifest["schema_version"] as? Int == 1)
        #expect(manifest["min_audience"] as? Int == 240)
        #expect(manifest["suppressed_segments"] as? Int == segmentation.segments.count - big.count)
        #expect(manifest["data_fingerprint"] as? String == segmentation.dataFingerprint)
        #expect((manifest["segments"] as! [[String: Any]]).map { $0["id"] as! String } == big.map(\.stableID))
        for file in manifest["files"] as! [[String: Any]] {
            var hasher = SHA256()
            let data = try Data(contentsOf: URL(fileURLWithPath: out + "/" + (file["name"] as! String)))
            data.withUnsafeBytes { hasher.update($0) }
            #expect(file["sha256"] as? String == hasher.hexDigest())
        }
    }

    @Test func hashedIdsChunksGraphMLAndChanges() throws {
        let dir = TemporaryDirectory()
        let (store, segmentation) = try Self.prepared(dir)
        var options = ExportOptions()
        options.minAudience = 0
        let first = dir.file("first")
        _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: first, options: options)
        options.salt = "pepper"
        options.maxRowsPerFile = 700
        options.graphMLSegment = segmentation.segments[0].stableID
        let second = dir.file("second")
        let result = try SegmentExporter(store: store).export(segmentation: segmentation, to: second, options: options)
        #expect(result.files.filter { $0.hasPrefix("members-") }.count == 3)  // 2,000 rows / 700
        let chunk = try CSVRecords.parse(String(contentsOfFile: second + "/members-0001.csv", encoding: .utf8))
        #expect(chunk.count == 701)
        let catalog = try store.catalog()
        let member = segmentation.members.first { $0.segment != nil }!
        let hashed = SHA256.hex(of: "pepper" + catalog.userExternalIDs[member.user])
        let all = try (1...3).flatMap { try CSVRecords.parse(String(contentsOfFile: second + String(format: "/members-%04d.csv", $0), encoding: .utf8)).dropFirst() }
        #expect(all.contains { $0[1] == hashed && $0[2] == "sha256_salted" })
        #expect(!all.contains { $0[1] == catalog.userExternalIDs[member.user] })
        let graphML = try String(contentsOfFile: second + "/segment-\(segmentation.segments[0].stableID).graphml", encoding: .utf8)
        #expect(graphML.components(separatedBy: "<data key=\"kind\">user</data>").count - 1 == segmentation.segments[0].size)
        // entered/exited against the first export: keys changed (hashed), so everyone exited and entered.
        options.salt = nil
        options.maxRowsPerFile = 0
        options.graphMLSegment = nil
        options.previousManifest = first + "/manifest.json"
        _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: dir.file("third"), options: options)
        let entered = try CSVRecords.parse(String(contentsOfFile: dir.file("third") + "/entered.csv", encoding: .utf8))
        #expect(entered.count == 1)  // header only: same members as the first export
    }

    /// A failing export (here: an unreadable --since manifest, after members.csv is already written) leaves
    /// the previous export byte-identical and no temporary directory behind.
    @Test func interruptedExportLeavesThePreviousOneIntact() throws {
        let dir = TemporaryDirectory()
        let (store, segmentation) = try Self.prepared(dir)
        var options = ExportOptions()
        options.minAudience = 0
        let out = dir.file("audiences")
        _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: out, options: options)
        let before = try FileManager.default.contentsOfDirectory(atPath: out).sorted().map {
            try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0))
        }
        options.salt = "x"
        options.previousManifest = dir.write("broken.json", "{ not json")
        #expect(throws: ExportError.self) {
            _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: out, options: options)
        }
        let after = try FileManager.default.contentsOfDirectory(atPath: out).sorted().map {
            try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0))
        }
        #expect(before == after)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tgexport-") || $0.contains(".tmp-") }.isEmpty)
    }

    /// `--out` never replaces what TasteGraph did not create: the current directory, `/`, the store's folder,
    /// the store file, a user's folder or file are refused with `OutputPathError`, and each survives intact.
    @Test func exportRefusesEveryTargetItDidNotCreate() throws {
        let dir = TemporaryDirectory()
        let (store, segmentation) = try Self.prepared(dir)
        let keep = dir.write("keep.txt", "the user's own file\n")
        let userFolder = dir.file("photos")
        try FileManager.default.createDirectory(atPath: userFolder, withIntermediateDirectories: false)
        let photo = dir.write("photos/cat.jpg", "not really a cat")
        let storeBefore = try store.catalog().userCount
        var options = ExportOptions()
        options.minAudience = 0
        for target in [".", "/", dir.path, store.path, keep, userFolder, dir.path + "/", "./"] {
            #expect(throws: OutputPathError.self, "\(target)") {
                _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: target, options: options)
            }
        }
        #expect(try String(contentsOfFile: keep, encoding: .utf8) == "the user's own file\n")
        #expect(try String(contentsOfFile: photo, encoding: .utf8) == "not really a cat")
        #expect(try GraphStore.openExisting(path: store.path).catalog().userCount == storeBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tgexport-") }.isEmpty)

        // An earlier export is replaced; once someone adds a file of their own to it, it is refused.
        let out = dir.file("audiences")
        _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: out, options: options)
        _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: out, options: options)
        #expect(FileManager.default.fileExists(atPath: out + "/members.csv"))
        let notes = dir.write("audiences/notes.txt", "mine")
        #expect(throws: OutputPathError.self) {
            _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: out, options: options)
        }
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "mine")
        // An empty folder is fine.
        let empty = dir.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: empty, options: options)
        #expect(FileManager.default.fileExists(atPath: empty + "/manifest.json"))
        #expect(!FileManager.default.fileExists(atPath: empty + "/.tastegraph-export-in-progress"))
    }

    /// A staging folder left by an interrupted run (marked, its process gone) is removed by the next export;
    /// a look-alike folder without the marker is never touched.
    @Test func staleStagingFoldersAreCleanedAndOnlyThey() throws {
        let dir = TemporaryDirectory()
        let (store, segmentation) = try Self.prepared(dir)
        let stale = dir.file(".audiences.tgexport-staging-999999-7")
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: false)
        _ = dir.write(".audiences.tgexport-staging-999999-7/.tastegraph-export-in-progress", "")
        _ = dir.write(".audiences.tgexport-staging-999999-7/members.csv", "raw ids\n")
        let lookalike = dir.file(".audiences.tgexport-staging-999998-8")
        try FileManager.default.createDirectory(atPath: lookalike, withIntermediateDirectories: false)
        _ = dir.write(".audiences.tgexport-staging-999998-8/mine.txt", "keep")
        var options = ExportOptions()
        options.minAudience = 0
        _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: dir.file("audiences"), options: options)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: lookalike + "/mine.txt"))
    }

    /// In a hashed export no file carries anything but the salted hash for a user: not the external id, and
    /// not the internal index (which follows the import file's order) — GraphML node ids and order included.
    /// `--since` against an export under another id scheme or salt is an error.
    @Test func hashedExportsStayUnlinkable() throws {
        let dir = TemporaryDirectory()
        let (store, segmentation) = try Self.prepared(dir)
        let catalog = try store.catalog()
        var options = ExportOptions()
        options.minAudience = 0
        options.salt = "pepper"
        let segment = segmentation.segments[0]
        options.graphMLSegment = segment.stableID
        let out = dir.file("hashed")
        _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: out, options: options)
        let graphML = try String(contentsOfFile: out + "/segment-\(segment.stableID).graphml", encoding: .utf8)
        let members = segmentation.members.filter { $0.segment == segment.index }.map(\.user)
        let hashed = Set(members.map { SHA256.hex(of: "pepper" + catalog.userExternalIDs[$0]) })
        let userNodes = graphML.components(separatedBy: "<node id=\"u:").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(userNodes.count == members.count)
        #expect(Set(userNodes) == hashed)
        #expect(userNodes == userNodes.sorted())  // key order, not import order
        for name in try FileManager.default.contentsOfDirectory(atPath: out) {
            let text = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
            for user in members.prefix(50) {
                #expect(!text.contains("\"\(catalog.userExternalIDs[user])\"") && !text.contains(",\(catalog.userExternalIDs[user]),"), "\(name) names a raw user id")
            }
            #expect(!text.contains("id=\"u\(members[0])\""), "\(name) carries an internal user index")
        }
        // --since across id schemes or salts.
        var plain = ExportOptions()
        plain.minAudience = 0
        plain.previousManifest = out + "/manifest.json"
        #expect(throws: ExportError.self) {
            _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: dir.file("plain"), options: plain)
        }
        var otherSalt = plain
        otherSalt.salt = "salt"
        #expect(throws: ExportError.self) {
            _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: dir.file("salted"), options: otherSalt)
        }
        var sameSalt = plain
        sameSalt.salt = "pepper"
        _ = try SegmentExporter(store: store).export(segmentation: segmentation, to: dir.file("again"), options: sameSalt)
        #expect(try CSVRecords.parse(String(contentsOfFile: dir.file("again") + "/exited.csv", encoding: .utf8)).count == 1)
    }
}
