import Foundation
import Synchronization

/// A thread that commits queued jobs in groups: every job that arrives while a commit runs joins the
/// next group (at most `maximumGroup`), so under load one transaction serves many callers. The commit
/// closure tells each job's caller its result; callers wait on their own continuation, never on the store.
final class GroupCommitThread<Job: Sendable>: Sendable {
    struct State: Sendable {
        var pending: [Job] = []
        var stopped = false
    }

    let state = Mutex(State())
    let wake = DispatchSemaphore(value: 0)

    /// Starts the thread. `commit` runs on it, one group at a time, in arrival order.
    init(name: String, maximumGroup: Int, commit: @escaping @Sendable ([Job]) -> Void) {
        // The thread holds this object until `stop()` lets it end.
        let thread = Thread { [self] in
            while true {
                wake.wait()
                let (group, stopped) = state.withLock { state -> ([Job], Bool) in
                    let group = Array(state.pending.prefix(maximumGroup))
                    state.pending.removeFirst(group.count)
                    return (group, state.stopped)
                }
                if !group.isEmpty { commit(group) }
                if stopped && group.isEmpty { return }
            }
        }
        thread.name = name
        thread.start()
    }

    /// Queues `job`; false (and nothing queued) once the thread has been stopped.
    func submit(_ job: Job) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.pending.append(job)
            return true
        }
        if accepted { wake.signal() }
        return accepted
    }

    /// Ends the thread after the jobs already queued.
    func stop() {
        state.withLock { $0.stopped = true }
        wake.signal()
    }
}
