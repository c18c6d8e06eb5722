/// The settings of every baseline, so one call can fit any of them.
public struct BaselineSettings: Codable, Sendable, Equatable {
    public var popularity = PopularityRecommender.Config()
    public var coldStart = ColdStartRecommender.Config()
    public var itemKNN = ItemKNNRecommender.Config()
    public var als = ALSConfig()

    public init() {}
}

public enum Baselines {
    /// Fits one baseline on `data`.
    /// - Parameter itemActive: the catalog's active flags (the cold-start mix only picks active items).
    /// - Throws: `ModelFitError` (ALS diverging).
    public static func fit(_ kind: ModelKind, data: FitData, identity: ModelIdentity, itemActive: [Bool], settings: BaselineSettings) throws -> any Recommender {
        switch kind {
        case .popularity: return PopularityRecommender.fit(data, identity: identity, config: settings.popularity)
        case .coldstart: return ColdStartRecommender.fit(data, identity: identity, itemActive: itemActive, config: settings.coldStart)
        case .itemknn: return ItemKNNRecommender.fit(data, identity: identity, config: settings.itemKNN)
        case .als: return try ALSRecommender.fit(data, identity: identity, config: settings.als)
        case .gcn: preconditionFailure("the GCN is fitted by GCNRecommender.fit")
        }
    }
}
