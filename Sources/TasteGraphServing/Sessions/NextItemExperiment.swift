import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphRecommend
import TasteGraphSessions
import TasteGraphStore

/// `evaluate --task next-item`: next-item accuracy of every session model by time, settings chosen on
/// validation sessions only.
///
/// Protocol: the store's timed plays cut into sessions (`--session-gap`); the last `heldOutShare` of
/// sessions by start time are the test; of the sessions before them, the last `validationShare` are the
/// validation. Each model's settings are chosen by MRR@20 on the validation sessions, fitted on the
/// sessions before those; the chosen settings are refitted on every session before the test and scored
/// on it (`NextItemEvaluation`). The personal model (a user–item model of the registry) is fitted on the
/// play counts of the same training sessions, never on held-out plays.
public struct NextItemExperiment {
    public struct Options: Sendable {
        public var gapMinutes = ListeningSessions.defaultGapMinutes
        public var heldOutShare = 0.1
        public var validationShare = 0.1
        /// The user–item model whose top lists the blend mixes in (nil: none).
        public var personalModel: ModelKind? = ModelKind(rawValue: "rp3beta")
        public var personalDepth = 100
        /// Listeners to report apart (e.g. the sample's planted hour-dependent ones), by external id.
        public var focusUsers: Set<String> = []
        public var focusName = "focus"
        public init() {}
    }

    /// One model's line of the report.
    public struct ModelResult: Codable, Sendable {
        public let model: String
        public let test: NextItemScores
        public let validation: NextItemScores
        /// Test figures on `Options.focusUsers`' sessions, when given.
        public let focus: NextItemScores?
        public let settings: String
        public let fitSeconds: Double
    }

    public struct Report: Codable, Sendable {
        public let gapMinutes: Double
        public let sessions: Int
        public let trainSessions: Int
        public let validationSessions: Int
        public let testSessions: Int
        public let testPredictions: Int
        public let personalModel: String?
        public let focusName: String?
        public let focusUsers: Int
        public let models: [ModelResult]
        public let seconds: Double
    }

    public let options: Options
    public init(options: Options) { self.options = options }

    /// Runs the protocol on `store`. `progress` gets one line per step.
    public func run(store: GraphStore, progress: (String) -> Void = { _ in }) throws -> Report {
        let started = Date()
        let catalog = try store.catalog()
        let plays = try store.timedPlays()
        guard plays.count > 0 else {
            throw ServingError(field: "store", detail: "\(store.path) holds no timestamped plays: import them with `tastegraph import plays` or `import lastfm-1k`")
        }
        let itemCount = catalog.itemExternalIDs.count, userCount = catalog.userExternalIDs.count
        let all = ListeningSessions(plays, gapMinutes: options.gapMinutes)
        let outer = NextItemSplit(all, heldOutShare: options.heldOutShare, itemCount: itemCount)
        let inner = NextItemSplit(outer.train, heldOutShare: options.validationShare, itemCount: itemCount)
        guard outer.test.count > 0, inner.test.count > 0 else {
            throw ServingError(field: "store", detail: "too few sessions to hold out test and validation sessions (\(all.count) sessions)")
        }
        progress("\(all.count) sessions: \(inner.train.count) train, \(inner.test.count) validation, \(outer.test.count) test")
        let itemArtist = catalog.itemArtist.map { Int32($0) }
        let focusIDs = Set(options.focusUsers.compactMap { id in catalog.userExternalIDs.firstIndex(of: id).map(Int32.init) })
        func personal(_ sessions: ListeningSessions) throws -> PersonalTopLists? {
            guard let kind = options.personalModel else { return nil }
            return try PersonalSessionModel.topLists(
                kind: kind, sessions: sessions, catalog: catalog, depth: options.personalDepth, dataFingerprint: try store.dataFingerprint())
        }
        progress("fitting the personal model (\(options.personalModel?.rawValue ?? "none"))")
        let validationData = NextItemTrainingData(
            sessions: inner.train, itemCount: itemCount, userCount: userCount, personal: try personal(inner.train), itemArtist: itemArtist)
        let testData = NextItemTrainingData(
            sessions: outer.train, itemCount: itemCount, userCount: userCount, personal: try personal(outer.train), itemArtist: itemArtist)

        var results: [ModelResult] = []
        var chosen: [String: [String: Any]] = [:]
        for candidate in NextItemTuning.candidates(personal: options.personalModel != nil) {
            let grid = candidate.grid(chosen)
            progress("tuning \(candidate.name) on validation (\(grid.count) settings)")
            var best: (settings: [String: Any], scores: NextItemScores)?
            for settings in grid {
                let model = try candidate.entry.fit(validationData, overrides: settings)
                let scores = NextItemEvaluation.evaluate(model, on: inner.test)
                if best == nil || NextItemTuning.objective(scores) > NextItemTuning.objective(best!.scores) { best = (settings, scores) }
            }
            chosen[candidate.name] = best!.settings
            let fitStart = Date()
            let model = try candidate.entry.fit(testData, overrides: best!.settings)
            let fitSeconds = Date().timeIntervalSince(fitStart)
            if let groups = (model as? SessionBlend)?.contextGroupCount { progress("\(candidate.name): \(groups) context groups") }
            let test = NextItemEvaluation.evaluate(model, on: outer.test)
            let focus = focusIDs.isEmpty ? nil : NextItemEvaluation.evaluate(model, on: outer.test, keep: { focusIDs.contains($0) })
            progress("\(candidate.name): HitRate@20 \(String(format: "%.4f", test.hitRate)), MRR@20 \(String(format: "%.4f", test.mrr))")
            let settingsJSON = String(decoding: try JSONSerialization.data(withJSONObject: best!.settings, options: [.sortedKeys]), as: UTF8.self)
            results.append(ModelResult(model: candidate.name, test: test, validation: best!.scores, focus: focus, settings: settingsJSON, fitSeconds: fitSeconds))
        }
        return Report(
            gapMinutes: options.gapMinutes, sessions: all.count, trainSessions: inner.train.count, validationSessions: inner.test.count,
            testSessions: outer.test.count, testPredictions: results.first?.test.predictions ?? 0,
            personalModel: options.personalModel?.rawValue, focusName: focusIDs.isEmpty ? nil : options.focusName,
            focusUsers: focusIDs.count, models: results, seconds: Date().timeIntervalSince(started))
    }
}

/// The settings each model is tuned over. Small grids: every point is a fit and a validation pass. The
/// blend's parts take the settings chosen for them alone; its weights are tuned next, then its context
/// strength on the chosen weights.
enum NextItemTuning {
    struct Candidate {
        let name: String
        let entry: NextItemModelEntry
        /// The grid, given the settings chosen so far (by candidate name).
        let grid: ([String: [String: Any]]) -> [[String: Any]]
    }

    /// What tuning maximizes on validation: MRR@20 of next plays plus MRR@20 of session starts.
    static func objective(_ scores: NextItemScores) -> Double { scores.mrr + scores.startMrr }

    static func candidates(personal: Bool) -> [Candidate] {
        let sknnGrid: [[String: Any]] = [50, 100, 200].flatMap { k in [true, false].map { ["neighbours": k, "positionDecay": $0] as [String: Any] } }
        let transitionGrid: [[String: Any]] = [1, 2, 3].flatMap { window in
            [0.0, 0.3, 0.6].flatMap { beta in [0.0, 0.3].map { ["window": window, "popularityPenalty": beta, "secondStep": $0] as [String: Any] } }
        }
        let registry = { (kind: String) in NextItemModelRegistry.entry(NextItemModelKind(rawValue: kind))! }
        return [
            Candidate(name: "popularity", entry: registry("popularity"), grid: { _ in [[:]] }),
            Candidate(name: "sknn", entry: registry("sknn"), grid: { _ in sknnGrid }),
            Candidate(name: "transitions", entry: registry("transitions"), grid: { _ in transitionGrid }),
            Candidate(name: "blend", entry: registry("blend"), grid: { chosen in
                [0.0, 0.5, 1.0].flatMap { sknnWeight in
                    (personal ? [0.0, 0.1, 0.3] : [0.0]).map { personalWeight -> [String: Any] in
                        ["transitions": chosen["transitions"] ?? [:], "sknn": chosen["sknn"] ?? [:],
                         "sknnWeight": sknnWeight, "personalWeight": personalWeight, "context": ["strength": 0.0]]
                    }
                }
            }),
            Candidate(name: "blend+context", entry: registry("blend"), grid: { chosen in
                ["communities", "artist"].flatMap { groups in
                    [0.5, 1.0, 2.0].map { strength in
                        var settings = chosen["blend"] ?? [:]
                        settings["context"] = ["strength": strength, "groups": groups] as [String: Any]
                        return settings
                    }
                }
            }),
        ]
    }
}

/// The personal part of the session blend: a user–item model of the registry fitted on the play counts
/// of training sessions, asked once for every listener's top list (their heard items included: people
/// replay what they like).
public enum PersonalSessionModel {
    public static func topLists(kind: ModelKind, sessions: ListeningSessions, catalog: Catalog, depth: Int, dataFingerprint: String) throws -> PersonalTopLists {
        guard let entry = ModelRegistry.entry(kind) else {
            throw ServingError(field: "personal", detail: "no model '\(kind)'; models: \(ModelRegistry.names)")
        }
        var counts: [UInt64: Float] = [:]
        for s in 0..<sessions.count {
            let user = UInt64(UInt32(sessions.sessionUser[s]))
            for item in sessions.items(of: s) { counts[user << 32 | UInt64(UInt32(item)), default: 0] += 1 }
        }
        var train = ListenTable()
        for key in counts.keys.sorted() { train.append(user: Int32(key >> 32), item: Int32(key & 0xFFFF_FFFF), plays: counts[key]!) }
        let identity = ModelIdentity(userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: dataFingerprint)
        let input = FitInput(
            split: InteractionSplit(train: train, validation: ListenTable(), test: ListenTable()), identity: identity, itemActive: catalog.itemActive)
        let model = try entry.fit(input)
        let users = catalog.userExternalIDs.indices.map(UserIndex.init)
        var lists: [[Int32]] = []
        lists.reserveCapacity(users.count)
        for start in stride(from: 0, to: users.count, by: 256) {
            let block = Array(users[start..<min(users.count, start + 256)])
            lists += model.topItems(users: block, count: depth, where: { _, _ in true }).map { $0.map { Int32($0.item.rawValue) } }
        }
        return PersonalTopLists(model: kind.rawValue, depth: depth, lists: lists)
    }
}
