import TasteGraphCore
import TasteGraphSupport

/// The session figures of `tastegraph stats`: how many sessions, how long, and when people listen.
/// Hours and weekdays are UTC (`RFC3339.hour`, `.weekday`): the dumps carry no time zone per listener.
public struct SessionStatistics: Codable, Sendable, Equatable {
    public let gapMinutes: Double
    public let sessions: Int
    public let plays: Int
    /// Listeners with at least one play.
    public let listeners: Int
    /// Plays per session.
    public let playsPerSession: Quantiles?
    /// First to last play of each session, in minutes (0 for a one-play session).
    public let minutesPerSession: Quantiles?
    /// Sessions per listener with plays.
    public let sessionsPerListener: Quantiles?
    /// Plays by hour of day, 0–23 (UTC).
    public let playsByHour: [Int]
    /// Plays by weekday, Monday first (UTC).
    public let playsByWeekday: [Int]
    /// Share of plays that repeat the session's previous play (the same item twice in a row).
    public let immediateRepeatShare: Double

    public init(_ sessions: ListeningSessions) {
        gapMinutes = Double(sessions.gapSeconds) / 60
        self.sessions = sessions.count
        plays = sessions.playCount
        var byHour = [Int](repeating: 0, count: 24), byWeekday = [Int](repeating: 0, count: 7)
        for t in sessions.times {
            byHour[RFC3339.hour(t)] += 1
            byWeekday[RFC3339.weekday(t)] += 1
        }
        playsByHour = byHour
        playsByWeekday = byWeekday
        var lengths: [Double] = [], minutes: [Double] = []
        var perUser: [Int32: Int] = [:]
        var repeats = 0
        for s in 0..<sessions.count {
            lengths.append(Double(sessions.length(of: s)))
            minutes.append(Double(sessions.end(of: s) - sessions.start(of: s)) / 60)
            perUser[sessions.sessionUser[s], default: 0] += 1
            let r = sessions.range(s)
            for k in r.dropFirst() where sessions.items[k] == sessions.items[k - 1] { repeats += 1 }
        }
        listeners = perUser.count
        playsPerSession = lengths.isEmpty ? nil : Quantiles(lengths)
        minutesPerSession = minutes.isEmpty ? nil : Quantiles(minutes)
        sessionsPerListener = perUser.isEmpty ? nil : Quantiles(perUser.values.map(Double.init))
        immediateRepeatShare = plays > 0 ? Double(repeats) / Double(plays) : 0
    }
}
