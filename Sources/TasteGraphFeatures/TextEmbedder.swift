import TasteGraphGraph

/// Turns texts into feature rows. The hashing embedder is the default; the pretrained sentence encoder of
/// a later issue plugs in behind the same protocol.
public protocol TextEmbedder: Sendable {
    /// A name recorded in checkpoints (`hashing-256`, …).
    var name: String { get }
    /// Columns of the output.
    var dimension: Int { get }
    /// One L2-normalized row per text. Shapes: texts (T) → (T, dimension).
    func embed(_ texts: [String]) -> SparseMatrix<Float>
}

/// Deterministic feature hashing: word unigrams, word bigrams and character trigrams, TF-IDF weighted,
/// signed-hashed into `dimension` buckets, L2-normalized.
///
/// ```
/// tf(f, t) = count of feature f in text t
/// idf(f)   = ln((1 + T) / (1 + df(f))) + 1          (over the T texts embedded together)
/// x[t, h(f)] += sign(f) · tf · idf,    then x[t] /= ‖x[t]‖₂
/// ```
/// Features are lower-cased; words are maximal runs of letters and digits; trigrams include word
/// boundaries (`#ab`, `abc`, `bc#`). h and sign come from FNV-1a (64-bit) of the feature, which is
/// fixed across platforms, so the same texts always give the same rows.
public struct HashingEmbedder: TextEmbedder {
    public let dimension: Int
    public var name: String { "hashing-\(dimension)" }

    public init(dimension: Int = 256) {
        precondition(dimension > 0)
        self.dimension = dimension
    }

    /// The hashed features of one text (with repeats: they are the term frequencies).
    static func features(of text: String) -> [UInt64] {
        let words = text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        var out: [UInt64] = []
        for word in words { out.append(fnv1a("w:" + word)) }
        for (a, b) in zip(words, words.dropFirst()) { out.append(fnv1a("b:" + a + " " + b)) }
        for word in words {
            let chars = Array("#" + word + "#")
            guard chars.count >= 3 else { continue }
            for i in 0...(chars.count - 3) { out.append(fnv1a("c:" + String(chars[i..<(i + 3)]))) }
        }
        return out
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    public func embed(_ texts: [String]) -> SparseMatrix<Float> {
        let perText = texts.map(Self.features)
        var documentFrequency: [UInt64: Int] = [:]
        for features in perText { for feature in Set(features) { documentFrequency[feature, default: 0] += 1 } }
        let count = Double(texts.count)
        var entries: [(row: Int, column: Int, value: Float)] = []
        for (row, features) in perText.enumerated() {
            var termFrequency: [UInt64: Int] = [:]
            for feature in features { termFrequency[feature, default: 0] += 1 }
            var buckets: [Int: Double] = [:]
            for (feature, tf) in termFrequency {
                let idf = log((1 + count) / (1 + Double(documentFrequency[feature]!))) + 1
                let bucket = Int(feature % UInt64(dimension))
                let sign: Double = (feature >> 63) == 0 ? 1 : -1
                buckets[bucket, default: 0] += sign * Double(tf) * idf
            }
            let norm = buckets.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for (bucket, value) in buckets.sorted(by: { $0.key < $1.key }) where value != 0 {
                entries.append((row, bucket, Float(value / norm)))
            }
        }
        return SparseMatrix(rows: texts.count, columns: dimension, entries: entries)
    }
}

#if canImport(Glibc)
import Glibc
#endif
