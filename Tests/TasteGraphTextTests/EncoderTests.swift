import Foundation
import TestSupport
import Testing

@testable import TasteGraphText

/// The fast kernels and the packed-batch encoder against their plain-loop twins, on a tiny random BERT.
@Suite struct EncoderTests {
    static let config = TinyBert.config

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "sizes \(a.count) ≠ \(b.count)")
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    @Test func erfApproximationIsWithin5e7OfLibm() {
        var worst: Double = 0
        var x: Float = -7
        while x < 7 {
            var v = Vector()
            for lane in 0..<16 { v[lane] = x + Float(lane) * 0.0005 }
            let approximation = erfApproximation(v)
            for lane in 0..<16 { worst = max(worst, abs(Double(approximation[lane]) - erf(Double(v[lane])))) }
            x += 0.008
        }
        #expect(worst < 5e-7, "max |erf error| \(worst)")
    }

    @Test(arguments: [1, 15, 16, 17, 100])
    func geluMatchesTheExactFormula(count: Int) {
        var rng = SeededFloats(seed: UInt64(count))
        let x = rng.array(count).map { $0 * 6 }
        var y = x
        y.withUnsafeMutableBufferPointer { geluForward($0.baseAddress!, count: count) }
        let exact = x.map { Float(0.5 * Double($0) * (1 + erf(Double($0) / 2.0.squareRoot()))) }
        #expect(Self.maxDifference(y, exact) < 2e-6)
    }

    @Test(arguments: [1, 16, 40])
    func layerNormWithResidualMatchesReference(width: Int) {
        var rng = SeededFloats(seed: UInt64(100 + width))
        let rows = 3
        let x = rng.array(rows * width).map { $0 * 5 + 2 }, r = rng.array(rows * width)
        let gamma = rng.array(width), beta = rng.array(width)
        var fast = x
        fast.withUnsafeMutableBufferPointer { f in
            r.withUnsafeBufferPointer { layerNormForward(f.baseAddress!, residual: $0.baseAddress!, rows: rows, width: width, scale: gamma, shift: beta, epsilon: 1e-12) }
        }
        let reference = BertReference.layerNorm(zip(x, r).map(+), width: width, scale: gamma, shift: beta, epsilon: 1e-12)
        #expect(Self.maxDifference(fast, reference) < 1e-5)
    }

    @Test func linearMatchesReference() {
        var rng = SeededFloats(seed: 7)
        let (t, k, n) = (5, 40, 24)
        let x = rng.array(t * k), w = rng.array(n * k), b = rng.array(n)
        var y = [Float](repeating: .nan, count: t * n)
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { linearForward(xb.baseAddress!, rows: t, inFeatures: k, weight: w, bias: b, output: $0.baseAddress!) } }
        #expect(Self.maxDifference(y, BertReference.linear(x, inFeatures: k, weight: w, bias: b)) < 1e-5)
    }

    /// A packed batch (no padding, no mask) gives each sequence the hidden states the padded, masked
    /// reference gives it alone — so sequences never see each other and padding never leaks in.
    @Test func packedBatchMatchesPaddedMaskedReference() {
        let weights = TinyBert.weights(seed: 42)
        let sequences: [[Int32]] = [[2, 5, 9, 3], [2, 3], [2, 17, 4, 4, 8, 29, 1, 11, 3], [2, 7, 3]]
        let encoder = BertEncoder(weights: weights)
        let packed = encoder.hiddenStates(PackedBatch(sequences))
        let reference = BertReference.hiddenStates(sequences, weights: weights)
        let c = Self.config.hiddenSize
        var offset = 0
        for (s, expected) in reference.enumerated() {
            let actual = Array(packed[offset..<(offset + expected.count)])
            #expect(Self.maxDifference(actual, expected) < 1e-4, "sequence \(s)")
            offset += sequences[s].count * c
        }
        let pooled = encoder.sentenceEmbeddings(PackedBatch(sequences), workspace: EncoderWorkspace(config: Self.config))
        for (s, expected) in reference.enumerated() {
            let row = Array(pooled[(s * c)..<((s + 1) * c)])
            #expect(Self.maxDifference(row, BertReference.meanPoolNormalize(expected, width: c)) < 1e-5, "pooled \(s)")
        }
    }

    /// The token budget and the worker count only change how texts are grouped and run, never the embeddings.
    @Test func batchBudgetAndWorkersDoNotChangeEmbeddings() throws {
        let texts = ["w4 w5", "", "w6 w7 w8 w9 w10 w11 w12 w13 w14", "w29", "w20 nothing w21", "w4 w5"]
        let whole = try TinyBert.sentenceEncoder(seed: 1)
        var small = whole
        small.batchTokens = 8
        var parallel = small
        parallel.workers = 3
        var progress: [Int] = []
        let a = whole.embed(texts), b = small.embed(texts) { progress.append($0) }, d = parallel.embed(texts)
        #expect(Self.maxDifference(a, b) < 1e-6)
        // Workers share out the same batches; the rows agree up to float32 rounding (sgemm may pick another
        // kernel for another thread's buffers on some CPUs: FloatAgreement says why bit equality is not asked).
        #expect(FloatAgreement.agree(b, d))
        #expect(progress.count > 1 && progress.last == texts.count)
        // The same text at another place in the packed batch: the same embedding up to rounding.
        #expect(FloatAgreement.agree(a[0..<40], a[200..<240]))
        #expect(FloatAgreement.relativeDifference(a[0..<40], a[40..<80]) > 0.01)  // and another text differs
        for s in 0..<texts.count {
            let norm = a[(s * 40)..<((s + 1) * 40)].reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
    }

    @Test func configRejectsWhatTheEncoderDoesNotImplement() {
        let good = #"{"model_type":"bert","hidden_act":"gelu","vocab_size":30,"hidden_size":40,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":56,"max_position_embeddings":12,"type_vocab_size":2,"layer_norm_eps":1e-12}"#
        #expect((try? BertConfig(json: Data(good.utf8))) == Self.config)
        #expect(throws: TextModelError.unsupportedConfig("config.json: hidden_act 'relu' is not supported (only exact gelu)")) {
            try BertConfig(json: Data(good.replacingOccurrences(of: "\"gelu\"", with: "\"relu\"").utf8))
        }
        #expect(throws: TextModelError.unsupportedConfig("config.json: hidden_size 40 is not a multiple of num_attention_heads 3")) {
            try BertConfig(json: Data(good.replacingOccurrences(of: "\"num_attention_heads\":4", with: "\"num_attention_heads\":3").utf8))
        }
    }
}
