import TasteGraphCore
import TasteGraphSupport

/// Which group each item belongs to, for the context profile: its artist, its artist's community, or where
/// artists are unknown the item itself.
public struct ItemGroups: Sendable {
    /// Shapes: (I); every value in 0..<count.
    public let group: [Int32]
    public let count: Int

    /// Groups by artist (`itemArtist[i]`, −1 when unknown: the item is its own group).
    public init(itemArtist: [Int32]) {
        var dense: [Int32: Int32] = [:]
        var next: Int32 = 0
        group = itemArtist.enumerated().map { item, artist in
            let key = artist >= 0 ? artist : -1 - Int32(item)
            if let known = dense[key] { return known }
            dense[key] = next
            next += 1
            return next - 1
        }
        count = Int(next)
    }

    /// Groups by artist community: label propagation over the artist graph of the sessions, where two
    /// artists are linked by how often one's song is played right after the other's (either order).
    /// Each sweep visits the artists in a seeded order and gives each the label of largest total link
    /// weight among its neighbours (ties: the smaller label); at most `sweeps` sweeps, fewer when none
    /// changes. Genres, which sessions mostly stay within, come out as communities; an artist without
    /// links keeps its own.
    public static func artistCommunities(sessions: ListeningSessions, itemArtist: [Int32], sweeps: Int = 20, seed: UInt64 = 0) -> ItemGroups {
        let artistCount = Int((itemArtist.max() ?? -1) + 1)
        var links = [[Int32: Float]](repeating: [:], count: artistCount)
        for s in 0..<sessions.count {
            let range = sessions.range(s)
            for k in range.dropFirst() {
                let a = itemArtist[Int(sessions.items[k - 1])], b = itemArtist[Int(sessions.items[k])]
                guard a >= 0, b >= 0, a != b else { continue }
                links[Int(a)][b, default: 0] += 1
                links[Int(b)][a, default: 0] += 1
            }
        }
        var label = (0..<artistCount).map { Int32($0) }
        var order = Array(0..<artistCount)
        var rng = SplitMix64(seed: seed)
        for _ in 0..<sweeps {
            order.shuffle(using: &rng)
            var changed = false
            for a in order where !links[a].isEmpty {
                var weight: [Int32: Float] = [:]
                for (b, w) in links[a] { weight[label[Int(b)], default: 0] += w }
                let best = weight.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }!.key
                if best != label[a] {
                    label[a] = best
                    changed = true
                }
            }
            if !changed { break }
        }
        return ItemGroups(itemArtist: itemArtist.map { $0 >= 0 ? label[Int($0)] : -1 })
    }
}

/// A listener's hour-by-group profile, the context re-ranking signal: how much more than usual they play
/// an item's group in this part of the day.
///
/// Buckets: the day cut into `24 / bucketHours` parts (UTC), and with `splitWeekend` weekdays apart from
/// Saturday and Sunday. For listener u, bucket b and group g, with n the training plays:
///
///     p(g | u)    = (n(u, g) + μ · p(g)) / (n(u) + μ)
///     p(g | u, b) = (n(u, b, g) + μ · p(g | u)) / (n(u, b) + μ)
///     lift(u, b, g) = p(g | u, b) / p(g | u)
///
/// and a candidate's score is multiplied by max(0, 1 + λ' · (lift − 1)), with λ' = λ / (1 + n) for a
/// session of n plays so far when `fade` is on (the default), else λ' = λ (λ = `strength`; 0 changes
/// nothing, nor does an anonymous session or one without an hour). Fading lets the time of day decide a
/// session's start, where nothing else is known, and the session's own plays decide as it goes on.
public struct ContextProfile: Sendable {
    public struct Settings: Codable, Sendable, Equatable {
        public var strength = 0.5
        public var bucketHours = 3
        public var splitWeekend = false
        public var smoothing = 5.0
        /// What an item's group is: its artist's community (`communities`) or its artist (`artist`).
        public var groups = "communities"
        /// Weaken the re-ranking as the session grows (λ / (1 + n)).
        public var fade = true

        public init(strength: Double = 0.5, bucketHours: Int = 3, splitWeekend: Bool = false, smoothing: Double = 5.0, groups: String = "communities", fade: Bool = true) {
            self.groups = groups
            self.fade = fade
            self.strength = strength
            self.bucketHours = bucketHours
            self.splitWeekend = splitWeekend
            self.smoothing = smoothing
        }
    }

    public let settings: Settings
    let groups: ItemGroups
    /// Sparse counts: per user, per bucket, group → plays; and per user group → plays.
    let userBucketGroup: [[[Int32: Float]]]
    let userBucketTotal: [[Float]]
    let userGroup: [[Int32: Float]]
    let userTotal: [Float]
    let groupShare: [Float]

    public var groupCount: Int { groups.count }

    public var bucketCount: Int { (24 / settings.bucketHours) * (settings.splitWeekend ? 2 : 1) }

    public init(sessions: ListeningSessions, userCount: Int, groups: ItemGroups, settings: Settings) throws {
        guard settings.bucketHours >= 1, 24 % settings.bucketHours == 0, settings.smoothing > 0, settings.strength >= 0 else {
            throw NextItemSettingsError(message: "context: bucketHours must divide 24, smoothing > 0, strength ≥ 0")
        }
        self.settings = settings
        self.groups = groups
        let buckets = (24 / settings.bucketHours) * (settings.splitWeekend ? 2 : 1)
        var ubg = [[[Int32: Float]]](repeating: [[Int32: Float]](repeating: [:], count: buckets), count: userCount)
        var ubt = [[Float]](repeating: [Float](repeating: 0, count: buckets), count: userCount)
        var ug = [[Int32: Float]](repeating: [:], count: userCount)
        var ut = [Float](repeating: 0, count: userCount)
        var share = [Float](repeating: 0, count: groups.count)
        for s in 0..<sessions.count {
            let u = Int(sessions.sessionUser[s])
            guard u < userCount else { continue }
            for k in sessions.range(s) {
                let g = groups.group[Int(sessions.items[k])]
                let t = sessions.times[k]
                let b = Self.bucket(hour: RFC3339.hour(t), weekday: RFC3339.weekday(t), settings: settings)
                ubg[u][b][g, default: 0] += 1
                ubt[u][b] += 1
                ug[u][g, default: 0] += 1
                ut[u] += 1
                share[Int(g)] += 1
            }
        }
        let total = max(1, share.reduce(0, +))
        userBucketGroup = ubg
        userBucketTotal = ubt
        userGroup = ug
        userTotal = ut
        groupShare = share.map { $0 / total }
    }

    static func bucket(hour: Int, weekday: Int?, settings: Settings) -> Int {
        let part = hour / settings.bucketHours
        guard settings.splitWeekend, let weekday, weekday >= 5 else { return part }
        return part + 24 / settings.bucketHours
    }

    /// The factor of each group for the query's listener and time (only `groups`, when given), or nil when
    /// the query gives no context. Shapes: (groups.count); groups not asked for are 1.
    func groupFactors(_ query: SessionQuery, only asked: [Int32]? = nil) -> [Float]? {
        guard settings.strength > 0, let user = query.user, let hour = query.hour, (0..<24).contains(hour),
              Int(user) < userTotal.count, userTotal[Int(user)] > 0
        else { return nil }
        let u = Int(user)
        let b = Self.bucket(hour: hour, weekday: query.weekday, settings: settings)
        let mu = Float(settings.smoothing)
        let lambda = Float(settings.strength) / (settings.fade ? Float(1 + query.items.count) : 1)
        let nu = userTotal[u], nub = userBucketTotal[u][b]
        // p(g | u) for a group the listener never played is its smoothed prior: the same for every such group.
        func factor(_ key: Int32) -> Float {
            let pgu = ((userGroup[u][key] ?? 0) + mu * groupShare[Int(key)]) / (nu + mu)
            let pgub = ((userBucketGroup[u][b][key] ?? 0) + mu * pgu) / (nub + mu)
            return max(0, 1 + lambda * (pgub / pgu - 1))
        }
        guard let asked else { return (0..<groups.count).map { factor(Int32($0)) } }
        var factors = [Float](repeating: 1, count: groups.count)
        for key in asked { factors[Int(key)] = factor(key) }
        return factors
    }

    /// Re-ranks `scores` (already filled for `query`) by the listener's profile for the query's time.
    public func rerank(_ scores: inout CandidateScores, for query: SessionQuery) {
        let group = groups.group
        // Few groups (artist communities, artists): all at once. Many (items without artists): the candidates' only.
        let asked = groups.count <= 4_096 ? nil : Array(Set(scores.touched.map { group[Int($0)] }))
        guard let factors = groupFactors(query, only: asked) else { return }
        scores.reweight { factors[Int(group[Int($0)])] }
    }
}
