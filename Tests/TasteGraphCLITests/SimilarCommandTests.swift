import Foundation
import TestSupport
import Testing

/// `similar` and `related` as thin shells over the serving library.
@Suite struct ServingCommandTests {
    @Test func similarPrintsTheServiceAnswerAndRefusesUnknownItems() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let item = "SOKVZS5IGMK3FCAI0I"
        let text = run(["similar", "--store", store, "--item", item, "--by", "text", "-k", "4", "--json"])
        #expect(text.status == 0, "\(text.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(text.stdout.utf8)) as! [String: Any]
        #expect(json["item"] as? String == item && json["by"] as? String == "text" && json["source"] as? String == "hashing-256")
        let similar = json["similar"] as! [[String: Any]]
        #expect(similar.count == 4)
        #expect(similar.allSatisfy { $0["item"] as? String != item && $0["title"] is String && $0["artist"] is String && $0["score"] is Double })
        let listens = run(["similar", "--store", store, "--item", item])
        #expect(listens.status == 0, "\(listens.stderr)")
        #expect(listens.stdout.contains("by listens (co-listening)"), "\(listens.stdout)")
        #expect(listens.stdout.split(separator: "\n").count == 11)
        let unknown = run(["similar", "--store", store, "--item", "nope"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no item with id 'nope' in the store"), "\(unknown.stderr)")
        let help = run(["similar", "--help"])
        for flag in ["--store", "--model", "--item", "--by", "-k", "--json"] { #expect(help.stdout.contains(flag), "help lacks \(flag)") }
    }

    /// After `related --batch`, one artist is answered from the stored list with the same flags (and says
    /// so); other flags, or --live, walk.
    @Test func relatedUsesTheBatchListsWhenTheFlagsMatch() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let batch = run(["related", "--store", store, "--batch", "-k", "10", "--steps", "5000", "--out", dir.file("related.csv"), "--quiet"])
        #expect(batch.status == 0, "\(batch.stderr)")
        let stored = run(["related", "--store", store, "--artist", "Doom of Skull", "-k", "5", "--steps", "5000", "--json"])
        #expect(stored.status == 0, "\(stored.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(stored.stdout.utf8)) as! [String: Any]
        #expect(json["source"] as? String == "stored" && json["artist"] as? String == "Doom of Skull")
        #expect((json["related"] as! [[String: Any]]).count == 5)
        let csv = try String(contentsOfFile: dir.file("related.csv"), encoding: .utf8)
        let first = (json["related"] as! [[String: Any]])[0]
        #expect(csv.contains(",Doom of Skull,1,\(first["id"] as! String),"), "the stored top-1 is the CSV's")
        let text = run(["related", "--store", store, "--artist", "Doom of Skull", "-k", "5", "--steps", "5000"])
        #expect(text.stdout.hasPrefix("fans of Doom of Skull also like (walk, stored list):"), "\(text.stdout)")
        for other in [["-k", "5", "--steps", "6000"], ["-k", "5", "--steps", "5000", "--live"], ["-k", "11", "--steps", "5000"]] {
            let live = run(["related", "--store", store, "--artist", "Doom of Skull", "--json"] + other)
            #expect(live.stdout.contains("\"source\":\"live\""), "\(other): \(live.stdout)")
        }
    }
}

/// `segments show`: one listener's segment through SegmentService, the same answer in text and JSON.
@Suite struct SegmentsShowCommandTests {
    @Test func showsAUsersSegmentAndRefusesUnknownUsers() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let user = String(try String(contentsOfFile: SharedData.packageRoot + "/GraphData/triplets.tsv", encoding: .utf8).prefix(40))
        let before = run(["segments", "show", "--store", store, "--user", user])
        #expect(before.status == 2 && before.stderr.contains("tastegraph segments"), "\(before.stderr)")
        let detected = run(["segments", "--store", store, "--seed", "2", "--json", "--quiet"])
        #expect(detected.status == 0, "\(detected.stderr)")
        let segments = (try JSONSerialization.jsonObject(with: Data(detected.stdout.utf8)) as! [String: Any])["segments"] as! [[String: Any]]
        let shown = run(["segments", "show", "--store", store, "--user", user, "--json"])
        #expect(shown.status == 0, "\(shown.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as! [String: Any]
        let segment = try #require(json["segment"] as? [String: Any])
        #expect(segments.contains { $0["id"] as? String == segment["id"] as? String && $0["label"] as? String == segment["label"] as? String })
        #expect(json["user"] as? String == user)
        let text = run(["segments", "show", "--store", store, "--user", user])
        #expect(text.status == 0 && text.stdout.contains(segment["id"] as! String))
        #expect(run(["segments", "show", "--store", store, "--user", "nobody"]).status == 2)
    }
}
