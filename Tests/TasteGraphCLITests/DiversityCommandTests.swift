import Foundation
import TestSupport
import Testing

/// `recommend --diversity λ` and `evaluate --diversity λ,…`: the MMR re-ranking from the command line.
@Suite struct DiversityCommandTests {
    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    static func items(_ text: String) throws -> [String] {
        (try json(text)["recommendations"] as! [[String: Any]]).map { $0["item"] as! String }
    }

    @Test func recommendReRanksWithDiversityAndRefusesValuesOutsideZeroToOne() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let model = dir.file("knn.tgm")
        #expect(run(["train", "--store", store, "--model", "itemknn", "--out", model, "--quiet"]).status == 0)
        let root = SharedData.packageRoot + "/GraphData/triplets.tsv"
        let user = String(try String(contentsOfFile: root, encoding: .utf8).prefix(40))
        let base = ["recommend", "--store", store, "--checkpoint", model, "--user", user, "-k", "10", "--json"]
        let plain = run(base)
        #expect(plain.status == 0, "\(plain.stderr)")
        let zero = run(base + ["--diversity", "0"])
        #expect(try Self.items(zero.stdout) == Self.items(plain.stdout))
        let diverse = run(base + ["--diversity", "0.8"])
        #expect(diverse.status == 0, "\(diverse.stderr)")
        let plainItems = try Self.items(plain.stdout)
        let diverseItems = try Self.items(diverse.stdout)
        #expect(diverseItems.count == 10 && Set(diverseItems).count == 10)
        #expect(diverseItems != plainItems)
        #expect(diverseItems.first == plainItems.first)  // MMR's first pick is the best-scored item
        for bad in ["-0.1", "1.5", "x"] {
            let refused = run(base + ["--diversity", bad])
            #expect(refused.status == 2, "\(bad): \(refused.stderr)")
            #expect(refused.stderr.contains("--diversity"), "\(bad): \(refused.stderr)")
        }
        let help = run(["recommend", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("--diversity <λ> Re-rank by maximal marginal relevance with this λ, 0 to 1 (default 0: off)"), "\(help)")
    }

    @Test func evaluateAddsOneRowPerModelAndLambda() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let common = ["evaluate", "--store", store, "--models", "itemknn,popularity", "--seed", "5", "--json", "--quiet"]
        let result = run(common + ["--diversity", "0,0.5"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try Self.json(result.stdout)
        let models = json["models"] as! [String: [String: Any]]
        #expect(Set(models.keys) == ["itemknn", "itemknn+mmr0.5", "popularity", "popularity+mmr0.5"])
        #expect(models["itemknn"]!["diversity"] as? Double == 0 && models["popularity+mmr0.5"]!["diversity"] as? Double == 0.5)
        #expect(((json["protocol"] as! [String: Any])["diversity"] as? [String: Any])?["lambdas"] as? [Double] == [0, 0.5])
        // Popularity gives everyone the same mainstream list; MMR reaches further into the catalog.
        let popular = models["popularity"]!, diverse = models["popularity+mmr0.5"]!
        #expect((diverse["coverage@20"] as! Double) > (popular["coverage@20"] as! Double))
        #expect((diverse["novelty@20"] as! Double) > (popular["novelty@20"] as! Double))
        // λ = 0 is the plain row: the same figures as a run without --diversity.
        let plain = try Self.json(run(common).stdout)["models"] as! [String: [String: Any]]
        #expect(Set(plain.keys) == ["itemknn", "popularity"] && plain["itemknn"]!["diversity"] == nil)
        for key in ["recall@20", "ndcg@20", "coverage@20", "novelty@20"] {
            #expect(plain["itemknn"]![key] as? Double == models["itemknn"]![key] as? Double, "\(key)")
        }
        for bad in ["0,2", "0,0", "a", "0,,0.1"] {
            #expect(run(common + ["--diversity", bad]).status == 2, "\(bad)")
        }
    }
}
