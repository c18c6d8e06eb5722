import Foundation
import TasteGraphCore
import TasteGraphRecommend
import TasteGraphSessions
import TasteGraphStore

/// `POST /v1/sessions/next`: the session's recent items (oldest first), optionally the listener and the
/// context of the next play.
public struct SessionNextRequest: Codable, Sendable, Equatable {
    public var items: [String]
    public var user: String?
    public var context: PlayContext?
    public var count = 20
    /// Leave out the session's own items (default: yes; "up next" rarely repeats the song just heard).
    public var excludePlayed = true

    public init(items: [String], user: String? = nil, context: PlayContext? = nil, count: Int = 20) {
        self.items = items
        self.user = user
        self.context = context
        self.count = count
    }

    enum CodingKeys: String, CodingKey { case items, user, context, count = "k", excludePlayed }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        items = try c.decodeIfPresent([String].self, forKey: .items) ?? []
        user = try c.decodeIfPresent(String.self, forKey: .user)
        context = try c.decodeIfPresent(PlayContext.self, forKey: .context)
        count = try c.decodeIfPresent(Int.self, forKey: .count) ?? 20
        excludePlayed = try c.decodeIfPresent(Bool.self, forKey: .excludePlayed) ?? true
    }
}

/// When and where the next play happens: hour 0–23 and weekday 0 (Monday)–6, UTC; the device is recorded
/// in the answer but no model reads it yet.
public struct PlayContext: Codable, Sendable, Equatable {
    public var hour: Int?
    public var weekday: Int?
    public var device: String?

    public init(hour: Int? = nil, weekday: Int? = nil, device: String? = nil) {
        self.hour = hour
        self.weekday = weekday
        self.device = device
    }
}

/// `POST /v1/playlists/continue`: a playlist's items, in order.
public struct PlaylistContinueRequest: Codable, Sendable, Equatable {
    public var items: [String]
    public var count = 20
    /// At most this many continuation items per artist (0: no cap).
    public var maxPerArtist = 2

    public init(items: [String], count: Int = 20, maxPerArtist: Int = 2) {
        self.items = items
        self.count = count
        self.maxPerArtist = maxPerArtist
    }

    enum CodingKeys: String, CodingKey { case items, count = "k", maxPerArtist }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        items = try c.decodeIfPresent([String].self, forKey: .items) ?? []
        count = try c.decodeIfPresent(Int.self, forKey: .count) ?? 20
        maxPerArtist = try c.decodeIfPresent(Int.self, forKey: .maxPerArtist) ?? 2
    }
}

/// The answer of both session routes.
public struct SessionAnswer: Codable, Sendable, Equatable {
    public let model: String
    public let items: [ServedItem]
    /// Ids of the request that the catalog does not know (ignored).
    public let unknownItems: [String]
    /// Whether the listener's personal list and hour profile took part.
    public let personalized: Bool
    public let context: PlayContext?
}

/// The session models of one snapshot: fitted at load from the store's timed plays (imported and posted
/// with `at`), answering "what next" for a session and "what continues" a playlist.
///
/// The model is `SessionBlend` with `NextItemDefaults.serving` settings (chosen on validation sessions of
/// the generated sample; `evaluate --task next-item` chooses them for any other data) and the personal
/// top lists of RP3β fitted on the same plays.
public final class SessionService: Sendable {
    public let model: SessionBlend
    let catalog: Catalog
    let itemIndex: [String: Int32]
    let userIndex: [String: Int32]
    public let sessionCount: Int

    /// Fits the session model on `store`'s timed plays.
    /// - Throws: `ServingError` (unavailable) when the store holds none.
    public init(store: GraphStore, gapMinutes: Double = ListeningSessions.defaultGapMinutes) throws {
        guard try store.timedPlayCount() > 0 else {
            throw ServingError(field: "store", detail: "the store holds no timestamped plays: import them (`tastegraph import plays`) to serve sessions", kind: .unavailable)
        }
        catalog = try store.catalog()
        let sessions = ListeningSessions(try store.timedPlays(), gapMinutes: gapMinutes)
        let personal = try PersonalSessionModel.topLists(
            kind: ModelKind(rawValue: "rp3beta"), sessions: sessions, catalog: catalog, depth: 100, dataFingerprint: try store.dataFingerprint())
        let data = NextItemTrainingData(
            sessions: sessions, itemCount: catalog.itemExternalIDs.count, userCount: catalog.userExternalIDs.count,
            personal: personal, itemArtist: catalog.itemArtist.map { Int32($0) })
        model = try SessionBlend.fit(data, settings: NextItemDefaults.serving)
        var items: [String: Int32] = [:]
        for (i, id) in catalog.itemExternalIDs.enumerated() { items[id] = Int32(i) }
        var users: [String: Int32] = [:]
        for (u, id) in catalog.userExternalIDs.enumerated() { users[id] = Int32(u) }
        itemIndex = items
        userIndex = users
        sessionCount = sessions.count
    }

    /// The next tracks for a session.
    /// - Throws: `ServingError` (invalid) for a bad count or context, or a request with neither known items nor a known user.
    public func next(_ request: SessionNextRequest) throws -> SessionAnswer {
        try Self.check(count: request.count)
        if let hour = request.context?.hour, !(0..<24).contains(hour) { throw ServingError(field: "context.hour", detail: "must be 0–23, got \(hour)") }
        if let day = request.context?.weekday, !(0..<7).contains(day) { throw ServingError(field: "context.weekday", detail: "must be 0 (Monday) to 6, got \(day)") }
        let (known, unknown) = resolve(request.items)
        let user = request.user.flatMap { userIndex[$0] }
        guard !known.isEmpty || user != nil else {
            throw ServingError(field: "items", detail: request.items.isEmpty && request.user == nil
                ? "send the session's items, a known user, or both" : "none of the items is in the catalog and no known user is given")
        }
        let query = SessionQuery(items: known, user: user, hour: request.context?.hour, weekday: request.context?.weekday)
        let played = Set(known)
        let items = answer(query, count: request.count, maxPerArtist: 0) { !request.excludePlayed || !played.contains($0) }
        return SessionAnswer(model: SessionBlend.modelKind.rawValue, items: items, unknownItems: unknown, personalized: user != nil, context: request.context)
    }

    /// What continues a playlist: never its own items, at most `maxPerArtist` per artist.
    public func continuation(_ request: PlaylistContinueRequest) throws -> SessionAnswer {
        try Self.check(count: request.count)
        guard request.maxPerArtist >= 0 else { throw ServingError(field: "max_per_artist", detail: "must be ≥ 0 (0: no cap)") }
        let (known, unknown) = resolve(request.items)
        guard !known.isEmpty else { throw ServingError(field: "items", detail: "none of the playlist's items is in the catalog") }
        let inPlaylist = Set(known)
        let items = answer(SessionQuery(items: known), count: request.count, maxPerArtist: request.maxPerArtist) { !inPlaylist.contains($0) }
        return SessionAnswer(model: SessionBlend.modelKind.rawValue, items: items, unknownItems: unknown, personalized: false, context: nil)
    }

    static func check(count: Int) throws {
        guard (1...500).contains(count) else { throw ServingError(field: "k", detail: "must be between 1 and 500, got \(count)") }
    }

    private func resolve(_ ids: [String]) -> (known: [Int32], unknown: [String]) {
        var known: [Int32] = [], unknown: [String] = []
        for id in ids {
            if let item = itemIndex[id] { known.append(item) } else { unknown.append(id) }
        }
        return (known, unknown)
    }

    private func answer(_ query: SessionQuery, count: Int, maxPerArtist: Int, keep: (Int32) -> Bool) -> [ServedItem] {
        var scores = CandidateScores(itemCount: model.itemCount)
        model.score(query, into: &scores)
        // The best few candidates; when the per-artist cap leaves fewer than `count`, twice as many, and so on.
        var candidates = maxPerArtist > 0 ? 4 * count : count
        while true {
            let ranked = scores.top(candidates, where: { keep($0) && catalog.itemActive[Int($0)] })
            var perArtist: [Int: Int] = [:]
            var picked: [ServedItem] = []
            for (item, score) in ranked {
                let artist = catalog.itemArtist[Int(item)]
                if maxPerArtist > 0 && artist >= 0 {
                    if perArtist[artist, default: 0] >= maxPerArtist { continue }
                    perArtist[artist, default: 0] += 1
                }
                picked.append(ServedItem(
                    item: catalog.itemExternalIDs[Int(item)], title: catalog.itemTitles[Int(item)] ?? catalog.itemExternalIDs[Int(item)],
                    artist: artist >= 0 ? catalog.artistNames[artist] : "", score: Double(score), predictedPlays: nil, because: nil))
                if picked.count == count { break }
            }
            if picked.count == count || ranked.count < candidates { return picked }
            candidates *= 2
        }
    }
}

/// The session blend's default settings for serving: the shape `evaluate --task next-item` chose on the
/// generated sample's validation sessions (transition walks over adjacent plays without the popularity
/// penalty, the personal model at a small weight, a gentle context strength).
public enum NextItemDefaults {
    public static var serving: SessionBlend.Settings {
        var settings = SessionBlend.Settings()
        settings.transitions = TransitionWalks.Settings(window: 1, popularityPenalty: 0)
        settings.sknnWeight = 0
        settings.personalWeight = 0.1
        settings.context = ContextProfile.Settings(strength: 0.25)
        return settings
    }
}
