import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphSupport

/// Co-clustering (George & Merugu 2005) as the `surprise` library fits it (`CoClustering`): users fall in
/// K clusters and items in L clusters, and a listen's log1p(play count) is predicted from the means of its
/// block.
///
/// ```
/// y_ui = log1p(plays)                        over the train listens (one term per listen)
/// μ_u, μ_i                                   mean y of user u, of item i
/// C̄_g, C̄_h, C̄_gh                            mean y of user cluster g, item cluster h, co-cluster (g, h)
/// ŷ_ui = C̄_{c(u)c(i)} + (μ_u − C̄_{c(u)}) + (μ_i − C̄_{c(i)})
/// ```
/// Fitting: c(u) and c(i) start uniform at random (`SplitMix64(seed:)`, users first, then items); each epoch
/// recomputes the means, moves every user to the cluster g minimizing Σ_{i ∈ I(u)} (y_ui − ŷ_ui)² with u put
/// in g, then every item likewise (against the users' new clusters but the epoch's means, as surprise
/// does); ties go to the lower cluster. The means are computed once more at the end. An empty cluster or
/// co-cluster has the global mean μ. A user or an item without train listens is predicted μ (surprise's
/// default prediction for an unknown user or item).
///
/// Ranking scores are ŷ itself (the model is a play-count predictor, so ranking by it favours what the user
/// is predicted to play most, not what they are likely to hear next). The model file holds the clusters and
/// the train listens' y; the means are recomputed from them on loading.
///
/// Shapes: K user clusters, L item clusters; block means (K, L).
/// - Complexity: O(epochs · E · (K + L)) to fit; O(I) per scored user.
public struct CoClusteringRecommender: RegisteredModel {
    public struct Config: Codable, Sendable, Equatable {
        /// K, the number of user clusters.
        public var userClusters = 3
        /// L, the number of item clusters.
        public var itemClusters = 3
        /// Rounds of reassigning users, then items.
        public var epochs = 20
        /// Seeds the initial random clusters.
        public var seed: UInt64 = 0
        public init() {}

        /// Largest K or L accepted (the co-cluster table holds K · L means).
        static let maximumClusters = 10_000

        /// - Throws: `ModelFitError` naming the bad setting and the range it must lie in.
        func validate() throws {
            for (name, value) in [("userClusters", userClusters), ("itemClusters", itemClusters)]
            where !(1...Self.maximumClusters).contains(value) {
                throw ModelFitError(message: "co-clustering: \(name) must be between 1 and \(Self.maximumClusters), got \(value)")
            }
            guard epochs >= 0 else { throw ModelFitError(message: "co-clustering: epochs must be ≥ 0, got \(epochs)") }
        }
    }

    public static let modelKind = ModelKind.coclustering
    public static let summary = "co-clustering (George & Merugu, as surprise): log1p plays from user-cluster × item-cluster block means"
    public static var defaultSettings: Config { Config() }

    public let identity: ModelIdentity
    public let config: Config
    public var predictsPlayCounts: Bool { true }
    /// c(u) (U), in 0..<K.
    public let userClusters: [Int32]
    /// c(i) (I), in 0..<L.
    public let itemClusters: [Int32]
    /// y: each user's train items with their log1p(plays).
    let userRows: CSR
    /// The means ŷ is built from, for the final clusters.
    let means: CoClusterMeans

    public static func fit(_ input: FitInput, settings: Config) throws -> CoClusteringRecommender {
        try fit(try input.fitData(), identity: input.identity, config: settings)
    }

    /// - Throws: `ModelFitError` for a cluster count outside 1…10,000 or negative epochs.
    public static func fit(_ data: FitData, identity: ModelIdentity, config: Config = Config()) throws -> CoClusteringRecommender {
        try config.validate()
        let graph = data.graph
        let userRows = CSR(offsets: graph.userItems.offsets, targets: graph.userItems.targets, weights: graph.userItems.weights.map(log1pf))
        let itemRows = CSR(offsets: graph.itemUsers.offsets, targets: graph.itemUsers.targets, weights: graph.itemUsers.weights.map(log1pf))
        let k = config.userClusters, l = config.itemClusters
        var rng = SplitMix64(seed: config.seed)
        var userOf = (0..<data.userCount).map { _ in Int32(rng.nextInt(below: k)) }
        var itemOf = (0..<data.itemCount).map { _ in Int32(rng.nextInt(below: l)) }
        for _ in 0..<config.epochs {
            let m = CoClusterMeans(userRows: userRows, itemCount: data.itemCount, userClusters: userOf, itemClusters: itemOf, k: k, l: l)
            // Users: Σ_{i ∈ I(u)} (y_ui − (C̄_{g c(i)} + μ_u − C̄_g + μ_i − C̄_{c(i)}))² for each candidate g.
            for user in 0..<data.userCount {
                userOf[user] = Self.bestCluster(k, rows: userRows, row: user) { g, item, y in
                    let h = Int(itemOf[item])
                    return y - (m.block[g * l + h] + m.user[user] - m.userCluster[g] + m.item[item] - m.itemCluster[h])
                }
            }
            // Items: the same error over the item's listeners, with the users' new clusters.
            for item in 0..<data.itemCount {
                itemOf[item] = Self.bestCluster(l, rows: itemRows, row: item) { h, user, y in
                    let g = Int(userOf[user])
                    return y - (m.block[g * l + h] + m.user[user] - m.userCluster[g] + m.item[item] - m.itemCluster[h])
                }
            }
        }
        return CoClusteringRecommender(identity: identity, config: config, userClusters: userOf, itemClusters: itemOf, userRows: userRows)
    }

    /// The cluster in 0..<count with the least Σ residual² over `row`'s entries (ties: the lower cluster).
    /// `residual(cluster, target, y)` is y minus the prediction with `row` put in `cluster`.
    private static func bestCluster(_ count: Int, rows: CSR, row: Int, residual: (Int, Int, Double) -> Double) -> Int32 {
        var best = 0
        var bestError = Double.infinity
        for cluster in 0..<count {
            var error = 0.0
            for e in rows.offsets[row]..<rows.offsets[row + 1] {
                let r = residual(cluster, Int(rows.targets[e]), Double(rows.weights[e]))
                error += r * r
            }
            if error < bestError {
                best = cluster
                bestError = error
            }
        }
        return Int32(best)
    }

    init(identity: ModelIdentity, config: Config, userClusters: [Int32], itemClusters: [Int32], userRows: CSR) {
        self.identity = identity
        self.config = config
        self.userClusters = userClusters
        self.itemClusters = itemClusters
        self.userRows = userRows
        means = CoClusterMeans(userRows: userRows, itemCount: itemClusters.count, userClusters: userClusters, itemClusters: itemClusters,
                               k: config.userClusters, l: config.itemClusters)
    }

    /// ŷ_ui in Double (μ for a user or item without train listens).
    private func predicted(_ user: Int, _ item: Int) -> Double {
        guard means.userListens[user] > 0, means.itemListens[item] > 0 else { return means.global }
        let g = Int(userClusters[user]), h = Int(itemClusters[item])
        return means.block[g * config.itemClusters + h] + (means.user[user] - means.userCluster[g]) + (means.item[item] - means.itemCluster[h])
    }

    /// ŷ_u· for each of `users`. Shapes: out (users.count, I).
    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        let n = itemCount
        for (row, user) in users.lazy.map(\.rawValue).enumerated() {
            for item in 0..<n { out[row * n + item] = Float(predicted(user, item)) }
        }
    }

    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float { Float(predicted(user.rawValue, item.rawValue)) }

    /// The user's own share of the block mean C̄_{c(u)c(i)} in ŷ_ui: the heard items j in i's item cluster,
    /// each with y_uj / n_{c(u)c(i)} (n the block's listen count), largest first. These terms are exact
    /// summands of ŷ; the rest of the score comes from the other listeners of the block and the cluster
    /// offsets, which no single heard item explains. Empty for a user or item without train listens.
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] {
        let user = user.rawValue, item = item.rawValue
        guard means.userListens[user] > 0, means.itemListens[item] > 0 else { return [] }
        let h = itemClusters[item]
        let listens = means.blockListens[Int(userClusters[user]) * config.itemClusters + Int(h)]
        var shares: [Int: Double] = [:]
        for e in userRows.offsets[user]..<userRows.offsets[user + 1] where itemClusters[Int(userRows.targets[e])] == h {
            shares[Int(userRows.targets[e]), default: 0] += Double(userRows.weights[e]) / Double(listens)
        }
        let terms = shares.filter { $0.value > 0 }.map { Contribution(item: ItemIndex($0.key), weight: $0.value) }
        return Array(terms.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }.prefix(count))
    }

    public func save(to path: String) throws {
        try ModelArchive(
            kind: kind.rawValue, settings: JSONEncoder().encode(config), identity: identity,
            arrays: [
                ("userClusters", .int(userClusters)), ("itemClusters", .int(itemClusters)),
            ] + ArchiveChecks.userRowArrays(userRows)
        ).write(to: path)
    }

    public init(file: ModelFile, path: String) throws { try self.init(archive: ModelArchive(file: file, path: path), path: path) }

    init(archive: ModelArchive, path: String) throws {
        let config: Config
        do {
            config = try JSONDecoder().decode(Config.self, from: archive.settings)
            try config.validate()
        } catch {
            throw CheckpointError(path: path, reason: "bad co-clustering settings: \(error)")
        }
        let users = archive.identity.userIDs.count, items = archive.identity.itemIDs.count
        let userOf = try archive.ints("userClusters", path: path), itemOf = try archive.ints("itemClusters", path: path)
        guard userOf.count == users, itemOf.count == items,
              userOf.allSatisfy({ $0 >= 0 && Int($0) < config.userClusters }), itemOf.allSatisfy({ $0 >= 0 && Int($0) < config.itemClusters })
        else { throw CheckpointError(path: path, reason: "co-clustering clusters do not match the model's users, items and cluster counts") }
        let userRows = try ArchiveChecks.userRows(archive, what: "co-clustering", path: path)
        guard userRows.weights.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw CheckpointError(path: path, reason: "co-clustering holds a negative or non-finite log1p(plays) (the file is corrupt)")
        }
        self.init(identity: archive.identity, config: config, userClusters: userOf, itemClusters: itemOf, userRows: userRows)
    }
}

/// The means of co-clustering's prediction for one assignment of clusters, over the train listens' y.
/// Computed in Double, one pass over the listens in `userRows` order (so a fit and a loaded model agree).
struct CoClusterMeans: Sendable {
    /// μ over all listens (0 without listens).
    let global: Double
    /// μ_u (U) and μ_i (I); μ where the user or item has no listens.
    let user: [Double]
    let item: [Double]
    /// Listens per user (U) and per item (I).
    let userListens: [Int]
    let itemListens: [Int]
    /// C̄_g (K) and C̄_h (L); μ for an empty cluster.
    let userCluster: [Double]
    let itemCluster: [Double]
    /// C̄_gh (K, L), row-major; μ for an empty co-cluster.
    let block: [Double]
    /// n_gh (K, L): listens in each co-cluster.
    let blockListens: [Int]

    init(userRows: CSR, itemCount: Int, userClusters: [Int32], itemClusters: [Int32], k: Int, l: Int) {
        let userCount = userRows.rowCount
        var userSum = [Double](repeating: 0, count: userCount), itemSum = [Double](repeating: 0, count: itemCount)
        var userListens = [Int](repeating: 0, count: userCount), itemListens = [Int](repeating: 0, count: itemCount)
        var userClusterSum = [Double](repeating: 0, count: k), userClusterListens = [Int](repeating: 0, count: k)
        var itemClusterSum = [Double](repeating: 0, count: l), itemClusterListens = [Int](repeating: 0, count: l)
        var blockSum = [Double](repeating: 0, count: k * l), blockListens = [Int](repeating: 0, count: k * l)
        var total = 0.0
        for u in 0..<userCount {
            let g = Int(userClusters[u])
            for e in userRows.offsets[u]..<userRows.offsets[u + 1] {
                let i = Int(userRows.targets[e]), h = Int(itemClusters[i]), y = Double(userRows.weights[e])
                total += y
                userSum[u] += y; userListens[u] += 1
                itemSum[i] += y; itemListens[i] += 1
                userClusterSum[g] += y; userClusterListens[g] += 1
                itemClusterSum[h] += y; itemClusterListens[h] += 1
                blockSum[g * l + h] += y; blockListens[g * l + h] += 1
            }
        }
        let global = userRows.edgeCount > 0 ? total / Double(userRows.edgeCount) : 0
        func mean(_ sums: [Double], _ counts: [Int]) -> [Double] {
            zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : global }
        }
        self.global = global
        user = mean(userSum, userListens)
        item = mean(itemSum, itemListens)
        self.userListens = userListens
        self.itemListens = itemListens
        userCluster = mean(userClusterSum, userClusterListens)
        itemCluster = mean(itemClusterSum, itemClusterListens)
        block = mean(blockSum, blockListens)
        self.blockListens = blockListens
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension ModelKind {
    public static let coclustering = ModelKind(rawValue: "coclustering")
}
