import TasteGraphSupport

/// One next-item model of the registry, its types erased.
public struct NextItemModelEntry: Sendable {
    public let kind: NextItemModelKind
    public let summary: String
    let fitting: @Sendable (NextItemTrainingData, [String: Any]) throws -> any NextItemModel
    let defaults: @Sendable () throws -> [String: Any]

    init<M: RegisteredNextItemModel>(_ model: M.Type) {
        kind = M.modelKind
        summary = M.summary
        fitting = { data, overrides in
            try M.fit(data, settings: try Self.settings(M.self, overrides))
        }
        defaults = { try JSONSettings.object(M.defaultSettings) }
    }

    static func settings<M: RegisteredNextItemModel>(_: M.Type, _ overrides: [String: Any]) throws -> M.Settings {
        do { return try JSONSettings.decode(M.defaultSettings, overrides: overrides, path: M.modelKind.rawValue) } catch let error as JSONSettings.Mismatch {
            throw NextItemSettingsError(message: error.message)
        }
    }

    /// Fits with the defaults overlaid by `overrides` (a JSON object of setting names to values).
    /// - Throws: `NextItemSettingsError` for an unknown setting or a bad value.
    public func fit(_ data: NextItemTrainingData, overrides: [String: Any] = [:]) throws -> any NextItemModel {
        try fitting(data, overrides)
    }

    /// The default settings as a JSON object.
    public func defaultSettings() throws -> [String: Any] { try defaults() }
}

/// Every next-item model: `evaluate --task next-item --models`, the server's `/v1/sessions/next` and the
/// help text read this list. A new model is its own file plus one line here.
public enum NextItemModelRegistry {
    public static let entries: [NextItemModelEntry] = [
        NextItemModelEntry(NextPopularity.self),
        NextItemModelEntry(SessionKNN.self),
        NextItemModelEntry(TransitionWalks.self),
        NextItemModelEntry(SessionBlend.self),
    ]

    public static var kinds: [NextItemModelKind] { entries.map(\.kind) }
    public static func entry(_ kind: NextItemModelKind) -> NextItemModelEntry? { entries.first { $0.kind == kind } }
    public static var names: String { kinds.map(\.rawValue).joined(separator: ", ") }
}
