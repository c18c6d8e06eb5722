/// Session-based k-nearest neighbours (SKNN and its vector variant V-SKNN), the strong simple baseline of
/// Ludewig, Latifi, Jannach et al., "Empirical analysis of session-based recommendation algorithms",
/// UMUAI 31 (2021).
///
/// For the current session s (its last `maxItems` items), the candidate neighbours are the `sampleSize`
/// most recent training sessions sharing an item with it. Each candidate n gets
///
///     sim(s, n) = Σ_{i ∈ s ∩ n} w(i) / √(|s| · |n|)
///
/// with w(i) = 1 (SKNN) or, with `positionDecay`, w = p / |s| for the item's position p = 1…|s| in s (V-SKNN's
/// linear decay: the latest item weighs 1). The `neighbours` most similar candidates vote:
///
///     score(j) = Σ_{n ∈ N(s), j ∈ n} sim(s, n)
///
/// Complexity per query: O(|s| · sampleSize + sampleSize · L̄), L̄ the mean session length.
public struct SessionKNN: RegisteredNextItemModel {
    public struct Settings: Codable, Sendable, Equatable {
        public var neighbours = 100
        public var sampleSize = 500
        public var positionDecay = true
        /// The latest items of the session that take part (older ones are dropped).
        public var maxItems = 10

        public init(neighbours: Int = 100, sampleSize: Int = 500, positionDecay: Bool = true, maxItems: Int = 10) {
            self.neighbours = neighbours
            self.sampleSize = sampleSize
            self.positionDecay = positionDecay
            self.maxItems = maxItems
        }
    }

    public static let modelKind = NextItemModelKind(rawValue: "sknn")
    public static let summary = "session-based kNN (V-SKNN, Ludewig et al. 2021): items of the most similar past sessions"
    public static let defaultSettings = Settings()

    public let itemCount: Int
    public let settings: Settings
    /// Each training session's distinct items (first occurrence order): session s is
    /// `distinctItems[distinctBounds[s]..<distinctBounds[s + 1]]`. Shapes: (S + 1), (distinct plays).
    let distinctBounds: [Int]
    let distinctItems: [Int32]
    /// Start time of each session (recency).
    let starts: [Int64]
    /// Sessions containing each item, most recent first. Shapes: `sessionsOfItem` (I) lists.
    let sessionsOfItem: [[Int32]]

    public static func fit(_ data: NextItemTrainingData, settings: Settings) throws -> SessionKNN {
        guard settings.neighbours > 0, settings.sampleSize > 0, settings.maxItems > 0 else {
            throw NextItemSettingsError(message: "sknn: neighbours, sampleSize and maxItems must be positive")
        }
        let sessions = data.sessions
        var bounds = [0], distinct: [Int32] = []
        var seen = Set<Int32>()
        for s in 0..<sessions.count {
            seen.removeAll(keepingCapacity: true)
            for item in sessions.items(of: s) where seen.insert(item).inserted { distinct.append(item) }
            bounds.append(distinct.count)
        }
        let starts = (0..<sessions.count).map { sessions.start(of: $0) }
        let byRecency = (0..<sessions.count).sorted { starts[$0] != starts[$1] ? starts[$0] > starts[$1] : $0 > $1 }
        var lists = [[Int32]](repeating: [], count: data.itemCount)
        for s in byRecency {
            for k in bounds[s]..<bounds[s + 1] { lists[Int(distinct[k])].append(Int32(s)) }
        }
        return SessionKNN(itemCount: data.itemCount, settings: settings, distinctBounds: bounds, distinctItems: distinct, starts: starts, sessionsOfItem: lists)
    }

    public func score(_ query: SessionQuery, into scores: inout CandidateScores) {
        let recent = query.items.suffix(settings.maxItems)
        guard !recent.isEmpty else { return }
        var weight: [Int32: Float] = [:]
        for (p, item) in recent.enumerated() where Int(item) < itemCount {
            weight[item] = settings.positionDecay ? Float(p + 1) / Float(recent.count) : 1
        }
        // The most recent candidates: each item's list is by recency, so its first sampleSize suffice.
        var candidates = Set<Int32>()
        for item in weight.keys { candidates.formUnion(sessionsOfItem[Int(item)].prefix(settings.sampleSize)) }
        var sample = Array(candidates)
        if sample.count > settings.sampleSize {
            sample.sort { starts[Int($0)] != starts[Int($1)] ? starts[Int($0)] > starts[Int($1)] : $0 > $1 }
            sample.removeLast(sample.count - settings.sampleSize)
        }
        let queryLength = Float(weight.count)
        var similar: [(session: Int32, sim: Float)] = []
        similar.reserveCapacity(sample.count)
        for s in sample {
            let range = distinctBounds[Int(s)]..<distinctBounds[Int(s) + 1]
            var overlap: Float = 0
            for k in range { overlap += weight[distinctItems[k]] ?? 0 }
            if overlap > 0 { similar.append((s, overlap / (queryLength * Float(range.count)).squareRoot())) }
        }
        similar.sort { $0.sim != $1.sim ? $0.sim > $1.sim : $0.session > $1.session }
        for (s, sim) in similar.prefix(settings.neighbours) {
            for k in distinctBounds[Int(s)]..<distinctBounds[Int(s) + 1] { scores.add(distinctItems[k], sim) }
        }
    }
}
