import ArgumentParser
import TasteGraphStore

/// `tastegraph prepare`: the seed analysis's filters and popularity score.
struct Prepare: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Filter users and items and recompute each item's popularity score.",
        discussion: """
            Filters run in order on what the previous one kept: users (≥ --min-user-plays total plays and \
            ≥ --min-user-items distinct items), then items (average plays per listener > --min-item-average-plays).

            Nothing is deleted: filtered rows are marked inactive, and each run starts from the full data. \
            popularity = 0.6 × minmax(average plays per listener) + 0.4 × minmax(total plays) over the catalog.
            """
    )

    @OptionGroup var store: StoreOption
    @Option(name: .long, parsing: .unconditional, help: "Keep users with at least N total plays.")
    var minUserPlays: Int64?
    @Option(name: .long, parsing: .unconditional, help: "Keep users with at least M distinct items.")
    var minUserItems: Int64?
    @Option(name: .long, parsing: .unconditional, help: "Keep items whose average plays per listener exceed X.")
    var minItemAveragePlays: Double?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        for (name, value) in [("--min-user-plays", minUserPlays), ("--min-user-items", minUserItems)] {
            if let value, value < 0 { throw ValidationError("\(name) must be ≥ 0, got \(value)") }
        }
        if let x = minItemAveragePlays, !(x >= 0) { throw ValidationError("--min-item-average-plays must be ≥ 0") }
    }

    func run(context: CLIContext) throws {
        let graphStore = try GraphStore.openExisting(path: store.store)
        let report = try graphStore.prepare(
            PreparationParameters(minUserPlays: minUserPlays, minUserItems: minUserItems, minItemAveragePlays: minItemAveragePlays))
        if output.json {
            context.print(try JSONOutput.encode(report))
            return
        }
        if report.steps.isEmpty { context.print("no filters given: all users and items kept") }
        for step in report.steps {
            context.print(
                "\(step.filter): removed \(Format.grouped(step.usersRemoved)) users, \(Format.grouped(step.itemsRemoved)) items, \(Format.grouped(step.listensRemoved)) listens, \(Format.grouped(step.playsRemoved)) plays")
        }
        context.print(
            "kept \(Format.grouped(report.usersKept)) users, \(Format.grouped(report.itemsKept)) items, \(Format.grouped(report.listensKept)) listens; popularity recomputed")
    }
}
