import TasteGraphCore

/// Listening sessions: each listener's plays in time order, cut where the listener paused.
///
/// The rule: sort a user's plays by time (ties keep their input order); a gap of **more than** `gap`
/// seconds between two consecutive plays starts a new session. A gap of exactly `gap` stays in the session.
/// The default gap is 30 minutes, the usual choice in session-based recommendation (Ludewig et al. 2021)
/// and in Last.fm's own scrobble analyses.
///
/// Storage is flat (struct of arrays): session `s` holds plays `bounds[s]..<bounds[s + 1]` of `items` and
/// `times`; sessions are ordered by (user, start time).
///
/// Shapes: `bounds` (S + 1), `sessionUser` (S), `items` and `times` (P).
public struct ListeningSessions: Sendable {
    /// The default `--session-gap`: 30 minutes.
    public static let defaultGapMinutes = 30.0

    public let gapSeconds: Int64
    public private(set) var bounds: [Int] = [0]
    public private(set) var sessionUser: [Int32] = []
    public private(set) var items: [Int32] = []
    public private(set) var times: [Int64] = []

    /// Cuts `plays` into sessions.
    /// - Parameter gapMinutes: the longest pause inside a session, in minutes (> 0).
    /// - Complexity: O(P log P) for the sort.
    public init(_ plays: TimedPlays, gapMinutes: Double = defaultGapMinutes) {
        precondition(gapMinutes > 0, "the session gap must be positive")
        gapSeconds = Int64((gapMinutes * 60).rounded())
        // One sort key: user (< 2³¹) above time (< 2³², RFC3339.storedRange), ties by input position.
        var order = (0..<plays.count).map { k in
            (key: UInt64(UInt32(bitPattern: plays.users[k])) << 32 | UInt64(UInt32(truncatingIfNeeded: max(0, plays.times[k]))), index: Int32(k))
        }
        order.sort { $0.key != $1.key ? $0.key < $1.key : $0.index < $1.index }
        items.reserveCapacity(plays.count)
        times.reserveCapacity(plays.count)
        var previousUser: Int32 = -1
        var previousTime: Int64 = 0
        for entry in order {
            let k = Int(entry.index)
            let user = plays.users[k], time = plays.times[k]
            if user != previousUser || time - previousTime > gapSeconds {
                if !items.isEmpty { bounds.append(items.count) }
                sessionUser.append(user)
            }
            items.append(plays.items[k])
            times.append(time)
            previousUser = user
            previousTime = time
        }
        if !items.isEmpty { bounds.append(items.count) }
    }

    /// Sessions given directly (tests, subsets): each with its user, items and times (same length).
    public init(gapSeconds: Int64, sessions: [(user: Int32, items: [Int32], times: [Int64])]) {
        self.gapSeconds = gapSeconds
        for session in sessions where !session.items.isEmpty {
            precondition(session.items.count == session.times.count)
            sessionUser.append(session.user)
            items += session.items
            times += session.times
            bounds.append(items.count)
        }
    }

    public var count: Int { sessionUser.count }
    public var playCount: Int { items.count }

    /// The plays of session `s` (positions into `items` / `times`).
    public func range(_ s: Int) -> Range<Int> { bounds[s]..<bounds[s + 1] }
    public func items(of s: Int) -> ArraySlice<Int32> { items[range(s)] }
    public func length(of s: Int) -> Int { bounds[s + 1] - bounds[s] }
    public func start(of s: Int) -> Int64 { times[bounds[s]] }
    public func end(of s: Int) -> Int64 { times[bounds[s + 1] - 1] }

    /// The sessions whose index `keep` admits, in order.
    public func filter(_ keep: (Int) -> Bool) -> ListeningSessions {
        ListeningSessions(
            gapSeconds: gapSeconds,
            sessions: (0..<count).filter(keep).map { s in (sessionUser[s], Array(items(of: s)), Array(times[range(s)])) })
    }
}
