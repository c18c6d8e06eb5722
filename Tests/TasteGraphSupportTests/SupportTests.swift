import Foundation
import TasteGraphCore
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

@Suite struct ContentHashTests {
    func digest(_ bytes: [UInt8], pieces: [Int]) -> String {
        var hash = ContentHash()
        var offset = 0
        bytes.withUnsafeBytes { raw in
            for size in pieces where offset < raw.count {
                let end = min(raw.count, offset + size)
                hash.update(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
            }
            hash.update(UnsafeRawBufferPointer(rebasing: raw[offset...]))
        }
        return hash.hexDigest()
    }

    @Test func independentOfHowTheStreamIsCut() {
        let bytes = (0..<777).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let whole = digest(bytes, pieces: [])
        #expect(digest(bytes, pieces: [1, 15, 16, 17, 3, 100]) == whole)
        #expect(whole.count == 32)
    }

    /// Any change of content or length changes the digest (including a trailing zero byte).
    @Test func sensitiveToEveryByteAndTheLength() {
        let bytes = (0..<100).map { UInt8($0) }
        let base = digest(bytes, pieces: [])
        var digests = Set([base])
        for i in stride(from: 0, to: 100, by: 7) {
            var changed = bytes
            changed[i] ^= 1
            digests.insert(digest(changed, pieces: []))
        }
        digests.insert(digest(bytes + [0], pieces: []))
        digests.insert(digest(Array(bytes.dropLast()), pieces: []))
        #expect(digests.count == 18)
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

    /// The fingerprint is the ContentHash of the file's bytes, whatever the chunk size.
    @Test func fingerprintIsTheContentHashOfTheFile() throws {
        let path = NSTemporaryDirectory() + "fp-\(UUID().uuidString)"
        let bytes = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var expected = ContentHash()
        bytes.withUnsafeBytes { expected.update($0) }
        let digest = expected.hexDigest()
        for chunk in [5, 64, 4096] {
            let result = try LineReader(path: path, chunkSize: chunk).forEachLine { _, _ in }
            #expect(result.fingerprint == digest)
            #expect(result.bytes == 1_000)
        }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: FileReadError.self) { try LineReader(path: "/nonexistent/x").forEachLine { _, _ in } }
    }

    /// A leading UTF-8 BOM is not part of the first line (later lines keep theirs); the fingerprint still
    /// covers the file's every byte.
    @Test(arguments: [2, 3, 5, 1 << 16])
    func leadingByteOrderMarkIsDropped(chunkSize: Int) throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try lines(of: bom + Array("u1\tS1\r\n".utf8) + bom + Array("u2".utf8), chunkSize: chunkSize) == ["u1\tS1", "\u{FEFF}u2"])
        #expect(try lines(of: bom + Array("only".utf8), chunkSize: chunkSize) == ["only"])
        #expect(try lines(of: bom, chunkSize: chunkSize) == [""])
    }

    /// Missing files and directories: `PATH: cannot read: WHY`.
    @Test func unreadableFilesSayWhy() throws {
        let directory = NSTemporaryDirectory() + "dir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (path, why) in [("/nonexistent/x", "no such file"), (directory, "it is a directory, not a file")] {
            do {
                try LineReader(path: path).forEachLine { _, _ in }
                Issue.record("\(path) was read")
            } catch let error as FileReadError {
                #expect(error.description == "\(path): cannot read: \(why)")
            }
            #expect(throws: FileReadError.self) { try FileReadError.checkReadable(path) }
        }
    }
}

@Suite struct PrintableTests {
    @Test func controlCharactersBecomeVisibleEscapes() {
        #expect(Printable.escaped("\u{1B}]0;pwned\u{07}\u{1B}[2J1") == #"\x1b]0;pwned\x07\x1b[2J1"#)
        #expect(Printable.escaped("a\0b\tc\rd\ne\u{7F}") == #"a\0b\tc\rd\ne\x7f"#)
        #expect(Printable.escaped("csi\u{9B}2J rtl\u{202E}x") == #"csi\u{9b}2J rtl\u{202e}x"#)
        #expect(Printable.escaped("Mötley Crüe — 日本 \\ ok") == "Mötley Crüe — 日本 \\ ok")
        #expect(Printable.escaped("line one\nline\u{1B}two", keepingNewlines: true) == "line one\nline\\x1btwo")
        let once = Printable.escaped("\u{1B}[31m")
        #expect(Printable.escaped(once) == once)
    }

    @Test func bytesShowInvalidUTF8AsHexAndAreCutAtTheLimit() {
        #expect(Printable.escaped(bytes: [0x75, 0xFF, 0x00, 0x41]) == #"u\xff\0A"#)
        #expect(Printable.escaped(bytes: Array("Björk".utf8)) == "Björk")
        #expect(Printable.escaped(bytes: Array("abcdef".utf8), limit: 3) == "abc…")
    }
}

@Suite struct CSVRecordScannerTests {
    func openAfter(_ lines: [String]) -> [Bool] {
        var scanner = CSV.RecordScanner()
        return lines.map { line in
            let bytes = Array(line.utf8)
            bytes.withUnsafeBytes { scanner.scan($0) }
            return scanner.isInsideQuotes
        }
    }

    @Test func tracksQuotedFieldsAcrossLines() {
        #expect(openAfter(["S1,\"Hello, World\",x,y,1"]) == [false])
        #expect(openAfter(["S2,\"Say \"\"Hi\"\"\",,z,0"]) == [false])
        #expect(openAfter(["S3,\"Line one", "", "still \"\"quoted\"\"", "end\",r,a,1"]) == [true, true, true, false])
        #expect(openAfter(["S4,5\" single,r,a,1"]) == [false])  // a quote inside an unquoted field is literal
        #expect(openAfter(["S5,\"a\",\"b", "c\""]) == [true, false])
        #expect(openAfter(["\"", "\""]) == [true, false])
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
