import Foundation
import TasteGraphStore

/// An estimate with its 95 % interval (nil bounds: fewer than two users, no interval).
public struct Estimate: Codable, Sendable, Equatable {
    public let value: Double
    public let low: Double?
    public let high: Double?
}

/// One user's counts in one arm: songs recommended (units) and of those listened.
public struct UserTally: Codable, Sendable, Equatable {
    public var recommended = 0
    public var listened = 0

    public init(recommended: Int = 0, listened: Int = 0) {
        self.recommended = recommended
        self.listened = listened
    }
}

/// An arm against the control: the difference of a share (arm − control), its 95 % interval, and the
/// two-sided p-value of "no difference" (normal approximation).
public struct Comparison: Codable, Sendable, Equatable {
    public let difference: Double
    public let low: Double?
    public let high: Double?
    public let pValue: Double?
}

/// The business metric for one arm (overall, one day, or one policy route).
public struct ArmFigures: Codable, Sendable, Equatable {
    public let arm: String
    /// UTC day of the exposures (`YYYY-MM-DD`) in the daily series; nil overall.
    public let day: String?
    /// The policy rule in the per-route breakdown; nil otherwise.
    public let route: String?
    /// Lists served.
    public let exposures: Int
    /// Distinct users exposed.
    public let users: Int
    /// Songs recommended: distinct (user, song) pairs per day (see `ExperimentReport`).
    public let recommended: Int
    /// Of those, songs the user played within the window after the exposure.
    public let listened: Int
    /// listened / recommended, pooled over users (delta-method interval).
    public let listenedShare: Estimate
    /// The mean over users of each user's listened / recommended, as the seed defines the metric
    /// (normal interval over users).
    public let meanUserShare: Estimate
    /// `listenedShare` minus the control's (nil for the control and in the route breakdown).
    public let vsControl: Comparison?
    /// `meanUserShare` minus the control's.
    public let meanUserVsControl: Comparison?
}

/// The experiment's metric: *the share of recommended songs that users listen to*.
///
/// **Units.** A song recommended to a user counts once per UTC day of exposure: the pair (user, song)
/// is a unit of that day, timed at its first exposure that day (a list refreshed ten times does not count
/// ten times). The unit is *listened* when a live listen event of that user and song has an event time
/// `t` with exposure ≤ t ≤ exposure + `window`. Only live events count (`POST /v1/listens`), never the
/// imported history.
///
/// **Intervals: the delta method, users as the independent units.** For an arm with users u = 1…n, each
/// with Nᵤ songs recommended and Lᵤ listened, the pooled share R = ΣLᵤ / ΣNᵤ has
/// Var(R) ≈ Σ(Lᵤ − R·Nᵤ)² / ((n − 1)·n·N̄²), N̄ = ΣNᵤ / n; the per-user mean share m = mean(Lᵤ/Nᵤ) has
/// Var(m) = s²/n. Intervals are ±1.96 standard errors. Arms are independent samples of users, so a
/// difference D = R_arm − R_control has Var(D) = Var(R_arm) + Var(R_control), and p = erfc(|D|/(√2·se)).
public struct ExperimentReport: Codable, Sendable, Equatable {
    public let experiment: String
    public let control: String
    public let windowSeconds: Int64
    public let method: String
    /// Time of the first and last exposure (Unix seconds), nil without exposures.
    public let firstExposure: Int64?
    public let lastExposure: Int64?
    /// Per arm, in the experiment's arm order (an arm that served nobody yet: zeros).
    public let arms: [ArmFigures]
    /// Per arm and UTC day, days ascending.
    public let daily: [ArmFigures]
    /// Per arm and the policy rule that answered (`model`, `cold_start`, `low_engagement`, …).
    public let routes: [ArmFigures]

    /// The report narrowed to one arm: its overall row, its daily series and its routes.
    public func only(arm: String) -> ExperimentReport {
        ExperimentReport(
            experiment: experiment, control: control, windowSeconds: windowSeconds, method: method, firstExposure: firstExposure,
            lastExposure: lastExposure, arms: arms.filter { $0.arm == arm }, daily: daily.filter { $0.arm == arm }, routes: routes.filter { $0.arm == arm })
    }

    public static let methodDescription =
        "delta method over users (independent units); 95% = ±1.96 standard errors; p two-sided, normal approximation"

    /// Computes the report from exposures and live listens.
    /// - Parameters:
    ///   - arms: the arms in report order (arms with exposures but not listed follow, sorted).
    ///   - listens: (user, item, event time) of every live listen (external ids).
    ///   - window: seconds after an exposure within which a play counts.
    public static func compute(
        experiment: String, control: String, arms: [String], exposures: [Exposure], listens: [(user: String, item: String, at: Int64)], window: Int64
    ) -> ExperimentReport {
        struct Tally { var recommended = 0, listened = 0 }
        var overall: [String: [String: Tally]] = [:]  // arm → user → tally
        var daily: [String: [Int64: [String: Tally]]] = [:]
        var routes: [String: [String: [String: Tally]]] = [:]
        var exposureCount: [String: Int] = [:], dayExposures: [String: [Int64: Int]] = [:], routeExposures: [String: [String: Int]] = [:]
        let (ordered, units) = Self.units(exposures: exposures, listens: listens, window: window)
        for exposure in ordered {
            let day = floorDiv(exposure.at, 86_400)
            exposureCount[exposure.arm, default: 0] += 1
            dayExposures[exposure.arm, default: [:]][day, default: 0] += 1
            routeExposures[exposure.arm, default: [:]][exposure.route, default: 0] += 1
            overall[exposure.arm, default: [:]][exposure.user, default: Tally()].recommended += 0  // exposed, even with an empty list
        }
        for unit in units {
            let hit = unit.listened ? 1 : 0
            overall[unit.arm, default: [:]][unit.user, default: Tally()].recommended += 1
            overall[unit.arm, default: [:]][unit.user, default: Tally()].listened += hit
            daily[unit.arm, default: [:]][unit.day, default: [:]][unit.user, default: Tally()].recommended += 1
            daily[unit.arm, default: [:]][unit.day, default: [:]][unit.user, default: Tally()].listened += hit
            routes[unit.arm, default: [:]][unit.route, default: [:]][unit.user, default: Tally()].recommended += 1
            routes[unit.arm, default: [:]][unit.route, default: [:]][unit.user, default: Tally()].listened += hit
        }
        let armOrder = arms + overall.keys.filter { !arms.contains($0) }.sorted()

        func sample(_ tallies: [String: Tally]) -> UserSample {
            UserSample(tallies.sorted { $0.key < $1.key }.map { (Double($0.value.recommended), Double($0.value.listened)) })
        }
        func figures(_ arm: String, day: Int64?, route: String?, exposures: Int, _ users: [String: Tally], control: UserSample?) -> ArmFigures {
            let s = sample(users)
            return ArmFigures(
                arm: arm, day: day.map(isoDay), route: route, exposures: exposures, users: users.count, recommended: Int(s.totalN), listened: Int(s.totalL),
                listenedShare: s.pooled, meanUserShare: s.meanShare,
                vsControl: control.map { UserSample.compare(s.pooled, s.pooledVariance, $0.pooled, $0.pooledVariance) },
                meanUserVsControl: control.map { UserSample.compare(s.meanShare, s.meanVariance, $0.meanShare, $0.meanVariance) })
        }

        let controlOverall = overall[control].map(sample)
        var armRows: [ArmFigures] = []
        var dayRows: [ArmFigures] = []
        var routeRows: [ArmFigures] = []
        for arm in armOrder {
            let users = overall[arm] ?? [:]  // an arm that served nobody yet has a row of zeros
            armRows.append(figures(arm, day: nil, route: nil, exposures: exposureCount[arm] ?? 0, users, control: arm == control ? nil : controlOverall))
            for (day, dayUsers) in (daily[arm] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let controlDay = daily[control]?[day].map(sample)
                dayRows.append(figures(arm, day: day, route: nil, exposures: dayExposures[arm]?[day] ?? 0, dayUsers, control: arm == control ? nil : controlDay))
            }
            for (route, routeUsers) in (routes[arm] ?? [:]).sorted(by: { $0.key < $1.key }) {
                routeRows.append(figures(arm, day: nil, route: route, exposures: routeExposures[arm]?[route] ?? 0, routeUsers, control: nil))
            }
        }
        dayRows.sort { ($0.day ?? "", armOrder.firstIndex(of: $0.arm) ?? 0) < ($1.day ?? "", armOrder.firstIndex(of: $1.arm) ?? 0) }
        return ExperimentReport(
            experiment: experiment, control: control, windowSeconds: window, method: methodDescription,
            firstExposure: ordered.first?.at, lastExposure: ordered.last?.at, arms: armRows, daily: dayRows, routes: routeRows)
    }

    /// One song recommended to one user on one UTC day (at its first exposure that day), and whether the
    /// user played it within the window after that exposure.
    public struct Unit: Sendable, Equatable {
        public let arm: String
        public let day: Int64
        public let route: String
        public let user: String
        public let item: String
        public let listened: Bool
    }

    /// The exposures in time order, and their units (see the type's documentation for the rules).
    public static func units(
        exposures: [Exposure], listens: [(user: String, item: String, at: Int64)], window: Int64
    ) -> (ordered: [Exposure], units: [Unit]) {
        struct Pair: Hashable { let user: String, item: String }
        var times: [Pair: [Int64]] = [:]
        for listen in listens { times[Pair(user: listen.user, item: listen.item), default: []].append(listen.at) }
        for key in times.keys { times[key]!.sort() }
        func played(_ pair: Pair, from start: Int64) -> Bool {
            guard let list = times[pair] else { return false }
            var low = 0, high = list.count  // first time ≥ start
            while low < high {
                let mid = (low + high) / 2
                if list[mid] < start { low = mid + 1 } else { high = mid }
            }
            return low < list.count && list[low] <= start + window
        }
        struct Key: Hashable { let arm: String, day: Int64, user: String, item: String }
        var seen = Set<Key>()
        var units: [Unit] = []
        let ordered = exposures.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        for exposure in ordered {
            let day = floorDiv(exposure.at, 86_400)
            for item in exposure.items where seen.insert(Key(arm: exposure.arm, day: day, user: exposure.user, item: item)).inserted {
                units.append(Unit(arm: exposure.arm, day: day, route: exposure.route, user: exposure.user, item: item,
                                  listened: played(Pair(user: exposure.user, item: item), from: exposure.at)))
            }
        }
        return (ordered, units)
    }

    /// Per arm, per user: (songs recommended, songs listened), over every day.
    public static func tallies(
        exposures: [Exposure], listens: [(user: String, item: String, at: Int64)], window: Int64
    ) -> [String: [String: UserTally]] {
        var result: [String: [String: UserTally]] = [:]
        let (ordered, units) = Self.units(exposures: exposures, listens: listens, window: window)
        for exposure in ordered { result[exposure.arm, default: [:]][exposure.user, default: UserTally()].recommended += 0 }
        for unit in units {
            result[unit.arm, default: [:]][unit.user, default: UserTally()].recommended += 1
            if unit.listened { result[unit.arm, default: [:]][unit.user, default: UserTally()].listened += 1 }
        }
        return result
    }

    /// Two arms that each served the same users (a replay run once per arm over everyone): arm `a` minus
    /// arm `b`, paired by user, for the pooled share and the mean share per user.
    ///
    /// Pooled: D = R_a − R_b ≈ mean of dᵤ = (Lᵃᵤ − R_a·Nᵃᵤ)/N̄_a − (Lᵇᵤ − R_b·Nᵇᵤ)/N̄_b (the delta method;
    /// Σdᵤ = 0), so Var(D) ≈ Σdᵤ² / ((n − 1)·n). Mean per user: the mean of sᵃᵤ − sᵇᵤ and its variance / n.
    /// Users either arm lacks are left out. Pairing removes the between-user variance both arms share.
    public static func paired(_ a: [String: UserTally], _ b: [String: UserTally]) -> (pooled: Comparison, meanUser: Comparison) {
        let users = a.keys.filter { b[$0] != nil }.sorted()
        let n = Double(users.count)
        let na = users.reduce(0.0) { $0 + Double(a[$1]!.recommended) }, la = users.reduce(0.0) { $0 + Double(a[$1]!.listened) }
        let nb = users.reduce(0.0) { $0 + Double(b[$1]!.recommended) }, lb = users.reduce(0.0) { $0 + Double(b[$1]!.listened) }
        let ra = na > 0 ? la / na : 0, rb = nb > 0 ? lb / nb : 0
        let meanNA = n > 0 ? na / n : 0, meanNB = n > 0 ? nb / n : 0
        var ss = 0.0
        var shares: [Double] = []
        for user in users {
            let x = a[user]!, y = b[user]!
            let d = (meanNA > 0 ? (Double(x.listened) - ra * Double(x.recommended)) / meanNA : 0)
                - (meanNB > 0 ? (Double(y.listened) - rb * Double(y.recommended)) / meanNB : 0)
            ss += d * d
            if x.recommended > 0 && y.recommended > 0 {
                shares.append(Double(x.listened) / Double(x.recommended) - Double(y.listened) / Double(y.recommended))
            }
        }
        let pooledVariance: Double? = users.count >= 2 ? ss / ((n - 1) * n) : nil
        let meanDiff = shares.isEmpty ? 0 : shares.reduce(0, +) / Double(shares.count)
        let meanVariance: Double? = shares.count >= 2
            ? shares.reduce(0.0) { $0 + ($1 - meanDiff) * ($1 - meanDiff) } / Double(shares.count - 1) / Double(shares.count) : nil
        return (UserSample.comparison(ra - rb, pooledVariance), UserSample.comparison(meanDiff, meanVariance))
    }

    /// The report of experiment `name` from the store: its recorded definition (arm order, control), its
    /// exposures and the store's live listens.
    /// - Throws: `ServingError` (not found) when the store has neither a definition nor exposures of `name`;
    ///   the store's errors.
    public static func load(store: GraphStore, name: String, window: Int64) throws -> ExperimentReport {
        let definition = try store.experiment(named: name).flatMap { try? ExperimentDefinition.decode(json: $0.definition) }
        let exposures = try store.exposures(experiment: name)
        guard definition != nil || !exposures.isEmpty else {
            let known = try store.experimentNames()
            throw ServingError(
                field: "name", detail: "no experiment '\(name)' in this store" + (known.isEmpty ? " (none recorded)" : "; recorded: \(known.joined(separator: ", "))"),
                kind: .notFound)
        }
        let arms = definition?.arms.map(\.name) ?? Array(Set(exposures.map(\.arm))).sorted()
        return compute(
            experiment: name, control: definition?.controlArm ?? arms.first ?? "", arms: arms, exposures: exposures, listens: try liveListens(store),
            window: window)
    }

    /// Per arm, per user tallies of experiment `name` in the store (see `tallies(exposures:listens:window:)`).
    public static func tallies(store: GraphStore, name: String, window: Int64) throws -> [String: [String: UserTally]] {
        tallies(exposures: try store.exposures(experiment: name), listens: try liveListens(store), window: window)
    }

    /// Every live listen event of the store as (user, item, event time) in external ids.
    static func liveListens(_ store: GraphStore) throws -> [(user: String, item: String, at: Int64)] {
        // Events first, then the catalog: a listen stored in between only adds users and items, so every
        // event read resolves (an index past the catalog would be skipped, never trapped on).
        let events = try store.listenEvents()
        let catalog = try store.catalog()
        return events.compactMap { event in
            guard event.user.rawValue < catalog.userCount, event.item.rawValue < catalog.itemCount else { return nil }
            return (user: catalog.userExternalIDs[event.user.rawValue], item: catalog.itemExternalIDs[event.item.rawValue], at: event.at)
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// `YYYY-MM-DD` of a day number since 1970-01-01 (proleptic Gregorian, UTC).
    static func isoDay(_ day: Int64) -> String {
        // Howard Hinnant's civil-from-days.
        let z = day + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return String(format: "%04lld-%02lld-%02lld", y, m, d)
    }
}

/// Per-user (recommended, listened) counts of one arm, and the estimates over them.
struct UserSample {
    let n: [Double]
    let l: [Double]
    let totalN: Double
    let totalL: Double

    init(_ users: [(recommended: Double, listened: Double)]) {
        n = users.map(\.recommended)
        l = users.map(\.listened)
        totalN = n.reduce(0, +)
        totalL = l.reduce(0, +)
    }

    var count: Int { n.count }
    var ratio: Double { totalN > 0 ? totalL / totalN : 0 }

    /// Var(R) ≈ Σ(Lᵤ − R·Nᵤ)² / ((n − 1)·n·N̄²); nil for fewer than two users.
    var pooledVariance: Double? {
        guard count >= 2, totalN > 0 else { return nil }
        let r = ratio, meanN = totalN / Double(count)
        let ss = zip(n, l).reduce(0.0) { $0 + ($1.1 - r * $1.0) * ($1.1 - r * $1.0) }
        return ss / (Double(count - 1) * Double(count) * meanN * meanN)
    }

    /// Users with at least one song recommended, each with their share.
    var shares: [Double] { zip(n, l).compactMap { $0.0 > 0 ? $0.1 / $0.0 : nil } }

    var meanVariance: Double? {
        let s = shares
        guard s.count >= 2 else { return nil }
        let mean = s.reduce(0, +) / Double(s.count)
        return s.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(s.count - 1) / Double(s.count)
    }

    var pooled: Estimate { Self.estimate(ratio, pooledVariance) }

    var meanShare: Estimate {
        let s = shares
        return Self.estimate(s.isEmpty ? 0 : s.reduce(0, +) / Double(s.count), meanVariance)
    }

    static let z95 = 1.959_963_984_540_054

    static func estimate(_ value: Double, _ variance: Double?) -> Estimate {
        guard let variance else { return Estimate(value: value, low: nil, high: nil) }
        let half = z95 * variance.squareRoot()
        return Estimate(value: value, low: value - half, high: value + half)
    }

    static func compare(_ arm: Estimate, _ armVariance: Double?, _ control: Estimate, _ controlVariance: Double?) -> Comparison {
        comparison(arm.value - control.value, armVariance.flatMap { a in controlVariance.map { a + $0 } })
    }

    /// A difference with the variance of its estimate: interval ±1.96 se, two-sided normal p-value.
    static func comparison(_ difference: Double, _ variance: Double?) -> Comparison {
        guard let variance else { return Comparison(difference: difference, low: nil, high: nil, pValue: nil) }
        let se = variance.squareRoot()
        let p = se > 0 ? erfc(abs(difference) / (se * 2.0.squareRoot())) : (difference == 0 ? 1 : 0)
        return Comparison(difference: difference, low: difference - z95 * se, high: difference + z95 * se, pValue: p)
    }
}
