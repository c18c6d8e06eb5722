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
            """
    )

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 42
    @Option(name: .long, help: ArgumentHelp("Output directory (created if missing; existing sample files are replaced only with --force).", valueName: "dir"))
    var out: String
    @Option(name: .long, help: "Number of users.")
    var users = 2_000
    @Option(name: .long, help: "Number of songs.")
    var songs = 3_000
    @Option(name: .long, help: "Number of artists.")
    var artists = 300
    @Option(name: .long, help: "Number of planted genres (1–8).")
    var genres = 8
    @Option(name: .long, help: "Mean distinct songs per user.")
    var meanListens = 24.0
    @OptionGroup var force: ForceOption
    @OptionGroup var output: OutputOptions

    /// The files `generate` writes into --out.
    static let fileNames = ["triplets.tsv", "song_data.csv", "truth_artists.tsv", "truth_users.tsv"]

    func validate() throws {
        guard (1...8).contains(genres) else { throw ValidationError("--genres must be 1…8, got \(genres)") }
        guard users > 0 else { throw ValidationError("--users must be positive") }
        guard artists >= genres else { throw ValidationError("--artists must be at least --genres (\(genres))") }
        guard songs >= artists else { throw ValidationError("--songs must be at least --artists (\(artists))") }
        guard meanListens >= 1 else { throw ValidationError("--mean-listens must be ≥ 1") }
    }

    func run(context: CLIContext) throws {
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
}
