import Foundation
import TasteGraphCore
import TasteGraphGraph

/// Content-based recommendation: a listener's profile is the sum of the text rows of what they heard, and
/// an item scores by its text's cosine with that profile.
///
/// ```
/// x_i (T)                   item i's text row: FitInput.features X (I, F) without its last column, T = F − 1
/// x̂_i = x_i / ‖x_i‖₂        (an empty or all-zero row stays 0)
/// w_uj = log1p(plays)       (or 1 for every heard item: `binary`)
/// p_u = Σ_{j ∈ I(u)} w_uj · x̂_j                    (T)
/// score(u, i) = cos(p_u, x_i) = ⟨p_u, x̂_i⟩ / ‖p_u‖₂   (0 when p_u = 0 or x_i = 0)
/// ```
/// The last column of the GCN's features is the catalog's popularity (`ItemFeatures.matrix`), not content:
/// it is dropped, so the model is purely content and an item nobody has heard yet scores as well as its text
/// matches — reaching cold-start items is what the model is for. Nothing here is learned from listens but
/// the profiles.
///
/// The model file holds X̂ (sparse) and the users' rows w; the profiles are rebuilt from them on loading.
/// Shapes: X (I, F) → X̂ (I, T); W (U, I) sparse; P (U, T) sparse.
/// - Complexity: O(Σ_{j ∈ I(u)} nnz(x̂_j)) per profile; O(T + nnz(X̂)) per scored user.
public struct ContentRecommender: RegisteredModel {
    public struct Config: Codable, Sendable, Equatable {
        /// w_uj = 1 for every heard item instead of log1p(plays).
        public var binary = false
        public init() {}
    }

    public static let modelKind = ModelKind.content
    public static let summary = "content-based: cosine of an item's text features with the listener's play-weighted text profile; reaches unheard items"
    public static var defaultSettings: Config { Config() }
    public static var usesFeatures: Bool { true }

    public let identity: ModelIdentity
    public let config: Config
    public var predictsPlayCounts: Bool { false }
    /// X̂ (I, T): the items' normalized text rows.
    public let itemRows: SparseMatrix<Float>
    /// W: each user's heard items with their weights w_uj.
    let userRows: CSR
    /// P (U, T): the profiles p_u, and ‖p_u‖₂ (U).
    let profiles: SparseMatrix<Float>
    let profileNorms: [Float]

    /// Fits on `input.split.train` with the text part of `input.features`.
    /// - Throws: `ModelFitError` without features, for features whose rows are not the model's items, without a
    ///   text column, or with a non-finite value; for non-finite plays.
    public static func fit(_ input: FitInput, settings: Config) throws -> ContentRecommender {
        let data = try input.fitData()
        guard let features = input.features else {
            throw ModelFitError(message: "the content model needs item features (FitInput.features): pass the GCN's [text | popularity] matrix, ItemFeatures.matrix")
        }
        return try fit(data, identity: input.identity, features: features.matrix, config: settings)
    }

    /// - Parameter features: X (I, F), [text | popularity] as `ItemFeatures.matrix` builds it.
    /// - Throws: `ModelFitError` when X has other than I rows, fewer than 2 columns, a column index outside
    ///   0..<F or a non-finite value.
    public static func fit(_ data: FitData, identity: ModelIdentity, features: SparseMatrix<Float>, config: Config = Config()) throws -> ContentRecommender {
        guard features.rows == data.itemCount else {
            throw ModelFitError(message: "the content model's features have \(features.rows) rows for \(data.itemCount) items; build them for this catalog (ItemFeatures.matrix)")
        }
        guard features.columns >= 2 else {
            throw ModelFitError(message: "the content model's features have \(features.columns) column(s): it needs [text | popularity], at least one text column before the popularity")
        }
        guard features.indices.allSatisfy({ $0 >= 0 && Int($0) < features.columns }) else {
            throw ModelFitError(message: "the content model's features hold a column index outside 0..<\(features.columns); rebuild them")
        }
        guard features.values.allSatisfy(\.isFinite) else {
            throw ModelFitError(message: "the content model's features hold a non-finite value; rebuild them (ItemFeatures.matrix)")
        }
        let graph = data.graph
        let userRows = CSR(offsets: graph.userItems.offsets, targets: graph.userItems.targets,
                           weights: graph.userItems.weights.map { config.binary ? 1 : log1pf($0) })
        return ContentRecommender(identity: identity, config: config, itemRows: normalizedText(features), userRows: userRows)
    }

    /// X̂: each row of X without its last (popularity) column, divided by its L2 norm; columns sorted, zeros
    /// left out, and a row without text left empty. Shapes: X (I, F) → (I, F − 1).
    static func normalizedText(_ features: SparseMatrix<Float>) -> SparseMatrix<Float> {
        let text = features.columns - 1
        var offsets = [0]
        var indices: [Int32] = []
        var values: [Float] = []
        for row in 0..<features.rows {
            // The row's text entries by column, a repeated column summed (as `SparseMatrix(entries:)` does).
            var entries: [(column: Int32, value: Float)] = []
            for e in features.offsets[row]..<features.offsets[row + 1] where Int(features.indices[e]) < text {
                entries.append((features.indices[e], features.values[e]))
            }
            entries.sort { $0.column < $1.column }
            var merged: [(column: Int32, value: Float)] = []
            for entry in entries {
                if let last = merged.last, last.column == entry.column {
                    merged[merged.count - 1].value += entry.value
                } else {
                    merged.append(entry)
                }
            }
            merged.removeAll { $0.value == 0 }
            let norm = merged.reduce(Float(0)) { $0 + $1.value * $1.value }.squareRoot()
            if norm > 0 {
                for entry in merged {
                    indices.append(entry.column)
                    values.append(entry.value / norm)
                }
            }
            offsets.append(indices.count)
        }
        return SparseMatrix(rows: features.rows, columns: text, offsets: offsets, indices: indices, values: values)
    }

    init(identity: ModelIdentity, config: Config, itemRows: SparseMatrix<Float>, userRows: CSR) {
        self.identity = identity
        self.config = config
        self.itemRows = itemRows
        self.userRows = userRows
        // p_u = Σ_j w_uj · x̂_j, accumulated densely per user and kept sparse.
        var dense = [Float](repeating: 0, count: itemRows.columns)
        var touched = [Bool](repeating: false, count: itemRows.columns)
        var columns: [Int32] = []
        var offsets = [0]
        var indices: [Int32] = []
        var values: [Float] = []
        var norms = [Float](repeating: 0, count: userRows.rowCount)
        for user in 0..<userRows.rowCount {
            for e in userRows.offsets[user]..<userRows.offsets[user + 1] {
                let j = Int(userRows.targets[e]), w = userRows.weights[e]
                for s in itemRows.offsets[j]..<itemRows.offsets[j + 1] {
                    let c = Int(itemRows.indices[s])
                    if !touched[c] {
                        touched[c] = true
                        columns.append(Int32(c))
                    }
                    dense[c] += w * itemRows.values[s]
                }
            }
            columns.sort()
            var squares: Float = 0
            for c in columns.lazy.map(Int.init) {
                if dense[c] != 0 {
                    indices.append(Int32(c))
                    values.append(dense[c])
                    squares += dense[c] * dense[c]
                }
                dense[c] = 0
                touched[c] = false
            }
            columns.removeAll(keepingCapacity: true)
            offsets.append(indices.count)
            norms[user] = squares.squareRoot()
        }
        profiles = SparseMatrix(rows: userRows.rowCount, columns: itemRows.columns, offsets: offsets, indices: indices, values: values)
        profileNorms = norms
    }

    /// ⟨x̂_i, v⟩ for a dense v (T).
    private func dot(item: Int, _ v: [Float]) -> Float {
        var sum: Float = 0
        for s in itemRows.offsets[item]..<itemRows.offsets[item + 1] { sum += itemRows.values[s] * v[Int(itemRows.indices[s])] }
        return sum
    }

    /// v (T) with row `row` of `matrix` written in (the rest 0).
    private func scattered(_ matrix: SparseMatrix<Float>, row: Int) -> [Float] {
        var v = [Float](repeating: 0, count: matrix.columns)
        for s in matrix.offsets[row]..<matrix.offsets[row + 1] { v[Int(matrix.indices[s])] = matrix.values[s] }
        return v
    }

    /// cos(p_u, x_i) for `users` × all items. Shapes: out (users.count, I).
    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        let n = itemCount
        for (row, user) in users.lazy.map(\.rawValue).enumerated() {
            let norm = profileNorms[user]
            guard norm > 0 else {
                for item in 0..<n { out[row * n + item] = 0 }
                continue
            }
            let profile = scattered(profiles, row: user)
            for item in 0..<n { out[row * n + item] = dot(item: item, profile) / norm }
        }
    }

    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float { 0 }

    /// The heard items j whose text is closest to i's, weighted by how much u played them:
    /// w_uj · cos(x_j, x_i) / ‖p_u‖₂, the terms of score(u, i) (they add up to it), positive ones only,
    /// largest first.
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] {
        let user = user.rawValue
        let norm = profileNorms[user]
        guard norm > 0 else { return [] }
        let target = scattered(itemRows, row: item.rawValue)
        var terms: [Int: Double] = [:]
        for e in userRows.offsets[user]..<userRows.offsets[user + 1] {
            let j = Int(userRows.targets[e])
            terms[j, default: 0] += Double(userRows.weights[e] * dot(item: j, target) / norm)
        }
        let positive = terms.filter { $0.value > 0 }.map { Contribution(item: ItemIndex($0.key), weight: $0.value) }
        return Array(positive.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }.prefix(count))
    }

    public func save(to path: String) throws {
        try ModelArchive(
            kind: kind.rawValue, settings: JSONEncoder().encode(config), identity: identity,
            arrays: [
                ("textColumns", .int([Int32(itemRows.columns)])),
                ("itemOffsets", .int(itemRows.offsets.map { Int32($0) })), ("itemColumns", .int(itemRows.indices)),
                ("itemValues", .float(itemRows.values)),
            ] + ArchiveChecks.userRowArrays(userRows)
        ).write(to: path)
    }

    public init(file: ModelFile, path: String) throws { try self.init(archive: ModelArchive(file: file, path: path), path: path) }

    init(archive: ModelArchive, path: String) throws {
        let config = try ArchiveChecks.settings(Config.self, of: archive, what: "content", path: path)
        let items = archive.identity.itemIDs.count
        let width = try archive.ints("textColumns", path: path)
        // The width sizes a dense buffer: bounded, so a hostile file cannot ask for gigabytes (fuzzer finding).
        guard width.count == 1, width[0] >= 1, width[0] <= 1 << 20 else {
            throw CheckpointError(path: path, reason: "content model: bad text width (1 to 1,048,576 columns; the file is corrupt)")
        }
        let text = try ArchiveChecks.csr(
            offsets: try archive.ints("itemOffsets", path: path).map(Int.init), targets: try archive.ints("itemColumns", path: path),
            weights: try archive.floats("itemValues", path: path), rows: items, columns: Int(width[0]), what: "content item rows", path: path)
        let userRows = try ArchiveChecks.userRows(archive, what: "content user rows", path: path)
        guard text.weights.allSatisfy(\.isFinite), userRows.weights.allSatisfy(\.isFinite) else {
            throw CheckpointError(path: path, reason: "content model holds a non-finite value (the file is corrupt)")
        }
        let itemRows = SparseMatrix(rows: items, columns: Int(width[0]), offsets: text.offsets, indices: text.targets, values: text.weights)
        self.init(identity: archive.identity, config: config, itemRows: itemRows, userRows: userRows)
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension ModelKind {
    public static let content = ModelKind(rawValue: "content")
}
