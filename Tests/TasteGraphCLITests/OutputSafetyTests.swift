import Foundation
import SQLite
import TestSupport
import Testing

/// No command destroys what TasteGraph did not create: for every command that writes, the store and an
/// unrelated file survive `--out .`, the store's folder, the store file, an existing file and `/`.
@Suite struct OutputSafetyTests {
    /// A sample store with a saved segmentation and a popularity model, an unrelated file beside it.
    struct Setup {
        let dir = TemporaryDirectory()
        let store: String
        let model: String
        let keep: String

        init() {
            store = GraphCommandTests.sampleStore(dir)
            model = dir.file("pop.tgm")
            keep = dir.write("keep.txt", "not TasteGraph's\n")
            _ = run(["train", "--store", store, "--model", "popularity", "--out", model, "--quiet"])
            _ = run(["segments", "--store", store, "--seed", "1", "--quiet"])
        }

        func fingerprint() -> String { run(["stats", "--store", store, "--json"]).stdout }
    }

    /// Each writing command, with its file output at `target`.
    static func commands(_ s: Setup, _ target: String) -> [(name: String, arguments: [String])] {
        let fresh = s.dir.file("fresh-\(UUID().uuidString)")
        return [
            ("train --out", ["train", "--store", s.store, "--model", "popularity", "--out", target, "--quiet"]),
            ("train --log", ["train", "--store", s.store, "--epochs", "1", "--hidden", "4", "--out", fresh, "--log", target, "--quiet"]),
            ("recommend --batch --out", ["recommend", "--store", s.store, "--checkpoint", s.model, "--batch", "--out", target]),
            ("related --batch --out", ["related", "--store", s.store, "--batch", "--out", target, "--quiet"]),
            ("segments export --out", ["segments", "export", "--store", s.store, "--out", target, "--min-audience", "1"]),
        ]
    }

    @Test func fileOutputsRefuseWhatTheyDidNotCreate() throws {
        let s = Setup()
        #expect(FileManager.default.fileExists(atPath: s.model))
        let before = s.fingerprint()
        #expect(before.contains("\"listens\""))
        for target in [".", s.dir.path, s.store, s.keep, "/"] {
            for command in Self.commands(s, target) {
                let result = run(command.arguments)
                #expect(result.status == 2, "\(command.name) \(target): status \(result.status) \(result.stderr)")
                #expect(result.stderr.contains(target) || result.stderr.contains("--log"), "\(command.name) \(target): \(result.stderr)")
                #expect(!result.stderr.contains("Fatal"), "\(result.stderr)")
            }
        }
        #expect(try String(contentsOfFile: s.keep, encoding: .utf8) == "not TasteGraph's\n")
        #expect(s.fingerprint() == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: s.dir.path).filter { $0.contains(".tmp") || $0.contains(".tgexport-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// Outputs that fill a folder (`evaluate --save-dir`, `generate --out`, `import --store`) leave the store
    /// and unrelated files intact too; `/` and the current directory are refused outright.
    @Test func folderOutputsAndTheStoreKeepWhatIsThere() throws {
        let s = Setup()
        let before = s.fingerprint()
        for target in [".", "/", s.store, s.keep] {
            let evaluate = run(["evaluate", "--store", s.store, "--models", "popularity", "--save-dir", target, "--quiet"])
            #expect(evaluate.status == 2, "evaluate --save-dir \(target): \(evaluate.stderr)")
            let generate = run(["generate", "--out", target, "--users", "20", "--songs", "40", "--artists", "10", "--quiet"])
            #expect(generate.status == 2, "generate --out \(target): \(generate.stderr)")
        }
        // The store's folder may receive new model files beside the store; nothing there is replaced.
        let evaluate = run(["evaluate", "--store", s.store, "--models", "popularity", "--save-dir", s.dir.path, "--quiet"])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        #expect(FileManager.default.fileExists(atPath: s.dir.file("popularity.tgm")))
        let again = run(["evaluate", "--store", s.store, "--models", "popularity", "--save-dir", s.dir.path, "--quiet"])
        #expect(again.status == 2 && again.stderr.contains("--force"), "\(again.stderr)")
        // import --store never turns an unrelated file or folder into a store.
        let triplets = s.dir.write("t.tsv", "u1\tS1\t3\n")
        for target in [s.keep, s.dir.path, "/"] {
            let imported = run(["import", "taste-profile", triplets, "--store", target, "--quiet"])
            #expect(imported.status != 0, "import --store \(target)")
        }
        #expect(try String(contentsOfFile: s.keep, encoding: .utf8) == "not TasteGraph's\n")
        #expect(s.fingerprint() == before)
        // Another program's SQLite database is refused, never migrated into.
        let foreign = s.dir.file("photos.db")
        do {
            let db = try Database(path: foreign)
            try db.execute("CREATE TABLE photos(name TEXT); INSERT INTO photos VALUES ('cat')")
        }
        let intoForeign = run(["import", "taste-profile", triplets, "--store", foreign, "--quiet"])
        #expect(intoForeign.status != 0 && intoForeign.stderr.contains("not a TasteGraph store"), "\(intoForeign.stderr)")
        let db = try Database(path: foreign)
        #expect(try db.text("SELECT group_concat(name) FROM sqlite_master WHERE type = 'table'") == "photos")
    }

    /// `--force` replaces an existing file — crash-safely, leaving no temporary file — but never the store.
    @Test func forceReplacesAFileButNeverTheStore() throws {
        let s = Setup()
        let csv = s.dir.write("old.csv", "old\n")
        let forced = run(["recommend", "--store", s.store, "--checkpoint", s.model, "--batch", "--out", csv, "-k", "2", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOfFile: csv, encoding: .utf8).hasPrefix("user_id,rank,item_id"))
        let onStore = run(["recommend", "--store", s.store, "--checkpoint", s.model, "--batch", "--out", s.store, "--force"])
        #expect(onStore.status == 2 && onStore.stderr.contains("store"), "\(onStore.stderr)")
        let retrained = run(["train", "--store", s.store, "--model", "popularity", "--out", s.model, "--quiet", "--force"])
        #expect(retrained.status == 0, "\(retrained.stderr)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: s.dir.path).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
