import Foundation
import TasteGraphSynth
import TestSupport
import Testing

@Suite struct SampleGeneratorTests {
    static let files = ["triplets.tsv", "song_data.csv", "truth_artists.tsv", "truth_users.tsv"]

    /// The committed GraphData/ sample is exactly what `generate --seed 42` writes.
    @Test func regeneratingTheCommittedSampleIsByteIdentical() throws {
        let dir = TemporaryDirectory()
        _ = try SampleGenerator(parameters: SampleParameters()).write(to: dir.path)
        for name in Self.files {
            let committed = try Data(contentsOf: URL(fileURLWithPath: SharedData.packageRoot + "/GraphData/" + name))
            let fresh = try Data(contentsOf: URL(fileURLWithPath: dir.file(name)))
            #expect(committed == fresh, "GraphData/\(name) differs from a fresh `generate --seed 42`")
        }
    }

    @Test func differentSeedsGiveDifferentData() throws {
        var small = SampleParameters()
        small.users = 50
        small.songs = 200
        small.artists = 40
        let a = TemporaryDirectory()
        let b = TemporaryDirectory()
        _ = try SampleGenerator(parameters: small).write(to: a.path)
        small.seed = 43
        _ = try SampleGenerator(parameters: small).write(to: b.path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a.file("triplets.tsv"))) != Data(contentsOf: URL(fileURLWithPath: b.file("triplets.tsv"))))
    }

    /// The planted structure is there: 8 genres, balanced artists, most listens inside a user's home genres,
    /// a power-law popularity (the top 10 % of songs take a large share of listens).
    @Test func plantedStructureHolds() throws {
        let root = SharedData.packageRoot + "/GraphData"
        let truth = try PlantedTruth.load(directory: root)
        #expect(truth.artistGenre.count == 300)
        #expect(Set(truth.artistGenre.values).count == 8)
        #expect(truth.userGenres.count == 2_000)
        let songRows = try String(contentsOfFile: root + "/song_data.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        var songGenre: [String: String] = [:]
        for row in songRows {
            // The artist is the 4th CSV field; titles may hold quoted commas, so parse from the right.
            let fields = row.split(separator: ",", omittingEmptySubsequences: false)
            let artist = String(fields[fields.count - 2]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            songGenre[String(fields[0])] = truth.artistGenre[artist]
        }
        #expect(songGenre.count == 3_000)
        var inHome = 0
        var total = 0
        var songListens: [String: Int] = [:]
        for line in try String(contentsOfFile: root + "/triplets.tsv", encoding: .utf8).split(separator: "\n") {
            let f = line.split(separator: "\t")
            total += 1
            songListens[String(f[1]), default: 0] += 1
            if let genre = songGenre[String(f[1])], truth.userGenres[String(f[0])]!.contains(genre) { inHome += 1 }
        }
        let homeShare = Double(inHome) / Double(total)
        #expect(homeShare > 0.88, "home-genre share \(homeShare)")
        let counts = songListens.values.sorted(by: >)
        let topShare = Double(counts.prefix(counts.count / 10).reduce(0, +)) / Double(total)
        #expect(topShare > 0.3, "top-10 % share \(topShare)")
        #expect(total > 40_000 && total < 60_000)
    }
}
