import ArgumentParser
import Foundation
import Igraph
import TasteGraphAnalytics
import TasteGraphGraph
import TasteGraphStore
import TasteGraphCore
import TasteGraphServing

extension SegmentationMethod: ExpressibleByArgument {}
extension LeidenObjective: ExpressibleByArgument {}

/// `tastegraph segments`: listener segments by community detection.
struct Segments: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find listener segments (community detection) and export them as audiences.",
        subcommands: [Detect.self, Export.self, Show.self],
        defaultSubcommand: Detect.self
    )
}

extension Segments {
    struct Detect: ContextCommand {
        static let configuration = CommandConfiguration(
            commandName: "detect",
            abstract: "Detect listener segments and store them with the parameters that produced them (the default).",
            discussion: """
                Graph: each user keeps its --neighbors most similar users by cosine of log1p play vectors (an \
                undirected edge when either keeps the other). Communities: igraph's Leiden (modularity or CPM at \
                --resolution) or Louvain, seeded. Segments below --min-size are merged into the segment they are \
                most tied to, or reported as unassigned; no user is dropped silently.
                """
        )

        @OptionGroup var store: StoreOption
        @Option(name: .long, help: "Algorithm: leiden or louvain.")
        var method: SegmentationMethod = .leiden
        @Option(name: .long, help: "Leiden's objective: modularity or cpm.")
        var objective: LeidenObjective = .modularity
        @Option(name: .long, help: "Resolution γ (modularity) or density threshold (CPM).")
        var resolution = 1.0
        @Option(name: .long, help: "Most similar users kept per user in the similarity graph.")
        var neighbors = 20
        @Option(name: .long, help: "The most listeners of one song that propose similar users (its heaviest; default 1,000): bounds the similarity pass at listens × this instead of Σ song listeners², and every kept weight is still the exact cosine.")
        var listenersPerItem: Int?
        @Option(name: .long, help: "Segments smaller than this are merged or left unassigned.")
        var minSize = 10
        @Option(name: .long, help: "Leiden passes (negative: until the partition stops changing).")
        var iterations = 2
        @Option(name: .long, help: ArgumentHelp("Use the listens of this train split file instead of the whole store.", valueName: "file"))
        var train: String?
        @Option(name: .long, help: "Random seed (the same seed gives the same segments).")
        var seed: UInt64 = 0
        @Option(name: .long, help: "Worker threads for the similarity graph (the segments are the same for every count).")
        var threads = 2
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
            guard neighbors > 0 else { throw ValidationError("--neighbors must be positive") }
            if let listenersPerItem, listenersPerItem < 1 { throw ValidationError("--listeners-per-item must be positive, got \(listenersPerItem)") }
            guard minSize >= 1 else { throw ValidationError("--min-size must be at least 1") }
            guard resolution > 0 else { throw ValidationError("--resolution must be positive") }
        }

        func run(context: CLIContext) throws {
            let graphStore = try GraphStore.openExisting(path: store.store)
            var parameters = SegmentationParameters()
            parameters.method = method
            parameters.objective = objective
            parameters.resolution = resolution
            parameters.neighbors = neighbors
            parameters.listenersPerItem = listenersPerItem
            parameters.minSize = minSize
            parameters.iterations = iterations
            parameters.seed = seed
            let listens = try train.map { try SplitFile.load(path: $0, catalog: try graphStore.catalog()) }
            let run = try ListenerSegments.detect(store: graphStore, parameters: parameters, listens: listens, threads: threads)
            let id = try graphStore.saveSegmentation(run.stored)
            let segments = run.profiles.map { profile -> [String: Any] in
                [
                    "id": run.stored.segments[profile.index].stableID, "index": profile.index, "label": profile.label,
                    "size": profile.size, "top_artists": profile.topArtists, "top_tags": profile.topTags,
                    "median_plays": profile.medianPlays,
                ]
            }
            if output.json {
                context.print(try JSONOutput.line([
                    "segmentation_id": id, "modularity": run.segmentation.modularity, "segments": segments,
                    "unassigned": run.segmentation.unassigned, "isolated_users": run.segmentation.isolatedUsers,
                    "seconds": run.seconds, "algorithm": method.rawValue, "seed": seed,
                    "phases": [
                        "load_seconds": run.phases.loadSeconds, "similarity_seconds": run.phases.similaritySeconds,
                        "community_seconds": run.phases.communitySeconds,
                    ],
                ]))
                return
            }
            context.print("segmentation \(id): \(run.segmentation.segmentCount) segments, modularity \(String(format: "%.3f", run.segmentation.modularity)), \(run.segmentation.unassigned) users unassigned (\(method.rawValue), seed \(seed), \(String(format: "%.0f", run.seconds * 1000)) ms)")
            for profile in run.profiles {
                context.print(String(format: "%4d  %-14@ %6d users  %@", profile.index, run.stored.segments[profile.index].stableID, profile.size, profile.label))
                context.print("      artists: \(profile.topArtists.joined(separator: ", "))")
            }
        }
    }

    struct Export: ContextCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a segmentation as marketing audiences: members.csv, manifest.json, optional GraphML and entered/exited files.",
            discussion: """
                --out must be a new directory, an empty one, or one holding an earlier export and nothing else (its \
                manifest.json lists every file); anything else (the current directory, /, the store's folder, a file) \
                is refused with exit 2 and left untouched. Files are written into a private staging folder that replaces \
                --out only when complete: an interrupted or failed export leaves the previous one as it was, and the next \
                run removes the staging folder it left. members.csv is RFC 4180 UTF-8 with the header \
                segment_id,user_key,user_key_type,score,assigned_at, ordered by segment then user key. With --hash-ids \
                no file carries anything but the salted hash for a user (GraphML node ids included). The salt comes from \
                --salt-file, the TASTEGRAPH_SALT environment variable or --salt (visible in the process list), in that \
                order of preference.
                """
        )

        @OptionGroup var store: StoreOption
        @Option(name: .long, help: ArgumentHelp("Output directory: new, empty, or an earlier export (replaced atomically).", valueName: "dir"))
        var out: String
        @Option(name: .long, help: "Segmentation id to export (default: the latest).")
        var segmentation: Int?
        @Flag(name: .long, help: "Replace user ids by SHA-256(salt + user id); needs a salt (--salt-file, TASTEGRAPH_SALT or --salt).")
        var hashIds = false
        @Option(name: .long, help: ArgumentHelp("File whose content (trailing newline removed) is the salt for --hash-ids; keep it private.", valueName: "file"))
        var saltFile: String?
        @Option(name: .long, help: "Salt for --hash-ids (visible to other users in the process list: prefer --salt-file or TASTEGRAPH_SALT).")
        var salt: String?
        @Option(name: .long, help: "Segments with fewer members are not exported (the manifest counts them).")
        var minAudience = 100
        @Option(name: .long, help: "Split members into numbered files of at most N rows (0: one file).")
        var maxRowsPerFile = 0
        @Option(name: .long, help: ArgumentHelp("Also write this segment's subgraph (users and their top items) as GraphML.", valueName: "segment"))
        var graphml: String?
        @Option(name: .long, help: ArgumentHelp("Manifest of an earlier export: also write entered.csv and exited.csv.", valueName: "manifest"))
        var since: String?
        @OptionGroup var output: OutputOptions

        /// The salt from --salt-file, then TASTEGRAPH_SALT, then --salt.
        func resolvedSalt() throws -> String? {
            if let saltFile {
                guard let data = FileManager.default.contents(atPath: saltFile) else {
                    throw ValidationError("--salt-file \(saltFile): cannot read the file")
                }
                var text = String(decoding: data, as: UTF8.self)
                while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
                return text
            }
            if let environment = ProcessInfo.processInfo.environment["TASTEGRAPH_SALT"], hashIds { return environment }
            return salt
        }

        func validate() throws {
            if saltFile != nil && salt != nil { throw ValidationError("give the salt once: --salt-file or --salt") }
            if !hashIds && (salt != nil || saltFile != nil) { throw ValidationError("--salt and --salt-file are only used with --hash-ids") }
            if try hashIds && saltFile == nil && (resolvedSalt() ?? "").isEmpty {
                throw ValidationError("--hash-ids needs a non-empty salt: --salt-file FILE, the TASTEGRAPH_SALT environment variable, or --salt")
            }
            guard minAudience >= 0 else { throw ValidationError("--min-audience must be ≥ 0") }
            guard maxRowsPerFile >= 0 else { throw ValidationError("--max-rows-per-file must be ≥ 0") }
        }

        func run(context: CLIContext) throws {
            let graphStore = try GraphStore.openExisting(path: store.store)
            let stored = try graphStore.segmentation(id: segmentation)
            var options = ExportOptions()
            options.salt = hashIds ? try resolvedSalt() : nil
            if hashIds, (options.salt ?? "").isEmpty { throw ValidationError("--salt-file \(saltFile ?? ""): the salt is empty") }
            options.minAudience = minAudience
            options.maxRowsPerFile = maxRowsPerFile
            options.graphMLSegment = graphml
            options.previousManifest = since
            let result = try SegmentExporter(store: graphStore).export(segmentation: stored, to: out, options: options)
            if output.json {
                context.print(try JSONOutput.encode(result))
            } else {
                context.print("exported \(result.exportedSegments) segments (\(Format.grouped(result.members)) members) to \(result.directory); \(result.suppressedSegments) segments below --min-audience \(minAudience) not exported")
                context.print("files: \(result.files.joined(separator: ", "))")
            }
        }
    }

    /// `segments show`: one listener's segment, through the serving library's `SegmentService`.
    struct Show: ContextCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the segment a user is in (label, profile, membership score) from a stored segmentation.",
            discussion: """
                Reads the latest segmentation stored by `tastegraph segments` (or --segmentation N). A user the \
                segmentation left unassigned is shown as such; an unknown user is an error (exit 2).
                """
        )

        @OptionGroup var store: StoreOption
        @Option(name: .long, help: ArgumentHelp("The user's external id.", valueName: "id")) var user: String
        @Option(name: .long, help: "Segmentation id (default: the latest).") var segmentation: Int?
        @OptionGroup var output: OutputOptions

        func run(context: CLIContext) throws {
            let graphStore = try GraphStore.openExisting(path: store.store)
            let answer: SegmentResponse
            do {
                answer = try SegmentService(store: graphStore, segmentation: segmentation).segment(forUser: user)
            } catch let error as ServingError {
                throw ValidationError("--\(error.field): \(error.detail)")
            }
            if output.json {
                context.print(try JSONOutput.encode(answer))
                return
            }
            guard let segment = answer.segment else {
                context.print("user \(Printable.escaped(user)) is unassigned in segmentation \(answer.segmentation)")
                return
            }
            context.print("user \(Printable.escaped(user)): segment \(segment.id) (\(segment.label)), \(segment.size) users, score \(String(format: "%.3f", answer.score))")
            context.print("  artists: \(segment.topArtists.joined(separator: ", "))")
            if !segment.topTags.isEmpty { context.print("  tags: \(segment.topTags.joined(separator: ", "))") }
        }
    }
}
