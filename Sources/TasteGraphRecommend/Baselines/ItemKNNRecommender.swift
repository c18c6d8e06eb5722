import TasteGraphCore
import Foundation
import TasteGraphGraph

/// Item-based nearest neighbours on cosine similarity (Sarwar et al. 2001), as implicit's
/// `CosineRecommender` computes it.
///
/// ```
/// w_ui = log1p(plays)  (or raw plays)                    W (U, I)
/// ŵ_·i = w_·i / ‖w_·i‖₂                                  (each item's column over users)
/// S_ji = ⟨ŵ_·j, ŵ_·i⟩, kept for the K largest i of each row j (j itself included)
/// score(u, i) = Σ_{j ∈ I(u)} w_uj · S_ji
/// ```
/// A live user's row of W is rebuilt from its history and scored by the same sum (`foldIn`).
public struct ItemKNNRecommender: RegisteredModel {
    public struct Config: Codable, Sendable, Equatable {
        /// Neighbours kept per item.
        public var neighbors = 50
        public var weighting: EdgeWeighting = .log1p
        public init() {}
    }

    public static let modelKind = ModelKind.itemknn
    public static let summary = "item-item cosine on the listens, top-K neighbours per item"
    public static var defaultSettings: Config { Config() }

    public static func fit(_ input: FitInput, settings: Config) throws -> ItemKNNRecommender {
        fit(try input.fitData(), identity: input.identity, config: settings)
    }

    public init(file: ModelFile, path: String) throws { try self.init(archive: ModelArchive(file: file, path: path), path: path) }
    public let identity: ModelIdentity
    public var predictsPlayCounts: Bool { false }
    public let config: Config
    /// S with K entries per row: row j lists j's neighbours i and S_ji.
    let similarities: CSR
    /// W: each user's items with their weights.
    let userRows: CSR

    public static func fit(_ data: FitData, identity: ModelIdentity, config: Config = Config()) -> ItemKNNRecommender {
        precondition(config.neighbors > 0)
        let graph = data.graph
        let userRows = CSR(offsets: graph.userItems.offsets, targets: graph.userItems.targets,
                           weights: graph.userItems.weights.map(config.weighting.weight))
        let itemColumns = CSR(offsets: graph.itemUsers.offsets, targets: graph.itemUsers.targets,
                              weights: graph.itemUsers.weights.map(config.weighting.weight))
        var norms = [Float](repeating: 0, count: data.itemCount)
        for item in 0..<data.itemCount {
            var sum: Float = 0
            for e in itemColumns.offsets[item]..<itemColumns.offsets[item + 1] { sum += itemColumns.weights[e] * itemColumns.weights[e] }
            norms[item] = sum.squareRoot()
        }
        func normalized(_ item: Int, _ weight: Float) -> Float { norms[item] > 0 ? weight / norms[item] : 0 }
        var accumulator = [Float](repeating: 0, count: data.itemCount)
        var touched: [Int32] = []
        var rows: [Int32] = []
        var targets: [Int32] = []
        var weights: [Float] = []
        for j in 0..<data.itemCount {
            for e in itemColumns.offsets[j]..<itemColumns.offsets[j + 1] {
                let user = Int(itemColumns.targets[e])
                let wj = normalized(j, itemColumns.weights[e])
                for f in userRows.offsets[user]..<userRows.offsets[user + 1] {
                    let i = Int(userRows.targets[f])
                    if accumulator[i] == 0 { touched.append(Int32(i)) }
                    accumulator[i] += wj * normalized(i, userRows.weights[f])
                }
            }
            var candidates = touched.map { (item: $0, similarity: accumulator[Int($0)]) }.filter { $0.similarity > 0 }
            if candidates.count > config.neighbors {
                candidates.sort { $0.similarity > $1.similarity || ($0.similarity == $1.similarity && $0.item < $1.item) }
                candidates.removeLast(candidates.count - config.neighbors)
            }
            for candidate in candidates {
                rows.append(Int32(j))
                targets.append(candidate.item)
                weights.append(candidate.similarity)
            }
            for i in touched { accumulator[Int(i)] = 0 }
            touched.removeAll(keepingCapacity: true)
        }
        let similarities = CSR(rowCount: data.itemCount, rows: rows, targets: targets, weights: weights)
        return ItemKNNRecommender(identity: identity, config: config, similarities: similarities, userRows: userRows)
    }

    init(identity: ModelIdentity, config: Config, similarities: CSR, userRows: CSR) {
        self.identity = identity
        self.config = config
        self.similarities = similarities
        self.userRows = userRows
    }

    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        ItemItemScores(similarities: similarities, userRows: userRows).scores(users: users, items: itemCount, into: out)
    }

    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float { 0 }

    /// The terms x_uj · W_ji of the score, one per heard item j (`ItemItemScores.explain`).
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] {
        ItemItemScores(similarities: similarities, userRows: userRows).explain(user: user, item: item, count: count)
    }

    public func save(to path: String) throws {
        try ModelArchive(
            kind: kind.rawValue, settings: JSONEncoder().encode(config), identity: identity,
            arrays: ItemItemScores(similarities: similarities, userRows: userRows).arrays
        ).write(to: path)
    }

    init(archive: ModelArchive, path: String) throws {
        let config = (try? JSONDecoder().decode(Config.self, from: archive.settings)) ?? Config()
        let matrices = try ItemItemScores(archive: archive, path: path, what: "item-KNN")
        self.init(identity: archive.identity, config: config, similarities: matrices.similarities, userRows: matrices.userRows)
    }
}

extension ModelKind {
    public static let itemknn = ModelKind(rawValue: "itemknn")
}
