import Foundation
import TasteGraphCore
import TasteGraphGraph

/// The settings of every baseline, so one call can fit any of them.
public struct BaselineSettings: Codable, Sendable, Equatable {
    public var popularity = PopularityRecommender.Config()
    public var coldStart = ColdStartRecommender.Config()
    public var itemKNN = ItemKNNRecommender.Config()
    public var als = ALSConfig()

    public init() {}

    /// Keyed by each model's kind.
    enum CodingKeys: String, CodingKey {
        case popularity, coldStart = "coldstart", itemKNN = "itemknn", als
    }
}

public enum Baselines {
    /// Fits one baseline on `data` through the registry, with its settings from `settings`.
    /// - Parameter itemActive: the catalog's active flags (the cold-start mix only picks active items).
    /// - Throws: `ModelFitError` (ALS diverging), `SettingsError` for a kind without baseline settings.
    public static func fit(_ kind: ModelKind, data: FitData, identity: ModelIdentity, itemActive: [Bool], settings: BaselineSettings) throws -> any Recommender {
        guard let entry = ModelRegistry.entry(kind), !entry.usesFeatures else {
            throw SettingsError(message: "\(kind) is not a baseline; fit it through ModelRegistry with its features")
        }
        let input = FitInput(split: InteractionSplit(train: data.train, validation: ListenTable(), test: ListenTable()), identity: identity, itemActive: itemActive)
        return try entry.fit(input, overrides: try settings.overrides(for: kind))
    }
}

extension BaselineSettings {
    /// The settings of `kind` as a JSON object (the key is the model's kind).
    public func overrides(for kind: ModelKind) throws -> [String: Any] {
        let all = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as? [String: Any] ?? [:]
        return all[kind.rawValue] as? [String: Any] ?? [:]
    }
}
