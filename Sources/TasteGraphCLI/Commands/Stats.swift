import ArgumentParser
import TasteGraphCore
import TasteGraphSessions
import TasteGraphStore
import TasteGraphSupport

/// `tastegraph stats`: what the store holds.
struct Stats: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print users, items, artists, listens, plays, quantiles of plays per user and per item, and density.",
        discussion: """
            Counts cover the active data (after `tastegraph prepare` filters). Quantiles interpolate linearly.

            A store with timestamped plays (`import plays`, `import lastfm-1k`, or listens posted with `at`) also \
            gets session figures: a gap of more than --session-gap minutes between two plays of a listener starts \
            a new session; sessions count, plays and minutes per session, sessions per listener, plays by hour \
            of day and by weekday (UTC), and the share of plays repeating the previous one.
            """
    )

    @OptionGroup var store: StoreOption
    @Option(name: .long, help: ArgumentHelp("Minutes of silence that end a listening session (a longer gap starts a new one).", valueName: "minutes"))
    var sessionGap = ListeningSessions.defaultGapMinutes
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard sessionGap > 0, sessionGap.isFinite else { throw ValidationError("--session-gap must be a positive number of minutes, got \(sessionGap)") }
    }

    /// `stats --json`: the store's figures, plus `sessions` where it has timed plays.
    struct Output: Encodable {
        let stats: StoreStats
        let sessions: SessionStatistics?
        enum Keys: String, CodingKey { case sessions }
        func encode(to encoder: Encoder) throws {
            try stats.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encodeIfPresent(sessions, forKey: .sessions)
        }
    }

    func run(context: CLIContext) throws {
        let graphStore = try GraphStore.openExisting(path: store.store)
        let stats = try graphStore.stats()
        let plays = try graphStore.timedPlayCount() > 0 ? try graphStore.timedPlays() : TimedPlays()
        let sessions = plays.count > 0 ? SessionStatistics(ListeningSessions(plays, gapMinutes: sessionGap)) : nil
        if output.json {
            context.print(try JSONOutput.encode(Output(stats: stats, sessions: sessions)))
            return
        }
        let rows: [(String, String)] = [
            ("dataset", stats.dataset ?? "empty"),
            ("users", Format.grouped(stats.users)),
            ("items", Format.grouped(stats.items)),
            ("artists", Format.grouped(stats.artists)),
            ("listens", Format.grouped(stats.listens)),
            ("plays", Format.grouped(stats.plays)),
            ("tags", Format.grouped(stats.tags)),
            ("tag assignments", Format.grouped(stats.tagAssignments)),
            ("friend pairs", Format.grouped(stats.friendPairs)),
            ("density", String(format: "%.6f", stats.density)),
        ]
        for (name, value) in rows { context.print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + value) }
        if stats.inactiveUsers + stats.inactiveItems > 0 {
            context.print("filtered out      \(Format.grouped(stats.inactiveUsers)) users, \(Format.grouped(stats.inactiveItems)) items")
        }
        context.print("")
        context.print("quantiles            min     p25  median     p75     p90     p99       max     mean")
        let distributions: [(String, Quantiles?)] = [
            ("plays per user", stats.playsPerUser), ("items per user", stats.itemsPerUser),
            ("plays per item", stats.playsPerItem), ("listeners per item", stats.listenersPerItem),
        ]
        for (name, q) in distributions {
            guard let q else { continue }
            let cells = [q.min, q.p25, q.median, q.p75, q.p90, q.p99].map { pad(Format.number($0, digits: 1), 8) }
            context.print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + cells.joined()
                + pad(Format.number(q.max, digits: 1), 10) + pad(Format.number(q.mean, digits: 1), 9))
        }
        if let sessions { printSessions(sessions, context: context) }
    }

    private func printSessions(_ sessions: SessionStatistics, context: CLIContext) {
        context.print("")
        context.print(
            "sessions          \(Format.grouped(sessions.sessions)) (gap > \(Format.number(sessions.gapMinutes, digits: 0)) min) of \(Format.grouped(sessions.plays)) plays by \(Format.grouped(sessions.listeners)) listeners; \(Format.number(100 * sessions.immediateRepeatShare, digits: 1)) % of plays repeat the previous one")
        let distributions: [(String, Quantiles?)] = [
            ("plays per session", sessions.playsPerSession), ("min per session", sessions.minutesPerSession),
            ("sessions/listener", sessions.sessionsPerListener),
        ]
        for (name, q) in distributions {
            guard let q else { continue }
            let cells = [q.min, q.p25, q.median, q.p75, q.p90, q.p99].map { pad(Format.number($0, digits: 1), 8) }
            context.print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + cells.joined()
                + pad(Format.number(q.max, digits: 1), 10) + pad(Format.number(q.mean, digits: 1), 9))
        }
        let total = max(1, sessions.plays)
        context.print("plays by hour (UTC, % of plays)")
        for row in 0..<4 {
            let cells = (row * 6..<(row * 6 + 6)).map { hour in
                "\(hour < 10 ? "0" : "")\(hour)h " + pad(Format.number(100 * Double(sessions.playsByHour[hour]) / Double(total), digits: 1), 5)
            }
            context.print("  " + cells.joined(separator: "   "))
        }
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        context.print("plays by weekday  " + zip(names, sessions.playsByWeekday).map { "\($0) \(Format.number(100 * Double($1) / Double(total), digits: 1))" }.joined(separator: "  "))
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
