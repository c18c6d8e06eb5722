import Foundation
import TasteGraphRecommend

/// The GCN inside a registered model's settings (`gcn-ease`'s `gcn`), so the front ends can give it what
/// the GCN row gets: its flags, an early-stopping share, the friend and tag relations, a progress bar.
struct GCNMember {
    let settings: GCNSettings

    /// The GCN settings `entry` would fit with `overrides`, or nil for a model without a GCN inside.
    init?(entry: RegisteredModelEntry, overrides: [String: Any]) throws {
        guard entry.kind == .gcnEASE, let object = try entry.settings(overrides: overrides)["gcn"] else { return nil }
        settings = try JSONDecoder().decode(GCNSettings.self, from: JSONSerialization.data(withJSONObject: object))
    }

    /// `settings` as the JSON object a registry override holds.
    static func settingsObject(_ settings: GCNSettings) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(settings)) as? [String: Any] ?? [:]
    }
}
