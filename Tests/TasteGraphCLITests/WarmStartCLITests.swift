import Foundation
import SQLite
import TasteGraphCLI
import TestSupport
import Testing

/// `train --warm-start MODEL` on a store that gained a user and an item after MODEL was trained (appended as
/// the live server appends them: the next dense ids), and its errors.
@Suite struct WarmStartCLITests {
    static let base = ["--epochs", "2", "--validate-every", "1", "--hidden", "16", "--seed", "4", "--quiet"]

    /// Appends `user` with listens of three sample items and of the new song `item` (next dense ids, plays
    /// added to `listens`, as `GraphStore.appendListens` writes them).
    static func appendLiveListens(store: String, user: String, item: String) throws {
        let db = try Database(path: store)
        let userID = try db.integer("SELECT COALESCE(MAX(id), -1) + 1 FROM users")
        let itemID = try db.integer("SELECT COALESCE(MAX(id), -1) + 1 FROM items")
        let importID = try db.integer("SELECT MAX(id) FROM imports")
        let heard = try db.rows("SELECT id FROM items ORDER BY id LIMIT 3")
        try db.transaction {
            try db.run("INSERT INTO users(id, external_id) VALUES (?, ?)", .integer(userID), .text(user))
            try db.run("INSERT INTO items(id, external_id) VALUES (?, ?)", .integer(itemID), .text(item))
            for row in heard {
                try db.run("INSERT INTO listens(user_id, item_id, play_count, import_id) VALUES (?, ?, 3, ?)", .integer(userID), row[0], .integer(importID))
            }
            try db.run("INSERT INTO listens(user_id, item_id, play_count, import_id) VALUES (?, ?, 5, ?)", .integer(userID), .integer(itemID), .integer(importID))
            // An existing listener plays the new song too, so it has edges beyond the new user.
            try db.run("INSERT INTO listens(user_id, item_id, play_count, import_id) VALUES (0, ?, 2, ?)", .integer(itemID), .integer(importID))
        }
    }

    static func jsonLine(_ stdout: String) throws -> [String: Any] {
        let line = try #require(stdout.split(separator: "\n").last)
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func warmStartTrainsOnTheGrownStoreAndKnowsTheNewUserAndItem() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let old = dir.file("old.tgck")
        let trained = run(["train", "--store", store, "--out", old] + Self.base)
        #expect(trained.status == 0, "\(trained.stderr)")
        _ = try Self.appendLiveListens(store: store, user: "live-user", item: "SOLIVESONG0000001")

        let warm = run(["train", "--store", store, "--out", dir.file("warm.tgck"), "--warm-start", old, "--epochs", "2", "--quiet", "--json"])
        #expect(warm.status == 0, "\(warm.stderr)")
        let summary = try Self.jsonLine(warm.stdout)
        let info = try #require(summary["warm_start"] as? [String: Any])
        #expect(info["users_kept"] as? Int == 2_000 && info["users_new"] as? Int == 1)
        #expect(info["items_kept"] as? Int == 3_000 && info["items_new"] as? Int == 1)
        #expect(info["initial_validation_recall@20"] is Double)
        #expect(summary["validation_recall@20"] is Double)

        // The warm model holds the new user: it is answered by the model, not by the cold-start mix.
        let list = run(["recommend", "--store", store, "--checkpoint", dir.file("warm.tgck"), "--user", "live-user", "-k", "5", "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        let response = try Self.jsonLine(list.stdout)
        #expect(response["cold_start"] as? Bool == false, "\(list.stdout)")
        #expect((response["recommendations"] as? [Any])?.count == 5)

        // The settings came from the checkpoint (hidden 16, not the default 64): a warm start of the warm
        // model with --hidden 64 conflicts with it.
        let conflict = run(["train", "--store", store, "--out", dir.file("x.tgck"), "--warm-start", dir.file("warm.tgck"), "--hidden", "64", "--quiet"])
        #expect(conflict.status == 2)
        #expect(conflict.stderr.contains("--hidden 64 (the checkpoint has 16) conflicts with its architecture"), "\(conflict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.tgck")))
    }

    @Test func badWarmStartsAreRefusedWithTheReason() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let old = dir.file("old.tgck")
        #expect(run(["train", "--store", store, "--out", old] + Self.base).status == 0)
        func train(_ extra: [String]) -> (status: Int32, stdout: String, stderr: String) {
            run(["train", "--store", store, "--out", dir.file("new.tgck"), "--quiet"] + extra)
        }
        // A missing file and a damaged one: invalid input, the file named.
        let missing = train(["--warm-start", dir.file("nothing.tgck")])
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("nothing.tgck"), "\(missing.stderr)")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: old))
        bytes[bytes.count / 2] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: dir.file("damaged.tgck")))
        let damaged = train(["--warm-start", dir.file("damaged.tgck")])
        #expect(damaged.status == 3)
        #expect(damaged.stderr.contains("damaged.tgck"), "\(damaged.stderr)")
        // A baseline's model file, and a baseline asked to warm-start.
        #expect(run(["train", "--store", store, "--model", "popularity", "--out", dir.file("pop.tgm"), "--quiet"]).status == 0)
        let foreign = train(["--warm-start", dir.file("pop.tgm")])
        #expect(foreign.status == 3)
        #expect(foreign.stderr.contains("holds a 'popularity' model"), "\(foreign.stderr)")
        let baseline = train(["--model", "als", "--warm-start", old])
        #expect(baseline.status == 2)
        #expect(baseline.stderr.contains("--warm-start applies to --model gcn only"), "\(baseline.stderr)")
        let both = train(["--warm-start", old, "--resume", old])
        #expect(both.status == 2)
        #expect(both.stderr.contains("exclude each other"), "\(both.stderr)")
        // Another architecture flag, and other features.
        let relu = train(["--warm-start", old, "--activation", "relu"])
        #expect(relu.status == 2)
        #expect(relu.stderr.contains("--activation relu (the checkpoint has none)"), "\(relu.stderr)")
        // A model of another dataset: no item in common.
        let otherStore = dir.file("other.sqlite")
        let triplets = dir.write("other.tsv", (0..<6).flatMap { u in (0..<4).map { i in "other-user-\(u)\tother-song-\((u + i) % 8)\t\(1 + i)\n" } }.joined())
        #expect(run(["import", "taste-profile", triplets, "--store", otherStore, "--quiet"]).status == 0)
        #expect(run(["train", "--store", otherStore, "--out", dir.file("other.tgck")] + Self.base).status == 0)
        let unrelated = train(["--warm-start", dir.file("other.tgck")])
        #expect(unrelated.status == 2)
        #expect(unrelated.stderr.contains("shares no item with this store"), "\(unrelated.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("new.tgck")))
    }
}
