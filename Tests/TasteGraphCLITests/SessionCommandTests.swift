import Foundation
import TestSupport
import Testing

/// `generate --timestamped`, `import plays`, `stats` with sessions and `evaluate --task next-item`, end to end.
@Suite struct SessionCommandTests {
    @Test func timestampedSampleToNextItemFigures() throws {
        let dir = TemporaryDirectory()
        let sample = dir.file("sample"), store = dir.file("s.sqlite")
        let generated = run(["generate", "--timestamped", "--users", "200", "--songs", "600", "--artists", "60", "--out", sample, "--json"])
        #expect(generated.status == 0, "\(generated.stderr)")
        // A second run into the same folder refuses to overwrite; with --force it writes the same bytes.
        let first = FileManager.default.contents(atPath: sample + "/plays.tsv")
        #expect(run(["generate", "--timestamped", "--users", "200", "--songs", "600", "--artists", "60", "--out", sample]).status == 2)
        #expect(run(["generate", "--timestamped", "--users", "200", "--songs", "600", "--artists", "60", "--out", sample, "--force"]).status == 0)
        #expect(FileManager.default.contents(atPath: sample + "/plays.tsv") == first)

        let imported = run(["import", "plays", sample + "/plays.tsv", "--metadata", sample + "/song_data.csv", "--store", store, "--json", "--quiet"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(run(["import", "plays", sample + "/plays.tsv", "--store", store, "--quiet"]).status == 3)  // the same file twice

        let stats = run(["stats", "--store", store, "--json", "--session-gap", "30"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let statsJSON = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        let sessions = try #require(statsJSON["sessions"] as? [String: Any])
        let generatedJSON = try #require(try JSONSerialization.jsonObject(with: Data(generated.stdout.utf8)) as? [String: Any])
        #expect(sessions["sessions"] as? Int == generatedJSON["session_count"] as? Int)
        #expect((sessions["plays_by_hour"] as? [Int])?.count == 24 && (sessions["plays_by_weekday"] as? [Int])?.count == 7)
        #expect(run(["stats", "--store", store, "--session-gap", "0"]).status == 2)

        let evaluated = run(["evaluate", "--task", "next-item", "--store", store, "--json", "--quiet", "--focus-users", sample + "/truth_hours.tsv"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        let models = try #require(report["models"] as? [[String: Any]])
        func test(_ name: String) -> [String: Any] { (models.first { $0["model"] as? String == name }?["test"] as? [String: Any]) ?? [:] }
        #expect(models.map { $0["model"] as? String } == ["popularity", "sknn", "transitions", "blend", "blend+context"])
        #expect((test("transitions")["mrr"] as? Double ?? 0) > (test("sknn")["mrr"] as? Double ?? 1))
        #expect((test("sknn")["hit_rate"] as? Double ?? 0) > (test("popularity")["hit_rate"] as? Double ?? 1))
        #expect((report["focus_users"] as? Int ?? 0) > 0)
        #expect(run(["evaluate", "--task", "next-item", "--store", store, "--held-out-share", "1"]).status == 2)
        #expect(run(["evaluate", "--task", "next-item", "--store", store, "--personal", "nope"]).status == 2)
    }
}
