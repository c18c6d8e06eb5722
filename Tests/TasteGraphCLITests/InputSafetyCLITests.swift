import Foundation
import SQLite
import TestSupport
import Testing

/// Issue 12, items 2 and 6, through the command line: no store content traps a command, and input edge
/// cases get consistent statuses and safe messages.
@Suite struct InputSafetyCLITests {
    static let triplets = "u1\tS1\t3\nu1\tS2\t1\nu1\tS3\t2\nu2\tS1\t10\nu2\tS3\t2\nu2\tS4\t1\nu3\tS2\t5\nu3\tS4\t2\nu3\tS1\t1\nu4\tS3\t4\nu4\tS4\t1\nu4\tS2\t2\n"

    /// No control byte other than the line breaks reaches the terminal.
    static func isTerminalSafe(_ text: String) -> Bool {
        !text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) }
    }

    /// Two listens of 2^62 plays written straight into the store by another tool: `stats`, `prepare`, `train`
    /// and the walk commands exit 3 naming the store; none traps.
    @Test func storeWithOverflowingCountsTrapsNoCommand() throws {
        let dir = TemporaryDirectory()
        let store = dir.file("s.sqlite")
        #expect(run(["import", "taste-profile", dir.write("t.tsv", Self.triplets), "--store", store, "--quiet"]).status == 0)
        do {
            let db = try Database(path: store)
            try db.execute("UPDATE listens SET play_count = 4611686018427387904 WHERE item_id = 0")
        }
        for arguments in [
            ["stats", "--store", store],
            ["stats", "--store", store, "--json"],
            ["prepare", "--store", store, "--min-user-plays", "1"],
            ["train", "--store", store, "--out", dir.file("m.tgck"), "--epochs", "1", "--hidden", "4", "--quiet"],
            ["train", "--store", store, "--out", dir.file("p.tgmodel"), "--model", "popularity", "--quiet"],
            ["segments", "--store", store, "--seed", "1"],
            ["related", "--store", store, "--item", "S1"],
        ] {
            let result = run(arguments)
            #expect(result.status == 3, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("error: \(store): the listen (user"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("outside 0…1,000,000,000"), "\(arguments): \(result.stderr)")
        }
    }

    @Test func importRejectsCountsAboveTheMaximumOnTheirLine() {
        let dir = TemporaryDirectory()
        let triplets = dir.write("t.tsv", "u1\tS1\t4611686018427387904\nu2\tS1\t4611686018427387904\n")
        let result = run(["import", "taste-profile", triplets, "--store", dir.file("s.sqlite")])
        #expect(result.status == 3)
        #expect(result.stderr.contains("\(triplets):1: play count 4611686018427387904 is too large: at most 1,000,000,000 plays per row"))
    }

    /// `-k -1` is read as a number and validated, not taken for a flag ("Missing value").
    @Test func negativeKSaysItMustBeAtLeastOne() {
        for arguments in [
            ["recommend", "--store", "s", "--checkpoint", "c", "--user", "u", "-k", "-1"],
            ["related", "--store", "s", "--artist", "a", "-k", "-1"],
            ["related", "--store", "s", "--artist", "a", "-k", "0"],
        ] {
            let result = run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains("-k must be at least 1"), "\(arguments): \(result.stderr)")
        }
        let maxErrors = run(["import", "taste-profile", "x", "--store", "y", "--max-errors", "-1"])
        #expect(maxErrors.status == 2)
        #expect(maxErrors.stderr.contains("--max-errors must be ≥ 0, got -1"), "\(maxErrors.stderr)")
        let prepare = run(["prepare", "--store", "y", "--min-user-plays", "-3"])
        #expect(prepare.status == 2)
        #expect(prepare.stderr.contains("--min-user-plays must be ≥ 0, got -3"), "\(prepare.stderr)")
    }

    /// A failed import into a new store leaves no file behind; one into an existing store keeps it.
    @Test func failedImportRemovesOnlyTheStoreItCreated() throws {
        let dir = TemporaryDirectory()
        let bad = dir.write("bad.tsv", "u1\tS1\t3\nu2\tS1\tmany\n")
        let store = dir.file("new.sqlite")
        #expect(run(["import", "taste-profile", bad, "--store", store]).status == 3)
        for suffix in ["", "-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: store + suffix), "\(suffix)") }
        #expect(run(["import", "taste-profile", dir.file("missing.tsv"), "--store", store]).status == 3)
        #expect(!FileManager.default.fileExists(atPath: store))
        #expect(run(["import", "lastfm", dir.file("nowhere"), "--store", store]).status == 3)
        #expect(!FileManager.default.fileExists(atPath: store))

        #expect(run(["import", "taste-profile", dir.write("t.tsv", Self.triplets), "--store", store, "--quiet"]).status == 0)
        #expect(run(["import", "taste-profile", bad, "--store", store]).status == 3)
        #expect(FileManager.default.fileExists(atPath: store))
        let stats = run(["stats", "--store", store, "--json"])
        #expect(stats.status == 0)
        #expect(stats.stdout.contains("\"listens\":12"), "\(stats.stdout)")
    }

    /// Missing or directory inputs: exit 3, `error: PATH: cannot read: WHY`, for every input the CLI reads.
    @Test func unreadableInputsExitWith3AndOneMessageShape() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("folder"), withIntermediateDirectories: false)
        let triplets = dir.write("t.tsv", Self.triplets)
        let store = dir.file("s.sqlite")
        #expect(run(["import", "taste-profile", triplets, "--store", store, "--quiet"]).status == 0)
        let cases: [([String], String)] = [
            (["import", "taste-profile", dir.file("missing.tsv"), "--store", dir.file("a.sqlite")], "\(dir.file("missing.tsv")): cannot read: no such file"),
            (["import", "taste-profile", dir.file("folder"), "--store", dir.file("a.sqlite")], "\(dir.file("folder")): cannot read: it is a directory, not a file"),
            (["import", "taste-profile", triplets, "--metadata", dir.file("folder"), "--store", dir.file("a.sqlite")],
             "\(dir.file("folder")): cannot read: it is a directory, not a file"),
            (["import", "lastfm", dir.file("nowhere"), "--store", dir.file("a.sqlite")], "\(dir.file("nowhere")): cannot read: no such directory"),
            (["related", "--store", store, "--item", "S1", "--train", dir.file("missing.tsv")], "\(dir.file("missing.tsv")): cannot read: no such file"),
            (["related", "--store", store, "--item", "S1", "--train", dir.file("folder")], "\(dir.file("folder")): cannot read: it is a directory, not a file"),
        ]
        for (arguments, message) in cases {
            let result = run(arguments)
            #expect(result.status == 3, "\(arguments): \(result.stderr)")
            #expect(result.stderr == "error: \(message)\n", "\(arguments)")
        }
    }

    /// A play count that would retitle the terminal and clear the screen, a NUL in an id, escape sequences
    /// in a command-line id: every message shows them as visible escapes.
    @Test func messagesQuotingInputAreTerminalSafe() throws {
        let dir = TemporaryDirectory()
        let hostile = dir.write("t.tsv", "u1\tS1\t\u{1B}]0;pwned\u{07}\u{1B}[2J1\n")
        let result = run(["import", "taste-profile", hostile, "--store", dir.file("s.sqlite")])
        #expect(result.status == 3)
        #expect(result.stderr.contains(#"play count '\x1b]0;pwned\x07\x1b[2J1' is not an integer"#), "\(result.stderr)")
        #expect(Self.isTerminalSafe(result.stderr))

        let lastfm = TemporaryDirectory()
        lastfm.write("artists.dat", "id\tname\turl\tpictureURL\n1\tA\tu\tp\n")
        lastfm.write("user_artists.dat", bytes: Array("userID\tartistID\tweight\n2".utf8) + [0] + Array("\t1\t5\n".utf8))
        let nul = run(["import", "lastfm", lastfm.path, "--store", lastfm.file("l.sqlite")])
        #expect(nul.status == 3)
        #expect(nul.stderr.contains(#"user id '2\0' is not an integer"#), "\(nul.stderr)")
        #expect(Self.isTerminalSafe(nul.stderr))

        let store = dir.file("ok.sqlite")
        #expect(run(["import", "taste-profile", dir.write("ok.tsv", Self.triplets), "--store", store, "--quiet"]).status == 0)
        let split = dir.write("train.tsv", "u\u{1B}[2J1\tS1\t1\n")
        let unknown = run(["related", "--store", store, "--item", "S1", "--train", split])
        #expect(unknown.status == 3)
        #expect(unknown.stderr.contains(#"unknown user id u\x1b[2J1: not in the store"#), "\(unknown.stderr)")
        let item = run(["related", "--store", store, "--item", "S\u{1B}]0;x\u{07}"])
        #expect(item.status == 2)
        #expect(item.stderr.contains(#"no item with id 'S\x1b]0;x\x07'"#), "\(item.stderr)")
        for output in [unknown.stderr, item.stderr] { #expect(Self.isTerminalSafe(output)) }
        let option = run(["stats", "--store", store, "--\u{1B}[2J"])
        #expect(option.status == 2)
        #expect(Self.isTerminalSafe(option.stderr), "\(option.stderr)")
    }

    /// A BOM before the triplets does not make `\u{FEFF}u1` a second user; one before a split file's first
    /// line does not make its id unknown.
    @Test func byteOrderMarksAreIgnored() throws {
        let dir = TemporaryDirectory()
        let store = dir.file("s.sqlite")
        let imported = run(["import", "taste-profile", dir.write("t.tsv", "\u{FEFF}" + Self.triplets), "--store", store, "--json", "--quiet"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let stats = run(["stats", "--store", store, "--json"])
        #expect(stats.stdout.contains("\"users\":4"), "\(stats.stdout)")
        let split = dir.write("train.tsv", "\u{FEFF}u1\tS1\t3\nu2\tS1\t10\nu2\tS3\t2\n")
        let related = run(["related", "--store", store, "--item", "S1", "--train", split, "--json"])
        #expect(related.status == 0, "\(related.stderr)")
    }

    /// A write lock held by another process: the message names the store and says so (not `SQLite error 5`),
    /// and the existing store is kept.
    @Test func lockedStoreIsAClearError() throws {
        let dir = TemporaryDirectory()
        let store = dir.file("s.sqlite")
        let triplets = dir.write("t.tsv", Self.triplets)
        #expect(run(["import", "taste-profile", triplets, "--store", store, "--quiet"]).status == 0)
        let other = try Database(path: store)
        try other.execute("BEGIN IMMEDIATE")
        defer { try? other.execute("ROLLBACK") }
        for arguments in [["import", "taste-profile", triplets, "--store", store], ["prepare", "--store", store]] {
            let result = run(arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("error: the store \(store) is locked by another process"), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("SQLite error"))
        }
        #expect(FileManager.default.fileExists(atPath: store))
    }
}
