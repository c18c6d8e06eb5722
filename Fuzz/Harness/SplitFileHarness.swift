import TasteGraphCore
import TasteGraphGraph

/// The explicit split reader over a small catalog: users `u0`…`u3`, items `i0`…`i5`.
enum SplitFileHarness {
    static let catalog = Catalog(userCount: 4, itemCount: 6)

    static let harness = Harness("split-file") { input, scratch in
        let path = scratch.write(input, to: "split.tsv")
        guard let table = try? SplitFile.load(path: path, catalog: catalog) else { return }
        // What it accepted must be a usable graph: ids in range, weights finite and non-negative.
        precondition(table.users.allSatisfy { $0 >= 0 && Int($0) < catalog.userCount }, "split user out of range")
        precondition(table.items.allSatisfy { $0 >= 0 && Int($0) < catalog.itemCount }, "split item out of range")
        precondition(table.plays.allSatisfy { $0.isFinite && $0 >= 0 }, "split weight not finite and non-negative")
        _ = BipartiteGraph(userCount: catalog.userCount, itemCount: catalog.itemCount, listens: table, weighting: .raw)
    }
}
