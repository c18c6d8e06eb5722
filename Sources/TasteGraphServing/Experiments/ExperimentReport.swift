import Foundation
import TasteGraphStore

/// An estimate with its 95 % interval (nil bounds: fewer than two users, no interval).
public struct Estimate: Codable, Sendable, Equatable {
    public let value: Double
    public let low: Double?
    public let high: Double?
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
    /// Per arm, in the experiment's arm order.
    public let arms: [ArmFigures]
    /// Per arm and UTC day, days ascending.
    public let daily: [ArmFigures]
    /// Per arm and the policy rule that answered (`model`, `cold_start`, `low_engagement`, …).
    public let routes: [ArmFigures]

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

        struct Unit: Hashable { let arm: String, day: Int64, user: String, item: String }
        struct Tally { var recommended = 0, listened = 0 }
        var seen = Set<Unit>()
        var overall: [String: [String: Tally]] = [:]  // arm → user → tally
        var daily: [String: [Int64: [String: Tally]]] = [:]
        var routes: [String: [String: [String: Tally]]] = [:]
        var exposureCount: [String: Int] = [:], dayExposures: [String: [Int64: Int]] = [:], routeExposures: [String: [String: Int]] = [:]
        let ordered = exposures.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        for exposure in ordered {
            let day = floorDiv(exposure.at, 86_400)
            exposureCount[exposure.arm, default: 0] += 1
            dayExposures[exposure.arm, default: [:]][day, default: 0] += 1
            routeExposures[exposure.arm, default: [:]][exposure.route, default: 0] += 1
            overall[exposure.arm, default: [:]][exposure.user, default: Tally()].recommended += 0  // exposed, even with an empty list
            for item in exposure.items where seen.insert(Unit(arm: exposure.arm, day: day, user: exposure.user, item: item)).inserted {
                let hit = played(Pair(user: exposure.user, item: item), from: exposure.at) ? 1 : 0
                overall[exposure.arm, default: [:]][exposure.user, default: Tally()].recommended += 1
                overall[exposure.arm, default: [:]][exposure.user, default: Tally()].listened += hit
                daily[exposure.arm, default: [:]][day, default: [:]][exposure.user, default: Tally()].recommended += 1
                daily[exposure.arm, default: [:]][day, default: [:]][exposure.user, default: Tally()].listened += hit
                routes[exposure.arm, default: [:]][exposure.route, default: [:]][exposure.user, default: Tally()].recommended += 1
                routes[exposure.arm, default: [:]][exposure.route, default: [:]][exposure.user, default: Tally()].listened += hit
            }
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
            guard let users = overall[arm] else { continue }
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
        let catalog = try store.catalog()
        let listens = try store.listenEvents().map { event in
            (user: catalog.userExternalIDs[event.user.rawValue], item: catalog.itemExternalIDs[event.item.rawValue], at: event.at)
        }
        let arms = definition?.arms.map(\.name) ?? Array(Set(exposures.map(\.arm))).sorted()
        return compute(experiment: name, control: definition?.controlArm ?? arms.first ?? "", arms: arms, exposures: exposures, listens: listens, window: window)
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
        let difference = arm.value - control.value
        guard let a = armVariance, let c = controlVariance else { return Comparison(difference: difference, low: nil, high: nil, pValue: nil) }
        let se = (a + c).squareRoot()
        let p = se > 0 ? erfc(abs(difference) / (se * 2.0.squareRoot())) : (difference == 0 ? 1 : 0)
        return Comparison(difference: difference, low: difference - z95 * se, high: difference + z95 * se, pValue: p)
    }
}
