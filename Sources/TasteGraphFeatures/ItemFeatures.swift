import TasteGraphCore
import TasteGraphGraph

/// Item node features: a text embedding of the item's metadata, then its popularity score.
///
/// Shapes: X (I, F) with F = embedder.dimension + 1.
public enum ItemFeatures {
    /// The metadata text of each item: for Last.fm artists "name. tags: t1, t2, t3, t4, t5" (top tags of
    /// the tag assignments); for songs "title. release. artist".
    public static func texts(_ catalog: Catalog) -> [String] {
        (0..<catalog.itemCount).map { item in
            let artist = catalog.itemArtist[item]
            let artistName = artist >= 0 ? catalog.artistNames[artist] : ""
            if catalog.dataset == .lastfm {
                let tags = artist >= 0 ? catalog.topTags(ofArtist: artist, count: 5).map { catalog.tagNames[$0] } : []
                return tags.isEmpty ? artistName : "\(artistName). tags: \(tags.joined(separator: ", "))"
            }
            return [catalog.itemTitles[item], catalog.itemReleases[item], artistName]
                .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ". ")
        }
    }

    /// [embedding(text) | popularity] for every item.
    public static func matrix(_ catalog: Catalog, embedder: TextEmbedder) -> SparseMatrix<Float> {
        matrix(catalog, text: embedder.embed(texts(catalog)))
    }

    /// [text | popularity] for every item, from text rows computed elsewhere (the embedding cache).
    /// Shapes: text (I, F − 1) → X (I, F).
    public static func matrix(_ catalog: Catalog, text: SparseMatrix<Float>) -> SparseMatrix<Float> {
        precondition(text.rows == catalog.itemCount, "\(text.rows) text rows for \(catalog.itemCount) items")
        var offsets = [0]
        var indices: [Int32] = []
        var values: [Float] = []
        for row in 0..<text.rows {
            for e in text.offsets[row]..<text.offsets[row + 1] {
                indices.append(text.indices[e])
                values.append(text.values[e])
            }
            if catalog.itemPopularity[row] != 0 {
                indices.append(Int32(text.columns))
                values.append(Float(catalog.itemPopularity[row]))
            }
            offsets.append(indices.count)
        }
        return SparseMatrix(rows: text.rows, columns: text.columns + 1, offsets: offsets, indices: indices, values: values)
    }

    /// Dense row-major values as a sparse matrix (zeros left out). Shapes: (rows · columns) → (rows, columns).
    public static func denseRows(_ values: [Float], rows: Int, columns: Int) -> SparseMatrix<Float> {
        precondition(values.count == rows * columns, "\(values.count) values for \(rows)×\(columns)")
        var offsets = [0]
        var indices: [Int32] = []
        var kept: [Float] = []
        indices.reserveCapacity(values.count)
        kept.reserveCapacity(values.count)
        for row in 0..<rows {
            for column in 0..<columns where values[row * columns + column] != 0 {
                indices.append(Int32(column))
                kept.append(values[row * columns + column])
            }
            offsets.append(indices.count)
        }
        return SparseMatrix(rows: rows, columns: columns, offsets: offsets, indices: indices, values: kept)
    }
}
