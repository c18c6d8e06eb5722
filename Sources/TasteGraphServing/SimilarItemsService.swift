import Foundation
import TasteGraphCore
import TasteGraphFeatures
import TasteGraphGraph
import TasteGraphRecommend
import TasteGraphStore
import TasteGraphSupport

/// What makes two items similar.
public enum SimilarityBasis: String, Codable, Sendable, CaseIterable {
    /// Content: cosine of the items' text feature rows ("songs like this one", no listening data needed).
    case text
    /// Listening: cosine of the model's item vectors, or co-listening over the store's listens.
    case listens
}

/// "Items like this one", by content or by listening.
public struct SimilarItemsRequest: Codable, Sendable, Equatable {
    /// The item's external id.
    public var item: String
    public var count = 10
    public var by: SimilarityBasis = .listens

    public init(item: String, count: Int = 10, by: SimilarityBasis = .listens) {
        self.item = item
        self.count = count
        self.by = by
    }
}

/// One similar item, with its catalog metadata and cosine similarity.
public struct ServedSimilarItem: Codable, Sendable, Equatable {
    public let item: String
    public let title: String
    public let artist: String
    public let score: Double
}

/// The answer to a `SimilarItemsRequest`.
public struct SimilarItemsResponse: Codable, Sendable, Equatable {
    public let item: String
    public let title: String
    public let by: SimilarityBasis
    /// Which vectors the cosine is over: the text features' name (`hashing-256`, `minilm-l6-v2-seq256`) for
    /// `.text`; `gcn-embeddings`, `als-item-factors` or `co-listening` for `.listens`.
    public let source: String
    /// The model file whose vectors answered (nil for text and co-listening neighbours).
    public let model: ServedModel?
    public let similar: [ServedSimilarItem]
}

/// Item-to-item neighbours over one store's catalog, loaded once into an immutable snapshot.
///
/// ```
/// sim(q, i) = ⟨v_q, v_i⟩ / (‖v_q‖ ‖v_i‖)
/// text:     v_i = item i's text feature row (X without its popularity column)
/// listens:  v_i = row U + i of the GCN's Z, or ALS's item factor y_i, or
///           item i's column of log1p(plays) over users (co-listening), for models without item vectors
/// ```
/// The query item, inactive items and items with a zero vector (no text; for co-listening, no shared
/// listener) never appear. Lists are ranked by a partial top-k (`TopK`), not a sort.
public final class SimilarItemsService: Sendable {
    public let catalog: Catalog
    /// The model whose item vectors answer `.listens` (nil: none given).
    public let model: ServedModel?
    /// The text features' name (nil when `.text` was not loaded).
    public let textSource: String?
    /// `gcn-embeddings`, `als-item-factors` or `co-listening` (nil when `.listens` was not loaded).
    public let listeningSource: String?
    let text: SparseMatrix<Float>?
    let textNorms: [Float]
    let listening: ListeningVectors?
    /// External item id → the store's item index (the model's items are its first ones).
    let items: [String: ItemIndex]

    /// The vectors behind `.listens`.
    enum ListeningVectors: Sendable {
        /// Row-major (I, width) with each row's norm.
        case dense(values: [Float], width: Int, norms: [Float])
        /// Log1p play counts both ways, with each item column's norm.
        case coListening(graph: BipartiteGraph, norms: [Float])
    }

    /// Loads what `bases` need.
    ///
    /// - Parameters:
    ///   - modelPath: a model file fitted on this store. The GCN's final embeddings and ALS's item factors
    ///     answer `.listens`; other models (and none) fall back to co-listening over the store's listens.
    ///     A GCN's recorded feature name also picks the text features.
    ///   - textFeatures: the text features' name (`hashing-N`, `minilm-l6-v2[-seqN]`); default: the GCN's
    ///     recorded one, else `hashing-256`.
    ///   - modelDirectory: where MiniLM's files are, for MiniLM features not in the store's cache.
    ///   - bases: what to load; a request for another basis is refused.
    /// - Throws: `CheckpointError` for a damaged model or one fitted on other items; `UnknownFeaturesError`;
    ///   the store's errors.
    public init(
        store: GraphStore, modelPath: String? = nil, textFeatures: String? = nil, modelDirectory: String? = nil,
        bases: Set<SimilarityBasis> = Set(SimilarityBasis.allCases)
    ) throws {
        let catalog = try store.catalog()
        let bytes = try modelPath.map(RecommenderFile.bytes(at:))  // read once: loaded and named from the same bytes
        let recommender = try modelPath.map { path -> any Recommender in
            let loaded = try RecommenderFile.load(bytes!, path: path)
            try RecommendationService.checkItems(of: loaded, match: catalog, path: path)
            return loaded
        }
        let gcn = recommender as? GCNRecommender
        self.catalog = catalog
        if let recommender, let bytes {
            model = ServedModel(kind: recommender.kind.rawValue, version: RecommendationService.version(of: bytes))
        } else {
            model = nil
        }
        items = Dictionary(catalog.itemExternalIDs.enumerated().map { ($1, ItemIndex($0)) }, uniquingKeysWith: { first, _ in first })

        if bases.contains(.text) {
            let name = textFeatures ?? gcn?.checkpoint.header.embedder ?? "hashing-256"
            let features = try RecordedFeatures.matrix(name: name, catalog: catalog, store: store, modelDirectory: modelDirectory)
            let rows = Self.droppingLastColumn(features)  // the popularity column is no content
            text = rows
            textNorms = (0..<rows.rows).map { row in
                var sum: Float = 0
                for e in rows.offsets[row]..<rows.offsets[row + 1] { sum += rows.values[e] * rows.values[e] }
                return sum.squareRoot()
            }
            textSource = name
        } else {
            text = nil
            textNorms = []
            textSource = nil
        }

        guard bases.contains(.listens) else {
            listening = nil
            listeningSource = nil
            return
        }
        let itemCount = catalog.itemCount
        if let gcn {
            // Z (N, H) holds users first: item i is row U + i.
            let z = gcn.checkpoint.embeddings
            let nodes = gcn.userCount + gcn.itemCount
            let width = nodes > 0 ? z.count / nodes : 0
            let values = Array(z[(gcn.userCount * width)..<(nodes * width)])
            listening = .dense(values: values, width: width, norms: Self.rowNorms(values, rows: gcn.itemCount, width: width))
            listeningSource = "gcn-embeddings"
        } else if let als = recommender as? ALSRecommender {
            let width = als.config.factors
            listening = .dense(values: als.itemFactors, width: width, norms: Self.rowNorms(als.itemFactors, rows: als.itemCount, width: width))
            listeningSource = "als-item-factors"
        } else {
            let graph = BipartiteGraph(userCount: catalog.userCount, itemCount: itemCount, listens: try store.listens(), weighting: .log1p)
            let norms = (0..<itemCount).map { item in
                var sum: Float = 0
                for e in graph.itemUsers.offsets[item]..<graph.itemUsers.offsets[item + 1] { sum += graph.itemUsers.weights[e] * graph.itemUsers.weights[e] }
                return sum.squareRoot()
            }
            listening = .coListening(graph: graph, norms: norms)
            listeningSource = "co-listening"
        }
    }

    /// Answers one request.
    /// - Throws: `ServingError` for a count below 1, an item id the store does not have, or a basis this
    ///   service was loaded without.
    public func similar(_ request: SimilarItemsRequest) throws -> SimilarItemsResponse {
        guard request.count >= 1 else { throw ServingError(field: "k", detail: "must be at least 1, got \(request.count)") }
        guard let queryItem = items[request.item] else {
            throw ServingError(field: "item", detail: "no item with id '\(request.item)' in the store", kind: .notFound)
        }
        let query = queryItem.rawValue  // raw rows in the scoring loops below
        let scores: [Float]
        let source: String
        switch request.by {
        case .text:
            guard let text, let textSource else { throw ServingError(field: "by", detail: "this service was loaded without text features", kind: .unavailable) }
            scores = Self.textScores(text, norms: textNorms, query: query)
            source = textSource
        case .listens:
            guard let listening, let listeningSource else { throw ServingError(field: "by", detail: "this service was loaded without listening vectors", kind: .unavailable) }
            scores = Self.listeningScores(listening, query: query, itemCount: catalog.itemCount)
            source = listeningSource
        }
        let active = catalog.itemActive
        let order = TopK.select(request.count, of: scores) { $0 != query && (!active.indices.contains($0) || active[$0]) }
        return SimilarItemsResponse(
            item: request.item, title: title(queryItem), by: request.by, source: source,
            model: request.by == .listens && source != "co-listening" ? model : nil,
            similar: order.map { row in
                let item = ItemIndex(row)
                return ServedSimilarItem(item: catalog.externalID(of: item), title: title(item), artist: artistName(item), score: Double(scores[row]))
            })
    }

    func title(_ item: ItemIndex) -> String { catalog.itemTitles[item.rawValue] ?? catalog.externalID(of: item) }

    func artistName(_ item: ItemIndex) -> String {
        catalog.artist(of: item).map { catalog.artistNames[$0.rawValue] } ?? ""
    }

    /// Cosine of the query's text row with every row (NaN where either row is zero).
    /// - Complexity: O(nnz(X) + F).
    static func textScores(_ x: SparseMatrix<Float>, norms: [Float], query: Int) -> [Float] {
        var dense = [Float](repeating: 0, count: x.columns)
        for e in x.offsets[query]..<x.offsets[query + 1] { dense[Int(x.indices[e])] = x.values[e] }
        let queryNorm = norms[query]
        return (0..<x.rows).map { row in
            guard queryNorm > 0, norms[row] > 0 else { return .nan }
            var dot: Float = 0
            for e in x.offsets[row]..<x.offsets[row + 1] { dot += x.values[e] * dense[Int(x.indices[e])] }
            return dot / (queryNorm * norms[row])
        }
    }

    /// Cosine of the query's listening vector with every item's (NaN where it is undefined, and for
    /// co-listening where no listener is shared).
    static func listeningScores(_ vectors: ListeningVectors, query: Int, itemCount: Int) -> [Float] {
        switch vectors {
        case .dense(let values, let width, let norms):
            // Items the model does not know (appended to the store after it was trained) have no vector.
            let queryNorm = query < norms.count ? norms[query] : 0
            return values.withUnsafeBufferPointer { v in
                (0..<itemCount).map { item in
                    guard queryNorm > 0, item < norms.count, norms[item] > 0, width > 0 else { return .nan }
                    return VectorKernels.dot(v.baseAddress! + query * width, v.baseAddress! + item * width, width) / (queryNorm * norms[item])
                }
            }
        case .coListening(let graph, let norms):
            // Σ_u w_uq · w_ui over the query's listeners u: O(Σ_u deg(u)).
            var dot = [Float](repeating: 0, count: itemCount)
            var reached = [Bool](repeating: false, count: itemCount)
            let byItem = graph.itemUsers
            let byUser = graph.userItems
            for e in byItem.offsets[query]..<byItem.offsets[query + 1] {
                let user = Int(byItem.targets[e])
                let wq = byItem.weights[e]
                for f in byUser.offsets[user]..<byUser.offsets[user + 1] {
                    let item = Int(byUser.targets[f])
                    dot[item] += wq * byUser.weights[f]
                    reached[item] = true
                }
            }
            let queryNorm = norms[query]
            return (0..<itemCount).map { item in
                guard reached[item], queryNorm > 0, norms[item] > 0 else { return .nan }
                return dot[item] / (queryNorm * norms[item])
            }
        }
    }

    static func rowNorms(_ values: [Float], rows: Int, width: Int) -> [Float] {
        precondition(values.count >= rows * width, "\(values.count) values for \(rows)×\(width) item vectors")
        return values.withUnsafeBufferPointer { v in
            (0..<rows).map { row in VectorKernels.dot(v.baseAddress! + row * width, v.baseAddress! + row * width, width).squareRoot() }
        }
    }

    /// X without its last column. Shapes: (I, F) → (I, F − 1).
    static func droppingLastColumn(_ x: SparseMatrix<Float>) -> SparseMatrix<Float> {
        let last = Int32(x.columns - 1)
        var offsets = [0]
        var indices: [Int32] = []
        var values: [Float] = []
        indices.reserveCapacity(x.nonZeroCount)
        values.reserveCapacity(x.nonZeroCount)
        for row in 0..<x.rows {
            for e in x.offsets[row]..<x.offsets[row + 1] where x.indices[e] != last {
                indices.append(x.indices[e])
                values.append(x.values[e])
            }
            offsets.append(indices.count)
        }
        return SparseMatrix(rows: x.rows, columns: max(0, x.columns - 1), offsets: offsets, indices: indices, values: values)
    }
}
