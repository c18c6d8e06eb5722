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

    /// `a · b` for array lengths, or nil when it overflows.
    static func product(_ a: Int, _ b: Int) -> Int? {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : value
    }
}
