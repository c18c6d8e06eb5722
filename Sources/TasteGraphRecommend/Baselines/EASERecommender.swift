import BLAS
import Foundation
import TasteGraphCore
import TasteGraphGraph

/// EASE (Steck 2019): a linear item-item model with a closed form, the strongest simple baseline on
/// lastfm-2k (PEERS.md).
///
/// ```
/// X (U, I)                 binary listens (or log1p plays)
/// G = XᵀX (I, I)           the item Gram matrix
/// P = (G + λI)⁻¹           LAPACK Cholesky factor and inverse (spotrf, spotri), float32
/// B = I − P · diag(1/diag(P))   so B_jj = 0 and, off the diagonal, ((G + λI)·B)_ij = G_ij
/// score(u, ·) = x_u · B    (1, I)
/// ```
/// Memory: two dense I × I float matrices while fitting (G overwritten by P, then B), one in the model:
/// 4·I² bytes each (lastfm-2k's 17,632 items: 1.24 GB). A catalog above `maximumItems` is refused with
/// an error that says so; the model file holds B whole.
public struct EASERecommender: RegisteredModel {
    public struct Config: Codable, Sendable, Equatable {
        /// λ of the ridge penalty on B.
        public var lambda = 100.0
        /// Binary listens (the reference) or log1p(plays) as X.
        public var binary = true
        /// Largest catalog fitted (4·I² bytes per dense matrix; 20,000 items: 1.6 GB each).
        public var maximumItems = 20_000
        public init() {}
    }

    public static let modelKind = ModelKind.ease
    public static let summary = "EASE: closed-form item-item ridge regression, B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹"
    public static var defaultSettings: Config { Config() }

    public let identity: ModelIdentity
    public let config: Config
    public var predictsPlayCounts: Bool { false }
    /// B (I, I), row-major: row j holds B_j· (how much hearing j adds to each item's score).
    let weights: [Float]
    /// X: each user's items with their weights.
    let userRows: CSR

    public static func fit(_ input: FitInput, settings: Config) throws -> EASERecommender {
        try fit(try input.fitData(), identity: input.identity, config: settings)
    }

    /// - Throws: `ModelFitError` for a catalog above `config.maximumItems`, a λ ≤ 0, or a Gram matrix that is not
    ///   positive definite.
    public static func fit(_ data: FitData, identity: ModelIdentity, config: Config = Config()) throws -> EASERecommender {
        let n = data.itemCount
        guard n <= config.maximumItems else {
            throw ModelFitError(message: "EASE needs two dense \(n)×\(n) float matrices (\(Self.gigabytes(n)) GB each); this catalog has more items than maximumItems = \(config.maximumItems): filter it (`tastegraph prepare`) or raise maximumItems if the memory is there")
        }
        guard config.lambda > 0, config.lambda.isFinite else { throw ModelFitError(message: "EASE: lambda must be > 0, got \(config.lambda)") }
        let graph = data.graph
        let userRows = CSR(offsets: graph.userItems.offsets, targets: graph.userItems.targets,
                           weights: graph.userItems.weights.map { config.binary ? ($0 > 0 ? 1 : 0) : log1p($0) })
        // G = XᵀX, summed user by user over the pairs of their items.
        var matrix = [Float](repeating: 0, count: n * n)
        for user in 0..<data.userCount {
            let range = userRows.offsets[user]..<userRows.offsets[user + 1]
            for e in range {
                let i = Int(userRows.targets[e]), wi = userRows.weights[e]
                for f in range { matrix[i * n + Int(userRows.targets[f])] += wi * userRows.weights[f] }
            }
        }
        for i in 0..<n { matrix[i * n + i] += Float(config.lambda) }
        let inverted = matrix.withUnsafeMutableBufferPointer { BLAS.invertPositiveDefinite($0, n: n) }
        guard inverted else { throw ModelFitError(message: "EASE: XᵀX + λI is not positive definite (λ = \(config.lambda)); raise lambda") }
        // B = I − P · diag(1/diag(P)): column j of P divided by −P_jj, and a zero diagonal.
        var diagonal = [Float](repeating: 0, count: n)
        for j in 0..<n { diagonal[j] = matrix[j * n + j] }
        for i in 0..<n {
            for j in 0..<n { matrix[i * n + j] = i == j ? 0 : -matrix[i * n + j] / diagonal[j] }
        }
        return EASERecommender(identity: identity, config: config, weights: matrix, userRows: userRows)
    }

    static func gigabytes(_ n: Int) -> String { String(format: "%.2f", Double(n) * Double(n) * 4 / 1e9) }

    init(identity: ModelIdentity, config: Config, weights: [Float], userRows: CSR) {
        self.identity = identity
        self.config = config
        self.weights = weights
        self.userRows = userRows
    }

    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        let n = itemCount
        weights.withUnsafeBufferPointer { b in
            for (row, user) in users.lazy.map(\.rawValue).enumerated() {
                let base = row * n
                for item in 0..<n { out[base + item] = 0 }
                for e in userRows.offsets[user]..<userRows.offsets[user + 1] {
                    let j = Int(userRows.targets[e]), w = userRows.weights[e]
                    let source = j * n
                    for item in 0..<n { out[base + item] += w * b[source + item] }
                }
            }
        }
    }

    /// B_ji: how much having heard item j adds to item i's score.
    public func weight(from j: ItemIndex, to i: ItemIndex) -> Float { weights[j.rawValue * itemCount + i.rawValue] }

    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float { 0 }

    /// The terms x_uj · B_ji of the score, one per heard item j, largest first.
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] {
        let n = itemCount
        var terms: [Contribution] = []
        for e in userRows.offsets[user.rawValue]..<userRows.offsets[user.rawValue + 1] {
            let j = Int(userRows.targets[e])
            let weight = Double(userRows.weights[e] * weights[j * n + item.rawValue])
            if weight > 0 { terms.append(Contribution(item: ItemIndex(j), weight: weight)) }
        }
        return Array(terms.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }.prefix(count))
    }

    public func save(to path: String) throws {
        try ModelArchive(
            kind: kind.rawValue, settings: JSONEncoder().encode(config), identity: identity,
            arrays: [
                ("weights", .float(weights)),
            ] + ArchiveChecks.userRowArrays(userRows)
        ).write(to: path)
    }

    public init(file: ModelFile, path: String) throws { try self.init(archive: ModelArchive(file: file, path: path), path: path) }

    init(archive: ModelArchive, path: String) throws {
        let config = (try? JSONDecoder().decode(Config.self, from: archive.settings)) ?? Config()
        let n = archive.identity.itemIDs.count
        let weights = try archive.floats("weights", path: path)
        guard weights.count == n * n, weights.allSatisfy(\.isFinite) else {
            throw CheckpointError(path: path, reason: "EASE's B holds \(weights.count) values (or a non-finite one), expected \(n)×\(n)")
        }
        let userRows = try ArchiveChecks.userRows(archive, what: "EASE", path: path)
        self.init(identity: archive.identity, config: config, weights: weights, userRows: userRows)
    }
}

extension ModelKind {
    public static let ease = ModelKind(rawValue: "ease")
}
