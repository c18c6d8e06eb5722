import ArgumentParser
import Foundation
import TasteGraphAnalytics
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphStore
import TasteGraphSupport

/// `tastegraph recommend`: what a listener should hear next.
struct Recommend: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recommend the top-k unheard items for a user from a trained checkpoint.",
        discussion: """
            Items the user has heard are excluded (--include-heard keeps them); business rules follow
            (--exclude-artist, --min-popularity, --max-per-artist). Users unknown to the checkpoint or with fewer
            than 3 listens get the seed's cold-start mix: 10 of the 20 most popular items and 20 discovery items
            (the item with the most plays per listener in each popularity-percentile band); the output says so.
            --batch writes recommendations for every user to a CSV.
            """
    )

    @OptionGroup var store: StoreOption
    @Option(name: .long, help: ArgumentHelp("Checkpoint written by `tastegraph train`.", valueName: "checkpoint")) var checkpoint: String
    @Option(name: .long, help: ArgumentHelp("The user's external id.", valueName: "id")) var user: String?
    @Option(name: .shortAndLong, help: "How many items.") var k = 20
    @Flag(name: .long, help: "Keep items the user has already heard.") var includeHeard = false
    @Option(name: .long, help: ArgumentHelp("Never recommend this artist (name or id); repeatable.", valueName: "artist"))
    var excludeArtist: [String] = []
    @Option(name: .long, help: "Drop items whose popularity score (0–1) is below this.") var minPopularity = 0.0
    @Option(name: .long, help: "At most this many items per artist (0: no limit).") var maxPerArtist = 0
    @Option(name: .long, help: "Seed of the cold-start mix's choice among the 20 most popular items.") var seed: UInt64 = 0
    @Flag(name: .long, help: "Recommend for every user and write a CSV (see --out).") var batch = false
    @Option(name: .long, help: ArgumentHelp("CSV file for --batch.", valueName: "file")) var out: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard k > 0 else { throw ValidationError("-k must be positive") }
        guard batch || user != nil else { throw ValidationError("give --user ID or --batch") }
        if batch && out == nil { throw ValidationError("--batch needs --out FILE") }
        guard maxPerArtist >= 0 else { throw ValidationError("--max-per-artist must be ≥ 0") }
    }

    func run(context: CLIContext) throws {
        let graphStore = try GraphStore.openExisting(path: store.store)
        let catalog = try graphStore.catalog()
        let saved = try Checkpoint.read(from: checkpoint)
        guard saved.header.itemIDs == catalog.itemExternalIDs else {
            throw CheckpointError(path: checkpoint, reason: "its items do not match this store's; train on this store first")
        }
        let recommender = try GCNRecommender(checkpoint: saved)
        let listens = try graphStore.listens()
        var heard = [Set<Int>](repeating: [], count: catalog.userCount)
        var plays = [Double](repeating: 0, count: catalog.itemCount)
        var listeners = [Double](repeating: 0, count: catalog.itemCount)
        for e in 0..<listens.count {
            heard[Int(listens.users[e])].insert(Int(listens.items[e]))
            plays[Int(listens.items[e])] += Double(listens.plays[e])
            listeners[Int(listens.items[e])] += 1
        }
        let coldStart = ColdStartMix(catalog: catalog, plays: plays, listeners: listeners, seed: seed)
        var filter = RecommendationFilter()
        filter.includeHeard = includeHeard
        filter.minPopularity = minPopularity
        filter.maxPerArtist = maxPerArtist
        let lookup = ArtistLookup(catalog: catalog)
        for name in excludeArtist {
            do { filter.excludedArtists.insert(try lookup.resolve(name)) } catch let error as ArtistLookupError {
                throw InputError(file: "--exclude-artist", line: nil, reason: error.description)
            }
        }
        let checkpointUsers = Dictionary(uniqueKeysWithValues: saved.header.userIDs.enumerated().map { ($1, $0) })
        let storeUsers = Dictionary(uniqueKeysWithValues: catalog.userExternalIDs.enumerated().map { ($1, $0) })

        func answer(for external: String) -> (coldStart: Bool, items: [Recommendation]) {
            let storeUser = storeUsers[external]
            let userHeard = storeUser.map { heard[$0] } ?? []
            if let index = checkpointUsers[external], userHeard.count >= 3 {
                return (false, recommender.recommend(user: index, count: k, heard: userHeard, filter: filter, catalog: catalog))
            }
            let items = coldStart.items.filter { (includeHeard || !userHeard.contains($0)) && !filter.excludedArtists.contains(catalog.itemArtist[$0]) }
            return (true, items.prefix(k).map { Recommendation(item: $0, score: catalog.itemPopularity[$0], predictedPlays: nil) })
        }

        func title(_ item: Int) -> String { catalog.itemTitles[item] ?? catalog.itemExternalIDs[item] }
        func artist(_ item: Int) -> String { catalog.itemArtist[item] >= 0 ? catalog.artistNames[catalog.itemArtist[item]] : "" }

        if batch {
            try AtomicTextFile.write(to: out!) { file in
                file.write("user_id,rank,item_id,title,artist,score,predicted_plays,cold_start\n")
                for external in catalog.userExternalIDs {
                    let result = answer(for: external)
                    for (rank, r) in result.items.enumerated() {
                        let predicted = r.predictedPlays.map { String(format: "%.2f", $0) } ?? ""
                        file.write("\(CSV.field(external)),\(rank + 1),\(CSV.field(catalog.itemExternalIDs[r.item])),\(CSV.field(title(r.item))),\(CSV.field(artist(r.item))),\(r.score),\(predicted),\(result.coldStart)\n")
                    }
                }
            }
            context.print(output.json ? try jsonLine(["users": catalog.userCount, "csv": out!]) : "recommendations for \(catalog.userCount) users written to \(out!)")
            return
        }
        let result = answer(for: user!)
        if output.json {
            let items = result.items.map { r -> [String: Any] in
                var entry: [String: Any] = ["item": catalog.itemExternalIDs[r.item], "title": title(r.item), "artist": artist(r.item), "score": r.score]
                if let plays = r.predictedPlays { entry["predicted_plays"] = plays }
                return entry
            }
            context.print(try jsonLine(["user": user!, "cold_start": result.coldStart, "recommendations": items]))
            return
        }
        if result.coldStart {
            context.print("cold start: user \(user!) is unknown to the model or has fewer than 3 listens; showing the cold-start mix (10 popular + 20 discovery)")
        }
        for (rank, r) in result.items.enumerated() {
            let predicted = r.predictedPlays.map { String(format: "  ~%.0f plays", $0) } ?? ""
            let by = artist(r.item).isEmpty || artist(r.item) == title(r.item) ? "" : " — \(artist(r.item))"
            context.print(String(format: "%3d. %@%@%@", rank + 1, title(r.item), by, predicted))
        }
    }
}
