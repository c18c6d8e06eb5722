import Foundation
import TasteGraphCore
import TasteGraphSupport

/// The non-personalized baseline: everyone gets the items with the most train listeners, and play counts
/// are predicted by the bias baseline.
///
/// ```
/// score(u, i) = listeners(i) + plays(i) / (1 + Σ plays)          (ties: more plays, then lower index)
/// ŷ_ui = μ + b_u + b_i
/// ```
/// with y = log1p(plays), μ the mean train y, and the biases fit by `BiasBaseline` (the math is there)
/// on the train listens, items first, `biasSweeps` times (defaults λ = 10, 10 sweeps; λ = 0 and one sweep
/// give plain means). Unknown users or items get bias 0.
public struct PopularityRecommender: RegisteredModel {
    public struct Config: Codable, Sendable, Equatable {
        public var biasRegularization = 10.0
        public var biasSweeps = 10
        public init() {}
    }

    public static let modelKind = ModelKind.popularity
    public static let summary = "most train listeners for everyone; play counts by the bias baseline μ + b_u + b_i"
    public static var defaultSettings: Config { Config() }

    public static func fit(_ input: FitInput, settings: Config) throws -> PopularityRecommender {
        fit(try input.fitData(), identity: input.identity, config: settings)
    }

    public init(file: ModelFile, path: String) throws { try self.init(archive: ModelArchive(file: file, path: path), path: path) }
    public let identity: ModelIdentity
    public var predictsPlayCounts: Bool { true }
    public let config: Config
    /// Shapes: (I).
    let popularity: [Float]
    /// [μ, b_u (U), b_i (I)].
    let biases: [Float]

    public static func fit(_ data: FitData, identity: ModelIdentity, config: Config = Config()) -> PopularityRecommender {
        let (listeners, plays) = data.itemTotals
        let totalPlays = plays.reduce(0, +)
        let popularity = (0..<data.itemCount).map { Float(listeners[$0] + plays[$0] / (1 + totalPlays)) }
        let baseline = BiasBaseline.fit(
            users: data.train.users.map(Int.init), items: data.train.items.map(Int.init),
            targets: data.train.plays.map { Double(log1pf($0)) }, userCount: data.userCount, itemCount: data.itemCount,
            regularization: config.biasRegularization, sweeps: config.biasSweeps, order: .itemsFirst)
        let biases = [Float(baseline.mean)] + baseline.userBias.map { Float($0) } + baseline.itemBias.map { Float($0) }
        return PopularityRecommender(identity: identity, config: config, popularity: popularity, biases: biases)
    }

    init(identity: ModelIdentity, config: Config, popularity: [Float], biases: [Float]) {
        self.identity = identity
        self.config = config
        self.popularity = popularity
        self.biases = biases
    }

    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        for row in 0..<users.count {
            for item in 0..<itemCount { out[row * itemCount + item] = popularity[item] }
        }
    }

    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float {
        biases[0] + biases[1 + user.rawValue] + biases[1 + userCount + item.rawValue]
    }

    /// Popularity is nobody's taste in particular: no heard item explains it.
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] { [] }

    public func save(to path: String) throws {
        try ModelArchive(kind: kind.rawValue, settings: JSONEncoder().encode(config), identity: identity,
                         arrays: [("popularity", .float(popularity)), ("biases", .float(biases))]).write(to: path)
    }

    init(archive: ModelArchive, path: String) throws {
        let config = (try? JSONDecoder().decode(Config.self, from: archive.settings)) ?? Config()
        let popularity = try archive.floats("popularity", path: path)
        let biases = try archive.floats("biases", path: path)
        guard popularity.count == archive.identity.itemIDs.count,
              biases.count == 1 + archive.identity.userIDs.count + archive.identity.itemIDs.count
        else { throw CheckpointError(path: path, reason: "popularity arrays do not match the model's users and items") }
        self.init(identity: archive.identity, config: config, popularity: popularity, biases: biases)
    }
}

extension ModelKind {
    public static let popularity = ModelKind(rawValue: "popularity")
}

#if canImport(Glibc)
import Glibc
#endif
