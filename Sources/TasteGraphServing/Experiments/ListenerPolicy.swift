import Foundation
import TasteGraphCore
import TasteGraphRecommend

/// A per-segment policy: routes each request by the listener's behaviour, as the seed analysis found
/// different listeners need different models. Rules are tried in this order, and the first that matches
/// answers:
///
/// 1. **cold start** — fewer than `coldStart.minListens` distinct songs heard → the rule-based mix
///    (10 of the 20 most popular songs, seeded, then discovery picks; `ColdStartMix`);
/// 2. **low engagement** — mean plays per heard song below `lowEngagement.maxPlaysPerListen` → the
///    personal list blended with popular songs (`blend`, weight `popularWeight`);
/// 3. **low discovery** — fewer distinct artists than `lowDiscovery.maxDistinctArtists` → the personal
///    candidates re-ranked toward less popular songs (`noveltyWeight`), at most `maxPerArtist` per artist;
/// 4. everyone else → the personal model.
///
/// A rule left out (null) never matches. The answer names the rule (`route`) and why (`reason`).
public struct PolicyDefinition: Codable, Sendable, Equatable {
    public struct ColdStart: Codable, Sendable, Equatable {
        public var minListens: Int

        public init(minListens: Int) { self.minListens = minListens }
    }

    public struct LowEngagement: Codable, Sendable, Equatable {
        /// Below this mean plays per heard song, a listener is low-engagement.
        public var maxPlaysPerListen: Double
        /// Weight of popularity in the blend, in [0, 1] (0: the personal list; 1: the most popular songs).
        public var popularWeight: Double

        public init(maxPlaysPerListen: Double, popularWeight: Double) {
            self.maxPlaysPerListen = maxPlaysPerListen
            self.popularWeight = popularWeight
        }
    }

    public struct LowDiscovery: Codable, Sendable, Equatable {
        /// Below this many distinct artists heard, a listener is low-discovery.
        public var maxDistinctArtists: Int
        /// Weight of novelty (low popularity) in the re-ranking, in [0, 1].
        public var noveltyWeight: Double
        /// At most this many songs per artist in the list (0: no cap).
        public var maxPerArtist: Int?

        public init(maxDistinctArtists: Int, noveltyWeight: Double, maxPerArtist: Int? = nil) {
            self.maxDistinctArtists = maxDistinctArtists
            self.noveltyWeight = noveltyWeight
            self.maxPerArtist = maxPerArtist
        }
    }

    public var name: String
    /// The personal model file (nil: the server's model).
    public var model: String?
    public var coldStart: ColdStart?
    public var lowEngagement: LowEngagement?
    public var lowDiscovery: LowDiscovery?

    public init(name: String, model: String? = nil, coldStart: ColdStart? = nil, lowEngagement: LowEngagement? = nil, lowDiscovery: LowDiscovery? = nil) {
        self.name = name
        self.model = model
        self.coldStart = coldStart
        self.lowEngagement = lowEngagement
        self.lowDiscovery = lowDiscovery
    }

    func validate(field: String) throws {
        func fail(_ name: String, _ detail: String) -> ExperimentError { ExperimentError(field: "\(field).\(name)", detail: detail) }
        guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw fail("name", "must be non-empty, without control characters")
        }
        if let rule = coldStart, rule.minListens < 0 { throw fail("cold_start.min_listens", "must be ≥ 0") }
        if let rule = lowEngagement {
            guard rule.maxPlaysPerListen.isFinite, rule.maxPlaysPerListen >= 0 else { throw fail("low_engagement.max_plays_per_listen", "must be ≥ 0") }
            guard (0...1).contains(rule.popularWeight) else { throw fail("low_engagement.popular_weight", "must be between 0 and 1") }
        }
        if let rule = lowDiscovery {
            guard rule.maxDistinctArtists >= 0 else { throw fail("low_discovery.max_distinct_artists", "must be ≥ 0") }
            guard (0...1).contains(rule.noveltyWeight) else { throw fail("low_discovery.novelty_weight", "must be between 0 and 1") }
            guard (rule.maxPerArtist ?? 0) >= 0 else { throw fail("low_discovery.max_per_artist", "must be ≥ 0") }
        }
    }

    /// The rule a listener with `history` (store item index → plays) falls under, and why.
    public func route(history: [ItemIndex: Float], catalog: Catalog) -> ServedRoute {
        let listens = history.count
        if let rule = coldStart, listens < rule.minListens {
            return ServedRoute(policy: name, route: .coldStart, reason: "\(listens) songs heard < \(rule.minListens)")
        }
        if let rule = lowEngagement {
            let plays = history.values.reduce(0.0) { $0 + Double($1) }
            let perListen = listens == 0 ? 0 : plays / Double(listens)
            if perListen < rule.maxPlaysPerListen {
                return ServedRoute(policy: name, route: .lowEngagement, reason: String(format: "%.2f plays per song < %g", perListen, rule.maxPlaysPerListen))
            }
        }
        if let rule = lowDiscovery {
            let artists = Set(history.keys.compactMap { catalog.artist(of: $0) }).count
            if artists < rule.maxDistinctArtists {
                return ServedRoute(policy: name, route: .lowDiscovery, reason: "\(artists) distinct artists < \(rule.maxDistinctArtists)")
            }
        }
        return ServedRoute(policy: name, route: .personal, reason: "no rule matched")
    }
}

/// Which rule of a policy answered, and why.
public struct ServedRoute: Codable, Sendable, Equatable {
    public enum Route: String, Codable, Sendable, CaseIterable {
        case coldStart = "cold_start", lowEngagement = "low_engagement", lowDiscovery = "low_discovery", personal
    }

    public let policy: String
    public let route: Route
    public let reason: String
}

/// The experiment and arm that answered a request.
public struct ServedArm: Codable, Sendable, Equatable {
    public let experiment: String
    public let arm: String
}

/// The re-rankings the policies use: rank fusion, so the personal model's scores (any scale) and
/// popularity (listener counts) combine by position alone.
enum PolicyRanking {
    /// Blends two rankings: item *i* scores (1 − w)·(1 − rₚ(i)/C) + w·(1 − r_q(i)/C), where rₚ and r_q are
    /// its 0-based positions in `personal` and `popular` (C when absent) and C = max of their lengths;
    /// the top `k` by that score, ties broken by the personal order then the item index.
    static func blend(personal: [ItemIndex], popular: [ItemIndex], weight: Double, k: Int) -> [(item: ItemIndex, score: Double)] {
        let c = Double(max(personal.count, popular.count, 1))
        var personalRank: [ItemIndex: Int] = [:]
        for (rank, item) in personal.enumerated() where personalRank[item] == nil { personalRank[item] = rank }
        var popularRank: [ItemIndex: Int] = [:]
        for (rank, item) in popular.enumerated() where popularRank[item] == nil { popularRank[item] = rank }
        var scored: [(item: ItemIndex, score: Double, tie: Int)] = []
        for item in Set(personal).union(popular) {
            let p = Double(personalRank[item] ?? Int(c)), q = Double(popularRank[item] ?? Int(c))
            scored.append((item, (1 - weight) * (1 - p / c) + weight * (1 - q / c), personalRank[item] ?? Int(c) + (popularRank[item] ?? 0)))
        }
        scored.sort { ($0.score, -$0.tie, -$0.item.rawValue) > ($1.score, -$1.tie, -$1.item.rawValue) }
        return scored.prefix(k).map { ($0.item, $0.score) }
    }

    /// Re-ranks `candidates` (best first) toward less popular items: (1 − w)·(1 − rₚ/C) + w·(1 − r_n/C), r_n
    /// the position by popularity ascending among the candidates; then at most `maxPerArtist` per artist.
    static func novel(
        candidates: [ItemIndex], popularity: (ItemIndex) -> Double, artist: (ItemIndex) -> ArtistIndex?, weight: Double, maxPerArtist: Int, k: Int
    ) -> [(item: ItemIndex, score: Double)] {
        let byNovelty = candidates.sorted { (popularity($0), $0.rawValue) < (popularity($1), $1.rawValue) }
        let ranked = blend(personal: candidates, popular: byNovelty, weight: weight, k: candidates.count)
        var perArtist: [ArtistIndex: Int] = [:]
        var kept: [(item: ItemIndex, score: Double)] = []
        for entry in ranked where kept.count < k {
            if maxPerArtist > 0, let a = artist(entry.item) {
                guard perArtist[a, default: 0] < maxPerArtist else { continue }
                perArtist[a, default: 0] += 1
            }
            kept.append(entry)
        }
        return kept
    }
}
