import Foundation
import TestSupport
import Testing

/// `--max-seq-length` and the model folder's own limit in `tastegraph embed` and `--features minilm`, on the
/// tiny seeded BERT of TestSupport (max_position_embeddings 12).
@Suite struct EmbedCommandSequenceLimitTests {
    static func modelFolder(_ dir: TemporaryDirectory, sentenceMaxLength: Int? = nil) throws -> String {
        let path = dir.file("model")
        try TinyBert.writeModelFolder(path, seed: 5, sentenceMaxLength: sentenceMaxLength)
        return path
    }

    static func inputIDCounts(_ stdout: String) throws -> [Int] {
        try stdout.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return (object["input_ids"] as! [Int]).count
        }
    }

    static func summary(_ stdout: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as! [String: Any]
    }

    @Test func helpDocumentsTheLimitAndItsDefault() {
        let help = run(["embed", "--help"])
        #expect(help.status == 0)
        for phrase in ["--max-seq-length <n>", "sentence_bert_config.json", "256", "max_position_embeddings", "minilm-l6-v2-seq256"] {
            #expect(help.stdout.contains(phrase), "embed --help lacks \(phrase)")
        }
        #expect(!help.stdout.contains("truncated at 128 tokens)"))
        let train = run(["train", "--help"])
        #expect(train.stdout.contains("--max-seq-length <n>"))
    }

    @Test func theFoldersLimitIsTheDefaultAndTheFlagReplacesIt() throws {
        let dir = TemporaryDirectory()
        let texts = dir.write("t.txt", "w4 w5\n" + String(repeating: "w9 ", count: 30) + "\n")
        let withConfig = try Self.modelFolder(dir, sentenceMaxLength: 6)
        let byFolder = run(["embed", "--model-dir", withConfig, "--texts", texts, "--json", "--quiet"])
        #expect(byFolder.status == 0, "\(byFolder.stderr)")
        #expect(try Self.inputIDCounts(byFolder.stdout) == [4, 6])
        let byFlag = run(["embed", "--model-dir", withConfig, "--texts", texts, "--json", "--quiet", "--max-seq-length", "10"])
        #expect(try Self.inputIDCounts(byFlag.stdout) == [4, 10])
        // Without sentence_bert_config.json: 128, capped by the tiny model's 12 positions.
        try FileManager.default.removeItem(atPath: withConfig + "/sentence_bert_config.json")
        let capped = run(["embed", "--model-dir", withConfig, "--texts", texts, "--json", "--quiet"])
        #expect(try Self.inputIDCounts(capped.stdout) == [4, 12])
    }

    @Test func aLimitTheModelCannotTakeIsAUsageError() throws {
        let dir = TemporaryDirectory()
        let model = try Self.modelFolder(dir)
        let texts = dir.write("t.txt", "w4 w5\n")
        let store = GraphCommandTests.sampleStore(dir)
        for arguments in [["--texts", texts], ["--store", store]] {
            let tooLong = run(["embed", "--model-dir", model, "--max-seq-length", "13"] + arguments)
            #expect(tooLong.status == 2, "\(arguments): \(tooLong.stderr)")
            #expect(tooLong.stderr.contains("--max-seq-length: the sequence limit 13 exceeds the model's max_position_embeddings 12: give at most 12"), "\(tooLong.stderr)")
            let tooShort = run(["embed", "--model-dir", model, "--max-seq-length", "1"] + arguments)
            #expect(tooShort.status == 2)
            #expect(tooShort.stderr.contains("--max-seq-length must be at least 2"), "\(tooShort.stderr)")
        }
        let train = run(["train", "--store", store, "--out", dir.file("m.tgck"), "--features", "minilm", "--model-dir", model, "--max-seq-length", "13", "--quiet"])
        #expect(train.status == 2, "\(train.stderr)")
        #expect(train.stderr.contains("max_position_embeddings 12"))
        #expect(run(["train", "--store", store, "--out", dir.file("m.tgck"), "--max-seq-length", "8"]).status == 2)  // hashing features
    }

    /// Vectors made at one limit are never served at another: each limit embeds every text itself, and
    /// then finds its own vectors in the cache.
    @Test func eachLimitHasItsOwnCacheEntries() throws {
        let dir = TemporaryDirectory()
        let model = try Self.modelFolder(dir)
        let store = GraphCommandTests.sampleStore(dir)
        let at6 = try Self.summary(run(["embed", "--store", store, "--model-dir", model, "--max-seq-length", "6", "--json", "--quiet"]).stdout)
        let distinct = at6["computed"] as! Int
        #expect(distinct > 100 && at6["cached"] as? Int == 0)
        #expect(at6["model"] as? String == "minilm-l6-v2-seq6" && at6["max_seq_length"] as? Int == 6)
        let atDefault = try Self.summary(run(["embed", "--store", store, "--model-dir", model, "--json", "--quiet"]).stdout)
        #expect(atDefault["model"] as? String == "minilm-l6-v2-seq12" && atDefault["max_seq_length"] as? Int == 12)
        #expect(atDefault["computed"] as? Int == distinct && atDefault["cached"] as? Int == 0)  // nothing from the run at 6
        #expect(atDefault["cache_size"] as? Int == distinct)
        let again6 = try Self.summary(run(["embed", "--store", store, "--model-dir", model, "--max-seq-length", "6", "--json", "--quiet"]).stdout)
        #expect(again6["computed"] as? Int == 0 && again6["cache_size"] as? Int == distinct)

        // The folder's limit needs only its config files (no weights) when everything is cached …
        try FileManager.default.removeItem(atPath: model + "/model.safetensors")
        let configOnly = run(["embed", "--store", store, "--model-dir", model, "--json", "--quiet"])
        #expect(configOnly.status == 0, "\(configOnly.stderr)")
        #expect(try Self.summary(configOnly.stdout)["computed"] as? Int == 0)
        // … and without any folder the limit must be given, and the error says so.
        let nowhere = run(["embed", "--store", store, "--model-dir", dir.file("nowhere"), "--quiet"])
        #expect(nowhere.status == 1)
        #expect(nowhere.stderr.contains("pass --max-seq-length N"), "\(nowhere.stderr)")
        let given = run(["embed", "--store", store, "--model-dir", dir.file("nowhere"), "--max-seq-length", "12", "--json", "--quiet"])
        #expect(given.status == 0, "\(given.stderr)")
        #expect(try Self.summary(given.stdout)["computed"] as? Int == 0)
    }

    /// A checkpoint records the limit its features were made with, and `recommend` rebuilds them at that
    /// limit from the cache.
    @Test func trainingRecordsTheLimitAndRecommendUsesIt() throws {
        let dir = TemporaryDirectory()
        let model = try Self.modelFolder(dir, sentenceMaxLength: 6)
        let store = GraphCommandTests.sampleStore(dir)
        let checkpoint = dir.file("m.tgck")
        let trained = run(["train", "--store", store, "--out", checkpoint, "--features", "minilm", "--model-dir", model, "--max-seq-length", "8",
                           "--epochs", "1", "--validate-every", "1", "--hidden", "8", "--json", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let summary = try Self.summary(String(trained.stdout.split(separator: "\n").last ?? ""))
        #expect(summary["features"] as? String == "minilm-l6-v2-seq8")
        // Only the limit-8 vectors exist: a run at the folder's own 6 embeds everything anew.
        let at6 = try Self.summary(run(["embed", "--store", store, "--model-dir", model, "--json", "--quiet"]).stdout)
        #expect(at6["model"] as? String == "minilm-l6-v2-seq6" && at6["cached"] as? Int == 0)
        let root = SharedData.packageRoot + "/GraphData/triplets.tsv"
        let user = String(try String(contentsOfFile: root, encoding: .utf8).prefix(40))
        try FileManager.default.removeItem(atPath: model)  // recommend needs the cache only
        let recommended = run(["recommend", "--store", store, "--checkpoint", checkpoint, "--user", user, "-k", "5", "--json"])
        #expect(recommended.status == 0, "\(recommended.stderr)")
    }
}
