import BLAS
import TasteGraphModel
import TasteGraphStore
import TasteGraphSupport

/// One recommended item.
public struct Recommendation: Sendable, Codable, Equatable {
    public let item: Int
    public let score: Double
    /// Predicted play count, expm1(ŷ); nil for the cold-start mix (no model prediction).
    public let predictedPlays: Double?

    public init(item: Int, score: Double, predictedPlays: Double?) {
        self.item = item
        self.score = score
        self.predictedPlays = predictedPlays
    }
}

/// Business rules applied after scoring, before the top-k cut.
public struct RecommendationFilter: Sendable {
    public var includeHeard = false
    /// Artist indices never to recommend.
    public var excludedArtists: Set<Int> = []
    /// Items whose stored popularity score is below this are dropped.
    public var minPopularity: Double = 0
    /// At most this many items per artist (0: no limit).
    public var maxPerArtist = 0

    public init() {}
}

/// Top-k recommendations from a trained checkpoint: ranking score ⟨z_u, z_i⟩ + c_i over all items.
public struct GCNRecommender: Sendable {
    public let checkpoint: Checkpoint
    let hidden: Int
    let userCount: Int
    let itemCount: Int
    let rankBias: Int
    let userBias: Int
    let itemBias: Int
    let globalMean: Int
    let dotScale: Int

    /// - Throws: `CheckpointError` when the checkpoint lacks a parameter this decoder needs.
    public init(checkpoint: Checkpoint) throws {
        self.checkpoint = checkpoint
        hidden = checkpoint.header.model.hidden
        userCount = checkpoint.header.userIDs.count
        itemCount = checkpoint.header.itemIDs.count
        let layout = checkpoint.header.layout
        guard let rank = layout["rankBias"], let ub = layout["userBias"], let ib = layout["itemBias"],
              let mu = layout["globalMean"], let s = layout["dotScale"]
        else { throw CheckpointError(path: "checkpoint", reason: "missing decoder parameters") }
        rankBias = rank.offset
        userBias = ub.offset
        itemBias = ib.offset
        globalMean = mu.offset
        dotScale = s.offset
    }

    /// Ranking scores of one user over all items. Shapes: (I).
    public func scores(user: Int) -> [Float] {
        var out = [Float](repeating: 0, count: itemCount)
        checkpoint.embeddings.withUnsafeBufferPointer { z in
            out.withUnsafeMutableBufferPointer { o in
                BLAS.gemm(.none, .transposed, m: 1, n: itemCount, k: hidden, a: z.baseAddress! + user * hidden,
                          b: z.baseAddress! + userCount * hidden, c: o.baseAddress!)
            }
        }
        for item in 0..<itemCount { out[item] += checkpoint.parameters[rankBias + item] }
        return out
    }

    /// Predicted log1p(play count): s·⟨z_u, z_i⟩ + b_u + b_i + μ.
    public func predictLog1p(user: Int, item: Int) -> Float {
        let z = checkpoint.embeddings
        var dot: Float = 0
        for j in 0..<hidden { dot += z[user * hidden + j] * z[(userCount + item) * hidden + j] }
        let p = checkpoint.parameters
        return p[dotScale] * dot + p[userBias + user] + p[itemBias + item] + p[globalMean]
    }

    /// The top `k` items for `user` after the filter. `heard` are the user's items in the store.
    public func recommend(user: Int, count k: Int, heard: Set<Int>, filter: RecommendationFilter, catalog: Catalog) -> [Recommendation] {
        let scores = scores(user: user)
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        var perArtist: [Int: Int] = [:]
        var result: [Recommendation] = []
        for item in order {
            guard result.count < k else { break }
            if !filter.includeHeard && heard.contains(item) { continue }
            guard catalog.itemActive.indices.contains(item) else { continue }
            let artist = catalog.itemArtist[item]
            if filter.excludedArtists.contains(artist) { continue }
            if catalog.itemPopularity[item] < filter.minPopularity { continue }
            if filter.maxPerArtist > 0 && artist >= 0 {
                if perArtist[artist, default: 0] >= filter.maxPerArtist { continue }
                perArtist[artist, default: 0] += 1
            }
            let plays = Double(expm1f(predictLog1p(user: user, item: item)))
            result.append(Recommendation(item: item, score: Double(scores[item]), predictedPlays: max(0, plays)))
        }
        return result
    }
}

/// The seed analysis's answer for users the model cannot serve (unknown, or fewer than 3 listens):
/// 10 of the 20 most popular items plus 20 "discovery" items, the item with the highest average plays per
/// listener in each of 20 popularity-percentile bands.
///
/// "Popular" here means most listeners (ties: more plays). The stored popularity score weighs average
/// plays per listener at 0.6, so a single devoted fan can make an obscure item "popular" by that score —
/// right for discovery, wrong for a newcomer's first list.
public struct ColdStartMix: Sendable {
    public let popular: [Int]
    public let discovery: [Int]

    /// - Parameters:
    ///   - plays, listeners: per-item totals over the store's listens.
    ///   - seed: picks which 10 of the top 20 (seeded, reproducible).
    public init(catalog: Catalog, plays: [Double], listeners: [Double], seed: UInt64) {
        let listened = (0..<catalog.itemCount).filter { listeners[$0] > 0 && catalog.itemActive[$0] }
        let byPopularity = listened.sorted { (listeners[$0], plays[$0], -$0) > (listeners[$1], plays[$1], -$1) }
        var top20 = Array(byPopularity.prefix(20))
        var rng = SplitMix64(seed: seed)
        for i in stride(from: top20.count - 1, to: 0, by: -1) { top20.swapAt(i, rng.nextInt(below: i + 1)) }
        popular = Array(top20.prefix(10)).sorted { (listeners[$0], plays[$0], -$0) > (listeners[$1], plays[$1], -$1) }
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
        self.discovery = discovery
    }

    public var items: [Int] { popular + discovery }
}

#if canImport(Glibc)
import Glibc
#endif
