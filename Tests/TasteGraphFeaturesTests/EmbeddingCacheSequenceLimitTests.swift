import Foundation
import TasteGraphStore
import TasteGraphText
import TestSupport
import Testing

@testable import TasteGraphFeatures

/// The cache keeps embeddings made at each sequence limit apart: a run at one limit never serves vectors
/// that another limit cut differently (the tiny BERT of TestSupport, limits 6 and 12).
@Suite struct EmbeddingCacheSequenceLimitTests {
    struct NotExpected: Error {}

    static func maxDifference(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    @Test func aRunAtAnotherLimitReusesNothing() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let at6 = MiniLMEmbedder(encoder: try TinyBert.sentenceEncoder(seed: 3, maxLength: 6))
        let at12 = MiniLMEmbedder(encoder: try TinyBert.sentenceEncoder(seed: 3, maxLength: 12))
        #expect(at6.name == "minilm-l6-v2-seq6" && at12.name == "minilm-l6-v2-seq12")
        let long = "w4 w5 w6 w7 w8 w9 w10 w11 w12 w13"  // 12 tokens: cut at 6, whole at 12
        let texts = ["w20 w21", long]  // 4 tokens: the same at both limits
        let c = 40

        let first = try CachedTextEmbeddings.embed(texts, model: at6.name, store: store, loadEmbedder: { at6 })
        #expect(first.computed == 2 && first.cached == 0)
        let second = try CachedTextEmbeddings.embed(texts, model: at12.name, store: store, loadEmbedder: { at12 })
        #expect(second.computed == 2 && second.cached == 0)  // nothing from the run at 6
        // What the run at 12 returns is what the encoder at 12 makes (up to float32 rounding), and for the
        // long text it differs from the vector cut at 6.
        let fresh = at12.embedDense(texts)
        #expect(Self.maxDifference(second.vectors[...], fresh[...]) < 1e-5)
        #expect(Self.maxDifference(second.vectors[c..<(2 * c)], first.vectors[c..<(2 * c)]) > 1e-2)
        #expect(Self.maxDifference(second.vectors[0..<c], first.vectors[0..<c]) < 1e-5)

        // Each limit now finds its own vectors, without loading a model.
        let again6 = try CachedTextEmbeddings.embed(texts, model: at6.name, store: store, loadEmbedder: { throw NotExpected() })
        #expect(again6.cached == 2 && Self.maxDifference(again6.vectors[...], first.vectors[...]) == 0)  // stored bit for bit
        let again12 = try CachedTextEmbeddings.embed(texts, model: at12.name, store: store, loadEmbedder: { throw NotExpected() })
        #expect(again12.cached == 2 && Self.maxDifference(again12.vectors[...], second.vectors[...]) == 0)
        #expect(try store.textEmbeddingCount(model: at6.name) == 2 && store.textEmbeddingCount(model: at12.name) == 2)
        // The name used before limits were configurable still means 128 tokens and holds none of these.
        #expect(try store.textEmbeddingCount(model: MiniLMModel.name) == 0)
    }
}
