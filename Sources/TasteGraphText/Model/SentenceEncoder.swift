import Foundation

/// A sentence encoder: BERT tokenizer, BERT encoder, masked mean pooling and L2 normalization — the
/// pipeline of sentence-transformers' all-MiniLM-L6-v2 (Transformer → Pooling(mean) → Normalize).
///
/// Texts are encoded in packed batches of at most `batchTokens` tokens: sequences sit end to end with no
/// padding, so the projections do no work on pad tokens and attention needs no mask.
public struct SentenceEncoder: Sendable {
    public let tokenizer: BertTokenizer
    public let encoder: BertEncoder
    /// The token budget of one packed batch (the row count of every projection's sgemm).
    public var batchTokens: Int
    /// Threads that encode batches side by side (see `embed(tokenized:progress:)`).
    public var workers: Int

    public init(tokenizer: BertTokenizer, encoder: BertEncoder, batchTokens: Int = 2048, workers: Int = 1) {
        precondition(tokenizer.maxLength <= encoder.config.maxPositions, "maxLength exceeds the model's positions")
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.batchTokens = max(batchTokens, tokenizer.maxLength)
        self.workers = max(workers, 1)
    }

    /// Loads config.json, vocab.txt and model.safetensors from a model folder.
    ///
    /// Texts are truncated at `maxLength` tokens ([CLS] and [SEP] included) when given, else at the
    /// folder's own limit: sentence_bert_config.json's `max_seq_length` (256 for all-MiniLM-L6-v2, as in
    /// sentence-transformers' `encode()`), or 128 without that file, capped by `max_position_embeddings`
    /// (see `MiniLMModel.sequenceLimit(directory:override:)`).
    /// - Parameter maxLength: a limit in 2...max_position_embeddings that replaces the folder's own.
    /// - Throws: `TextModelError` naming the file that is missing or wrong; `.badSequenceLength` when
    ///   `maxLength` is out of range.
    public init(modelDirectory: String, maxLength: Int? = nil) throws {
        let folder = URL(fileURLWithPath: modelDirectory)
        func contents(_ name: String) throws -> Data {
            let path = folder.appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TextModelError.modelNotFound("\(path) is missing; \(MiniLMModel.installHint)")
            }
            return data
        }
        let config = try BertConfig(json: try contents("config.json"), source: folder.appendingPathComponent("config.json").path)
        let vocabulary = try Vocabulary(text: String(decoding: try contents("vocab.txt"), as: UTF8.self))
        guard vocabulary.count == config.vocabularySize else {
            throw TextModelError.badVocabulary("vocab.txt has \(vocabulary.count) tokens but config.json says vocab_size \(config.vocabularySize)")
        }
        let limit = try MiniLMModel.sequenceLimit(
            maxPositions: config.maxPositions,
            sentenceConfig: FileManager.default.contents(atPath: folder.appendingPathComponent(MiniLMModel.sentenceConfigFile).path),
            source: folder.appendingPathComponent(MiniLMModel.sentenceConfigFile).path, override: maxLength)
        let weightsPath = folder.appendingPathComponent("model.safetensors").path
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw TextModelError.modelNotFound("\(weightsPath) is missing; \(MiniLMModel.installHint)")
        }
        let weights = try BertWeights(config: config, tensors: try SafeTensors(path: weightsPath))
        self.init(tokenizer: try BertTokenizer(vocabulary: vocabulary, maxLength: limit), encoder: BertEncoder(weights: weights))
    }

    /// C, the embedding width.
    public var dimension: Int { encoder.config.hiddenSize }

    /// Input ids of every text ([CLS] … [SEP], truncated), on `workers` threads.
    public func tokenize(_ texts: [String]) -> [[Int32]] {
        ParallelChunks.map(texts.count, workers: workers) { range in range.map { tokenizer.encode(texts[$0]) } }
    }

    /// Sentence embeddings of `texts`, in order. Shapes: texts (S) → (S, C), rows of unit length.
    public func embed(_ texts: [String], progress: ((Int) -> Void)? = nil) -> [Float] {
        embed(tokenized: tokenize(texts), progress: progress)
    }

    /// Sentence embeddings of tokenized texts, in order. Shapes: S id sequences → (S, C).
    ///
    /// With `workers` > 1 the packed batches are shared out to that many threads, each with its own
    /// workspace, so tokens, attention, GELU and LayerNorm all run in parallel — not only the sgemm calls.
    /// The caller should then keep OpenBLAS at 1 thread (`BLAS.setThreadCount(1)`), or the two kinds of
    /// threads compete for the cores. The result does not depend on `workers`.
    /// - Parameter progress: called after each batch with the number of sequences done so far (from the
    ///   worker that finished it, one call at a time).
    public func embed(tokenized sequences: [[Int32]], progress: ((Int) -> Void)? = nil) -> [Float] {
        let c = dimension
        let batches = packedBatches(sequences)
        var output = [Float](repeating: 0, count: sequences.count * c)
        output.withUnsafeMutableBufferPointer { buffer in
            let destination = SendableBuffer(buffer)
            let queue = BatchQueue(count: batches.count)
            // Called only under the queue's lock, so one call at a time whatever the caller's closure holds.
            nonisolated(unsafe) let report = progress
            let work = { @Sendable () -> Void in
                let workspace = EncoderWorkspace(config: encoder.config)
                while let index = queue.next() {
                    let (range, batch) = batches[index]
                    let rows = encoder.sentenceEmbeddings(batch, workspace: workspace)
                    rows.withUnsafeBufferPointer { source in
                        (destination.base + range.lowerBound * c).update(from: source.baseAddress!, count: rows.count)
                    }
                    if let report { queue.finished(range.count, report: report) }
                }
            }
            if workers <= 1 || batches.count <= 1 {
                work()
            } else {
                DispatchQueue.concurrentPerform(iterations: min(workers, batches.count)) { _ in work() }
            }
        }
        return output
    }

    /// Consecutive sequences packed into batches of at most `batchTokens` tokens (a longer sequence gets
    /// a batch of its own). Returns each batch with the range of sequences it holds.
    func packedBatches(_ sequences: [[Int32]]) -> [(range: Range<Int>, batch: PackedBatch)] {
        var batches: [(range: Range<Int>, batch: PackedBatch)] = []
        var start = 0
        while start < sequences.count {
            var batch = PackedBatch()
            var end = start
            while end < sequences.count && (batch.count == 0 || batch.tokenCount + sequences[end].count <= batchTokens) {
                batch.append(sequences[end])
                end += 1
            }
            batches.append((start..<end, batch))
            start = end
        }
        return batches
    }
}

/// The output rows, written by several workers into disjoint ranges.
private struct SendableBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    init(_ buffer: UnsafeMutableBufferPointer<Float>) { base = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: 16)! }
}

/// Hands out batch indices to workers and counts finished sequences, under one lock.
private final class BatchQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var done = 0
    let count: Int

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.withLock {
            guard nextIndex < count else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    func finished(_ sequences: Int, report: (Int) -> Void) {
        lock.withLock {
            done += sequences
            report(done)
        }
    }
}

/// Splits 0..<count into one contiguous chunk per worker, maps each chunk on its own thread, and
/// concatenates the results in order.
public enum ParallelChunks {
    public static func map<T>(_ count: Int, workers: Int, _ transform: @Sendable (Range<Int>) -> [T]) -> [T] {
        let chunks = max(1, min(workers, count / 64))
        if chunks == 1 { return transform(0..<count) }
        let results = ChunkResults<T>(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            results.set(chunk, transform((count * chunk / chunks)..<(count * (chunk + 1) / chunks)))
        }
        return results.joined()
    }
}

/// One slot per chunk, each written by one worker.
private final class ChunkResults<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [[T]]
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func set(_ index: Int, _ value: [T]) { lock.withLock { slots[index] = value } }
    func joined() -> [T] { lock.withLock { Array(slots.joined()) } }
}
