/// The best of both: the transition walks and session-kNN for what comes next, the listener's personal
/// model for who is listening, and their hour-by-group profile for when.
///
/// Each part's scores are scaled to a maximum of 1 and mixed:
///
///     score = w_T · T / max T + w_K · K / max K + w_P · personal,   personal(j) = 1 − rank(j) / depth
///
/// (rank 0-based in the listener's personal top list; 0 off the list), then multiplied by the context
/// lift^λ (`ContextProfile`). A weight of 0 leaves its part out; the weights are chosen on validation
/// sessions (`evaluate --task next-item`).
public struct SessionBlend: RegisteredNextItemModel {
    public struct Settings: Codable, Sendable, Equatable {
        public var transitions = TransitionWalks.defaultSettings
        public var sknn = SessionKNN.defaultSettings
        public var transitionsWeight = 1.0
        public var sknnWeight = 1.0
        public var personalWeight = 0.2
        public var context = ContextProfile.Settings()

        public init() {}
    }

    public static let modelKind = NextItemModelKind(rawValue: "blend")
    public static let summary = "transition walks + session-kNN + the personal model, re-ranked by hour-of-day context"
    public static let defaultSettings = Settings()

    public let itemCount: Int
    public let settings: Settings
    let transitions: TransitionWalks
    let sknn: SessionKNN
    let personal: PersonalTopLists?
    let context: ContextProfile?

    public static func fit(_ data: NextItemTrainingData, settings: Settings) throws -> SessionBlend {
        let artists = data.itemArtist ?? [Int32](repeating: -1, count: data.itemCount)
        guard ["communities", "artist"].contains(settings.context.groups) else {
            throw NextItemSettingsError(message: "blend: context.groups must be 'communities' or 'artist', got '\(settings.context.groups)'")
        }
        let groups = settings.context.strength <= 0 ? ItemGroups(itemArtist: artists)
            : settings.context.groups == "artist" ? ItemGroups(itemArtist: artists)
            : ItemGroups.artistCommunities(sessions: data.sessions, itemArtist: artists)
        return SessionBlend(
            itemCount: data.itemCount, settings: settings,
            transitions: try TransitionWalks.fit(data, settings: settings.transitions),
            sknn: try SessionKNN.fit(data, settings: settings.sknn),
            personal: settings.personalWeight > 0 ? data.personal : nil,
            context: settings.context.strength > 0
                ? try ContextProfile(sessions: data.sessions, userCount: data.userCount, groups: groups, settings: settings.context) : nil)
    }

    /// How many item groups the context profile tells apart (nil without context).
    public var contextGroupCount: Int? { context?.groupCount }

    public func score(_ query: SessionQuery, into scores: inout CandidateScores) {
        var part = CandidateScores(itemCount: itemCount)
        func mix(_ model: some NextItemModel, weight: Double) {
            guard weight > 0 else { return }
            part.reset()
            model.score(query, into: &part)
            let top = part.maximum
            guard top > 0 else { return }
            let scale = Float(weight) / top
            for item in part.touched { scores.add(item, part.values[Int(item)] * scale) }
        }
        mix(transitions, weight: settings.transitionsWeight)
        mix(sknn, weight: settings.sknnWeight)
        if let personal, settings.personalWeight > 0 {
            let list = personal.list(for: query.user)
            let w = Float(settings.personalWeight)
            for (rank, item) in list.enumerated() { scores.add(item, w * (1 - Float(rank) / Float(personal.depth))) }
        }
        context?.rerank(&scores, for: query)
    }
}
