import Foundation
import Synchronization
import TasteGraphCore
import TasteGraphStore
import TasteGraphSupport

/// One held-out listen to replay: `user` played `item` `plays` times, at `at` when the file has times.
public struct HeldOutListen: Sendable, Equatable {
    public let user: String
    public let item: String
    public let plays: Int64
    public let at: Int64?

    public init(user: String, item: String, plays: Int64, at: Int64?) {
        self.user = user
        self.item = item
        self.plays = plays
        self.at = at
    }

    /// Reads `user<TAB>item<TAB>plays[<TAB>time]` lines (time: Unix seconds or RFC 3339); a first line
    /// whose plays field is not a number is a header. Either every line has a time or none has.
    /// - Throws: `InputError` naming the line and field.
    public static func read(path: String) throws -> [HeldOutListen] {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, line: nil, reason: "cannot read the file") }
        var listens: [HeldOutListen] = []
        var timed: Bool?
        for (offset, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.isEmpty { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            let number = offset + 1
            guard fields.count == 3 || fields.count == 4 else {
                throw InputError(file: path, line: number, reason: "expected user<TAB>item<TAB>plays[<TAB>time], got \(fields.count) fields")
            }
            guard let plays = Int64(fields[2]) else {
                if offset == 0 { continue }  // header
                throw InputError(file: path, line: number, reason: "plays '\(Printable.escaped(String(fields[2].prefix(40))))' is not an integer")
            }
            guard (1...ListenTable.maximumPlayCount).contains(plays) else {
                throw InputError(file: path, line: number, reason: "plays must be between 1 and \(ListenTable.maximumPlayCount), got \(plays)")
            }
            guard !fields[0].isEmpty, !fields[1].isEmpty else { throw InputError(file: path, line: number, reason: "empty user or item id") }
            var at: Int64?
            if fields.count == 4 {
                let text = String(fields[3])
                guard let seconds = Int64(text) ?? (try? EventValidation.time(text, field: "time")) else {
                    throw InputError(file: path, line: number, reason: "time '\(Printable.escaped(String(text.prefix(40))))' is neither Unix seconds nor RFC 3339")
                }
                guard (86_400..<4_102_444_800).contains(seconds) else {  // the exposure goes a minute before; the server takes 1970 … 2100
                    throw InputError(file: path, line: number, reason: "time \(seconds) must lie between 1970-01-02 and 2100")
                }
                at = seconds
            }
            if let timed, timed != (at != nil) { throw InputError(file: path, line: number, reason: "some lines have a time and some do not") }
            timed = at != nil
            listens.append(HeldOutListen(user: String(fields[0]), item: String(fields[1]), plays: plays, at: at))
        }
        return listens
    }
}

/// How a replay runs: rounds, seed, list length, concurrency, and the simulated clock.
public struct ReplaySettings: Sendable, Equatable {
    /// Rounds (simulated days) for listens without times; timed listens use their own days.
    public var rounds = 5
    public var seed: UInt64 = 0
    /// Recommendations per request.
    public var count = 20
    /// Connections (each drives its share of the users).
    public var connections = 4
    /// Day 0 of the simulated clock for untimed listens: 2026-01-05T00:00:00Z.
    public var start: Int64 = 1_767_571_200
    /// Event ids start with this, so two replays into one store never collide.
    public var eventPrefix = "replay"

    public init() {}
}

/// What each replayed user does, in order: per round, one exposure time and the listens that follow it.
///
/// **Untimed listens** (the lastfm-2k split): each user's listens are shuffled by a generator seeded with
/// `seed` and the user id (SplitMix64 over FNV-1a) and dealt round-robin into `rounds` rounds from a
/// seeded first round (listen j goes to round (j + shift) mod R, so users with fewer listens than rounds
/// do not leave the same rounds empty). Round r's exposure is at
/// `start + r·86,400 + offset`, the user's offset drawn from [0, 3,600) seconds by the same generator;
/// the round's listens follow at exposure + 60 s, + 61 s, …. So a round's listens fall within a 24-hour
/// window of that round's exposure and outside the previous round's.
/// **Timed listens** are replayed in time order: each user's listens are grouped by UTC day, the day's
/// exposure 60 s before its first listen.
public struct ReplayPlan: Sendable {
    public struct Round: Sendable {
        public let exposureAt: Int64
        public let listens: [(item: String, plays: Int64, at: Int64)]
    }

    public struct User: Sendable {
        public let id: String
        public let rounds: [Round]
    }

    public let users: [User]
    public var listenCount: Int { users.reduce(0) { $0 + $1.rounds.reduce(0) { $0 + $1.listens.count } } }
    public var requestCount: Int { users.reduce(0) { $0 + $1.rounds.count } }

    public init(listens: [HeldOutListen], settings: ReplaySettings) {
        var byUser: [String: [HeldOutListen]] = [:]
        for listen in listens { byUser[listen.user, default: []].append(listen) }
        users = byUser.keys.sorted().map { user in
            var events = byUser[user]!
            var rng = SplitMix64(seed: settings.seed ^ Self.fnv1a(user))
            let offset = Int64(rng.nextInt(below: 3_600))
            if events.allSatisfy({ $0.at != nil }) && !events.isEmpty {
                events.sort { ($0.at!, $0.item) < ($1.at!, $1.item) }
                var rounds: [Round] = []
                var current: [(item: String, plays: Int64, at: Int64)] = []
                var day: Int64?
                for event in events {
                    let d = ExperimentReport.floorDiv(event.at!, 86_400)
                    if day != d, !current.isEmpty {
                        rounds.append(Round(exposureAt: current[0].at - 60, listens: current))
                        current = []
                    }
                    day = d
                    current.append((event.item, event.plays, event.at!))
                }
                if !current.isEmpty { rounds.append(Round(exposureAt: current[0].at - 60, listens: current)) }
                return User(id: user, rounds: rounds)
            }
            for i in stride(from: events.count - 1, to: 0, by: -1) { events.swapAt(i, rng.nextInt(below: i + 1)) }
            let r = max(1, settings.rounds)
            let shift = rng.nextInt(below: r)
            let rounds = (0..<r).map { round -> Round in
                let exposure = settings.start + Int64(round) * 86_400 + offset
                let mine = events.indices.filter { ($0 + shift) % r == round }.map { events[$0] }
                return Round(exposureAt: exposure, listens: mine.enumerated().map { ($0.element.item, $0.element.plays, exposure + 60 + Int64($0.offset)) })
            }
            return User(id: user, rounds: rounds)
        }
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

/// What a replay did.
public struct ReplayTotals: Codable, Sendable, Equatable {
    public var users = 0
    public var requests = 0
    public var listensPosted = 0
    public var listensAccepted = 0
    public var seconds = 0.0
}

/// Drives a running server through its HTTP API with a `ReplayPlan`: for each user and round, one
/// `GET /v1/users/{id}/recommendations?k=…&at=…` (the exposure, at the round's simulated time), then one
/// `POST /v1/listens` with the round's listens (event ids `PREFIX-seed-user-round-j`). Users are spread
/// over `connections` connections; a user's requests stay in order on one of them, and nothing a user
/// does depends on another user's, so the stored exposures and the report do not depend on the
/// interleaving.
public struct ReplayDriver: Sendable {
    public let url: String
    public let token: String?
    public let settings: ReplaySettings

    public init(url: String, token: String?, settings: ReplaySettings) {
        self.url = url
        self.token = token
        self.settings = settings
    }

    /// Runs the plan; `progress` is told the users done so far (from any thread).
    /// - Throws: `HTTPConnection.Failure` for a server that cannot be reached or refuses a request (the
    ///   status and body are in the message).
    public func run(_ plan: ReplayPlan, progress: @escaping @Sendable (Int) -> Void = { _ in }) throws -> ReplayTotals {
        let start = Date()
        let connections = max(1, min(settings.connections, plan.users.count))
        let totals = Mutex(ReplayTotals())
        let failure = Mutex<(any Error)?>(nil)
        let done = Mutex(0)
        let group = DispatchGroup()
        for lane in 0..<connections {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    let connection = try HTTPConnection(url: url)
                    var mine = ReplayTotals()
                    for index in stride(from: lane, to: plan.users.count, by: connections) {
                        if failure.withLock({ $0 != nil }) { return }
                        try replay(plan.users[index], on: connection, into: &mine)
                        progress(done.withLock { $0 += 1; return $0 })
                    }
                    totals.withLock {
                        $0.users += mine.users
                        $0.requests += mine.requests
                        $0.listensPosted += mine.listensPosted
                        $0.listensAccepted += mine.listensAccepted
                    }
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
            thread.name = "tastegraph-replay-\(lane)"
            thread.start()
        }
        group.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        var result = totals.withLock { $0 }
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    /// The experiment's report as the server computes it (`GET /v1/experiments/{name}`).
    /// - Throws: `HTTPConnection.Failure` for an unreachable server or a status other than 200.
    public func report(experiment name: String, windowHours: Double) throws -> ExperimentReport {
        let connection = try HTTPConnection(url: url)
        let hours = windowHours == windowHours.rounded() ? String(Int(windowHours)) : String(windowHours)
        let reply = try connection.send("GET", "/v1/experiments/\(Self.pathEscaped(name))?window_hours=\(hours)")
        guard reply.status == 200 else { throw HTTPConnection.Failure(description: "the report of \(name): \(reply.status) \(reply.text.prefix(300))") }
        return try Self.decoder.decode(ExperimentReport.self, from: Data(reply.body))
    }

    func replay(_ user: ReplayPlan.User, on connection: HTTPConnection, into totals: inout ReplayTotals) throws {
        totals.users += 1
        let id = Self.pathEscaped(user.id)
        for (round, step) in user.rounds.enumerated() {
            let reply = try connection.send("GET", "/v1/users/\(id)/recommendations?k=\(settings.count)&at=\(step.exposureAt)")
            guard reply.status == 200 else { throw HTTPConnection.Failure(description: "GET recommendations of \(user.id): \(reply.status) \(reply.text.prefix(300))") }
            totals.requests += 1
            guard !step.listens.isEmpty else { continue }
            let events = step.listens.enumerated().map { j, listen in
                ListenEvent(eventId: "\(settings.eventPrefix)-\(settings.seed)-\(user.id)-\(round)-\(j)", user: user.id, item: listen.item, plays: listen.plays,
                            at: Self.rfc3339(listen.at))
            }
            let body = try Self.encoder.encode(ListenBatch(listens: events))
            let posted = try connection.send("POST", "/v1/listens", body: Array(body), token: token)
            guard posted.status == 200 else { throw HTTPConnection.Failure(description: "POST /v1/listens for \(user.id): \(posted.status) \(posted.text.prefix(300))") }
            totals.requests += 1
            totals.listensPosted += events.count
            if let receipt = try? Self.decoder.decode(ListenReceipt.self, from: Data(posted.body)) { totals.listensAccepted += receipt.accepted }
        }
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    /// Percent-escapes a path segment (everything but unreserved characters).
    static func pathEscaped(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds.
    static func rfc3339(_ seconds: Int64) -> String {
        let day = ExperimentReport.floorDiv(seconds, 86_400)
        let rest = seconds - day * 86_400
        return ExperimentReport.isoDay(day) + String(format: "T%02lld:%02lld:%02lldZ", rest / 3_600, rest % 3_600 / 60, rest % 60)
    }
}
