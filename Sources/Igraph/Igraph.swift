import CIgraph
import Foundation

/// The igraph integer type (`igraph_integer_t` in 0.10, `igraph_int_t` in later versions): one alias,
/// so a version change touches one line.
public typealias IgraphInt = igraph_integer_t

/// An error reported by igraph, turned into a Swift error instead of aborting the process.
public struct IgraphError: Error, CustomStringConvertible, Sendable {
    public let code: Int
    public let reason: String
    public var description: String { "igraph error \(code): \(reason)" }
}

/// Process-wide igraph state, made explicit.
///
/// igraph keeps its error handler, its cleanup ("finally") stack and its RNG in process globals, and
/// Debian builds it without thread safety. Every call into igraph therefore runs inside `Igraph.serial`,
/// which takes one lock, makes sure the non-aborting error handler is installed and seeds the RNG.
public enum Igraph {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var configured = false
    /// The reason of the last error, copied by the handler before igraph frees its temporaries.
    /// Only touched while `lock` is held.
    nonisolated(unsafe) fileprivate static var lastReason = ""

    /// Installs the non-aborting error handler. Idempotent; `serial` calls it, so callers need not.
    public static func configure() {
        lock.lock()
        defer { lock.unlock() }
        configureLocked()
    }

    private static func configureLocked() {
        guard !configured else { return }
        // Records the reason, then frees igraph's temporaries, so the failing call returns its error code.
        igraph_set_error_handler { reason, file, line, _ in
            var text = reason.map { String(cString: $0) } ?? "unknown"
            if let file { text += " (\(String(cString: file)):\(line))" }
            Igraph.lastReason = text
            IGRAPH_FINALLY_FREE()
        }
        // Warnings are advisory; library code does not print.
        igraph_set_warning_handler { _, _, _ in }
        configured = true
    }

    /// Runs `body` with exclusive access to igraph, after seeding igraph's default RNG with `seed`.
    ///
    /// - Parameters:
    ///   - seed: seeds `igraph_rng_default()` immediately before `body`, so randomized algorithms are
    ///     reproducible.
    ///   - body: the igraph calls; wrap each fallible one in `check`.
    public static func serial<T>(seed: UInt64 = 0, _ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        configureLocked()
        igraph_rng_seed(igraph_rng_default(), seed)
        return try body()
    }

    /// Turns an igraph result code into a thrown `IgraphError`.
    static func check(_ code: igraph_error_t) throws {
        guard code == IGRAPH_SUCCESS else {
            let reason = lastReason.isEmpty ? String(cString: igraph_strerror(code)) : lastReason
            lastReason = ""
            throw IgraphError(code: Int(code.rawValue), reason: reason)
        }
    }
}

