import Foundation
import TestSupport
import Testing

/// `tune` → DIR/MODEL.json → `train --config` and `evaluate --tuned`, on the committed sample.
@Suite struct TuneCommandTests {
    static func json(_ text: String) throws -> [String: Any] {
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
    }

    /// A JSON object's canonical text (sorted keys), for comparing settings.
    static func canonical(_ object: Any?) -> String {
        guard let object, let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "nil" }
        return String(decoding: data, as: UTF8.self)
    }

    @Test func tuneWritesTheChosenSettingsThatEvaluateAndTrainUse() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let tuned = dir.file("tuned")
        let first = run(["tune", "--store", store, "--model", "ease", "--budget", "4", "--seed", "3", "--out", tuned, "--json", "--quiet"])
        #expect(first.status == 0, "\(first.stderr)")
        let report = try Self.json(first.stdout)
        let trials = try #require(report["trials"] as? [[String: Any]])
        #expect(trials.count == 4)
        #expect((trials[0]["settings"] as? [String: Any])?.isEmpty == true, "trial 0 is the defaults")
        // The chosen trial is the best validation Recall@20 (ties: the earlier).
        let recalls = trials.map { $0["recall@20"] as! Double }
        let best = recalls.indices.first { recalls[$0] == recalls.max()! }!
        let validation = try #require(report["validation"] as? [String: Any])
        #expect(validation["recall@20"] as? Double == recalls[best])
        let chosen = try #require(report["settings"] as? [String: Any])
        #expect(Self.canonical(chosen) == Self.canonical(trials[best]["settings"]))

        // The same seed draws the same trials (a second folder: the first file is never overwritten silently).
        let again = run(["tune", "--store", store, "--model", "ease", "--budget", "4", "--seed", "3", "--out", dir.file("tuned2"), "--json", "--quiet"])
        let againTrials = try #require(try Self.json(again.stdout)["trials"] as? [[String: Any]])
        #expect(trials.map { Self.canonical($0["settings"]) } == againTrials.map { Self.canonical($0["settings"]) })
        // Rerunning into the same folder refuses to replace the existing file without --force.
        let refused = run(["tune", "--store", store, "--model", "ease", "--budget", "1", "--out", tuned, "--quiet"])
        #expect(refused.status != 0)

        // evaluate --tuned fits EASE with the chosen λ on the same split (the holdout of seed 3) …
        let evaluated = run(["evaluate", "--store", store, "--seed", "3", "--models", "popularity,ease", "--tuned", tuned, "--json", "--quiet"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let settings = try #require((try Self.json(evaluated.stdout)["protocol"] as? [String: Any])?["settings"] as? [String: Any])
        let ease = try #require(settings["ease"] as? [String: Any])
        if let lambda = chosen["lambda"] as? Double { #expect(ease["lambda"] as? Double == lambda) }
        // … and refuses it on another split, whose test listens the tuning may have trained on.
        let otherSplit = run(["evaluate", "--store", store, "--models", "ease", "--tuned", tuned, "--seed", "3", "--test-fraction", "0.2", "--quiet"])
        #expect(otherSplit.status != 0)
        #expect(otherSplit.stderr.contains("tuned on another split"), "\(otherSplit.stderr)")
        // A tunable model without a file is named, with the command that makes one.
        let missing = run(["evaluate", "--store", store, "--seed", "3", "--models", "rp3beta", "--tuned", tuned, "--quiet"])
        #expect(missing.status != 0 && missing.stderr.contains("tastegraph tune --model rp3beta"), "\(missing.stderr)")

        // train --config reads the model from the file.
        let trained = run(["train", "--store", store, "--seed", "3", "--config", tuned + "/ease.json", "--out", dir.file("ease.tgm"), "--json", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(try Self.json(trained.stdout)["model"] as? String == "ease")
        let conflicting = run(["train", "--store", store, "--config", tuned + "/ease.json", "--model", "rp3beta", "--out", dir.file("x.tgm"), "--quiet"])
        #expect(conflicting.status != 0 && conflicting.stderr.contains("tuned for ease"), "\(conflicting.stderr)")
    }

    @Test func badTuneArgumentsAreUsageErrors() {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        #expect(run(["tune", "--store", store, "--model", "ease", "--budget", "0", "--out", dir.file("t")]).status == 2)
        #expect(run(["tune", "--store", store, "--model", "ease", "--tune-fraction", "1", "--out", dir.file("t")]).status == 2)
        #expect(run(["tune", "--store", store, "--model", "nosuch", "--out", dir.file("t")]).status == 2)
    }
}
