import Foundation
import TasteGraphStore

/// The replay run once per arm over every user: each arm alone serves the whole held-out population (its
/// own server, on its own fresh copy of the store), so the arms can be compared user by user.
///
/// A split replay (the experiment's shares) is an A/B test: each user sees one arm, and two arms differ
/// by their users as well as by their models. Here every arm sees the same users with the same listens
/// in the same order, and `ExperimentReport.paired` compares them per user, which removes the
/// between-user variance both arms share: on lastfm-2k the interval of a difference is several times
/// narrower than the split replay's (README, "Experiments").
public struct EachArmReplay: Sendable {
    /// One arm's run: its figures over every user (the arm's row of the run's report) and its per-user tallies.
    public struct Run: Codable, Sendable {
        public let figures: ArmFigures
        public let daily: [ArmFigures]
        public let routes: [ArmFigures]
        public let totals: ReplayTotals
        public let tallies: [String: UserTally]
    }

    /// An arm against the control, paired by user.
    public struct PairedComparison: Codable, Sendable, Equatable {
        public let arm: String
        public let against: String
        public let users: Int
        public let listenedShare: Comparison
        public let meanUserShare: Comparison
    }

    public struct Result: Codable, Sendable {
        public let experiment: String
        public let control: String
        public let windowSeconds: Int64
        public let method: String
        public let arms: [ArmFigures]
        public let daily: [ArmFigures]
        public let routes: [ArmFigures]
        /// Each arm against the control, paired by user.
        public let paired: [PairedComparison]
        /// Every other pair of arms (a later arm against an earlier one, file order), paired by user.
        public let otherPairs: [PairedComparison]
        public let totals: ReplayTotals
    }

    public static let pairedMethod =
        "each arm replayed over every user; arm minus control paired by user (delta method on per-user residuals); 95% = ±1.96 standard errors"

    public let definition: ExperimentDefinition
    public let store: String
    public let model: String
    public let executable: String
    public let settings: ReplaySettings
    public let windowHours: Double

    public init(definition: ExperimentDefinition, store: String, model: String, executable: String, settings: ReplaySettings, windowHours: Double) {
        self.definition = definition
        self.store = store
        self.model = model
        self.executable = executable
        self.settings = settings
        self.windowHours = windowHours
    }

    /// Runs every arm in file order, then compares each with the control.
    /// - Parameter log: told each arm's start and end.
    /// - Throws: what `LocalReplayServer` and `ReplayDriver` throw.
    public func run(_ plan: ReplayPlan, heldOut: [HeldOutListen], log: @escaping @Sendable (String) -> Void = { _ in }) throws -> Result {
        let window = Int64((windowHours * 3_600).rounded())
        var runs: [String: Run] = [:]
        var totals = ReplayTotals()
        for arm in definition.arms {
            var alone = definition
            alone.traffic = nil  // every user, whatever slice the experiment takes in production
            for index in alone.arms.indices { alone.arms[index].share = alone.arms[index].name == arm.name ? 1 : 0 }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tastegraph-each-arm-\(UUID().uuidString).json").path
            guard FileManager.default.createFile(atPath: folder, contents: Data(alone.json.utf8)) else {
                throw StoreError("cannot write the experiment file of arm \(arm.name) at \(folder)")
            }
            defer { try? FileManager.default.removeItem(atPath: folder) }
            log("arm \(arm.name): starting its server")
            let server = try LocalReplayServer(store: store, model: model, experiments: [folder], withholding: heldOut, executable: executable)
            do {
                let driver = ReplayDriver(url: server.url, token: server.token, settings: settings)
                let armTotals = try driver.run(plan)
                let report = try driver.report(experiment: definition.name, windowHours: windowHours)
                let tallies = try ExperimentReport.tallies(store: GraphStore.openExisting(path: server.storeCopy), name: definition.name, window: window)
                guard let figures = report.arms.first(where: { $0.arm == arm.name }), figures.exposures > 0 else {
                    throw StoreError("the run of arm \(arm.name) logged no exposure of it")
                }
                runs[arm.name] = Run(
                    figures: figures, daily: report.daily.filter { $0.arm == arm.name }, routes: report.routes.filter { $0.arm == arm.name },
                    totals: armTotals, tallies: tallies[arm.name] ?? [:])
                totals.users = max(totals.users, armTotals.users)
                totals.requests += armTotals.requests
                totals.listensPosted += armTotals.listensPosted
                totals.listensAccepted += armTotals.listensAccepted
                totals.seconds += armTotals.seconds
                log(String(format: "arm %@: %d requests in %.1f s, listened share %.2f%%", arm.name, armTotals.requests, armTotals.seconds, figures.listenedShare.value * 100))
            } catch {
                try? server.stop()
                throw error
            }
            try server.stop()
        }
        let control = definition.controlArm
        let ordered = definition.arms.compactMap { runs[$0.name] }
        func compare(_ arm: String, _ against: String) -> PairedComparison? {
            guard let a = runs[arm]?.tallies, let b = runs[against]?.tallies else { return nil }
            let comparison = ExperimentReport.paired(a, b)
            return PairedComparison(
                arm: arm, against: against, users: a.keys.filter { b[$0] != nil }.count, listenedShare: comparison.pooled, meanUserShare: comparison.meanUser)
        }
        let names = definition.arms.map(\.name)
        let paired = names.filter { $0 != control }.compactMap { compare($0, control) }
        var otherPairs: [PairedComparison] = []
        for (i, later) in names.enumerated() where later != control {
            for earlier in names[..<i] where earlier != control {
                if let pair = compare(later, earlier) { otherPairs.append(pair) }
            }
        }
        return Result(
            experiment: definition.name, control: control, windowSeconds: window, method: Self.pairedMethod, arms: ordered.map(\.figures),
            daily: ordered.flatMap(\.daily).enumerated().sorted { ($0.element.day ?? "", $0.offset) < ($1.element.day ?? "", $1.offset) }.map(\.element), routes: ordered.flatMap(\.routes), paired: paired, otherPairs: otherPairs, totals: totals)
    }
}
