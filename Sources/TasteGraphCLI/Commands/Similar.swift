import ArgumentParser
import TasteGraphServing
import TasteGraphStore

extension SimilarityBasis: ExpressibleByArgument {}

/// `tastegraph similar`: items like this one, by content or by listening.
struct Similar: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the items most similar to one item: by its text (no listening data needed) or by who listens to it.",
        discussion: """
            --by text ranks by cosine of the items' text feature rows (the --model's recorded features when it is a \
            GCN, else hashing-256). --by listens ranks by cosine of the model's item vectors: the GCN's final \
            embeddings or ALS's item factors; other models, and no --model, use co-listening (cosine of the items' \
            log1p play columns over the store's listens). The output names the source. The item itself and \
            inactive items are never listed.
            """
    )

    @OptionGroup var store: StoreOption
    @Option(name: .long, help: ArgumentHelp("Model written by `tastegraph train` whose item vectors rank --by listens.", valueName: "file"))
    var model: String?
    @Option(name: .long, help: ArgumentHelp("The item's external id.", valueName: "id"))
    var item: String
    @Option(name: .long, help: "What makes items similar: text (content) or listens.")
    var by: SimilarityBasis = .listens
    @Option(name: .shortAndLong, parsing: .unconditional, help: "How many similar items.")
    var k = 10
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1, got \(k)") }
    }

    func run(context: CLIContext) throws {
        let graphStore = try GraphStore.openExisting(path: store.store)
        let service = try SimilarItemsService(store: graphStore, modelPath: model, bases: [by])
        let result: SimilarItemsResponse
        do { result = try service.similar(SimilarItemsRequest(item: item, count: k, by: by)) } catch let error as ServingError {
            throw ValidationError(error.detail)
        }
        if output.json {
            context.print(try JSONOutput.encode(result))
            return
        }
        context.print("items like \(result.title) (\(result.item)) by \(result.by.rawValue) (\(result.source)):")
        for (rank, r) in result.similar.enumerated() {
            let by = r.artist.isEmpty || r.artist == r.title ? "" : " — \(r.artist)"
            context.print(String(format: "%3d. %@%@ (%@)  %.4f", rank + 1, r.title, by, r.item, r.score))
        }
    }
}
