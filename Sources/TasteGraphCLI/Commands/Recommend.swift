import ArgumentParser
import Foundation
import TasteGraphAnalytics
import TasteGraphCore
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphStore
import TasteGraphSupport

/// `tastegraph recommend`: what a listener should hear next.
struct Recommend: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recommend the top-k unheard items for a user from a trained model (GCN checkpoint or baseline archive).",
        discussion: """
            --checkpoint takes any file `tastegraph train` wrote: a GCN checkpoint or a baseline's model archive \
            (train --model popularity|coldstart|itemknn|als).

            --explain adds, per item, the user's heard items that contributed most to its score: for the GCN the \
            largest terms Â_uj·⟨m_j, z_i⟩ of the score through the user's neighbours j (rebuilt on the store's \
            listens); for item-KNN the terms w_uj·sim(j, i); for ALS the Hu–Koren–Volinsky decomposition \
            Σ_j c_uj·⟨W_u y_i, y_j⟩. Popularity and the cold-start mix have no per-user reason and give none.

            Items the user has heard are excluded (--include-heard keeps them); business rules follow \
            (--exclude-artist, --min-popularity, --max-per-artist). Users unknown to the checkpoint or with fewer \
            than 3 listens get the seed's cold-start mix: 10 of the 20 most popular items and 20 discovery items \
            (the item with the most plays per listener in each popularity-percentile band); the output says so.

            --batch writes recommendations for every user to a CSV.
            """
    )

    @OptionGroup var store: StoreOption
    @Option(name: .long, help: ArgumentHelp("Model written by `tastegraph train` (checkpoint or model archive).", valueName: "checkpoint"))
    var checkpoint: String
    @Option(name: .long, help: ArgumentHelp("The user's external id.", valueName: "id")) var user: String?
    @Option(name: .shortAndLong, parsing: .unconditional, help: "How many items.") var k = 20
    @Flag(name: .long, help: "Keep items the user has already heard.") var includeHeard = false
    @Option(name: .long, help: ArgumentHelp("Never recommend this artist (name or id); repeatable.", valueName: "artist"))
    var excludeArtist: [String] = []
    @Option(name: .long, help: "Drop items whose popularity score (0–1) is below this.") var minPopularity = 0.0
    @Option(name: .long, help: "At most this many items per artist (0: no limit).") var maxPerArtist = 0
    @Option(name: .long, help: "Seed of the cold-start mix's choice among the 20 most popular items.") var seed: UInt64 = 0
    @Flag(name: .long, help: "Explain each item: the user's heard items that contributed most to its score.") var explain = false
    @Option(name: .long, help: "With --explain: how many contributing items per recommendation.") var reasons = 3
    @Flag(name: .long, help: "Recommend for every user and write a CSV (see --out).") var batch = false
    @Option(name: .long, help: ArgumentHelp("CSV file for --batch (a new file; see --force).", valueName: "file")) var out: String?
    @OptionGroup var force: ForceOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1, got \(k)") }
        guard batch || user != nil else { throw ValidationError("give --user ID or --batch") }
        if batch && out == nil { throw ValidationError("--batch needs --out FILE") }
        guard maxPerArtist >= 0 else { throw ValidationError("--max-per-artist must be ≥ 0") }
        guard reasons > 0 else { throw ValidationError("--reasons must be positive") }
    }

    func run(context: CLIContext) throws {
        if batch, let out { try force.outputGuard(store: store.store).checkFile(out) }
        let graphStore = try GraphStore.openExisting(path: store.store)
        let catalog = try graphStore.catalog()
        var recommender = try RecommenderFile.load(checkpoint)
        guard recommender.identity.itemIDs == catalog.itemExternalIDs else {
            throw CheckpointError(path: checkpoint, reason: "its items do not match this store's; train on this store first")
        }
        let listens = try graphStore.listens()
        if explain, let gcn = recommender as? GCNRecommender {
            let features = try FeatureOptions.matrix(recordedName: gcn.checkpoint.header.embedder ?? "hashing-256", catalog: catalog, store: graphStore)
            recommender = gcn.attachingGraph(catalog: catalog, train: listens, features: features)
        }
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
        let storeUsers = Dictionary(uniqueKeysWithValues: catalog.userExternalIDs.enumerated().map { ($1, $0) })
        let checkpointUsers = Dictionary(uniqueKeysWithValues: recommender.identity.userIDs.enumerated().map { ($1, $0) })
        /// Model user index → the store user's heard items (the explanation needs the model's user index).
        func reasons(for external: String, item: Int) -> [Contribution] {
            guard explain, let index = checkpointUsers[external], let storeUser = storeUsers[external] else { return [] }
            return recommender.explain(user: index, item: item, heard: heard[storeUser].sorted(), count: self.reasons)
        }

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
                file.write("user_id,rank,item_id,title,artist,score,predicted_plays,cold_start" + (explain ? ",because" : "") + "\n")
                for external in catalog.userExternalIDs {
                    let result = answer(for: external)
                    for (rank, r) in result.items.enumerated() {
                        let predicted = r.predictedPlays.map { String(format: "%.2f", $0) } ?? ""
                        file.write("\(CSV.field(external)),\(rank + 1),\(CSV.field(catalog.itemExternalIDs[r.item])),\(CSV.field(title(r.item))),\(CSV.field(artist(r.item))),\(r.score),\(predicted),\(result.coldStart)")
                        if explain { file.write("," + CSV.field(reasons(for: external, item: r.item).map { title($0.item) }.joined(separator: "; "))) }
                        file.write("\n")
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
                if explain {
                    entry["because"] = reasons(for: user!, item: r.item).map {
                        ["item": catalog.itemExternalIDs[$0.item], "title": title($0.item), "weight": $0.weight] as [String: Any]
                    }
                }
                return entry
            }
            context.print(try jsonLine(["user": user!, "cold_start": result.coldStart, "recommendations": items]))
            return
        }
        if result.coldStart {
            context.print("cold start: user \(Printable.escaped(user!)) is unknown to the model or has fewer than 3 listens; showing the cold-start mix (10 popular + 20 discovery)")
        }
        for (rank, r) in result.items.enumerated() {
            let predicted = r.predictedPlays.map { String(format: "  ~%.0f plays", $0) } ?? ""
            let by = artist(r.item).isEmpty || artist(r.item) == title(r.item) ? "" : " — \(artist(r.item))"
            context.print(String(format: "%3d. %@%@%@", rank + 1, title(r.item), by, predicted))
            if explain && !result.coldStart {
                let because = reasons(for: user!, item: r.item).map { title($0.item) }
                context.print(because.isEmpty ? "     (no per-listener reason: this model ranks by popularity)" : "     because you played " + because.joined(separator: ", "))
            }
        }
    }
}
