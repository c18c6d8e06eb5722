import ArgumentParser
import Foundation
import TasteGraphRecommend

/// The folder `tastegraph tune --out DIR` writes, as `evaluate --tuned DIR` reads it: DIR/NAME.json per model.
struct TunedSettingsFolder {
    let path: String

    /// The tuned settings of `choice` (DIR/NAME.json, else DIR/KIND.json for `als-bm25`/`als-conf`), or nil
    /// for a model with nothing to tune and no file.
    /// - Throws: `ValidationError` when a tunable model has no file, the file is for another model, or it was
    ///   tuned on another split (whose test listens it may have trained on).
    func settings(for choice: ModelChoice, splitFingerprint: String) throws -> [String: Any]? {
        let candidates = [choice.name, choice.kind.rawValue].map { path + "/" + $0 + ".json" }
        guard let file = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            if SearchSpace.of(choice.kind).isEmpty { return nil }
            throw ValidationError("--tuned \(path): no \(choice.name).json; run `tastegraph tune --model \(choice.kind) --out \(path)` on this split first")
        }
        let config: TunedConfig
        do {
            config = try TunedConfig(contentsOf: file)
        } catch let error as SettingsError {
            throw ValidationError(error.message)
        }
        guard config.kind == choice.kind else {
            throw ValidationError("\(file) holds settings for \(config.kind), not \(choice.kind)")
        }
        if let tunedOn = config.splitFingerprint, tunedOn != splitFingerprint {
            throw ValidationError("\(file) was tuned on another split (its test listens differ), whose train listens may include this split's test listens; tune on this split")
        }
        return config.settings
    }

    /// The GCN's settings with `tuned` overlaid on `defaults` (the flags then go on top).
    static func gcnBase(_ tuned: [String: Any]?, defaults base: GCNSettings = GCNSettings()) throws -> GCNSettings {
        guard let tuned else { return base }
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(base)) as? [String: Any] ?? [:]
        let merged = SettingsOverlay.combine(tuned, onto: defaults)
        do {
            return try JSONDecoder().decode(GCNSettings.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch {
            throw ValidationError("tuned GCN settings do not fit the GCN: \(error)")
        }
    }
}
