import Foundation
import TasteGraphCore
import TasteGraphSupport

/// The knobs of a generated timestamped sample (`tastegraph generate --timestamped`).
public struct SessionSampleParameters: Sendable, Codable, Equatable {
    public var seed: UInt64 = 42
    public var users = 1_000
    public var songs = 3_000
    public var artists = 300
    public var genres = 8
    /// Mean sessions per listener (at least 4 each).
    public var meanSessions = 20.0
    /// Mean plays per session (at least 2 each).
    public var meanSessionLength = 8.0
    /// Probability that a play not drawn as the planted successor stays in the session's genre.
    public var stayInGenre = 0.85
    /// Probability that the next play is the current song's planted successor.
    public var followProbability = 0.4
    /// Share of listeners whose genre depends on the hour: one genre by day (06–18 UTC), another by night.
    public var hourDependentShare = 0.3
    /// First day of the plays (Unix seconds of its midnight, UTC): Monday 2026-01-05.
    public var firstDay: Int64 = 1_767_571_200
    public var days = 84

    public init() {}
}

/// What `generate --timestamped` wrote.
public struct GeneratedSessionFiles: Sendable, Codable {
    public let plays: String
    public let songData: String
    public let truthArtists: String
    public let truthUsers: String
    public let truthHours: String
    public let truthSuccessors: String
    public let playCount: Int
    public let sessionCount: Int
    public let parameters: SessionSampleParameters
}

/// Generates timestamped plays with planted sequential and hour-of-day structure, on the catalog of
/// `SampleGenerator` (same artists, songs and genres for the same seed and sizes).
///
/// Each listener has home genres as in `SampleGenerator`; a share of them (`hourDependentShare`) listen to
/// one genre by day (06:00–18:00 UTC) and another by night. Sessions start at random days and hours,
/// at least 31 minutes apart (so a 30-minute gap recovers them exactly), with plays 2½–5½ minutes apart.
/// Within a session each next play is, in order of precedence:
/// 1. with probability `followProbability`, the current song's planted successor (a fixed song of the same
///    genre, drawn by popularity);
/// 2. else, with probability `stayInGenre`, a song of the session's genre (by popularity);
/// 3. else a song of another genre, which becomes the session's genre.
///
/// Files (deterministic for a seed, byte for byte):
/// - `plays.tsv`: `user<TAB>song<TAB>time` (RFC 3339, UTC), grouped by user in time order;
/// - `song_data.csv`, `truth_artists.tsv`, `truth_users.tsv`: as `SampleGenerator` writes them;
/// - `truth_hours.tsv`: `user_id<TAB>day_genre<TAB>night_genre` of the hour-dependent listeners;
/// - `truth_successors.tsv`: `song_id<TAB>successor_song_id`.
public struct SessionSampleGenerator {
    public let parameters: SessionSampleParameters

    public init(parameters: SessionSampleParameters) {
        precondition(parameters.genres >= 2 && parameters.genres <= Vocabulary.genres.count, "2...8 genres")
        precondition(parameters.artists >= parameters.genres && parameters.songs >= parameters.artists && parameters.users >= 1)
        precondition(parameters.days >= 1 && parameters.meanSessions >= 1 && parameters.meanSessionLength >= 2)
        self.parameters = parameters
    }

    /// Whether `hour` (UTC) is day time for the hour-dependent listeners.
    public static func isDay(hour: Int) -> Bool { (6..<18).contains(hour) }

    public func write(to directory: String) throws -> GeneratedSessionFiles {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var base = SampleParameters()
        base.seed = parameters.seed
        base.users = parameters.users
        base.songs = parameters.songs
        base.artists = parameters.artists
        base.genres = parameters.genres
        let catalog = SampleGenerator(parameters: base)
        var rng = SplitMix64(seed: parameters.seed)
        let artists = catalog.makeArtists(&rng)
        let songs = catalog.makeSongs(artists: artists, &rng)
        let dir = URL(fileURLWithPath: directory)
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

        try catalog.writeCatalog(artists: artists, songs: songs, songData: path("song_data.csv"), truthArtists: path("truth_artists.tsv"))
        let (genreSongs, cumulative) = catalog.songsByGenre(artists: artists, songs: songs)
        func drawSong(genre: Int) -> Int { genreSongs[genre][catalog.draw(cumulative[genre], &rng)] }
        // The planted successor of each song: another song of its genre.
        var successor = [Int](repeating: 0, count: songs.count)
        for (index, song) in songs.enumerated() {
            let genre = artists[song.artist].genre
            var next = index
            for _ in 0..<20 where next == index { next = drawSong(genre: genre) }
            successor[index] = next
        }
        try AtomicTextFile.write(to: path("truth_successors.tsv")) { out in
            out.write("song_id\tsuccessor_song_id\n")
            for (index, song) in songs.enumerated() { out.write("\(song.id)\t\(songs[successor[index]].id)\n") }
        }

        /// A start hour: for hour-dependent listeners by day (06–17) or by night (18–05); for the rest from
        /// a daily curve that peaks in the evening.
        func startHour(night: Bool, hourDependent: Bool) -> Int {
            if hourDependent { return night ? (18 + rng.nextInt(below: 12)) % 24 : 6 + rng.nextInt(below: 12) }
            let weights: [Double] = [2, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 5, 5, 4, 4, 5, 6, 7, 8, 8, 7, 5, 3]
            var total = 0.0
            return catalog.draw(weights.map { total += $0; return total }, &rng)
        }

        /// 0, 1, 2, … with the given mean (geometric).
        func geometric(mean: Double) -> Int {
            guard mean > 0 else { return 0 }
            let p = 1 / (mean + 1)
            return Int((log(1 - rng.nextUnit()) / log(1 - p)).rounded(.down))
        }

        var playCount = 0, sessionCount = 0
        try AtomicTextFile.write(to: path("plays.tsv")) { plays in
            try AtomicTextFile.write(to: path("truth_users.tsv")) { truthUsers in
                try AtomicTextFile.write(to: path("truth_hours.tsv")) { truthHours in
                    truthUsers.write("user_id\thome_genres\n")
                    truthHours.write("user_id\tday_genre\tnight_genre\n")
                    for _ in 0..<parameters.users {
                        let user = catalog.hexID(&rng)
                        let primary = rng.nextInt(below: parameters.genres)
                        var second = rng.nextInt(below: parameters.genres - 1)
                        if second >= primary { second += 1 }
                        let hourDependent = rng.nextUnit() < parameters.hourDependentShare
                        let twoGenres = hourDependent || rng.nextUnit() < 0.3
                        let home = twoGenres ? [primary, second] : [primary]
                        truthUsers.write("\(user)\t\(home.map { Vocabulary.genres[$0].name }.joined(separator: ","))\n")
                        if hourDependent {
                            truthHours.write("\(user)\t\(Vocabulary.genres[primary].name)\t\(Vocabulary.genres[second].name)\n")
                        }
                        // Session start times, sorted, at least 31 minutes after the previous session's end.
                        let sessions = 4 + geometric(mean: parameters.meanSessions - 4)
                        var starts: [Int64] = (0..<sessions).map { _ in
                            let day = Int64(rng.nextInt(below: parameters.days))
                            let hour = Int64(startHour(night: hourDependent && rng.nextUnit() < 0.5, hourDependent: hourDependent))
                            return parameters.firstDay + day * 86_400 + hour * 3_600 + Int64(rng.nextInt(below: 3_600))
                        }
                        starts.sort()
                        var lastEnd: Int64 = .min
                        for var start in starts {
                            if lastEnd != .min && start < lastEnd + 31 * 60 { start = lastEnd + 31 * 60 + Int64(rng.nextInt(below: 600)) }
                            let hour = Int((start % 86_400) / 3_600)
                            var genre: Int
                            if hourDependent {
                                genre = Self.isDay(hour: hour) ? primary : second
                            } else {
                                genre = home.count == 2 && rng.nextUnit() < 0.3 ? home[1] : home[0]
                            }
                            if rng.nextUnit() < 0.1 { genre = rng.nextInt(below: parameters.genres) }
                            let length = 2 + geometric(mean: parameters.meanSessionLength - 2)
                            var song = drawSong(genre: genre)
                            var time = start
                            for position in 0..<length {
                                if position > 0 {
                                    time += 150 + Int64(rng.nextInt(below: 181))
                                    if rng.nextUnit() < parameters.followProbability {
                                        song = successor[song]
                                    } else if rng.nextUnit() < parameters.stayInGenre {
                                        song = drawSong(genre: genre)
                                    } else {
                                        var other = rng.nextInt(below: parameters.genres - 1)
                                        if other >= genre { other += 1 }
                                        genre = other
                                        song = drawSong(genre: genre)
                                    }
                                }
                                plays.write("\(user)\t\(songs[song].id)\t\(RFC3339.string(time))\n")
                                playCount += 1
                            }
                            lastEnd = time
                            sessionCount += 1
                        }
                    }
                }
            }
        }
        return GeneratedSessionFiles(
            plays: path("plays.tsv"), songData: path("song_data.csv"), truthArtists: path("truth_artists.tsv"),
            truthUsers: path("truth_users.tsv"), truthHours: path("truth_hours.tsv"), truthSuccessors: path("truth_successors.tsv"),
            playCount: playCount, sessionCount: sessionCount, parameters: parameters)
    }
}
