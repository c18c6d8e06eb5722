import Foundation
import TestSupport
import Testing

@testable import TasteGraphText

/// The safetensors reader on hand-built files.
@Suite struct SafeTensorsTests {
    /// 8-byte little-endian header length, the JSON header, then the data bytes.
    static func file(header: String, data: [UInt8]) -> Data {
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) }
        bytes += Array(header.utf8) + data
        return Data(bytes)
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }
    }

    static let header = #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},"ids":{"dtype":"I64","shape":[1],"data_offsets":[32,40]}}"#
    static let values: [Float] = [1, -2, 3.5, 0.25, 1e-7, -1e7, 7, 8]
    static let bytes = file(header: header, data: floatBytes(values) + [5, 0, 0, 0, 0, 0, 0, 0])

    @Test func readsTensorsFromMemoryAndFromAFile() throws {
        let dir = TemporaryDirectory()
        let path = dir.write("m.safetensors", bytes: Array(Self.bytes))
        for tensors in [try SafeTensors(data: Self.bytes), try SafeTensors(path: path)] {
            #expect(Set(tensors.entries.keys) == ["w", "b", "ids"])
            #expect(try tensors.floats("w", shape: [2, 3]) == Array(Self.values[0..<6]))
            #expect(try tensors.floats("b", shape: [2]) == [7, 8])
        }
    }

    @Test func wrongNameShapeOrDtypeIsAClearError() throws {
        let tensors = try SafeTensors(data: Self.bytes, source: "m.safetensors")
        #expect(throws: TextModelError.badTensor("m.safetensors has no tensor 'x'")) { try tensors.floats("x", shape: [1]) }
        #expect(throws: TextModelError.badTensor("m.safetensors: tensor 'w' has shape [2, 3], expected [3, 2]")) {
            try tensors.floats("w", shape: [3, 2])
        }
        #expect(throws: TextModelError.badTensor("m.safetensors: tensor 'ids' is I64; only F32 is supported")) {
            try tensors.floats("ids", shape: [1])
        }
    }

    @Test func badFilesAreRejected() {
        func rejects(_ data: Data, _ reason: String) {
            #expect(throws: TextModelError.badWeights("bad: \(reason)")) { try SafeTensors(data: data, source: "bad") }
        }
        rejects(Data([1, 2, 3]), "3 bytes, too short for the 8-byte header length")
        var tooLong = Self.bytes
        tooLong[0] = 0xFF
        tooLong[1] = 0xFF
        rejects(tooLong, "header length 65535 runs past the end of the file (\(Self.bytes.count) bytes)")
        rejects(Self.file(header: "{not json", data: []), "the header is not valid JSON")
        rejects(Self.file(header: "[1,2]", data: []), "the header is not a JSON object")
        rejects(Self.file(header: #"{"w":{"dtype":"F32","shape":[2]}}"#, data: []), "tensor 'w' lacks a dtype, shape or two data_offsets")
        rejects(Self.file(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]),
                "tensor 'w' has data_offsets [0, 8] outside the 4 data bytes")
        rejects(Self.file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
                "tensor 'w' (F32 [3]) should hold 12 bytes, not 8")
    }

    @Test func aMissingFileSaysSo() {
        #expect(throws: TextModelError.modelNotFound("cannot read /nonexistent/model.safetensors")) {
            try SafeTensors(path: "/nonexistent/model.safetensors")
        }
    }
}
