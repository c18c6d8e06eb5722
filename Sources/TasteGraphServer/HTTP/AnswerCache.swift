import Foundation
import NIOCore
import Synchronization
import TasteGraphServing
import TasteGraphStore

/// An encoded answer, and for a recommendation list the exposure-journal entry to log each time it is
/// served (at that time) and the arm that answered.
struct CachedAnswer: Sendable {
    let body: ByteBuffer
    var exposure: ExposureJournal.Entry? = nil
    var arm = ""
}

/// Encoded answers by request URI, each under the `AnswerVersion` it was computed at: a lookup with the
/// same version returns the bytes without scoring or encoding again; a newer version (a reload, a live
/// event of that user) misses, and the entry is replaced.
///
/// This is what makes repeated reads cheap: a user's list changes only when the model or the user does,
/// so between those events the answer is served from memory. At most `capacity` entries; when full, it
/// starts over (simple, and bounded).
final class AnswerCache: Sendable {
    struct Entry: Sendable {
        let version: AnswerVersion
        let answer: CachedAnswer
    }

    let capacity: Int
    let entries = Mutex<[String: Entry]>([:])

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The cached body for `key` at `version`, or `compute()`'s, stored when `version` is non-nil.
    func body(for key: String, version: AnswerVersion?, compute: () throws -> ByteBuffer) rethrows -> ByteBuffer {
        try answer(for: key, version: version) { CachedAnswer(body: try compute()) }.body
    }

    /// The cached answer for `key` at `version`, or `compute()`'s, stored when `version` is non-nil.
    func answer(for key: String, version: AnswerVersion?, compute: () throws -> CachedAnswer) rethrows -> CachedAnswer {
        guard capacity > 0, let version else { return try compute() }
        if let hit = entries.withLock({ $0[key] }), hit.version == version { return hit.answer }
        let answer = try compute()
        entries.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = Entry(version: version, answer: answer)
        }
        return answer
    }
}
