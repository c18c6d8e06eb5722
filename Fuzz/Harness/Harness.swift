import Foundation
import TasteGraphStore

/// One fuzzed parser: how it consumes an input, and (for formats too intricate to write by hand) how its
/// seeds are generated.
struct Harness: Sendable {
    let name: String
    /// Parses one input. Must return normally for every input: a thrown error is the parser rejecting
    /// bad data, which is fine; a trap, a sanitizer report, a hang or unbounded memory is a finding.
    let run: @Sendable (UnsafeRawBufferPointer, Scratch) -> Void
    /// Writes generated seed files into a folder (nil: the committed corpus is hand-written).
    let seeds: (@Sendable (String) throws -> Void)?

    init(_ name: String, run: @escaping @Sendable (UnsafeRawBufferPointer, Scratch) -> Void,
         seeds: (@Sendable (String) throws -> Void)? = nil) {
        self.name = name
        self.run = run
        self.seeds = seeds
    }

    static let all: [Harness] = [
        ImporterHarnesses.triplets, ImporterHarnesses.songData, ImporterHarnesses.uniqueTracks, ImporterHarnesses.lastfm,
        SplitFileHarness.harness, ModelFileHarness.harness, ModelFileHarness.sealed,
    ]

    static func named(_ name: String) -> Harness? { all.first { $0.name == name } }

    func writeSeeds(_ folder: String) throws {
        guard let seeds else { throw Scratch.Failure("\(name) has no generated seeds; its corpus is Fuzz/corpus/\(name)") }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try seeds(folder)
    }

    // The fuzzing loop is single-threaded and the selection is made once, before it starts.
    nonisolated(unsafe) private static var current: (Harness, Scratch)?

    static func select(_ harness: Harness) {
        current = (harness, Scratch(harness: harness.name))
        atexit { Harness.current?.1.removeFolder() }  // libFuzzer ends its run with exit()
    }

    static func runSelected(_ input: UnsafeRawBufferPointer) {
        guard let (harness, scratch) = current else { fatalError("no harness selected") }
        harness.run(input, scratch)
    }
}

/// A private folder for one fuzzing process (in /dev/shm when there is one, so writes stay in memory),
/// removed when the process ends normally.
final class Scratch: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    let folder: String

    init(harness: String) {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        folder = "\(base)/tastegraph-fuzz-\(harness)-\(getpid())"
        try? FileManager.default.removeItem(atPath: folder)
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func removeFolder() { try? FileManager.default.removeItem(atPath: folder) }

    func path(_ name: String) -> String { "\(folder)/\(name)" }

    /// Writes `bytes` to `name` in the scratch folder and returns its path.
    @discardableResult
    func write(_ bytes: UnsafeRawBufferPointer, to name: String) -> String {
        let path = path(name)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot write \(path): \(String(cString: strerror(errno)))")
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            precondition(n > 0, "cannot write \(path): \(String(cString: strerror(errno)))")
            offset += n
        }
        close(fd)
        return path
    }

    @discardableResult
    func write(_ text: String, to name: String) -> String {
        Array(text.utf8).withUnsafeBytes { write($0, to: name) }
    }

    func remove(_ name: String) { unlink(path(name)) }

    private var store: (GraphStore, StoreStats?)?

    /// The in-memory store the importer harnesses share while it stays empty, and its stats when empty.
    func emptyStore() -> (GraphStore, StoreStats?) {
        if let store { return store }
        guard let fresh = try? GraphStore(path: ":memory:") else { fatalError("cannot open an in-memory store") }
        store = (fresh, try? fresh.stats())
        return store!
    }

    /// Forgets the shared store (an import filled it): the next input gets a fresh one.
    func discardStore() { store = nil }
}
