import Foundation
import Synchronization
import TasteGraphStore

/// Writes exposures to the store on a thread of its own, grouping every exposure that arrives while a
/// commit runs into the next transaction (at most `maximumGroup`). A caller is told once its exposure is
/// committed, so a front end can answer only lists that are logged (an acked list survives a killed
/// process); meanwhile the request waits on a continuation, never on the store.
///
/// Cost: one transaction per group, so under load the commits amortise over many requests (at 16
/// connections a group holds up to 16 lists); `make bench-serve` measures throughput with and without it.
final class ExposureLog: Sendable {
    typealias Completion = @Sendable (Result<Void, any Error>) -> Void

    struct Pending: Sendable {
        let exposure: Exposure
        let done: Completion
    }

    static let maximumGroup = 512
    let thread: GroupCommitThread<Pending>

    init(writer: StoreWriter) {
        thread = GroupCommitThread(name: "tastegraph-exposure-writer", maximumGroup: Self.maximumGroup) { group in
            let result = Result { try writer.store.withLock { try $0.appendExposures(group.map(\.exposure)) } }
            for pending in group { pending.done(result) }
        }
    }

    /// Queues `exposure`; `done` is called once it is committed (or failed).
    func submit(_ exposure: Exposure, done: @escaping Completion) {
        guard thread.submit(Pending(exposure: exposure, done: done)) else { return done(.failure(StoreError("the exposure writer has stopped"))) }
    }

    /// Waits until `exposure` is committed.
    func log(_ exposure: Exposure) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            submit(exposure) { continuation.resume(with: $0) }
        }
    }

    /// Ends the thread after the exposures already queued.
    func stop() { thread.stop() }
}
