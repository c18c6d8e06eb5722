import Foundation
import TasteGraphCore

/// The file `tastegraph tune` writes (`DIR/MODEL.json`) and `train --config` / `evaluate --tuned` read:
/// which model, the settings the search chose, and where they came from.
///
/// ```json
/// {"format": "tastegraph-tuned-config", "version": 1, "kind": "ease",
///  "settings": {"lambda": 287.3, "binary": true},          // only the tuned settings; the rest stay defaults
///  "resolved": {...},                                        // every setting of the chosen fit, for the record
///  "objective": "recall@20", "validation": {"recall@20": …, "ndcg@20": …},
///  "split_fingerprint": "…", "data_fingerprint": "…", "seed": 0, "budget": 16, "validation_fraction": 0.1,
///  "trials": [{"settings": {...}, "recall@20": …, "ndcg@20": …, "fit_seconds": …}, …]}
/// ```
/// `split_fingerprint` is the fingerprint of the split's test listens: a config tuned on another split may
/// have seen this split's test listens among its train listens, so `evaluate --tuned` refuses it.
public struct TunedConfig {
    public static let format = "tastegraph-tuned-config"

    public let kind: ModelKind
    /// The tuned settings only (nested for the GCN: `{"training": {"learningRate": …}}`).
    public let settings: [String: Any]
    /// The whole JSON object as read or written.
    public let object: [String: Any]
    /// The split the settings were tuned on (nil in a hand-written file).
    public var splitFingerprint: String? { object["split_fingerprint"] as? String }

    /// A config from a finished search.
    public init(result: TuningResult, splitFingerprint: String, dataFingerprint: String, seed: UInt64, validationFraction: Double) {
        kind = result.kind
        settings = result.chosen.overrides
        func figures(_ trial: TuningTrial) -> [String: Any] {
            ["recall@20": trial.validation.recall20, "ndcg@20": trial.validation.ndcg20, "fit_seconds": trial.fitSeconds]
        }
        object = [
            "format": Self.format, "version": 1, "kind": result.kind.rawValue, "settings": settings, "resolved": result.settings,
            "objective": result.objective.rawValue, "validation": figures(result.chosen),
            "split_fingerprint": splitFingerprint, "data_fingerprint": dataFingerprint, "seed": seed,
            "budget": result.trials.count + result.failures.count, "validation_fraction": validationFraction,
            "trials": result.trials.map { trial in figures(trial).merging(["settings": trial.overrides]) { a, _ in a } },
            "failed_trials": result.failures,
        ]
    }

    /// Reads a config written by `tune` (or by hand: `kind` and `settings` are all it needs).
    /// - Throws: `SettingsError` naming the file and what is wrong with it.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SettingsError(message: "\(path): cannot read the tuned config (run `tastegraph tune --model NAME --out DIR` first)")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw SettingsError(message: "\(path): not a JSON object")
        }
        try self.init(object: object, path: path)
    }

    /// - Throws: `SettingsError` when `kind` is missing or unknown or `settings` is not an object.
    public init(object: [String: Any], path: String) throws {
        guard let name = object["kind"] as? String else {
            throw SettingsError(message: "\(path): no \"kind\" (the model's name); a tuned config is {\"kind\": \"ease\", \"settings\": {...}}")
        }
        guard let entry = ModelRegistry.entry(ModelKind(rawValue: name)) else {
            throw SettingsError(message: "\(path): unknown model '\(name)'; known: \(ModelRegistry.names)")
        }
        guard let settings = object["settings"] as? [String: Any] else {
            throw SettingsError(message: "\(path): \"settings\" must be a JSON object of the model's settings")
        }
        _ = try entry.settings(overrides: settings)  // names and types checked now, not at the end of a long fit
        kind = entry.kind
        self.settings = settings
        self.object = object
    }

    /// Writes the config through a temporary file and a rename (never a half-written file).
    public func write(to path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data + Data("\n".utf8), to: path)
    }
}
