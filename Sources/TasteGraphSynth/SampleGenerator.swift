import Foundation
import TasteGraphSupport

/// The knobs of a generated dataset. The defaults make the committed GraphData/ sample.
public struct SampleParameters: Sendable, Codable, Equatable {
    public var seed: UInt64 = 42
    public var users = 2_000
    public var songs = 3_000
    public var artists = 300
    /// Number of planted genres (at most 8).
    public var genres = 8
    /// Mean distinct songs per user (the per-user count is log-normal around it).
    public var meanListensPerUser = 24.0
    /// Share of a user's listens that fall in their home genres.
    public var homeShare = 0.9
    /// Share of users with a second home genre.
    public var twoGenreShare = 0.3

    public init() {}
}

/// The planted truth the generator writes beside the data, for tests of segments and related artists.
public struct PlantedTruth: Sendable {
    /// Genre name of each artist, by artist name.
    public var artistGenre: [String: String]
    /// Home genres of each user, primary first, by external user id.
    public var userGenres: [String: [String]]
}

/// What `generate` wrote.
public struct GeneratedFiles: Sendable, Codable {
    public let triplets: String
    public let songData: String
    public let truthArtists: String
    public let truthUsers: String
    public let listens: Int
}

/// Generates a Taste Profile–style dataset with planted genres.
///
/// Artists belong to one of `genres` genres; songs belong to artists; users have one or two home genres and
/// draw `homeShare` of their listens from them. Popularity is a power law at both levels: an artist's
/// weight is 1/rank within its genre, a song's weight is its artist's weight × 1/rank^0.8 within the artist.
/// Play counts are log-normal (median about 2) and a bit higher inside a user's home genres.
///
/// Output (all deterministic for a seed, byte for byte):
/// - `triplets.tsv`: `user<TAB>song<TAB>play_count`, grouped by user (the MSD Taste Profile format);
/// - `song_data.csv`: `song_id,title,release,artist_name,year` (quoted CSV; year 0 = unknown);
/// - `truth_artists.tsv`: `artist_name<TAB>genre`; `truth_users.tsv`: `user_id<TAB>genre[,genre]`.
public struct SampleGenerator {
    public let parameters: SampleParameters

    public init(parameters: SampleParameters) {
        precondition(parameters.genres >= 1 && parameters.genres <= Vocabulary.genres.count, "1...8 genres")
        precondition(parameters.artists >= parameters.genres, "need at least one artist per genre")
        precondition(parameters.songs >= parameters.artists, "need at least one song per artist")
        precondition(parameters.users >= 1)
        self.parameters = parameters
    }

    struct Artist {
        let name: String
        let genre: Int
        let weight: Double
    }

    struct Song {
        let id: String
        let title: String
        let release: String
        let artist: Int
        let year: Int
        let weight: Double
    }

    /// Writes the dataset into `directory` (created if needed); each file is written to a temporary name
    /// and renamed, so an interrupted run never leaves a half-written file under the final name.
    public func write(to directory: String) throws -> GeneratedFiles {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: parameters.seed)
        let artists = makeArtists(&rng)
        let songs = makeSongs(artists: artists, &rng)
        let dir = URL(fileURLWithPath: directory)
        let paths = (
            triplets: dir.appendingPathComponent("triplets.tsv").path,
            songData: dir.appendingPathComponent("song_data.csv").path,
            truthArtists: dir.appendingPathComponent("truth_artists.tsv").path,
            truthUsers: dir.appendingPathComponent("truth_users.tsv").path
        )

        try writeCatalog(artists: artists, songs: songs, songData: paths.songData, truthArtists: paths.truthArtists)
        let (genreSongs, cumulative) = songsByGenre(artists: artists, songs: songs)

        var listens = 0
        try AtomicTextFile.write(to: paths.triplets) { triplets in
            try AtomicTextFile.write(to: paths.truthUsers) { truth in
                truth.write("user_id\thome_genres\n")
                var heard = Set<Int>()
                var order: [Int] = []
                for _ in 0..<parameters.users {
                    let user = hexID(&rng)
                    let primary = rng.nextInt(below: parameters.genres)
                    var home = [primary]
                    if parameters.genres > 1 && rng.nextUnit() < parameters.twoGenreShare {
                        var second = rng.nextInt(below: parameters.genres - 1)
                        if second >= primary { second += 1 }
                        home.append(second)
                    }
                    truth.write("\(user)\t\(home.map { Vocabulary.genres[$0].name }.joined(separator: ","))\n")
                    let target = listenCount(&rng)
                    let userScale = exp(0.5 * normal(&rng))
                    heard.removeAll(keepingCapacity: true)
                    order.removeAll(keepingCapacity: true)
                    var attempts = 0
                    while order.count < target && attempts < target * 10 {
                        attempts += 1
                        let genre: Int
                        let inHome = rng.nextUnit() < parameters.homeShare
                        if inHome {
                            genre = home.count == 2 && rng.nextUnit() < 0.3 ? home[1] : home[0]
                        } else {
                            genre = rng.nextInt(below: parameters.genres)
                        }
                        let members = genreSongs[genre]
                        let song = members[draw(cumulative[genre], &rng)]
                        guard heard.insert(song).inserted else { continue }
                        order.append(song)
                        let base = exp(0.2 + 0.9 * normal(&rng)) * userScale * (inHome ? 1.5 : 1)
                        let plays = max(1, Int(base.rounded()))
                        triplets.write("\(user)\t\(songs[song].id)\t\(plays)\n")
                    }
                    listens += order.count
                }
            }
        }
        return GeneratedFiles(
            triplets: paths.triplets, songData: paths.songData, truthArtists: paths.truthArtists,
            truthUsers: paths.truthUsers, listens: listens)
    }

    // MARK: - Catalog

    /// Writes `song_data.csv` and `truth_artists.tsv` (each atomically).
    func writeCatalog(artists: [Artist], songs: [Song], songData: String, truthArtists: String) throws {
        try AtomicTextFile.write(to: songData) { out in
            out.write("song_id,title,release,artist_name,year\n")
            for song in songs {
                out.write(
                    "\(song.id),\(CSV.field(song.title)),\(CSV.field(song.release)),\(CSV.field(artists[song.artist].name)),\(song.year)\n")
            }
        }
        try AtomicTextFile.write(to: truthArtists) { out in
            out.write("artist_name\tgenre\n")
            for artist in artists { out.write("\(artist.name)\t\(Vocabulary.genres[artist.genre].name)\n") }
        }
    }

    /// The songs of each genre with their cumulative weights, for weighted draws by binary search (`draw`).
    func songsByGenre(artists: [Artist], songs: [Song]) -> (members: [[Int]], cumulative: [[Double]]) {
        var genreSongs = [[Int]](repeating: [], count: parameters.genres)
        for (index, song) in songs.enumerated() { genreSongs[artists[song.artist].genre].append(index) }
        let cumulative = genreSongs.map { members -> [Double] in
            var total = 0.0
            return members.map { total += songs[$0].weight; return total }
        }
        return (genreSongs, cumulative)
    }

    func makeArtists(_ rng: inout SplitMix64) -> [Artist] {
        var names = Set<String>()
        var artists: [Artist] = []
        var rankInGenre = [Int](repeating: 0, count: parameters.genres)
        for index in 0..<parameters.artists {
            let genre = index % parameters.genres
            let words = Vocabulary.genres[genre].words
            var name = ""
            for attempt in 0..<20 {
                name = artistName(words: words, &rng)
                if attempt == 19 { name += " \(index)" }
                if names.insert(name).inserted { break }
            }
            rankInGenre[genre] += 1
            artists.append(Artist(name: name, genre: genre, weight: 1 / Double(rankInGenre[genre])))
        }
        return artists
    }

    private func artistName(words: [String], _ rng: inout SplitMix64) -> String {
        func pick(_ list: [String]) -> String { list[rng.nextInt(below: list.count)] }
        switch rng.nextInt(below: 5) {
        case 0: return "The \(pick(words)) \(pick(words))s"
        case 1: return "\(pick(Vocabulary.givenNames)) \(pick(Vocabulary.surnames))"
        case 2: return "\(pick(words)) \(pick(Vocabulary.common))"
        case 3: return "\(pick(words)) of \(pick(words))"
        default: return "\(pick(Vocabulary.givenNames)) & the \(pick(words))s"
        }
    }

    func makeSongs(artists: [Artist], _ rng: inout SplitMix64) -> [Song] {
        // Every artist gets one song; the rest go to artists in proportion to √weight.
        var owner = Array(0..<artists.count)
        var cumulative: [Double] = []
        var total = 0.0
        for artist in artists {
            total += artist.weight.squareRoot()
            cumulative.append(total)
        }
        for _ in artists.count..<parameters.songs { owner.append(draw(cumulative, &rng)) }
        var songsOfArtist = [Int](repeating: 0, count: artists.count)
        var ids = Set<String>()
        return owner.map { artistIndex in
            let artist = artists[artistIndex]
            let genre = Vocabulary.genres[artist.genre]
            songsOfArtist[artistIndex] += 1
            var id = ""
            repeat { id = songID(&rng) } while !ids.insert(id).inserted
            let year = rng.nextUnit() < 0.05
                ? 0 : genre.years.lowerBound + rng.nextInt(below: genre.years.count)
            return Song(
                id: id, title: title(words: genre.words, &rng), release: release(words: genre.words, &rng),
                artist: artistIndex, year: year,
                weight: artist.weight / pow(Double(songsOfArtist[artistIndex]), 0.8))
        }
    }

    private func title(words: [String], _ rng: inout SplitMix64) -> String {
        let count = 1 + rng.nextInt(below: 3)
        var parts: [String] = []
        for _ in 0..<count {
            let list = rng.nextUnit() < 0.7 ? words : Vocabulary.common
            parts.append(list[rng.nextInt(below: list.count)])
        }
        var text = parts.joined(separator: " ")
        switch rng.nextInt(below: 20) {
        case 0: text += " (Live)"
        case 1: text += ", Pt. 2"  // a comma: exercises CSV quoting
        case 2: text = "\"\(text)\""  // quotes inside the field
        default: break
        }
        return text
    }

    private func release(words: [String], _ rng: inout SplitMix64) -> String {
        let first = words[rng.nextInt(below: words.count)]
        let second = rng.nextUnit() < 0.5
            ? words[rng.nextInt(below: words.count)] : Vocabulary.common[rng.nextInt(below: Vocabulary.common.count)]
        return "\(first) \(second)"
    }

    // MARK: - Random draws

    /// Index of a weighted draw from cumulative weights.
    func draw(_ cumulative: [Double], _ rng: inout SplitMix64) -> Int {
        let target = rng.nextUnit() * cumulative[cumulative.count - 1]
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// Standard normal by Box–Muller.
    func normal(_ rng: inout SplitMix64) -> Double {
        let u1 = 1 - rng.nextUnit()
        let u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Distinct songs for one user: log-normal around the mean, at least 5.
    private func listenCount(_ rng: inout SplitMix64) -> Int {
        let sigma = 0.7
        let mu = log(parameters.meanListensPerUser) - sigma * sigma / 2
        let value = Int(exp(mu + sigma * normal(&rng)).rounded())
        return min(max(5, value), parameters.songs / 2)
    }

    func hexID(_ rng: inout SplitMix64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(40)
        for _ in 0..<3 {
            var word = rng.next()
            for _ in 0..<16 where bytes.count < 40 {
                bytes.append(digits[Int(word & 15)])
                word >>= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func songID(_ rng: inout SplitMix64) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var bytes = Array("SO".utf8)
        for _ in 0..<16 { bytes.append(alphabet[rng.nextInt(below: alphabet.count)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

}

extension PlantedTruth {
    /// Reads the truth files written by `SampleGenerator`.
    public static func load(directory: String) throws -> PlantedTruth {
        func rows(_ name: String) throws -> [[Substring]] {
            let text = try String(contentsOfFile: URL(fileURLWithPath: directory).appendingPathComponent(name).path, encoding: .utf8)
            return text.split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        }
        var truth = PlantedTruth(artistGenre: [:], userGenres: [:])
        for row in try rows("truth_artists.tsv") where row.count == 2 { truth.artistGenre[String(row[0])] = String(row[1]) }
        for row in try rows("truth_users.tsv") where row.count == 2 {
            truth.userGenres[String(row[0])] = row[1].split(separator: ",").map(String.init)
        }
        return truth
    }
}
