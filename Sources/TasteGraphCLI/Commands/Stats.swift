import ArgumentParser
import TasteGraphStore

/// `tastegraph stats`: what the store holds.
struct Stats: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print users, items, artists, listens, plays, quantiles of plays per user and per item, and density.",
        discussion: "Counts cover the active data (after `tastegraph prepare` filters). Quantiles interpolate linearly."
    )

    @OptionGroup var store: StoreOption
    @OptionGroup var output: OutputOptions

    func run(context: CLIContext) throws {
        let stats = try GraphStore.openExisting(path: store.store).stats()
        if output.json {
            context.print(try JSONOutput.encode(stats))
            return
        }
        let rows: [(String, String)] = [
            ("dataset", stats.dataset ?? "empty"),
            ("users", Format.grouped(stats.users)),
            ("items", Format.grouped(stats.items)),
            ("artists", Format.grouped(stats.artists)),
            ("listens", Format.grouped(stats.listens)),
            ("plays", Format.grouped(stats.plays)),
            ("tags", Format.grouped(stats.tags)),
            ("tag assignments", Format.grouped(stats.tagAssignments)),
            ("friend pairs", Format.grouped(stats.friendPairs)),
            ("density", String(format: "%.6f", stats.density)),
        ]
        for (name, value) in rows { context.print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + value) }
        if stats.inactiveUsers + stats.inactiveItems > 0 {
            context.print("filtered out      \(Format.grouped(stats.inactiveUsers)) users, \(Format.grouped(stats.inactiveItems)) items")
        }
        context.print("")
        context.print("quantiles            min     p25  median     p75     p90     p99       max     mean")
        let distributions: [(String, Quantiles?)] = [
            ("plays per user", stats.playsPerUser), ("items per user", stats.itemsPerUser),
            ("plays per item", stats.playsPerItem), ("listeners per item", stats.listenersPerItem),
        ]
        for (name, q) in distributions {
            guard let q else { continue }
            let cells = [q.min, q.p25, q.median, q.p75, q.p90, q.p99].map { pad(Format.number($0, digits: 1), 8) }
            context.print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + cells.joined()
                + pad(Format.number(q.max, digits: 1), 10) + pad(Format.number(q.mean, digits: 1), 9))
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
