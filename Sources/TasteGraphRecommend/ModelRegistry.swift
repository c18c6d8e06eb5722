import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
import TasteGraphSupport

/// A model's name in files, flags and JSON (`gcn`, `als`, …). Each model declares its own constant beside
/// its code (`extension ModelKind { static let als = … }`); `ModelRegistry.kinds` lists them all.
public struct ModelKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
}

/// Everything fitting any model needs. Baselines use `split.train`; the GCN also early-stops on
/// `split.validation` and takes the item features.
public struct FitInput {
    public var split: InteractionSplit
    public var identity: ModelIdentity
    /// The catalog's active flags (the cold-start mix only picks active items).
    public var itemActive: [Bool]
    /// Item features X (I, F) and the name recorded for them (the GCN's input); nil for models without.
    public var features: (matrix: SparseMatrix<Float>, name: String)?
    /// The friend and tag relations (the GCN's heterogeneous graph), or nil.
    public var relations: SideRelations?
    /// Called after each GCN epoch.
    public var progress: (EpochReport) -> Void

    public init(
        split: InteractionSplit, identity: ModelIdentity, itemActive: [Bool],
        features: (matrix: SparseMatrix<Float>, name: String)? = nil, relations: SideRelations? = nil,
        progress: @escaping (EpochReport) -> Void = { _ in }
    ) {
        self.relations = relations
        self.split = split
        self.identity = identity
        self.itemActive = itemActive
        self.features = features
        self.progress = progress
    }

    /// The train listens, checked (finite, non-negative plays).
    public func fitData() throws -> FitData {
        try FitData(userCount: identity.userIDs.count, itemCount: identity.itemIDs.count, train: split.train)
    }
}

/// A recommender the registry can fit, save and load: its kind, a one-line summary for `--help`, typed
/// Codable settings with defaults, `fit`, and its reading from a verified `ModelFile`.
public protocol RegisteredModel: Recommender {
    associatedtype Settings: Codable & Sendable & Equatable
    static var modelKind: ModelKind { get }
    static var summary: String { get }
    static var defaultSettings: Settings { get }
    /// Whether `fit` needs `FitInput.features`.
    static var usesFeatures: Bool { get }
    /// Whether `fit` early-stops on `FitInput.split.validation` (the tuner then carves that share itself).
    static var earlyStops: Bool { get }
    static func fit(_ input: FitInput, settings: Settings) throws -> Self
    init(file: ModelFile, path: String) throws
}

extension RegisteredModel {
    public static var usesFeatures: Bool { false }
    public static var earlyStops: Bool { false }
    public var kind: ModelKind { Self.modelKind }
}

/// One model of the registry, its types erased.
public struct RegisteredModelEntry: Sendable {
    public let kind: ModelKind
    public let summary: String
    public let usesFeatures: Bool
    public let earlyStops: Bool
    let model: any RegisteredModel.Type

    init<M: RegisteredModel>(_ model: M.Type) {
        kind = M.modelKind
        summary = M.summary
        usesFeatures = M.usesFeatures
        earlyStops = M.earlyStops
        self.model = model
    }

    /// The default settings as a JSON object.
    public func defaultSettings() throws -> [String: Any] {
        try Self.defaults(model)
    }

    /// Fits with the defaults overlaid by `overrides` (a JSON object of setting names to values).
    /// - Throws: `SettingsError` for an unknown setting or a value of the wrong type; the model's fit errors.
    public func fit(_ input: FitInput, overrides: [String: Any] = [:]) throws -> any Recommender {
        try Self.fit(model, input, overrides)
    }

    /// The typed settings `overrides` give (for recording what was fitted).
    public func settings(overrides: [String: Any]) throws -> [String: Any] {
        try Self.merged(model, overrides)
    }

    func load(_ file: ModelFile, path: String) throws -> any Recommender { try model.init(file: file, path: path) }

    private static func defaults<M: RegisteredModel>(_: M.Type) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(M.defaultSettings)) as? [String: Any] ?? [:]
    }

    private static func decode<M: RegisteredModel>(_: M.Type, _ overrides: [String: Any]) throws -> M.Settings {
        let merged = try overlay(overrides, onto: defaults(M.self), path: "\(M.modelKind)")
        do {
            return try JSONDecoder().decode(M.Settings.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch {
            throw SettingsError(message: "\(M.modelKind): bad settings: \(error)")
        }
    }

    /// `base` with the keys of `overrides` replaced; a nested object (the GCN's `model`, `training`) is
    /// overlaid key by key, so an override names only the settings it changes.
    /// - Throws: `SettingsError` naming the first key `base` does not have.
    static func overlay(_ overrides: [String: Any], onto base: [String: Any], path: String) throws -> [String: Any] {
        do { return try JSONSettings.overlay(overrides, onto: base, path: path) } catch let error as JSONSettings.Mismatch {
            throw SettingsError(message: error.message)
        }
    }

    private static func merged<M: RegisteredModel>(_: M.Type, _ overrides: [String: Any]) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(decode(M.self, overrides))) as? [String: Any] ?? [:]
    }

    private static func fit<M: RegisteredModel>(_: M.Type, _ input: FitInput, _ overrides: [String: Any]) throws -> any Recommender {
        try M.fit(input, settings: decode(M.self, overrides))
    }
}

/// Settings that do not fit a model (an unknown name, a wrong type): a usage error.
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Every model TasteGraph can fit, save and load: `train --model`, `evaluate --models`, `recommend`, the
/// help text and the conformance suite all read this list. A new model is its own file (conforming to
/// `RegisteredModel`) plus one line here.
public enum ModelRegistry {
    public static let entries: [RegisteredModelEntry] = [
        RegisteredModelEntry(GCNRecommender.self),
        RegisteredModelEntry(PopularityRecommender.self),
        RegisteredModelEntry(ColdStartRecommender.self),
        RegisteredModelEntry(ItemKNNRecommender.self),
        RegisteredModelEntry(ALSRecommender.self),
        RegisteredModelEntry(EASERecommender.self),
        RegisteredModelEntry(RP3BetaRecommender.self),
        RegisteredModelEntry(UserKNNRecommender.self),
        RegisteredModelEntry(SVDRecommender.self),
        RegisteredModelEntry(CoClusteringRecommender.self),
        RegisteredModelEntry(ContentRecommender.self),
        RegisteredModelEntry(GCNEASEBlend.self),
    ]

    /// Every model's kind, in registry order.
    public static var kinds: [ModelKind] { entries.map(\.kind) }

    /// The entry of `kind`, or nil.
    public static func entry(_ kind: ModelKind) -> RegisteredModelEntry? { entries.first { $0.kind == kind } }

    /// "gcn, popularity, …" for help texts and errors.
    public static var names: String { kinds.map(\.rawValue).joined(separator: ", ") }
}
