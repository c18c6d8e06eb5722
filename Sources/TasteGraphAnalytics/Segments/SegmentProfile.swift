import TasteGraphCore
import TasteGraphGraph

/// Who a segment is: size, top artists, top tags, median plays, and a readable label.
public struct SegmentProfile: Codable, Sendable, Equatable {
    public let index: Int
    public let size: Int
    public let topArtists: [String]
    public let topTags: [String]
    /// Median total plays of the members.
    public let medianPlays: Double
    /// Made from the top tags ("indie / alternative"), or from the top artists when the data has no tags.
    public let label: String

    /// Profiles every segment.
    ///
    /// - Top artists: the artists most members listen to (ties: more plays).
    /// - Top tags: tags of the members' artists (each artist's top 5 tags, weighted by log1p plays), ranked by
    ///   `share × log2(1 + share / global share)`, so a tag that every segment has ("rock") does not label them all.
    public static func profiles(
        of segmentation: Segmentation, listens: ListenTable, catalog: Catalog, count: Int = 5
    ) -> [SegmentProfile] {
        let segments = segmentation.segmentCount
        var artistListeners = [[Int: Int]](repeating: [:], count: segments)
        var artistPlays = [[Int: Double]](repeating: [:], count: segments)
        var tagWeight = [[Int: Double]](repeating: [:], count: segments)
        var globalTag: [Int: Double] = [:]
        var userPlays = [Double](repeating: 0, count: catalog.userCount)
        var lastPair = (-1, -1)
        let artistTopTags = (0..<catalog.artistNames.count).map { catalog.topTags(ofArtist: $0, count: 5) }
        for e in 0..<listens.count {
            let user = Int(listens.users[e])
            userPlays[user] += Double(listens.plays[e])
            let artist = catalog.itemArtist[Int(listens.items[e])]
            guard artist >= 0 else { continue }
            let weight = Double(log1pf(listens.plays[e]))
            for tag in artistTopTags[artist] { globalTag[tag, default: 0] += weight }
            guard let segment = segmentation.membership[user] else { continue }
            if lastPair != (user, artist) {
                artistListeners[segment][artist, default: 0] += 1
                lastPair = (user, artist)
            }
            artistPlays[segment][artist, default: 0] += Double(listens.plays[e])
            for tag in artistTopTags[artist] { tagWeight[segment][tag, default: 0] += weight }
        }
        let globalTotal = max(globalTag.values.reduce(0, +), 1e-12)
        var members = [[Int]](repeating: [], count: segments)
        for (user, segment) in segmentation.membership.enumerated() { if let segment { members[segment].append(user) } }
        return (0..<segments).map { segment in
            let artists = artistListeners[segment].sorted {
                ($0.value, artistPlays[segment][$0.key]!, -$0.key) > ($1.value, artistPlays[segment][$1.key]!, -$1.key)
            }.prefix(count).map { catalog.artistNames[$0.key] }
            let total = max(tagWeight[segment].values.reduce(0, +), 1e-12)
            let tags = tagWeight[segment].map { tag, weight -> (Int, Double) in
                let share = weight / total
                return (tag, share * log2(1 + share / (globalTag[tag]! / globalTotal)))
            }.sorted { ($0.1, -$0.0) > ($1.1, -$1.0) }.prefix(count).map { catalog.tagNames[$0.0] }
            let plays = members[segment].map { userPlays[$0] }.sorted()
            let median = plays.isEmpty ? 0 : (plays[(plays.count - 1) / 2] + plays[plays.count / 2]) / 2
            let label = tags.isEmpty
                ? "fans of " + artists.prefix(2).joined(separator: " & ")
                : tags.prefix(2).joined(separator: " / ")
            return SegmentProfile(
                index: segment, size: members[segment].count, topArtists: Array(artists), topTags: Array(tags),
                medianPlays: median, label: label)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
