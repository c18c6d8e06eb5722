import Foundation
import TasteGraphCore
import TasteGraphGraph

/// Checks on what a model file's arrays hold, not only their lengths: the digest proves a file is the one
/// written, not that its writer was TasteGraph, so a loaded model must never index out of its arrays.
enum ArchiveChecks {
    /// A CSR read from a model file: `rows + 1` offsets ascending from 0 to E, E targets in `0..<columns`,
    /// E weights.
    /// - Throws: `CheckpointError` saying which arrays of `what` are inconsistent.
    static func csr(offsets: [Int], targets: [Int32], weights: [Float], rows: Int, columns: Int, what: String, path: String) throws -> CSR {
        guard offsets.count == rows + 1, offsets.first == 0, offsets.last == targets.count, targets.count == weights.count else {
            throw CheckpointError(path: path, reason: "\(what) arrays do not match the model's users and items")
        }
        guard zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw CheckpointError(path: path, reason: "\(what) row offsets are not ascending (the file is corrupt)")
        }
        guard targets.allSatisfy({ $0 >= 0 && Int($0) < columns }) else {
            throw CheckpointError(path: path, reason: "\(what) holds an index outside 0..<\(columns) (the file is corrupt)")
        }
        return CSR(offsets: offsets, targets: targets, weights: weights)
    }

    /// X, the users' rows (U × I: each user's items and weights), as a model file's three arrays.
    static func userRowArrays(_ rows: CSR) -> [(name: String, values: ModelFile.Values)] {
        [("userOffsets", .int(rows.offsets.map { Int32($0) })), ("userItems", .int(rows.targets)), ("userWeights", .float(rows.weights))]
    }

    /// The users' rows `userRowArrays` wrote, read back and checked against the archive's users and items.
    static func userRows(_ archive: ModelArchive, what: String, path: String) throws -> CSR {
        try csr(
            offsets: try archive.ints("userOffsets", path: path).map(Int.init), targets: try archive.ints("userItems", path: path),
            weights: try archive.floats("userWeights", path: path), rows: archive.identity.userIDs.count,
            columns: archive.identity.itemIDs.count, what: what, path: path)
    }

    /// The model's settings; settings that do not decode are an error (they shape the loaded model).
    static func settings<T: Decodable>(_ type: T.Type, of archive: ModelArchive, what: String, path: String) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: archive.settings) } catch {
            throw CheckpointError(path: path, reason: "bad \(what) settings: \(error)")
        }
    }

    /// `a · b` for array lengths, or nil when it overflows.
    static func product(_ a: Int, _ b: Int) -> Int? {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : value
    }
}
