import ArgumentParser
import Foundation
import TasteGraphAnalytics
import TasteGraphCore
import TasteGraphGraph
import TasteGraphServing
import TasteGraphStore
import TasteGraphSupport

extension RelatedMethod: ExpressibleByArgument {}
extension EdgeWeighting: ExpressibleByArgument {}

/// `tastegraph related`: "fans also like".
struct Related: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the artists (or items) that fans of an artist also like, by random walks on the listening graph.",
        discussion: """
            Pixie-style walks: from the artist's items through their listeners back to items, each hop weighted by \
            play counts, restarting at the seed with --restart; visits are summed per artist and divided by \
            listeners^--popularity-exponent so very popular artists do not top every list. Several --artist \
            flags combine with the multi-hit booster. --method ppr ranks by igraph's personalized PageRank \
            instead. --batch computes the top-k of every artist into the store and a CSV; afterwards one --artist is \
            answered from that stored list when it was computed with the same --method, walk flags and --seed and is at \
            least -k long (the output says "stored list"; --live walks anyway).
            """
    )

    @OptionGroup var store: StoreOption
    @Option(name: .long, help: ArgumentHelp("Seed artist, by name (case- and accent-insensitive) or artist id. Repeat for several seeds.", valueName: "name|id"))
    var artist: [String] = []
    @Option(name: .long, help: ArgumentHelp("Seed item id (related items instead of artists).", valueName: "id"))
    var item: String?
    @Option(name: .shortAndLong, parsing: .unconditional, help: "How many related artists to list.")
    var k = 20
    @Option(name: .long, help: "Ranking method: walk (Pixie-style random walks) or ppr (igraph personalized PageRank).")
    var method: RelatedMethod = .walk
    @Option(name: .long, help: "Restart probability after each item → user → item step.")
    var restart = 0.5
    @Option(name: .long, help: "Step budget per query.")
    var steps = 30_000
    @Option(name: .long, help: "β: scores are visits / listeners^β (0 = raw visits).")
    var popularityExponent = 0.2
    @Option(name: .long, help: "Edge weights for the step choice: raw play counts or log1p.")
    var weighting: EdgeWeighting = .log1p
    @Option(name: .long, help: "PageRank damping for --method ppr.")
    var damping = 0.85
    @Option(name: .long, help: ArgumentHelp("Walk on the listens of this train split file (userID<TAB>itemID<TAB>weight) instead of the whole store.", valueName: "file"))
    var train: String?
    @Option(name: .long, help: "Random seed (the same seed gives the same lists).")
    var seed: UInt64 = 0
    @Flag(name: .long, help: "Walk now even when the store has a --batch list for the artist (a --train split always walks).")
    var live = false
    @Flag(name: .long, help: "Compute the top-k of every artist, store them and write a CSV (see --out).")
    var batch = false
    @Option(name: .long, help: ArgumentHelp("CSV file for --batch.", valueName: "file"))
    var out: String?
    @Option(name: .long, help: "With --batch: walk this many artists at once (the lists do not depend on it; --method ppr uses one).")
    var threads = 2
    @OptionGroup var force: ForceOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1, got \(k)") }
        guard (0..<1).contains(restart) else { throw ValidationError("--restart must be in [0, 1)") }
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard batch || !artist.isEmpty || item != nil else { throw ValidationError("give --artist NAME, --item ID or --batch") }
        guard !(item != nil && !artist.isEmpty) else { throw ValidationError("--item and --artist cannot be combined") }
        if batch && out == nil { throw ValidationError("--batch needs --out FILE for the CSV") }
        guard threads >= 1 else { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    var parameters: WalkParameters {
        var p = WalkParameters()
        p.restartProbability = restart
        p.maxSteps = steps
        p.popularityExponent = popularityExponent
        p.weighting = weighting
        return p
    }

    func run(context: CLIContext) throws {
        if batch, let out { try force.outputGuard(store: store.store).checkFile(out) }
        let graphStore = try GraphStore.openExisting(path: store.store)
        let catalogForSplit = try train.map { _ in try graphStore.catalog() }
        let listens = try train.map { try SplitFile.load(path: $0, catalog: catalogForSplit!) }
        if batch {
            return try runBatch(RelatedArtistsEngine(store: graphStore, parameters: parameters, listens: listens), store: graphStore, context: context)
        }
        let settings = RelatedArtistsSettings(walk: parameters, damping: damping, seed: seed, useStoredLists: !live)
        let service = try RelatedArtistsService(store: graphStore, settings: settings, listens: listens)
        if let item {
            let result = try answer { try service.relatedItems(RelatedItemsRequest(item: item, count: k)) }
            if output.json {
                context.print(try JSONOutput.encode(result))
            } else {
                for (rank, r) in result.related.enumerated() {
                    context.print("\(rank + 1). \(r.title.isEmpty ? r.item : r.title) (\(r.item))  \(String(format: "%.4g", r.score))")
                }
            }
            return
        }
        let result = try answer { try service.related(RelatedArtistsRequest(artists: artist, count: k, method: method)) }
        if output.json {
            context.print(try JSONOutput.encode(result))
        } else {
            let source = result.source == .stored ? ", stored list" : ""
            context.print("fans of \(result.artists.joined(separator: " + ")) also like (\(result.method.rawValue)\(source)):")
            for (rank, r) in result.related.enumerated() {
                context.print(String(format: "%3d. %@  %.4g", rank + 1, r.name, r.score))
            }
        }
    }

    /// The service's answer, its request errors as the CLI's: an unknown artist is invalid input (exit 3,
    /// with the closest names), anything else a usage error (exit 2).
    private func answer<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ServingError {
            if error.field == "artist" { throw InputError(file: "--artist", line: nil, reason: error.detail) }
            throw ValidationError(error.detail)
        }
    }

    private func runBatch(_ service: RelatedArtistsEngine, store: GraphStore, context: CLIContext) throws {
        let catalog = service.catalog
        let started = Date()
        let artists = (0..<catalog.artistCount).filter(service.walker.canSeed)
        let quiet = output.quiet
        let stderr = context.stderr
        let related = try service.relatedAll(
            artists: artists, count: k, method: method, seed: seed, damping: damping, threads: threads,
            progress: { done in if !quiet && done % 2_000 == 0 { stderr("related: \(done)/\(artists.count) artists\n") } })
        let lists = zip(artists, related).map { artist, list in StoredRelatedList(artist: artist, related: list.map { ($0.artist, $0.score) }) }
        let recorded = RelatedArtistsSettings(walk: parameters, damping: damping, seed: seed).recordedParametersJSON
        try store.saveRelatedArtists(lists, method: method.rawValue, parametersJSON: recorded)
        try AtomicTextFile.write(to: out!) { file in
            file.write("artist_id,artist,rank,related_id,related,score\n")
            for list in lists {
                for (rank, entry) in list.related.enumerated() {
                    file.write("\(CSV.field(catalog.artistExternalIDs[list.artist])),\(CSV.field(catalog.artistNames[list.artist])),\(rank + 1),\(CSV.field(catalog.artistExternalIDs[entry.artist])),\(CSV.field(catalog.artistNames[entry.artist])),\(entry.score)\n")
                }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        if output.json {
            context.print(try JSONOutput.line(["artists": lists.count, "csv": out!, "seconds": seconds]))
        } else {
            context.print("related artists for \(Format.grouped(lists.count)) artists in \(String(format: "%.1f", seconds)) s: stored, and written to \(out!)")
        }
    }
}
