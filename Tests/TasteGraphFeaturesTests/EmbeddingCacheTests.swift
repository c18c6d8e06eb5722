import Foundation
import TasteGraphStore
import TasteGraphText
import TestSupport
import Testing

@testable import TasteGraphFeatures

/// The store's text-embedding cache (schema v3) and the cached embedding path that `embed --store` and
/// `train --features minilm` use.
@Suite struct EmbeddingCacheTests {
    struct NotExpected: Error {}

    @Test func vectorsRoundTripAndAreKeyedByModelAndText() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        #expect(try store.schemaVersion >= 3)
        let hash = GraphStore.textHash("Sigur Rós. tags: post-rock")
        #expect(hash.count == 64 && hash != GraphStore.textHash("Sigur Ros. tags: post-rock"))
        let vector: [Float] = [1, -0.5, 1e-30, -Float.leastNonzeroMagnitude, 0.1234567]
        try store.storeTextEmbeddings(model: "m1", [(hash, vector)])
        let other = GraphStore.textHash("another text")
        let found = try store.cachedTextEmbeddings(model: "m1", hashes: [hash, other, hash])
        #expect(found == [hash: vector])  // a hit, bit for bit; the other text misses
        #expect(try store.cachedTextEmbeddings(model: "m2", hashes: [hash]).isEmpty)  // another model misses
        try store.storeTextEmbeddings(model: "m1", [(hash, [2, 3])])  // replaced, not duplicated
        #expect(try store.cachedTextEmbeddings(model: "m1", hashes: [hash]) == [hash: [2, 3]])
        #expect(try store.textEmbeddingCount(model: "m1") == 1)
        #expect(try store.textEmbeddingCount(model: "m2") == 0)
    }

    @Test func onlyMissingTextsAreEncodedAndTheRestComeFromTheCache() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let embedder = MiniLMEmbedder(encoder: try TinyBert.sentenceEncoder(seed: 3))
        let texts = ["w4 w5", "w6", "w4 w5", "w7 w8 w9"]
        var loads = 0
        let first = try CachedTextEmbeddings.embed(texts, model: embedder.name, store: store, loadEmbedder: { loads += 1; return embedder })
        #expect(loads == 1 && first.computed == 3 && first.cached == 0 && first.width == 40)  // "w4 w5" once
        // The cache path encodes the 3 distinct texts in one batch, embedDense all 4: other packings, so the
        // rows agree up to float32 rounding (FloatAgreement), not bit for bit.
        #expect(FloatAgreement.agree(first.vectors, embedder.embedDense(texts)))
        // Everything cached: the model is not even loaded.
        let second = try CachedTextEmbeddings.embed(texts, model: embedder.name, store: store, loadEmbedder: { throw NotExpected() })
        #expect(second.computed == 0 && second.cached == 4 && second.vectors == first.vectors)
        // One new text: only it is encoded.
        let third = try CachedTextEmbeddings.embed(texts + ["w10"], model: embedder.name, store: store, loadEmbedder: { loads += 1; return embedder })
        #expect(loads == 2 && third.computed == 1 && third.cached == 4)
        #expect(Array(third.vectors[0..<(4 * 40)]) == first.vectors)
    }

    @Test func denseRowsKeepEveryNonZero() {
        let matrix = ItemFeatures.denseRows([1, 0, 2, 0, 0, 3], rows: 2, columns: 3)
        #expect(matrix.offsets == [0, 2, 3])
        #expect(matrix.indices == [0, 2, 2])
        #expect(matrix.values == [1, 2, 3])
    }
}
