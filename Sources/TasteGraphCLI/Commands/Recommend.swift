import ArgumentParser
import Foundation
import TasteGraphCore
import TasteGraphServing
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
            (--exclude-artist, --min-popularity, --max-per-artist; --diversity re-ranks by maximal marginal relevance \
            over the cosine of the items' listener sets in the store). Users unknown to the checkpoint or with fewer \
            than 3 listens get the seed's cold-start mix: 10 of the 20 most popular items and 20 discovery items \
            (the item with the most plays per listener in each popularity-percentile band); the output says so.

            --batch writes recommendations for every user (or those of --users) to a CSV: users the model serves \
            are scored --block-size at a time in one matrix product and each list is a partial top-k of its row, \
            --threads blocks at once. --out - writes the CSV to standard output and --users - reads the ids from \
            standard input, one per line: the stdin/stdout format Integrations/spark/ pipes partitions through \
            (--no-header drops the header line). A user's list does not depend on which other users share the \
            run.
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
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Re-rank by maximal marginal relevance with this λ, 0 to 1 (default 0: off): the best max(5k, 100) candidates are picked greedily by (1 − λ)·normalized score − λ·the largest listener-set cosine to an item already picked.", valueName: "λ"))
    var diversity = 0.0
    @Option(name: .long, help: "Seed of the cold-start mix's choice among the 20 most popular items.") var seed: UInt64 = 0
    @Flag(name: .long, help: "Explain each item: the user's heard items that contributed most to its score.") var explain = false
    @Option(name: .long, help: "With --explain: how many contributing items per recommendation.") var reasons = 3
    @Flag(name: .long, help: "Recommend for every user and write a CSV (see --out).") var batch = false
    @Option(name: .long, help: ArgumentHelp("CSV file for --batch (a new file; see --force), or - for standard output.", valueName: "file")) var out: String?
    @Option(name: .long, help: ArgumentHelp("With --batch: only these users, one external id per line (- reads standard input).", valueName: "file")) var users: String?
    @Flag(name: .long, help: "With --batch: no header line in the CSV.") var noHeader = false
    @Option(name: .long, help: "With --batch: worker threads, each scoring whole blocks.") var threads = 2
    @Option(name: .long, help: "With --batch: users scored together in one matrix product, padded to this many (memory: threads × block size × 2,048 floats of score tiles; × items with --max-per-artist).") var blockSize = 256
    @OptionGroup var force: ForceOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1, got \(k)") }
        guard batch || user != nil else { throw ValidationError("give --user ID or --batch") }
        if batch && out == nil { throw ValidationError("--batch needs --out FILE") }
        guard maxPerArtist >= 0 else { throw ValidationError("--max-per-artist must be ≥ 0") }
        guard diversity.isFinite, (0...1).contains(diversity) else { throw ValidationError("--diversity must lie between 0 and 1 (0: off), got \(diversity)") }
        guard reasons > 0 else { throw ValidationError("--reasons must be positive") }
        guard threads >= 1 else { throw ValidationError("--threads must be positive, got \(threads)") }
        guard (1...4096).contains(blockSize) else { throw ValidationError("--block-size must lie between 1 and 4096, got \(blockSize)") }
        if users != nil && !batch { throw ValidationError("--users needs --batch") }
    }

    func run(context: CLIContext) throws {
        if batch, let out, out != "-" { try force.outputGuard(store: store.store).checkFile(out) }
        let graphStore = try GraphStore.openExisting(path: store.store)
        let service = try RecommendationService(
            store: graphStore, modelPath: checkpoint, policy: ColdStartPolicy(minimumListens: 3, seed: seed), explanations: explain)
        func answer(for user: String) throws -> RecommendationResponse {
            let request = request(for: user)
            do {
                return try service.recommend(request)
            } catch let error as ServingError where error.field == "exclude_artist" {
                throw InputError(file: "--exclude-artist", line: nil, reason: error.detail)
            }
        }

        if batch {
            try runBatch(service: service, request: request(for: ""), context: context)
            return
        }
        let result = try answer(for: user!)
        if output.json {
            context.print(try JSONOutput.encode(result))
            return
        }
        if result.coldStart {
            context.print("cold start: user \(Printable.escaped(user!)) is unknown to the model or has fewer than \(service.policy.minimumListens) listens; showing the cold-start mix (10 popular + 20 discovery)")
        }
        for (rank, r) in result.recommendations.enumerated() {
            let predicted = r.predictedPlays.map { String(format: "  ~%.0f plays", $0) } ?? ""
            let by = r.artist.isEmpty || r.artist == r.title ? "" : " — \(r.artist)"
            context.print(String(format: "%3d. %@%@%@", rank + 1, r.title, by, predicted))
            if explain && !result.coldStart {
                let because = (r.because ?? []).map(\.title)
                context.print(because.isEmpty ? "     (no per-listener reason: this model ranks by popularity)" : "     because you played " + because.joined(separator: ", "))
            }
        }
    }

    /// The request the flags describe, for `user`.
    private func request(for user: String) -> RecommendationRequest {
        var request = RecommendationRequest(user: user, count: k)
        request.includeHeard = includeHeard
        request.excludedArtists = excludeArtist
        request.minPopularity = minPopularity
        request.maxPerArtist = maxPerArtist
        request.diversity = diversity
        request.explain = explain
        request.reasons = reasons
        return request
    }

    /// `--batch`: every user's (or `--users`') list through `RecommendationService.recommendAll`, as CSV.
    private func runBatch(service: RecommendationService, request: RecommendationRequest, context: CLIContext) throws {
        let ids = try users.map(Self.readUsers) ?? service.users
        let started = Date()
        let settings = BatchSettings(blockSize: blockSize, threads: threads)
        func write(_ file: TextSink) throws {
            if !noHeader { file.write("user_id,rank,item_id,title,artist,score,predicted_plays,cold_start" + (explain ? ",because" : "") + "\n") }
            var done = 0
            let explain = explain
            try service.recommendAll(users: ids, template: request, settings: settings, render: { Self.csvLines($0, explain: explain) }) { lines in
                file.write(lines)
                done += 1
                if !output.quiet && done % 100_000 == 0 {
                    context.stderr("recommend: \(Format.grouped(done))/\(Format.grouped(ids.count)) users, \(String(format: "%.0f", Date().timeIntervalSince(started))) s\n")
                }
            }
        }
        do {
            if out == "-" { return try StandardOutputText.write(write) }
            try AtomicTextFile.write(to: out!, write)  // an error removes the temporary file: nothing is left behind
        } catch let error as ServingError where error.field == "exclude_artist" {
            throw InputError(file: "--exclude-artist", line: nil, reason: error.detail)
        }
        let seconds = Date().timeIntervalSince(started)
        context.print(output.json
            ? try JSONOutput.line(["users": ids.count, "csv": out!, "seconds": seconds])
            : "recommendations for \(Format.grouped(ids.count)) users written to \(out!) in \(String(format: "%.1f", seconds)) s")
    }

    /// One answer's CSV lines (the header's columns), built on the batch worker that scored it.
    static func csvLines(_ result: RecommendationResponse, explain: Bool) -> String {
        var lines = ""
        lines.reserveCapacity(result.recommendations.count * 96)
        let user = CSV.field(result.user)
        for (rank, r) in result.recommendations.enumerated() {
            let predicted = r.predictedPlays.map { String(format: "%.2f", $0) } ?? ""
            lines += "\(user),\(rank + 1),\(CSV.field(r.item)),\(CSV.field(r.title)),\(CSV.field(r.artist)),\(r.score),\(predicted),\(result.coldStart)"
            if explain { lines += "," + CSV.field((r.because ?? []).map(\.title).joined(separator: "; ")) }
            lines += "\n"
        }
        return lines
    }

    /// External user ids, one per line (blank lines skipped), from `path` or standard input (`-`).
    static func readUsers(_ path: String) throws -> [String] {
        let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
        guard let data else { throw InputError(file: path, line: nil, reason: "cannot read the file") }
        // `isNewline` splits at LF and at CRLF (one Character in Swift); splitting omits the empty lines.
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
    }
}
