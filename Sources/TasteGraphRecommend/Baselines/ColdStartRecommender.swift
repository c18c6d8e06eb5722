import Foundation
import TasteGraphCore

/// The seed's cold-start mix as a ranker: the 30 items of `ColdStartMix` first, in their order, then every
/// other item by train listeners, so a list is always full even when the user has heard some of the mix.
///
/// ```
/// score(i) = 2 − position(i) / 30              for the mix's items   (in (1, 2])
///          = listeners(i) / (1 + max listeners) otherwise             (in [0, 1))
/// ```
public struct ColdStartRecommender: RegisteredModel {
    public struct Config: Codable, Sendable, Equatable {
        /// Picks which 10 of the 20 most popular items.
        public var seed: UInt64 = 0
        public init() {}
    }

    public static let modelKind = ModelKind.coldstart
    public static let summary = "the seed's rule-based mix: 10 of the 20 most popular items plus 20 discovery items"
    public static var defaultSettings: Config { Config() }

    public static func fit(_ input: FitInput, settings: Config) throws -> ColdStartRecommender {
        fit(try input.fitData(), identity: input.identity, itemActive: input.itemActive, config: settings)
    }

    public init(file: ModelFile, path: String) throws { try self.init(archive: ModelArchive(file: file, path: path), path: path) }
    public let identity: ModelIdentity
    public var predictsPlayCounts: Bool { false }
    public let config: Config
    /// Shapes: (I).
    let itemScores: [Float]

    public static func fit(_ data: FitData, identity: ModelIdentity, itemActive: [Bool], config: Config = Config()) -> ColdStartRecommender {
        let (listeners, plays) = data.itemTotals
        let mix = ColdStartMix(itemActive: itemActive, plays: plays, listeners: listeners, seed: config.seed)
        let most = listeners.max() ?? 0
        var scores = listeners.map { Float($0 / (1 + most)) }
        let items = mix.items
        for (position, item) in items.enumerated() { scores[item.rawValue] = 2 - Float(position) / Float(max(1, items.count)) }
        return ColdStartRecommender(identity: identity, config: config, itemScores: scores)
    }

    init(identity: ModelIdentity, config: Config, itemScores: [Float]) {
        self.identity = identity
        self.config = config
        self.itemScores = itemScores
    }

    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        for row in 0..<users.count {
            for item in 0..<itemCount { out[row * itemCount + item] = itemScores[item] }
        }
    }

    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float { 0 }

    /// The mix is the same for everyone: no heard item explains it.
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] { [] }

    public func save(to path: String) throws {
        try ModelArchive(kind: kind.rawValue, settings: JSONEncoder().encode(config), identity: identity,
                         arrays: [("scores", .float(itemScores))]).write(to: path)
    }

    init(archive: ModelArchive, path: String) throws {
        let config = (try? JSONDecoder().decode(Config.self, from: archive.settings)) ?? Config()
        let scores = try archive.floats("scores", path: path)
        guard scores.count == archive.identity.itemIDs.count else {
            throw CheckpointError(path: path, reason: "cold-start scores do not match the model's items")
        }
        self.init(identity: archive.identity, config: config, itemScores: scores)
    }
}

extension ModelKind {
    public static let coldstart = ModelKind(rawValue: "coldstart")
}
