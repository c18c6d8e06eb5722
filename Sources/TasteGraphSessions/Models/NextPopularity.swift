/// The popularity baseline: the most played items of the training sessions, whatever the session.
public struct NextPopularity: RegisteredNextItemModel {
    public struct Settings: Codable, Sendable, Equatable {
        /// How many of the most played items get a score (the rest rank after them).
        public var depth = 200

        public init(depth: Int = 200) { self.depth = depth }
    }

    public static let modelKind = NextItemModelKind(rawValue: "popularity")
    public static let summary = "the most played items, the same for every session"
    public static let defaultSettings = Settings()

    public let itemCount: Int
    /// (item, plays), most played first.
    let ranked: [(item: Int32, plays: Float)]

    public static func fit(_ data: NextItemTrainingData, settings: Settings) throws -> NextPopularity {
        var plays = [Float](repeating: 0, count: data.itemCount)
        for item in data.sessions.items { plays[Int(item)] += 1 }
        let order = plays.indices.filter { plays[$0] > 0 }.sorted { plays[$0] != plays[$1] ? plays[$0] > plays[$1] : $0 < $1 }
        return NextPopularity(itemCount: data.itemCount, ranked: order.prefix(settings.depth).map { (Int32($0), plays[$0]) })
    }

    public func score(_ query: SessionQuery, into scores: inout CandidateScores) {
        for (item, plays) in ranked { scores.add(item, plays) }
    }
}
