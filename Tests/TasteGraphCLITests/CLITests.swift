import Foundation
import TasteGraphCLI
import TestSupport
import Testing

/// Runs the CLI in-process and captures what it printed.
final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var out = ""
    private var err = ""
    var stdout: String { lock.withLock { out } }
    var stderr: String { lock.withLock { err } }

    var context: CLIContext {
        CLIContext(
            stdout: { text in self.lock.withLock { self.out += text } },
            stderr: { text in self.lock.withLock { self.err += text } },
            stderrIsTerminal: false)
    }
}

func run(_ arguments: [String]) -> (status: Int32, stdout: String, stderr: String) {
    let captured = Captured()
    let status = CommandLineTool.run(arguments, context: captured.context)
    return (status, captured.stdout, captured.stderr)
}

@Suite struct CLITests {
    @Test func importAndStatsJSON() throws {
        let dir = TemporaryDirectory()
        let triplets = dir.write("t.tsv", "u1\tS1\t3\nu2\tS1\t1\nu2\tS2\t5\n")
        let store = dir.file("s.sqlite")
        let imported = run(["import", "taste-profile", triplets, "--store", store, "--json", "--quiet"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let importJSON = try JSONSerialization.jsonObject(with: Data(imported.stdout.utf8)) as! [String: Any]
        #expect(importJSON["rows_read"] as? Int == 3)
        let stats = run(["stats", "--store", store, "--json"])
        #expect(stats.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as! [String: Any]
        for key in ["users", "items", "artists", "listens", "plays", "tags"] { #expect(json[key] != nil, "missing \(key)") }
        #expect(json["users"] as? Int == 2)
        #expect(json["listens"] as? Int == 3)
        #expect(json["plays"] as? Int == 9)
        let text = run(["stats", "--store", store])
        #expect(text.stdout.contains("listens           3"))
    }

    @Test func badDataExitsWith3AndNamesFileAndLine() {
        let dir = TemporaryDirectory()
        let triplets = dir.write("t.tsv", "u1\tS1\t3\nu2\tS1\tmany\n")
        let result = run(["import", "taste-profile", triplets, "--store", dir.file("s.sqlite")])
        #expect(result.status == 3)
        #expect(result.stderr.contains("\(triplets):2: play count 'many' is not an integer"))
        #expect(result.stderr.contains("rolled back") || result.stderr.contains("error:"))
    }

    @Test func usageErrorsExitWith2() {
        #expect(run(["stats"]).status == 2)
        #expect(run(["no-such-command"]).status == 2)
        #expect(run(["import", "taste-profile", "x", "--store", "y", "--max-errors", "-1"]).status == 2)
        #expect(run(["generate", "--out", "/tmp/x", "--genres", "12"]).status == 2)
    }

    @Test func otherFailuresExitWith1() {
        let result = run(["stats", "--store", "/nonexistent/dir/s.sqlite"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no store at /nonexistent/dir/s.sqlite"))
    }

    /// Every command's help explains its flags.
    @Test(arguments: [
        (["import", "taste-profile", "--help"], ["--metadata", "--store", "--max-errors", "--json"]),
        (["import", "lastfm", "--help"], ["--store", "--max-errors"]),
        (["generate", "--help"], ["--seed", "--out", "--users", "--genres"]),
        (["prepare", "--help"], ["--min-user-plays", "--min-user-items", "--min-item-average-plays"]),
        (["stats", "--help"], ["--store", "--json"]),
        (["--help"], ["import", "generate", "stats", "prepare", "Exit status"]),
    ])
    func helpListsEveryFlag(arguments: [String], flags: [String]) {
        let result = run(arguments)
        #expect(result.status == 0)
        for flag in flags { #expect(result.stdout.contains(flag), "\(arguments): help lacks \(flag)") }
    }

    @Test func prepareReportsFilters() throws {
        let dir = TemporaryDirectory()
        let triplets = dir.write("t.tsv", "u1\tA\t10\nu1\tB\t2\nu2\tA\t4\nu2\tC\t6\nu3\tD\t1\n")
        let store = dir.file("s.sqlite")
        #expect(run(["import", "taste-profile", triplets, "--store", store, "--quiet"]).status == 0)
        let result = run(["prepare", "--store", store, "--min-user-plays", "5", "--min-user-items", "2", "--json"])
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(json["users_kept"] as? Int == 2)
    }

    @Test func generateIsReproducible() throws {
        let a = TemporaryDirectory()
        let b = TemporaryDirectory()
        let args = ["--seed", "5", "--users", "30", "--songs", "100", "--artists", "20", "--quiet"]
        #expect(run(["generate", "--out", a.path] + args).status == 0)
        #expect(run(["generate", "--out", b.path] + args).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a.file("triplets.tsv"))) == Data(contentsOf: URL(fileURLWithPath: b.file("triplets.tsv"))))
    }
}

@Suite struct GraphCommandTests {
    static func sampleStore(_ dir: TemporaryDirectory) -> String {
        let store = dir.file("s.sqlite")
        let root = SharedData.packageRoot + "/GraphData"
        _ = run(["import", "taste-profile", root + "/triplets.tsv", "--metadata", root + "/song_data.csv", "--store", store, "--quiet"])
        return store
    }

    @Test func relatedJSONHasTheDocumentedShape() throws {
        let dir = TemporaryDirectory()
        let store = Self.sampleStore(dir)
        let result = run(["related", "--store", store, "--artist", "doom of skull", "-k", "5", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(json["artist"] as? String == "Doom of Skull")
        let related = json["related"] as! [[String: Any]]
        #expect(related.count == 5)
        #expect(related.allSatisfy { $0["artist"] is String && $0["id"] is String && $0["score"] is Double })
        let unknown = run(["related", "--store", store, "--artist", "Doom of Skul"])
        #expect(unknown.status == 3)
        #expect(unknown.stderr.contains("closest matches: 'Doom of Skull'"))
    }

    @Test func segmentsJSONAndExport() throws {
        let dir = TemporaryDirectory()
        let store = Self.sampleStore(dir)
        let result = run(["segments", "--store", store, "--seed", "3", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(json["modularity"] is Double)
        #expect(json["unassigned"] as? Int == 0)
        // The phases split the run's seconds: each is timed, and together they are the whole.
        let phases = json["phases"] as! [String: Double]
        #expect(Set(phases.keys) == ["load_seconds", "similarity_seconds", "community_seconds"])
        #expect(phases.values.allSatisfy { $0 > 0 })
        #expect(abs(phases.values.reduce(0, +) - (json["seconds"] as! Double)) < 1e-6)
        let segments = json["segments"] as! [[String: Any]]
        #expect(segments.count == 8)
        #expect(segments.allSatisfy { $0["id"] != nil && $0["label"] is String && $0["size"] is Int && $0["top_artists"] is [String] && $0["top_tags"] is [String] })
        let export = run(["segments", "export", "--store", store, "--out", dir.file("out"), "--hash-ids", "--salt", "s", "--min-audience", "1"])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.file("out") + "/members.csv"))
        #expect(FileManager.default.fileExists(atPath: dir.file("out") + "/manifest.json"))
        #expect(run(["segments", "export", "--store", store, "--out", dir.file("x"), "--hash-ids"]).status == 2)
        // The salt may come from a file (not visible in the process list): the same keys as --salt.
        let saltFile = dir.write("salt", "s\n")
        let fromFile = run(["segments", "export", "--store", store, "--out", dir.file("from-file"), "--hash-ids", "--salt-file", saltFile, "--min-audience", "1"])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(try String(contentsOfFile: dir.file("from-file") + "/members.csv", encoding: .utf8) == String(contentsOfFile: dir.file("out") + "/members.csv", encoding: .utf8))
        #expect(run(["segments", "export", "--store", store, "--out", dir.file("y"), "--hash-ids", "--salt-file", dir.write("empty", "\n")]).status == 2)
        #expect(run(["segments", "export", "--store", store, "--out", dir.file("z"), "--hash-ids", "--salt-file", saltFile, "--salt", "s"]).status == 2)
        // Exporting over an earlier export works; over the store's folder it is refused and nothing changes.
        #expect(run(["segments", "export", "--store", store, "--out", dir.file("out"), "--hash-ids", "--salt", "s", "--min-audience", "1"]).status == 0)
        #expect(run(["segments", "export", "--store", store, "--out", dir.path, "--min-audience", "1"]).status == 2)
        #expect(FileManager.default.fileExists(atPath: store))
    }
}

@Suite struct TrainRecommendCommandTests {
    @Test func trainThenRecommendOnTheSample() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let checkpoint = dir.file("model.tgck")
        let trained = run(["train", "--store", store, "--out", checkpoint, "--epochs", "4", "--validate-every", "2", "--hidden", "16", "--json", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let last = trained.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let json = try JSONSerialization.jsonObject(with: Data(last.utf8)) as! [String: Any]
        for key in ["recall@10", "recall@20", "ndcg@10", "ndcg@20", "precision@20", "map@20", "hitrate@20", "coverage@20",
                    "novelty@20", "mae", "rmse", "epochs", "best_epoch", "seconds_per_epoch", "train_seconds", "peak_rss_mib"] {
            #expect(json[key] != nil, "train --json lacks \(key)")
        }
        #expect(json["epochs"] as? Int == 4)

        let root = SharedData.packageRoot + "/GraphData/triplets.tsv"
        let firstUser = String(try String(contentsOfFile: root, encoding: .utf8).prefix(40))
        let recommended = run(["recommend", "--store", store, "--checkpoint", checkpoint, "--user", firstUser, "-k", "10", "--json", "--max-per-artist", "2"])
        #expect(recommended.status == 0, "\(recommended.stderr)")
        let answer = try JSONSerialization.jsonObject(with: Data(recommended.stdout.utf8)) as! [String: Any]
        #expect(answer["cold_start"] as? Bool == false)
        let items = answer["recommendations"] as! [[String: Any]]
        #expect(items.count == 10)
        let heard = Set(try String(contentsOfFile: root, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix(firstUser) }.map { String($0.split(separator: "\t")[1]) })
        #expect(items.allSatisfy { !heard.contains($0["item"] as! String) })
        #expect(items.allSatisfy { $0["predicted_plays"] is Double })
        var perArtist: [String: Int] = [:]
        for item in items { perArtist[item["artist"] as! String, default: 0] += 1 }
        #expect(perArtist.values.allSatisfy { $0 <= 2 })

        let unknown = run(["recommend", "--store", store, "--checkpoint", checkpoint, "--user", "nobody", "-k", "30"])
        #expect(unknown.status == 0)
        #expect(unknown.stdout.contains("cold start"))
        #expect(unknown.stdout.split(separator: "\n").count == 31)

        // A corrupt checkpoint is invalid input (exit 3) with a clear error, never a crash: a weight, or one
        // character of a user id in the header, changed.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        bytes[bytes.count / 2] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: dir.file("bad.tgck")))
        let corrupt = run(["recommend", "--store", store, "--checkpoint", dir.file("bad.tgck"), "--user", firstUser])
        #expect(corrupt.status == 3)
        #expect(corrupt.stderr.contains("bad.tgck") && corrupt.stderr.contains("checksum"), "\(corrupt.stderr)")
        var renamed = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        let id = Data(firstUser.utf8)
        let at = try #require(renamed.range(of: id))
        renamed[at.lowerBound] = renamed[at.lowerBound] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        try renamed.write(to: URL(fileURLWithPath: dir.file("renamed.tgck")))
        let tampered = run(["recommend", "--store", store, "--checkpoint", dir.file("renamed.tgck"), "--user", firstUser])
        #expect(tampered.status == 3, "\(tampered.stderr)")
        #expect(run(["recommend", "--store", store, "--checkpoint", dir.path, "--user", firstUser]).status == 3)
    }

    /// `train --initial-embeddings als`: the ALS fit shows its iterations on stderr before the first epoch,
    /// and --json reports it with the start's validation Recall@20.
    @Test func alsStartShowsProgressAndReportsItself() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let trained = run(["train", "--store", store, "--out", dir.file("als-start.tgck"), "--epochs", "1", "--validate-every", "1",
                           "--hidden", "16", "--initial-embeddings", "als", "--json"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let lines = trained.stderr.split(separator: "\n")
        let alsLine = try #require(lines.firstIndex { $0.contains("initial embeddings: ALS iteration 20/20") }, "\(trained.stderr)")
        let epochLine = try #require(lines.firstIndex { $0.hasPrefix("epoch 1/1") }, "\(trained.stderr)")
        #expect(alsLine < epochLine)
        let json = try JSONSerialization.jsonObject(with: Data(trained.stdout.utf8)) as! [String: Any]
        let start = try #require(json["initial_embeddings"] as? [String: Any])
        #expect(start["from"] as? String == "als")
        #expect((start["seconds"] as? Double ?? 0) > 0)
        #expect((start["initial_validation_recall@20"] as? Double ?? 0) > 0)
        #expect(run(["train", "--store", store, "--out", dir.file("x.tgck"), "--initial-embeddings", "svd"]).status == 2)
    }

    @Test func resumeBatchCSVAndMismatchedCheckpoints() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let first = dir.file("first.tgck")
        let base = ["train", "--store", store, "--epochs", "2", "--validate-every", "1", "--hidden", "16", "--quiet"]
        #expect(run(base + ["--out", first]).status == 0)
        let resumed = run(base + ["--out", dir.file("resumed.tgck"), "--resume", first, "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // Resuming needs the same architecture.
        let mismatch = run(["train", "--store", store, "--epochs", "1", "--hidden", "8", "--quiet", "--out", dir.file("x.tgck"), "--resume", first])
        #expect(mismatch.status == 2)  // a usage error: the flags do not match the resumed model
        #expect(mismatch.stderr.contains("architecture differs"))
        // Batch mode: a CSV row per recommendation, for every user.
        let csv = dir.file("all.csv")
        let batch = run(["recommend", "--store", store, "--checkpoint", first, "--batch", "--out", csv, "-k", "3"])
        #expect(batch.status == 0, "\(batch.stderr)")
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "user_id,rank,item_id,title,artist,score,predicted_plays,cold_start")
        #expect(lines.count == 1 + 2_000 * 3)
    }

    @Test func configFileAndFlagsAndBadSettings() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let config = dir.write("settings.json", #"{"model": {"hidden": 8}, "training": {"epochs": 2, "nope": 1}}"#)
        let bad = run(["train", "--store", store, "--out", dir.file("m"), "--config", config, "--quiet"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("unknown setting 'nope'"))
        #expect(run(["train", "--store", store, "--out", dir.file("m"), "--train", "x"]).status == 2)
    }
}

@Suite struct EvaluateCommandTests {
    /// `evaluate` fits the GCN from the same flags as `train` (GCNOptions): the settings it records are the
    /// flags given, not the defaults; help texts list every registered model.
    @Test func evaluateHonoursTheGCNFlagsAndHelpListsTheRegistry() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let result = run(["evaluate", "--store", store, "--models", "gcn", "--hidden", "8", "--epochs", "2", "--learning-rate", "0.02",
                          "--bpr-weight", "3", "--seed", "4", "--json", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let settings = ((json["protocol"] as! [String: Any])["settings"] as! [String: Any])["gcn"] as! [String: Any]
        let model = settings["model"] as! [String: Any], training = settings["training"] as! [String: Any]
        #expect(model["hidden"] as? Int == 8 && model["bprWeight"] as? Double == 3)
        #expect(training["epochs"] as? Int == 2 && training["learningRate"] as? Double == 0.02 && training["seed"] as? Int == 4)
        for command in ["train", "evaluate"] {
            let help = run([command, "--help"]).stdout
            for name in ["gcn", "popularity", "coldstart", "itemknn", "als"] {
                #expect(help.contains(name), "\(command) --help lacks \(name)")
            }
        }
        #expect(run(["train", "--store", store, "--model", "nonsense", "--out", dir.file("x")]).status == 2)
    }

    /// A model is evaluated only on the split it was trained with: another holdout seed would score it on its
    /// own training listens (a leak), so it is refused with exit 2 and the reason.
    @Test func evaluatingACheckpointOnAnotherSplitIsRefused() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let checkpoint = dir.file("m.tgck")
        let trained = run(["train", "--store", store, "--out", checkpoint, "--epochs", "2", "--hidden", "8", "--seed", "5", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let same = run(["evaluate", "--store", store, "--models", "gcn", "--checkpoint", checkpoint, "--seed", "5", "--json", "--quiet"])
        #expect(same.status == 0, "\(same.stderr)")
        let other = run(["evaluate", "--store", store, "--models", "gcn", "--checkpoint", checkpoint, "--seed", "6", "--quiet"])
        #expect(other.status == 2)
        #expect(other.stderr.contains("another split"), "\(other.stderr)")
        let fraction = run(["evaluate", "--store", store, "--models", "gcn", "--checkpoint", checkpoint, "--seed", "5", "--test-fraction", "0.2", "--quiet"])
        #expect(fraction.status == 2)
    }

    @Test func evaluateJSONHasTheProtocolAndEveryModelsMetrics() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let result = run(["evaluate", "--store", store, "--models", "gcn,popularity,coldstart,itemknn,als", "--epochs", "4",
                          "--seed", "5", "--json", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let protocolInfo = json["protocol"] as! [String: Any]
        #expect(protocolInfo["seed"] as? Int == 5)
        #expect((protocolInfo["split"] as? [String: Any])?["kind"] as? String == "holdout")
        #expect(protocolInfo["k"] as? [Int] == [10, 20])
        #expect(protocolInfo["filters"] is [String: Any])
        let models = json["models"] as! [String: [String: Any]]
        #expect(Set(models.keys) == ["gcn", "popularity", "coldstart", "itemknn", "als"])
        for (name, metrics) in models {
            for key in ["recall@10", "recall@20", "ndcg@10", "ndcg@20", "precision@20", "f1@20", "map@20", "hitrate@20", "coverage@20",
                        "novelty@20", "mae", "rmse", "cold_recall@20", "cold_users", "fit_seconds"] {
                #expect(metrics[key] != nil, "\(name) lacks \(key)")
            }
        }
        // Play counts are predicted by the GCN and the bias baseline only.
        #expect(models["gcn"]!["mae"] is Double && models["popularity"]!["rmse"] is Double)
        #expect(models["als"]!["mae"] is NSNull && models["itemknn"]!["rmse"] is NSNull)
        // The same seed gives the same baseline figures (the split and the fits are seeded).
        let again = run(["evaluate", "--store", store, "--models", "itemknn,als", "--seed", "5", "--json", "--quiet"])
        let second = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [String: Any]
        let secondModels = second["models"] as! [String: [String: Any]]
        #expect(secondModels["als"]!["ndcg@20"] as? Double == models["als"]!["ndcg@20"] as? Double)
        #expect(secondModels["itemknn"]!["recall@20"] as? Double == models["itemknn"]!["recall@20"] as? Double)
    }

    @Test func explicitSplitFilesKeepEveryRowWithOrWithoutAHeader() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let lines = try String(contentsOfFile: SharedData.packageRoot + "/GraphData/triplets.tsv", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        // Text ids and no header: the first row is data, not a header.
        let train = dir.write("train.tsv", lines[0..<40_000].joined(separator: "\n") + "\n")
        let test = dir.write("test.tsv", "userID\tartistID\tweight\n" + lines[40_000...].joined(separator: "\n") + "\n")
        let result = run(["evaluate", "--store", store, "--train", train, "--test", test, "--models", "popularity", "--json", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let protocolInfo = json["protocol"] as! [String: Any]
        #expect(protocolInfo["train_listens"] as? Int == 40_000)
        #expect(protocolInfo["test_listens"] as? Int == lines.count - 40_000)
        // An id the store does not know names the file and line.
        let unknown = dir.write("unknown.tsv", lines[0] + "\nnobody\tS1\t3\n")
        let bad = run(["evaluate", "--store", store, "--train", unknown, "--test", test, "--models", "popularity"])
        #expect(bad.status == 3)
        #expect(bad.stderr.contains("unknown.tsv:2: unknown user id nobody"))
    }

    @Test func badModelListsAndSplitsAreUsageErrors() {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let unknown = run(["evaluate", "--store", store, "--models", "gcn,lightfm"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown model 'lightfm'"))
        #expect(run(["evaluate", "--store", store, "--train", "x"]).status == 2)
        #expect(run(["evaluate", "--store", store, "--models", ""]).status == 2)
    }

    @Test func baselineModelsTrainAndExplainTheirRecommendations() throws {
        let dir = TemporaryDirectory()
        let store = GraphCommandTests.sampleStore(dir)
        let root = SharedData.packageRoot + "/GraphData/triplets.tsv"
        let firstUser = String(try String(contentsOfFile: root, encoding: .utf8).prefix(40))
        let heard = Set(try String(contentsOfFile: root, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix(firstUser) }.map { String($0.split(separator: "\t")[1]) })
        for (model, file) in [("itemknn", "knn.tgm"), ("als", "als.tgm"), ("gcn", "gcn.tgck")] {
            let trained = run(["train", "--store", store, "--model", model, "--out", dir.file(file), "--epochs", "4", "--hidden", "16", "--json", "--quiet"])
            #expect(trained.status == 0, "\(model): \(trained.stderr)")
            let answer = run(["recommend", "--store", store, "--checkpoint", dir.file(file), "--user", firstUser, "-k", "5", "--explain", "--json"])
            #expect(answer.status == 0, "\(model): \(answer.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as! [String: Any]
            let items = json["recommendations"] as! [[String: Any]]
            #expect(items.count == 5)
            for item in items {
                let because = item["because"] as! [[String: Any]]
                #expect(!because.isEmpty && because.count <= 3, "\(model)")
                #expect(because.allSatisfy { heard.contains($0["item"] as! String) }, "\(model): reasons are heard items")
            }
            let text = run(["recommend", "--store", store, "--checkpoint", dir.file(file), "--user", firstUser, "-k", "2", "--explain"])
            #expect(text.stdout.contains("because you played"), "\(model)")
        }
        // Popularity has no per-listener reason, and says so.
        #expect(run(["train", "--store", store, "--model", "popularity", "--out", dir.file("pop.tgm"), "--quiet"]).status == 0)
        let popular = run(["recommend", "--store", store, "--checkpoint", dir.file("pop.tgm"), "--user", firstUser, "-k", "1", "--explain"])
        #expect(popular.stdout.contains("no per-listener reason"))
        #expect(run(["train", "--store", store, "--model", "als", "--resume", dir.file("gcn.tgck"), "--out", dir.file("x")]).status == 2)
    }
}
