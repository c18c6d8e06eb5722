import BLAS
import TasteGraphCore
import TasteGraphModel
import TasteGraphSupport

/// One recommended item.
public struct Recommendation: Sendable, Codable, Equatable {
    public let item: ItemIndex
    public let score: Double
    /// Predicted play count, expm1(ŷ); nil for the cold-start mix (no model prediction).
    public let predictedPlays: Double?

    public init(item: ItemIndex, score: Double, predictedPlays: Double?) {
        self.item = item
        self.score = score
        self.predictedPlays = predictedPlays
    }
}

/// Business rules applied after scoring, before the top-k cut.
public struct RecommendationFilter: Sendable {
    public var includeHeard = false
    /// Artist indices never to recommend.
    public var excludedArtists: Set<ArtistIndex> = []
    /// Items whose stored popularity score is below this are dropped.
    public var minPopularity: Double = 0
    /// At most this many items per artist (0: no limit).
    public var maxPerArtist = 0
    /// Re-rank the best candidates by maximal marginal relevance (nil: the score order). The per-artist cap
    /// still applies, to the re-ranked picks.
    public var diversity: Diversification? = nil

    public init() {}
}

/// The seed analysis's answer for users the model cannot serve (unknown, or fewer than 3 listens):
/// 10 of the 20 most popular items plus 20 "discovery" items, the item with the highest average plays per
/// listener in each of 20 popularity-percentile bands.
///
/// "Popular" here means most listeners (ties: more plays). The stored popularity score weighs average
/// plays per listener at 0.6, so a single devoted fan can make an obscure item "popular" by that score —
/// right for discovery, wrong for a newcomer's first list.
public struct ColdStartMix: Sendable {
    public let popular: [ItemIndex]
    public let discovery: [ItemIndex]

    /// - Parameters:
    ///   - plays, listeners: per-item totals over the store's listens.
    ///   - seed: picks which 10 of the top 20 (seeded, reproducible).
    public init(catalog: Catalog, plays: [Double], listeners: [Double], seed: UInt64) {
        self.init(itemActive: catalog.itemActive, plays: plays, listeners: listeners, seed: seed)
    }

    /// - Parameter itemActive: items that may be recommended (the catalog's active flags).
    public init(itemActive: [Bool], plays: [Double], listeners: [Double], seed: UInt64) {
        let listened = listeners.indices.filter { listeners[$0] > 0 && (!itemActive.indices.contains($0) || itemActive[$0]) }
        let byPopularity = listened.sorted { (listeners[$0], plays[$0], -$0) > (listeners[$1], plays[$1], -$1) }
        var top20 = Array(byPopularity.prefix(20))
        var rng = SplitMix64(seed: seed)
        for i in stride(from: top20.count - 1, to: 0, by: -1) { top20.swapAt(i, rng.nextInt(below: i + 1)) }
        let popular = Array(top20.prefix(10)).sorted { (listeners[$0], plays[$0], -$0) > (listeners[$1], plays[$1], -$1) }
        let popularSet = Set(popular)
        var discovery: [Int] = []
        let bands = 20
        let ascending = Array(byPopularity.reversed())
        for band in 0..<bands {
            let slice = ascending[(band * ascending.count / bands)..<((band + 1) * ascending.count / bands)]
            if let best = slice.filter({ !popularSet.contains($0) }).max(by: {
                (plays[$0] / listeners[$0], -$0) < (plays[$1] / listeners[$1], -$1)
            }) {
                discovery.append(best)
            }
        }
        self.popular = popular.map(ItemIndex.init)
        self.discovery = discovery.map(ItemIndex.init)
    }

    public var items: [ItemIndex] { popular + discovery }
}

#if canImport(Glibc)
import Glibc
#endif
