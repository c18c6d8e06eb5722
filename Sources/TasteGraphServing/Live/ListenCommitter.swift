import Foundation
import Synchronization
import TasteGraphStore

/// The store handle every live write goes through, one call at a time (SQLite has one writer; a handle
/// is not to be used from two threads at once).
final class StoreWriter: Sendable {
    let store: Mutex<GraphStore>

    init(_ store: sending GraphStore) {
        self.store = Mutex(store)
    }
}

/// Commits listen batches on a thread of its own, grouping the batches that arrive while a commit runs
/// into the next transaction (`GraphStore.appendListens(batches:)`): each caller still gets its own
/// receipt after its batch is committed, and a batch the store refuses fails alone (the group is retried
/// batch by batch). Request threads wait on a continuation, never on the store.
final class ListenCommitter: Sendable {
    typealias Completion = @Sendable (Result<LiveListenReceipt, any Error>) -> Void

    struct Pending: Sendable {
        let batch: [LiveListen]
        let receivedAt: Int64
        let done: Completion
    }

    /// Most batches in one transaction.
    static let maximumGroup = 64
    let thread: GroupCommitThread<Pending>

    init(writer: StoreWriter) {
        thread = GroupCommitThread(name: "tastegraph-listen-writer", maximumGroup: Self.maximumGroup) { Self.commit($0, writer: writer) }
    }

    /// Queues `batch`; `done` is called once it is committed (or refused).
    func submit(_ batch: [LiveListen], receivedAt: Int64, done: @escaping Completion) {
        guard thread.submit(Pending(batch: batch, receivedAt: receivedAt, done: done)) else {
            return done(.failure(StoreError("the live writer has stopped")))
        }
    }

    /// Ends the thread after the batches already queued.
    func stop() { thread.stop() }

    static func commit(_ group: [Pending], writer: StoreWriter) {
        let receivedAt = group.map(\.receivedAt).max() ?? 0
        let results: [Result<LiveListenReceipt, any Error>]
        do {
            let receipts = try writer.store.withLock { try $0.appendListens(batches: group.map(\.batch), receivedAt: receivedAt) }
            results = receipts.map { .success($0) }
        } catch is LiveGroupError where group.count > 1 {
            // One batch is refused: commit each alone, so only that one fails.
            results = group.map { pending in
                Result { try writer.store.withLock { try $0.appendListens(pending.batch, receivedAt: pending.receivedAt) } }
            }
        } catch let error as LiveGroupError {
            results = [.failure(error.error)]
        } catch {
            results = group.map { _ in .failure(error) }
        }
        for (pending, result) in zip(group, results) { pending.done(result) }
    }
}
