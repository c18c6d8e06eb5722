import Foundation
import Synchronization
import TasteGraphStore

/// The exposure log of a live service: each served list is appended to the store's `ExposureJournal`
/// (one `write(2)`, so a list is logged before it is answered and survives a killed process), and a
/// thread of its own moves the journal into the store's `exposure_chunks` table every `interval`, in one
/// transaction per sealed file. A report first moves what is pending, so it sees every list answered.
///
/// Cost: one system call per answered list on the request path (a cached answer's line is encoded once);
/// `make bench-serve` measures throughput with and without it.
final class ExposureLog: Sendable {
    let journal: ExposureJournal
    let writer: StoreWriter
    /// Serialises moves (the thread's and a report's).
    let moving = Mutex(())
    let wake = DispatchSemaphore(value: 0)
    let stopped = Mutex(false)
    let finished = DispatchSemaphore(value: 0)

    /// Opens the store's journal (taking its lock), moves what a previous process left in it, and starts
    /// the mover.
    /// - Throws: `StoreError` when another process serves this store, or the journal cannot be moved.
    init(storePath: String, writer: StoreWriter, interval: Duration = .milliseconds(250)) throws {
        journal = try ExposureJournal(storePath: storePath)
        self.writer = writer
        try writer.store.withLock { try journal.move(into: $0) }
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        let thread = Thread { [self] in
            while true {
                let signalled = wake.wait(timeout: .now() + seconds) == .success
                try? move()
                if signalled && stopped.withLock({ $0 }) { break }
            }
            finished.signal()
        }
        thread.name = "tastegraph-exposure-mover"
        thread.start()
    }

    /// Appends a prepared entry at `at`.
    func append(_ entry: ExposureJournal.Entry, at: Int64) throws { try journal.append(entry, at: at) }

    /// Moves every journaled exposure into the store now.
    func move() throws {
        try moving.withLock { _ in try writer.store.withLock { _ = try journal.move(into: $0) } }
    }

    /// Stops the mover after a last move (waits for it).
    func stop() {
        let first = stopped.withLock { flag -> Bool in
            defer { flag = true }
            return !flag
        }
        guard first else { return }
        wake.signal()
        finished.wait()
    }
}
