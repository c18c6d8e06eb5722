import TasteGraphCore
import Foundation
import TasteGraphGraph

/// RP3β (Paudel et al. 2016): three-step random walks item → user → item, the popularity of the target
/// discounted, as the reference of `../shared/peers/rank` computes it.
///
/// ```
/// x_ui = 1 (binary) or log1p(plays)                        X (U, I)
/// P(u|i) = (x_ui / Σ_u' x_u'i)^α,  P(j|u) = (x_uj / Σ_j' x_uj')^α
/// W_ij = Σ_u P(u|i) · P(j|u) / pop(j)^β,   pop(j) = max(1, listeners of j);  W_ii = 0
/// keep the K largest W_ij of each row i;   score(u, j) = Σ_i x_ui · W_ij
/// ```
public struct RP3BetaRecommender: RegisteredModel {
    public struct Config: Codable, Sendable, Equatable {
        public var alpha = 1.0
        public var beta = 0.3
        /// Neighbours kept per item (row of W).
        public var neighbors = 500
        public var binary = true
        public init() {}
    }

    public static let modelKind = ModelKind.rp3beta
    public static let summary = "RP3β: item→user→item walk probabilities with the target's popularity^β discounted, top-K per item"
    public static var defaultSettings: Config { Config() }

    public static func fit(_ input: FitInput, settings: Config) throws -> RP3BetaRecommender {
        try fit(try input.fitData(), identity: input.identity, config: settings)
    }

    public init(file: ModelFile, path: String) throws { try self.init(archive: ModelArchive(file: file, path: path), path: path) }
    public let identity: ModelIdentity
    public var predictsPlayCounts: Bool { false }
    public let config: Config
    /// W with at most K entries per row: row i lists the items j it leads to and W_ij.
    let similarities: CSR
    /// X: each user's items with their values.
    let userRows: CSR

    /// - Throws: `ModelFitError` for a negative α or β, or no neighbours.
    public static func fit(_ data: FitData, identity: ModelIdentity, config: Config = Config()) throws -> RP3BetaRecommender {
        guard config.neighbors > 0, config.alpha >= 0, config.beta >= 0, config.alpha.isFinite, config.beta.isFinite else {
            throw ModelFitError(message: "RP3β: needs neighbors > 0 and finite alpha, beta ≥ 0 (got \(config.neighbors), \(config.alpha), \(config.beta))")
        }
        let graph = data.graph
        let value: (Float) -> Float = { config.binary ? ($0 > 0 ? 1 : 0) : log1p($0) }
        let userRows = CSR(offsets: graph.userItems.offsets, targets: graph.userItems.targets, weights: graph.userItems.weights.map(value))
        let itemColumns = CSR(offsets: graph.itemUsers.offsets, targets: graph.itemUsers.targets, weights: graph.itemUsers.weights.map(value))
        func sum(_ m: CSR, _ row: Int) -> Float { (m.offsets[row]..<m.offsets[row + 1]).reduce(0) { $0 + m.weights[$1] } }
        let userDegree = (0..<data.userCount).map { max(sum(userRows, $0), 1e-12) }
        let itemDegree = (0..<data.itemCount).map { max(sum(itemColumns, $0), 1e-12) }
        let discount = (0..<data.itemCount).map { item -> Float in
            let listeners = itemColumns.offsets[item + 1] - itemColumns.offsets[item]
            return Float(pow(Double(max(listeners, 1)), config.beta))
        }
        let alpha = Float(config.alpha)
        func power(_ x: Float) -> Float { alpha == 1 ? x : powf(x, alpha) }
        var accumulator = [Float](repeating: 0, count: data.itemCount)
        var touched: [Int32] = []
        var rows: [Int32] = []
        var targets: [Int32] = []
        var weights: [Float] = []
        for i in 0..<data.itemCount {
            for e in itemColumns.offsets[i]..<itemColumns.offsets[i + 1] {
                let user = Int(itemColumns.targets[e])
                let step = power(itemColumns.weights[e] / itemDegree[i])
                for f in userRows.offsets[user]..<userRows.offsets[user + 1] {
                    let j = Int(userRows.targets[f])
                    if accumulator[j] == 0 { touched.append(Int32(j)) }
                    accumulator[j] += step * power(userRows.weights[f] / userDegree[user])
                }
            }
            var candidates = touched.filter { Int($0) != i }.map { (item: $0, weight: accumulator[Int($0)] / discount[Int($0)]) }.filter { $0.weight > 0 }
            if candidates.count > config.neighbors {
                candidates.sort { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }
                candidates.removeLast(candidates.count - config.neighbors)
            }
            for candidate in candidates.sorted(by: { $0.item < $1.item }) {
                rows.append(Int32(i))
                targets.append(candidate.item)
                weights.append(candidate.weight)
            }
            for j in touched { accumulator[Int(j)] = 0 }
            touched.removeAll(keepingCapacity: true)
        }
        let similarities = CSR(rowCount: data.itemCount, rows: rows, targets: targets, weights: weights)
        return RP3BetaRecommender(identity: identity, config: config, similarities: similarities, userRows: userRows)
    }

    init(identity: ModelIdentity, config: Config, similarities: CSR, userRows: CSR) {
        self.identity = identity
        self.config = config
        self.similarities = similarities
        self.userRows = userRows
    }

    /// W_ij, 0 when j is not among i's kept neighbours.
    public func weight(from i: ItemIndex, to j: ItemIndex) -> Float {
        for s in similarities.offsets[i.rawValue]..<similarities.offsets[i.rawValue + 1] where Int(similarities.targets[s]) == j.rawValue {
            return similarities.weights[s]
        }
        return 0
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
        let matrices = try ItemItemScores(archive: archive, path: path, what: "RP3β")
        self.init(identity: archive.identity, config: config, similarities: matrices.similarities, userRows: matrices.userRows)
    }
}

extension ModelKind {
    public static let rp3beta = ModelKind(rawValue: "rp3beta")
}
