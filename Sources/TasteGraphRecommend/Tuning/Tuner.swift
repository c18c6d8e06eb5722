import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphMetrics
import TasteGraphSupport

/// The figure a search maximizes, measured on the validation share.
public enum TuningObjective: String, Sendable, Codable, CaseIterable {
    case recall20 = "recall@20"
    case ndcg20 = "ndcg@20"

    public func value(_ report: EvaluationReport) -> Double {
        switch self {
        case .recall20: report.recall20
        case .ndcg20: report.ndcg20
        }
    }
}

/// One fitted candidate of a search.
public struct TuningTrial: Sendable {
    /// The sampled settings (`SearchDimension.path` → value); empty for the defaults.
    public let values: [(path: [String], value: SettingValue)]
    public let validation: EvaluationReport
    public let fitSeconds: Double

    /// The sampled settings as a nested JSON object, the form `ModelRegistry` overlays onto the defaults.
    public var overrides: [String: Any] { Self.nest(values) }

    static func nest(_ values: [(path: [String], value: SettingValue)]) -> [String: Any] {
        var object: [String: Any] = [:]
        for (path, value) in values { insert(value.json, at: path[...], into: &object) }
        return object
    }

    private static func insert(_ value: Any, at path: ArraySlice<String>, into object: inout [String: Any]) {
        guard let head = path.first else { return }
        if path.count == 1 { object[head] = value; return }
        var child = object[head] as? [String: Any] ?? [:]
        insert(value, at: path.dropFirst(), into: &child)
        object[head] = child
    }
}

/// A seeded random search over one model's `SearchSpace`, scored on a validation share carved from the
/// train listens, never on the test listens.
///
/// ```
/// train listens  ──carve validationFraction of each user's (seeded)──▶  fit part  +  validation part
/// trial 0 = the defaults; trials 1 … budget−1 = independent draws from every dimension's range
/// each trial: fit on the fit part, rank the validation part by the PEERS protocol (fit-part items excluded)
/// best = the highest objective (ties: the earlier trial, so the defaults win a tie)
/// ```
/// A model that early-stops (the GCN) carves its own stopping share from the fit part, so the validation
/// part that picks the settings is never the one that stopped the training.
public struct Tuner {
    public let kind: ModelKind
    public let budget: Int
    public let seed: UInt64
    public let objective: TuningObjective
    /// Settings every trial starts from (the front end's flags), under the sampled values.
    public let base: [String: Any]

    /// - Throws: `SettingsError` for a budget below 1 or a kind the registry does not know.
    public init(kind: ModelKind, budget: Int, seed: UInt64, objective: TuningObjective = .recall20, base: [String: Any] = [:]) throws {
        guard ModelRegistry.entry(kind) != nil else { throw SettingsError(message: "unknown model '\(kind)'; known: \(ModelRegistry.names)") }
        guard budget >= 1 else { throw SettingsError(message: "the budget must be at least 1 trial, got \(budget)") }
        self.kind = kind
        self.budget = budget
        self.seed = seed
        self.objective = objective
        self.base = base
    }

    /// The trials' settings: the defaults first, then `budget − 1` seeded draws (the same seed, the same list).
    public var candidates: [[(path: [String], value: SettingValue)]] {
        let space = SearchSpace.of(kind)
        guard !space.isEmpty else { return [[]] }
        var random = SplitMix64(seed: seed ^ 0x7475_6E65)  // "tune"
        var all: [[(path: [String], value: SettingValue)]] = [[]]
        for _ in 1..<budget { all.append(space.map { ($0.path, $0.sample(&random)) }) }
        return all
    }

    /// Runs the search.
    ///
    /// - Parameters:
    ///   - fitPart, validation: the carved train listens (`InteractionSplit.carvingValidation`); the test
    ///     listens are not an argument, so they cannot leak in.
    ///   - input: everything else a fit needs (identity, active flags, features); its split is replaced per trial.
    ///   - progress: called after every trial with its index and the trial.
    /// - Throws: the first trial's fit error (later trials that fail are recorded as failed and skipped).
    public func run(
        fitPart: ListenTable, validation: ListenTable, input: FitInput, earlyStoppingFraction: Double = 0.1,
        progress: (Int, TuningTrial) -> Void = { _, _ in }
    ) throws -> TuningResult {
        guard let entry = ModelRegistry.entry(kind) else { throw SettingsError(message: "unknown model '\(kind)'") }
        let heldOut = HeldOut(scoring: validation, excludingItemsOf: fitPart, userCount: input.identity.userIDs.count, itemCount: input.identity.itemIDs.count)
        var trialInput = input
        trialInput.split = entry.earlyStops
            ? InteractionSplit.carvingValidation(train: fitPart, test: ListenTable(), fraction: earlyStoppingFraction, seed: seed)
            : InteractionSplit(train: fitPart, validation: ListenTable(), test: ListenTable())
        var trials: [TuningTrial] = []
        var failures: [String] = []
        for (index, values) in candidates.enumerated() {
            let started = Date()
            let overrides = SettingsOverlay.combine(TuningTrial.nest(values), onto: base)
            let model: any Recommender
            do {
                model = try entry.fit(trialInput, overrides: overrides)
            } catch {
                if index == 0 { throw error }
                failures.append("trial \(index): \(error)")
                continue
            }
            let trial = TuningTrial(values: values, validation: model.evaluate(heldOut), fitSeconds: Date().timeIntervalSince(started))
            trials.append(trial)
            progress(index, trial)
        }
        var best = 0
        for (index, trial) in trials.enumerated() where objective.value(trial.validation) > objective.value(trials[best].validation) { best = index }
        return TuningResult(
            kind: kind, objective: objective, trials: trials, best: best, failures: failures,
            settings: try entry.settings(overrides: SettingsOverlay.combine(trials[best].overrides, onto: base)))
    }
}

/// What a search found.
public struct TuningResult {
    public let kind: ModelKind
    public let objective: TuningObjective
    public let trials: [TuningTrial]
    /// Index into `trials` of the chosen one.
    public let best: Int
    /// Trials whose fit failed (a diverging setting), in words.
    public let failures: [String]
    /// The chosen trial's complete typed settings (what `train --config` fits).
    public let settings: [String: Any]

    public var chosen: TuningTrial { trials[best] }
}

/// Two override objects combined, `overrides` winning key by key, nested objects merged (the registry
/// checks the names against the model's settings when it fits).
public enum SettingsOverlay {
    public static func combine(_ overrides: [String: Any], onto base: [String: Any]) -> [String: Any] {
        var merged = base
        for (key, value) in overrides {
            if let nested = value as? [String: Any], let current = merged[key] as? [String: Any] {
                merged[key] = combine(nested, onto: current)
            } else {
                merged[key] = value
            }
        }
        return merged
    }
}
