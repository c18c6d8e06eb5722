import Foundation
import TasteGraphCore
import TasteGraphGraph

/// User-based nearest neighbours on shrunk cosine similarity (Herlocker et al. 1999; the shrink term as in
/// Koren 2008 and the neighbourhood baselines of Dacrema et al. 2019).
///
/// ```
/// x_ui = log1p(plays)  (or 1 for every listen: binary)         X (U, I)
/// ‖x_u‖ = (Σ_i x_ui²)^½
/// sim(u, v) = ⟨x_u, x_v⟩ / (‖x_u‖·‖x_v‖ + shrink),   v ≠ u
/// N_k(u) = the k users v with the largest sim(u, v) > 0     (ties: lower user index)
/// score(u, i) = Σ_{v ∈ N_k(u)} sim(u, v) · x_vi
/// ```
/// The shrink pulls the similarity of users who share few items toward 0 (with shrink = 0 it is the plain
/// cosine). The model keeps each user's neighbours with their similarities, S (U, U) with at most k entries a
/// row, and X itself: together they score any user of the fit.
///
/// Shapes: X (U, I) sparse, S (U, U) sparse with ≤ k entries a row; scores (users.count, I).
public struct UserKNNRecommender: RegisteredModel {
    /// What a listen weighs in X.
    public enum Weighting: String, Sendable, Codable, CaseIterable {
        /// x_ui = log(1 + plays): tames the heavy tail of play counts.
        case log1p
        /// x_ui = 1 for every listen, whatever its plays.
        case binary

        func value(_ plays: Float) -> Float {
            switch self {
            case .log1p: return log1pf(plays)
            case .binary: return plays > 0 ? 1 : 0
            }
        }
    }

    public struct Config: Codable, Sendable, Equatable {
        /// k, the neighbours kept per user: an integer ≥ 1 (more than U − 1 keeps every user with a positive
        /// similarity).
        public var neighbors = 100
        /// The shrink added to the cosine's denominator: finite, ≥ 0 (0: plain cosine). Around 10 damps
        /// neighbours who share one or two artists.
        public var shrink = 10.0
        /// What a listen weighs in X (both for the similarity and for the score).
        public var weighting: Weighting = .log1p
        public init() {}
    }

    public static let modelKind = ModelKind.userknn
    public static let summary = "user-user cosine (shrunk) on the listens, score = Σ over the top-K neighbours of sim · their listens"
    public static var defaultSettings: Config { Config() }

    public let identity: ModelIdentity
    public let config: Config
    public var predictsPlayCounts: Bool { false }
    /// S: row u lists u's neighbours v and sim(u, v), most similar first.
    let neighbors: CSR
    /// X: each user's items with their weights x_ui.
    let userRows: CSR
    /// ‖x_u‖ (U), recomputed from X (explanations split sim(u, v) back into its shared items).
    let norms: [Float]

    public static func fit(_ input: FitInput, settings: Config) throws -> UserKNNRecommender {
        try fit(try input.fitData(), identity: input.identity, config: settings)
    }

    /// Computes every user's top-k neighbours.
    ///
    /// The dot products ⟨x_u, x_v⟩ are accumulated through the items u heard (each item's listeners), so only
    /// pairs of users who share an item are ever touched.
    /// - Throws: `ModelFitError` for neighbors < 1 or a negative or non-finite shrink.
    /// - Complexity: O(Σ_i |U(i)|² + U · c log c) time, c the users sharing an item with u; O(U + I + E + U·k)
    ///   memory.
    public static func fit(_ data: FitData, identity: ModelIdentity, config: Config = Config()) throws -> UserKNNRecommender {
        guard config.neighbors >= 1 else {
            throw ModelFitError(message: "user-KNN: neighbors must be at least 1, got \(config.neighbors); the default is 100")
        }
        guard config.shrink >= 0, config.shrink.isFinite else {
            throw ModelFitError(message: "user-KNN: shrink must be finite and ≥ 0, got \(config.shrink); 0 is the plain cosine, the default 10")
        }
        let graph = data.graph
        let userRows = CSR(offsets: graph.userItems.offsets, targets: graph.userItems.targets,
                           weights: graph.userItems.weights.map(config.weighting.value))
        let itemColumns = CSR(offsets: graph.itemUsers.offsets, targets: graph.itemUsers.targets,
                              weights: graph.itemUsers.weights.map(config.weighting.value))
        let norms = Self.norms(userRows)
        let shrink = Float(config.shrink)
        var dots = [Float](repeating: 0, count: data.userCount)
        // Marked apart from the sum: a listen of 0 plays weighs 0 and must not list v twice.
        var isTouched = [Bool](repeating: false, count: data.userCount)
        var touched: [Int32] = []
        var rows: [Int32] = []
        var targets: [Int32] = []
        var weights: [Float] = []
        for u in 0..<data.userCount {
            // ⟨x_u, x_v⟩ for every v sharing an item with u.
            for e in userRows.offsets[u]..<userRows.offsets[u + 1] {
                let i = Int(userRows.targets[e]), xui = userRows.weights[e]
                for f in itemColumns.offsets[i]..<itemColumns.offsets[i + 1] {
                    let v = Int(itemColumns.targets[f])
                    if !isTouched[v] {
                        isTouched[v] = true
                        touched.append(Int32(v))
                    }
                    dots[v] += xui * itemColumns.weights[f]
                }
            }
            var candidates = touched.filter { Int($0) != u }
                .map { (user: $0, similarity: dots[Int($0)] / (norms[u] * norms[Int($0)] + shrink)) }
                .filter { $0.similarity > 0 && $0.similarity.isFinite }
            candidates.sort { $0.similarity > $1.similarity || ($0.similarity == $1.similarity && $0.user < $1.user) }
            for candidate in candidates.prefix(config.neighbors) {
                rows.append(Int32(u))
                targets.append(candidate.user)
                weights.append(candidate.similarity)
            }
            for v in touched {
                dots[Int(v)] = 0
                isTouched[Int(v)] = false
            }
            touched.removeAll(keepingCapacity: true)
        }
        let neighbors = CSR(rowCount: data.userCount, rows: rows, targets: targets, weights: weights)
        return UserKNNRecommender(identity: identity, config: config, neighbors: neighbors, userRows: userRows)
    }

    /// ‖x_u‖ for every row of X. Shapes: (U).
    static func norms(_ rows: CSR) -> [Float] {
        (0..<rows.rowCount).map { u in
            (rows.offsets[u]..<rows.offsets[u + 1]).reduce(Float(0)) { $0 + rows.weights[$1] * rows.weights[$1] }.squareRoot()
        }
    }

    init(identity: ModelIdentity, config: Config, neighbors: CSR, userRows: CSR) {
        self.identity = identity
        self.config = config
        self.neighbors = neighbors
        self.userRows = userRows
        norms = Self.norms(userRows)
    }

    /// The neighbours of `user` with sim(user, v), most similar first (at most k).
    public func neighbors(of user: UserIndex) -> [(user: UserIndex, similarity: Float)] {
        (neighbors.offsets[user.rawValue]..<neighbors.offsets[user.rawValue + 1]).map {
            (UserIndex(Int(neighbors.targets[$0])), neighbors.weights[$0])
        }
    }

    /// Σ_{v ∈ N_k(u)} sim(u, v) · x_v· for each of `users`. Shapes: out (users.count, I), row-major.
    /// - Complexity: O(I + Σ_{v ∈ N_k(u)} |I(v)|) per user.
    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        let n = itemCount
        for (row, user) in users.lazy.map(\.rawValue).enumerated() {
            let base = row * n
            for item in 0..<n { out[base + item] = 0 }
            for s in neighbors.offsets[user]..<neighbors.offsets[user + 1] {
                let v = Int(neighbors.targets[s]), similarity = neighbors.weights[s]
                for e in userRows.offsets[v]..<userRows.offsets[v + 1] {
                    out[base + Int(userRows.targets[e])] += similarity * userRows.weights[e]
                }
            }
        }
    }

    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float { 0 }

    /// The score split over the items `user` heard: sim(u, v) is itself a sum over the items u and v share, so
    ///
    /// ```
    /// score(u, i) = Σ_{v ∈ N_k(u)} sim(u, v) · x_vi
    ///             = Σ_{j ∈ I(u)} x_uj · Σ_{v ∈ N_k(u)} x_vj · x_vi / (‖x_u‖·‖x_v‖ + shrink)
    /// ```
    /// and the weight of heard item j is its term: how much j drew u toward the neighbours who also played i,
    /// times how much they played i. The terms are ≥ 0 and add up to the score (to float rounding), as the
    /// item-item models' terms x_uj · W_ji do. The user's heard items come from the model's X (`heard` is not
    /// read), as in the other neighbourhood models.
    /// - Complexity: O(|I(u)| + Σ_{v ∈ N_k(u)} |I(v)|).
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] {
        let u = user.rawValue, i = Int32(item.rawValue)
        var own: [Int32: Float] = [:]
        for e in userRows.offsets[u]..<userRows.offsets[u + 1] { own[userRows.targets[e]] = userRows.weights[e] }
        var terms: [Int32: Double] = [:]
        for s in neighbors.offsets[u]..<neighbors.offsets[u + 1] {
            let v = Int(neighbors.targets[s])
            let row = userRows.offsets[v]..<userRows.offsets[v + 1]
            guard let e = row.first(where: { userRows.targets[$0] == i }) else { continue }
            let scale = Double(userRows.weights[e]) / Double(norms[u] * norms[v] + Float(config.shrink))
            for f in row {
                guard let xuj = own[userRows.targets[f]] else { continue }
                terms[userRows.targets[f], default: 0] += Double(xuj) * Double(userRows.weights[f]) * scale
            }
        }
        let contributions = terms.filter { $0.value > 0 }.map { Contribution(item: ItemIndex(Int($0.key)), weight: $0.value) }
        return Array(contributions.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }.prefix(max(0, count)))
    }

    public func save(to path: String) throws {
        try ModelArchive(
            kind: kind.rawValue, settings: JSONEncoder().encode(config), identity: identity,
            arrays: [
                ("neighborOffsets", .int(neighbors.offsets.map { Int32($0) })), ("neighbors", .int(neighbors.targets)),
                ("similarities", .float(neighbors.weights)),
            ] + ArchiveChecks.userRowArrays(userRows)
        ).write(to: path)
    }

    public init(file: ModelFile, path: String) throws { try self.init(archive: ModelArchive(file: file, path: path), path: path) }

    init(archive: ModelArchive, path: String) throws {
        // The shrink enters the explanations: settings that do not decode are an error, not the defaults.
        let config = try ArchiveChecks.settings(Config.self, of: archive, what: "user-KNN", path: path)
        guard config.shrink >= 0, config.shrink.isFinite else {
            throw CheckpointError(path: path, reason: "user-KNN shrink \(config.shrink) is negative or non-finite (the file is corrupt)")
        }
        let users = archive.identity.userIDs.count
        let neighbors = try ArchiveChecks.csr(
            offsets: try archive.ints("neighborOffsets", path: path).map(Int.init), targets: try archive.ints("neighbors", path: path),
            weights: try archive.floats("similarities", path: path), rows: users, columns: users, what: "user-KNN neighbour", path: path)
        let userRows = try ArchiveChecks.userRows(archive, what: "user-KNN listen", path: path)
        guard neighbors.weights.allSatisfy(\.isFinite), userRows.weights.allSatisfy(\.isFinite) else {
            throw CheckpointError(path: path, reason: "user-KNN holds a non-finite similarity or listen weight (the file is corrupt)")
        }
        self.init(identity: archive.identity, config: config, neighbors: neighbors, userRows: userRows)
    }
}

extension ModelKind {
    public static let userknn = ModelKind(rawValue: "userknn")
}

#if canImport(Glibc)
import Glibc
#endif
