import ArgumentParser
import Foundation
import TasteGraphSupport
import TasteGraphSynth

/// `tastegraph generate`: write a planted-genre sample dataset.
struct Generate: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a Taste Profile–style sample with planted genres (triplets.tsv, song_data.csv, truth files).",
        discussion: """
            The same --seed and sizes always give byte-identical files. The defaults make GraphData/: \
            2,000 users, 3,000 songs by 300 artists in 8 genres. truth_artists.tsv and truth_users.tsv hold the \
            planted genre of each artist and the home genres of each user.

            --timestamped writes plays.tsv (user<TAB>song<TAB>time, RFC 3339 UTC) instead of triplets.tsv, with \
            planted sequential structure: sessions (at least 31 minutes apart) that stay in a genre \
            (--stay-in-genre), songs that follow each other (--follow-probability: the next play is the current \
            song's planted successor), and listeners whose genre depends on the hour (--hour-dependent-share: one \
            genre 06–18 UTC, another at night). Its planted truth: truth_hours.tsv and truth_successors.tsv. \
            Defaults with --timestamped: 1,000 users, 20 sessions of 8 plays each on average.
            """
    )

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 42
    @Option(name: .long, help: ArgumentHelp("Output directory (created if missing; existing sample files are replaced only with --force).", valueName: "dir"))
    var out: String
    @Option(name: .long, help: "Number of users (default 2,000; 1,000 with --timestamped).")
    var users: Int?
    @Option(name: .long, help: "Number of songs.")
    var songs = 3_000
    @Option(name: .long, help: "Number of artists.")
    var artists = 300
    @Option(name: .long, help: "Number of planted genres (1–8).")
    var genres = 8
    @Option(name: .long, help: "Mean distinct songs per user.")
    var meanListens = 24.0
    @Flag(name: .long, help: "Write timestamped plays with planted sessions and hour-of-day listeners (plays.tsv).")
    var timestamped = false
    @Option(name: .long, help: "With --timestamped: mean sessions per listener.")
    var meanSessions = 20.0
    @Option(name: .long, help: "With --timestamped: mean plays per session (≥ 2).")
    var meanSessionLength = 8.0
    @Option(name: .long, help: "With --timestamped: probability that a play stays in the session's genre.")
    var stayInGenre = 0.85
    @Option(name: .long, help: "With --timestamped: probability that the next play is the current song's planted successor.")
    var followProbability = 0.4
    @Option(name: .long, help: "With --timestamped: share of listeners whose genre depends on the hour of day.")
    var hourDependentShare = 0.3
    @OptionGroup var force: ForceOption
    @OptionGroup var output: OutputOptions

    /// The files `generate` writes into --out.
    static let fileNames = ["triplets.tsv", "song_data.csv", "truth_artists.tsv", "truth_users.tsv"]

    /// The files `generate --timestamped` writes into --out.
    static let timestampedFileNames = ["plays.tsv", "song_data.csv", "truth_artists.tsv", "truth_users.tsv", "truth_hours.tsv", "truth_successors.tsv"]

    func validate() throws {
        guard (timestamped ? 2 : 1)...8 ~= genres else { throw ValidationError("--genres must be \(timestamped ? 2 : 1)…8, got \(genres)") }
        guard users ?? 1 > 0 else { throw ValidationError("--users must be positive") }
        for (name, value) in [("--stay-in-genre", stayInGenre), ("--follow-probability", followProbability), ("--hour-dependent-share", hourDependentShare)] {
            guard (0...1).contains(value) else { throw ValidationError("\(name) must lie between 0 and 1, got \(value)") }
        }
        guard meanSessions >= 4 else { throw ValidationError("--mean-sessions must be ≥ 4") }
        guard meanSessionLength >= 2 else { throw ValidationError("--mean-session-length must be ≥ 2") }
        guard artists >= genres else { throw ValidationError("--artists must be at least --genres (\(genres))") }
        guard songs >= artists else { throw ValidationError("--songs must be at least --artists (\(artists))") }
        guard meanListens >= 1 else { throw ValidationError("--mean-listens must be ≥ 1") }
    }

    func run(context: CLIContext) throws {
        if timestamped { return try runTimestamped(context: context) }
        let users = self.users ?? 2_000
        var parameters = SampleParameters()
        parameters.seed = seed
        parameters.users = users
        parameters.songs = songs
        parameters.artists = artists
        parameters.genres = genres
        parameters.meanListensPerUser = meanListens
        try force.outputGuard(store: nil).checkFolder(out, files: Self.fileNames)
        let files = try SampleGenerator(parameters: parameters).write(to: out)
        if output.json {
            context.print(try JSONOutput.encode(files))
        } else {
            context.print("wrote \(Format.grouped(files.listens)) listens by \(Format.grouped(users)) users to \(files.triplets)")
            context.print("wrote \(Format.grouped(songs)) songs by \(Format.grouped(artists)) artists to \(files.songData)")
            context.print("wrote the planted truth to \(files.truthArtists) and \(files.truthUsers)")
        }
    }

    private func runTimestamped(context: CLIContext) throws {
        var parameters = SessionSampleParameters()
        parameters.seed = seed
        parameters.users = users ?? 1_000
        parameters.songs = songs
        parameters.artists = artists
        parameters.genres = genres
        parameters.meanSessions = meanSessions
        parameters.meanSessionLength = meanSessionLength
        parameters.stayInGenre = stayInGenre
        parameters.followProbability = followProbability
        parameters.hourDependentShare = hourDependentShare
        try force.outputGuard(store: nil).checkFolder(out, files: Self.timestampedFileNames)
        let files = try SessionSampleGenerator(parameters: parameters).write(to: out)
        if output.json {
            context.print(try JSONOutput.encode(files))
        } else {
            context.print("wrote \(Format.grouped(files.playCount)) timestamped plays in \(Format.grouped(files.sessionCount)) sessions by \(Format.grouped(parameters.users)) users to \(files.plays)")
            context.print("wrote \(Format.grouped(songs)) songs by \(Format.grouped(artists)) artists to \(files.songData)")
            context.print("wrote the planted truth to \(files.truthArtists), \(files.truthUsers), \(files.truthHours) and \(files.truthSuccessors)")
        }
    }
}
