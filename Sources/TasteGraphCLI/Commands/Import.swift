import ArgumentParser
import Foundation
import TasteGraphStore
import TasteGraphSupport

/// `tastegraph import …`: load a dataset into a store.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import listening data into a store (one store per dataset).",
        discussion: """
            Imports are transactional: when a file has bad rows the store is left exactly as it was (a store the \
            failed import would have created is removed), unless \
            --max-errors allows skipping them (each skipped row is reported). A (user, item) pair listed twice \
            in one file is rejected, never summed. Importing a file again replaces the counts it wrote, so \
            re-imports never double play counts.
            """,
        subcommands: [Lastfm.self, TasteProfile.self, Plays.self, Lastfm1K.self]
    )
}

/// `--max-errors`, shared by the importers.
struct ImportFlags: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Skip up to N bad rows (each is reported) instead of failing on the first.")
    var maxErrors = 0

    func validate() throws {
        guard maxErrors >= 0 else { throw ValidationError("--max-errors must be ≥ 0, got \(maxErrors)") }
    }
}

/// Opens the store at `path` for an import and runs `body` on it. When the store did not exist before and
/// the import fails, the file the attempt created (with its `-wal` and `-shm`) is removed, so a failed first
/// import leaves nothing behind; a store that existed before is never removed.
func withImportStore<T>(_ path: String, _ body: (GraphStore) throws -> T) throws -> T {
    let suffixes = ["", "-wal", "-shm"]
    let existed = suffixes.map { FileManager.default.fileExists(atPath: path + $0) }
    // The store is opened and released inside this function, so its connection is closed before any removal.
    func attempt() throws -> T {
        let store = try GraphStore(path: path)
        return try body(store)
    }
    do {
        return try attempt()
    } catch {
        if !existed[0] {
            for (suffix, was) in zip(suffixes, existed) where !was { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        throw error
    }
}

/// JSON shape of an import's result.
struct ImportSummary: Encodable {
    let report: ImportReport
    let rowsRead: Int
    let rowsPerSecond: Double
    let peakRssMib: Double
    let stats: StoreStats

    func printText(to context: CLIContext) {
        for file in report.files {
            context.print(
                "\(file.kind.padding(toLength: 16, withPad: " ", startingAt: 0)) \(Format.grouped(file.rowsAccepted)) rows accepted, \(Format.grouped(file.rowsRejected)) rejected  (\(file.file))")
        }
        for warning in report.warnings { context.print("warning: \(warning)") }
        context.print(
            "imported \(Format.grouped(rowsRead)) rows in \(String(format: "%.2f", report.seconds)) s (\(Format.grouped(Int(rowsPerSecond))) rows/s, peak RSS \(String(format: "%.0f", peakRssMib)) MiB)")
        context.print(
            "store: \(Format.grouped(stats.users)) users, \(Format.grouped(stats.items)) items, \(Format.grouped(stats.artists)) artists, \(Format.grouped(stats.listens)) listens")
    }

    static func make(_ report: ImportReport, store: GraphStore) throws -> ImportSummary {
        ImportSummary(
            report: report, rowsRead: report.rowsRead, rowsPerSecond: report.rowsPerSecond,
            peakRssMib: ProcessStats.peakRSSMiB, stats: try store.stats())
    }
}

extension Import {
    struct Lastfm: ContextCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the hetrec2011 Last.fm 2k dataset from its directory, as shipped.",
            discussion: """
                Reads artists.dat and user_artists.dat (required), and tags.dat (ISO-8859-1), \
                user_friends.dat and user_taggedartists.dat when present. Items are artists.
                """
        )

        @Argument(help: ArgumentHelp("Directory holding the .dat files.", valueName: "dir"))
        var directory: String
        @OptionGroup var store: StoreOption
        @OptionGroup var flags: ImportFlags
        @OptionGroup var output: OutputOptions

        func run(context: CLIContext) throws {
            let summary = try withImportStore(store.store) { graphStore in
                let importer = LastfmImporter(store: graphStore, logger: context.logger(label: "import", quiet: output.quiet))
                let report = try importer.importDirectory(directory, options: ImportOptions(maxErrors: flags.maxErrors))
                return try ImportSummary.make(report, store: graphStore)
            }
            if output.json { context.print(try JSONOutput.encode(summary)) } else { summary.printText(to: context) }
        }
    }

    struct TasteProfile: ContextCommand {
        static let configuration = CommandConfiguration(
            commandName: "taste-profile",
            abstract: "Import Echo Nest Taste Profile triplets (user<TAB>song<TAB>play_count), with optional song metadata.",
            discussion: """
                --metadata takes MSD unique_tracks.txt (track<SEP>song<SEP>artist<SEP>title) or song_data.csv \
                (song_id,title,release,artist_name,year); the format is detected from the first line. Songs \
                without metadata are kept and counted in a warning.
                """
        )

        @Argument(help: ArgumentHelp("The triplets file.", valueName: "triplets"))
        var triplets: String
        @Option(name: .long, help: ArgumentHelp("Song metadata file (unique_tracks.txt or song_data.csv).", valueName: "file"))
        var metadata: String?
        @OptionGroup var store: StoreOption
        @OptionGroup var flags: ImportFlags
        @OptionGroup var output: OutputOptions

        func run(context: CLIContext) throws {
            let summary = try withImportStore(store.store) { graphStore in
                let importer = TasteProfileImporter(store: graphStore, logger: context.logger(label: "import", quiet: output.quiet))
                let report = try importer.importTriplets(
                    path: triplets, metadata: metadata, options: ImportOptions(maxErrors: flags.maxErrors))
                return try ImportSummary.make(report, store: graphStore)
            }
            if output.json { context.print(try JSONOutput.encode(summary)) } else { summary.printText(to: context) }
        }
    }

    struct Plays: ContextCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import timestamped plays (user<TAB>item<TAB>time), with optional song metadata.",
            discussion: """
                One play per row, no header; rows in any order. time: an RFC 3339 date-time (2009-05-04T23:08:57Z, \
                offsets allowed) or Unix seconds, between 1970 and 2099. Every play is kept with its time (sessions, \
                next-item models); a (user, item) pair's play count is its number of plays. The same file imported \
                twice is refused (its plays would count twice). --metadata takes song_data.csv or unique_tracks.txt, \
                as `import taste-profile` does.
                """
        )

        @Argument(help: ArgumentHelp("The plays file.", valueName: "plays"))
        var plays: String
        @Option(name: .long, help: ArgumentHelp("Song metadata file (unique_tracks.txt or song_data.csv).", valueName: "file"))
        var metadata: String?
        @OptionGroup var store: StoreOption
        @OptionGroup var flags: ImportFlags
        @OptionGroup var output: OutputOptions

        func run(context: CLIContext) throws {
            try importTimed(plays, format: .plays, metadata: metadata, store: store.store, flags: flags, output: output, context: context)
        }
    }

    struct Lastfm1K: ContextCommand {
        static let configuration = CommandConfiguration(
            commandName: "lastfm-1k",
            abstract: "Import the Last.fm 1K users dump (userid-timestamp-artid-artname-traid-traname.tsv).",
            discussion: """
                Rows: userid<TAB>timestamp<TAB>artist-id<TAB>artist-name<TAB>track-id<TAB>track-name, no header, in \
                any order. Items are tracks: the MusicBrainz track id, or 'artist-name – track-name' where the dump \
                has none; artists are their MusicBrainz id, or their name where it has none. Every play is kept with \
                its time; play counts are derived from them.
                """
        )

        @Argument(help: ArgumentHelp("The dump's .tsv file.", valueName: "file"))
        var file: String
        @OptionGroup var store: StoreOption
        @OptionGroup var flags: ImportFlags
        @OptionGroup var output: OutputOptions

        func run(context: CLIContext) throws {
            try importTimed(file, format: .lastfm1k, metadata: nil, store: store.store, flags: flags, output: output, context: context)
        }
    }
}

/// The shared body of the timestamped importers.
private func importTimed(
    _ path: String, format: TimedPlaysImporter.Format, metadata: String?, store: String, flags: ImportFlags, output: OutputOptions, context: CLIContext
) throws {
    let summary = try withImportStore(store) { graphStore in
        let importer = TimedPlaysImporter(store: graphStore, logger: context.logger(label: "import", quiet: output.quiet))
        let report = try importer.importPlays(path: path, format: format, metadata: metadata, options: ImportOptions(maxErrors: flags.maxErrors))
        return try ImportSummary.make(report, store: graphStore)
    }
    if output.json { context.print(try JSONOutput.encode(summary)) } else { summary.printText(to: context) }
}
