import SQLite
import TasteGraphCore

/// What a listener said about an item (the seed's up and down votes, plus skips).
public enum FeedbackKind: String, Sendable, Codable, CaseIterable {
    case like, dislike, skip
}

/// One feedback event posted to a running service. `user` and `item` are external ids.
public struct LiveFeedback: Sendable, Equatable, Codable {
    public var eventID: String
    public var user: String
    public var item: String
    public var kind: FeedbackKind
    /// Event time, Unix seconds (the client's clock, stored as given).
    public var at: Int64

    public init(eventID: String, user: String, item: String, kind: FeedbackKind, at: Int64) {
        self.eventID = eventID
        self.user = user
        self.item = item
        self.kind = kind
        self.at = at
    }
}

/// What `GraphStore.appendFeedback` stored.
public struct FeedbackReceipt: Sendable, Equatable, Codable {
    /// One stored event with its dense ids.
    public struct Event: Sendable, Equatable, Codable {
        /// The event's 0-based position in the batch.
        public let batchIndex: Int
        public let user: UserIndex
        public let item: ItemIndex
        public let kind: FeedbackKind
    }

    /// Events stored (`events.count`).
    public let accepted: Int
    /// Events skipped because their event id was already stored, or appeared earlier in the batch.
    public let duplicates: Int
    /// The stored events in batch order.
    public let events: [Event]
}

/// One stored feedback event, as `GraphStore.feedback()` returns it.
public struct StoredFeedback: Sendable, Equatable, Codable {
    public let eventID: String
    public let user: UserIndex
    public let item: ItemIndex
    public let kind: FeedbackKind
    /// Event time, Unix seconds.
    public let at: Int64
    /// When the store received it, Unix seconds.
    public let receivedAt: Int64
}

extension GraphStore {
    /// Stores a batch of feedback events in one transaction: all of it, or (on any error) nothing.
    ///
    /// Idempotent by `eventID` as `appendListens` is: an id already stored, or earlier in the batch, is a
    /// duplicate and changes nothing. Unlike listens, feedback never creates users or items: both must
    /// already be in the store (a duplicate event is skipped before its ids are checked). Feedback does not
    /// change `listens` or the data fingerprint.
    ///
    /// - Parameters:
    ///   - batch: the events, in order.
    ///   - receivedAt: when the batch arrived, Unix seconds.
    /// - Returns: counts and each stored event's dense ids.
    /// - Throws: `LiveWriteError` naming the element's index and field: `.invalid` for an empty, over-long
    ///   (1,024 bytes) or control-character id, `.unknownID` (with the id) for a user or item the store does
    ///   not hold; `StoreError` when another process holds the write lock. Nothing is stored then.
    /// - Complexity: O(B log n) for B events.
    public func appendFeedback(_ batch: [LiveFeedback], receivedAt: Int64) throws -> FeedbackReceipt {
        for (index, event) in batch.enumerated() {
            try LiveValidation.checkText(event.eventID, index: index, field: "event_id")
            try LiveValidation.checkText(event.user, index: index, field: "user")
            try LiveValidation.checkText(event.item, index: index, field: "item")
        }
        guard !batch.isEmpty else { return FeedbackReceipt(accepted: 0, duplicates: 0, events: []) }
        return try transaction {
            var users = try LiveIDResolver(store: self, table: "users", insertSQL: nil)
            var items = try LiveIDResolver(store: self, table: "items", insertSQL: nil)
            let stored = try cached("SELECT 1 FROM feedback WHERE event_id = ?")
            let insert = try cached("INSERT INTO feedback(event_id, user_id, item_id, kind, at, received_at) VALUES (?, ?, ?, ?, ?, ?)")
            var events: [FeedbackReceipt.Event] = []
            var duplicates = 0
            for (index, event) in batch.enumerated() {
                stored.bind(1, event.eventID)
                var isDuplicate = false
                try stored.query { _ in isDuplicate = true }
                if isDuplicate {
                    duplicates += 1
                    continue
                }
                guard let user = try users.find(event.user) else {
                    throw LiveWriteError(
                        kind: .unknownID, index: index, field: "user", value: event.user,
                        reason: "unknown user \(event.user): store a listen of this user first")
                }
                guard let item = try items.find(event.item) else {
                    throw LiveWriteError(
                        kind: .unknownID, index: index, field: "item", value: event.item,
                        reason: "unknown item \(event.item): add the item, or store a listen of it, first")
                }
                insert.bind(1, event.eventID)
                insert.bind(2, user)
                insert.bind(3, item)
                insert.bind(4, event.kind.rawValue)
                insert.bind(5, event.at)
                insert.bind(6, receivedAt)
                _ = try insert.executeBound()
                events.append(FeedbackReceipt.Event(batchIndex: index, user: UserIndex(Int(user)), item: ItemIndex(Int(item)), kind: event.kind))
            }
            return FeedbackReceipt(accepted: events.count, duplicates: duplicates, events: events)
        }
    }

    /// Every stored feedback event, in arrival order (a restarted service rebuilds its dislike and skip
    /// sets from it).
    /// - Throws: `InputError` naming the store for a kind no TasteGraph writes; `SQLiteError` when the store
    ///   cannot be read.
    /// - Complexity: O(events).
    public func feedback() throws -> [StoredFeedback] {
        var events: [StoredFeedback] = []
        try db.prepare("SELECT event_id, user_id, item_id, kind, at, received_at FROM feedback ORDER BY rowid").query { row in
            guard let kind = row.text(3).flatMap(FeedbackKind.init(rawValue:)), row.int(1) >= 0, row.int(2) >= 0 else {
                throw corruptError("a feedback event holds kind '\(row.text(3) ?? "NULL")' or a negative id")
            }
            events.append(
                StoredFeedback(
                    eventID: row.text(0) ?? "", user: UserIndex(row.int(1)), item: ItemIndex(row.int(2)), kind: kind, at: row.int64(4),
                    receivedAt: row.int64(5)))
        }
        return events
    }
}
