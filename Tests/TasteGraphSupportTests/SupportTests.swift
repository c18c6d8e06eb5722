import Foundation
import TasteGraphSupport
import Testing

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectors(input: String, digest: String) {
        #expect(SHA256.hex(of: input) == digest)
    }

    /// Feeding bytes in uneven pieces must give the same digest as one piece.
    @Test func streamingEqualsOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var oneShot = SHA256()
        oneShot.update(bytes)
        var pieces = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 7, 300, 500] where offset < bytes.count {
            let end = min(bytes.count, offset + size)
            pieces.update(bytes[offset..<end])
            offset = end
        }
        pieces.update(bytes[offset...])
        #expect(oneShot.hexDigest() == pieces.hexDigest())
        var million = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(chunk) }
        #expect(million.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

@Suite struct LineReaderTests {
    func lines(of bytes: [UInt8], chunkSize: Int) throws -> [String] {
        let path = NSTemporaryDirectory() + "lines-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var out: [String] = []
        var numbers: [Int] = []
        try LineReader(path: path, chunkSize: chunkSize).forEachLine { number, line in
            numbers.append(number)
            out.append(String(decoding: line, as: UTF8.self))
        }
        #expect(numbers == Array(1...max(1, numbers.count)).prefix(numbers.count).map { $0 })
        return out
    }

    /// CRLF and LF ends, a last line without a terminator, and lines longer than the read chunk.
    @Test(arguments: [3, 4, 7, 1 << 16])
    func splitsLinesAcrossChunks(chunkSize: Int) throws {
        let text = "a\tb\r\nsecond line here\n\r\nlast-without-newline"
        let result = try lines(of: Array(text.utf8), chunkSize: chunkSize)
        #expect(result == ["a\tb", "second line here", "", "last-without-newline"])
    }

    @Test func fingerprintIsTheFileSHA256() throws {
        let path = NSTemporaryDirectory() + "fp-\(UUID().uuidString)"
        try Data("abc".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try LineReader(path: path).forEachLine { _, _ in }
        #expect(result.fingerprint == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(result.bytes == 3)
    }

    @Test func missingFileIsAnError() {
        #expect(throws: FileReadError.self) { try LineReader(path: "/nonexistent/x").forEachLine { _, _ in } }
    }
}

@Suite struct SplitMix64Tests {
    @Test func sameSeedSameStreamAndBoundsRespected() {
        var a = SplitMix64(seed: 9)
        var b = SplitMix64(seed: 9)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
        var c = SplitMix64(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<2_000 {
            let value = c.nextInt(below: 7)
            #expect((0..<7).contains(value))
            seen.insert(value)
        }
        #expect(seen.count == 7)
        let unit = (0..<1_000).map { _ in c.nextUnit() }
        #expect(unit.allSatisfy { $0 >= 0 && $0 < 1 })
    }
}
