import TasteGraphGraph
import TasteGraphStore

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
        let text = embedder.embed(texts(catalog))
        var offsets = [0]
        var indices: [Int32] = []
        var values: [Float] = []
        for row in 0..<text.rows {
            for e in text.offsets[row]..<text.offsets[row + 1] {
                indices.append(text.indices[e])
                values.append(text.values[e])
            }
            if catalog.itemPopularity[row] != 0 {
                indices.append(Int32(embedder.dimension))
                values.append(Float(catalog.itemPopularity[row]))
            }
            offsets.append(indices.count)
        }
        return SparseMatrix(rows: text.rows, columns: embedder.dimension + 1, offsets: offsets, indices: indices, values: values)
    }
}
