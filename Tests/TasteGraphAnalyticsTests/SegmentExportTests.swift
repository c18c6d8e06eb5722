import Foundation
import TasteGraphAnalytics
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
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }.isEmpty)
    }
}
