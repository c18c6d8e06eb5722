import SQLite
import TasteGraphCore

/// One listen event posted to a running service: `user` played `item` `plays` times at `at`.
///
/// `user` and `item` are external ids (the dataset's strings), `eventID` the client's idempotency key.
public struct LiveListen: Sendable, Equatable, Codable {
    public var eventID: String
    public var user: String
    public var item: String
    public var plays: Int64
    /// Event time, Unix seconds (the client's clock; stored as given, never checked against any clock).
    public var at: Int64

    public init(eventID: String, user: String, item: String, plays: Int64, at: Int64) {
        self.eventID = eventID
        self.user = user
        self.item = item
        self.plays = plays
        self.at = at
    }
}

/// What `GraphStore.appendListens` stored.
public struct LiveListenReceipt: Sendable, Equatable, Codable {
    /// One stored event, with the dense ids it resolved to, so the caller can update in-memory state
    /// without reading the store again.
    public struct Event: Sendable, Equatable, Codable {
        /// The event's 0-based position in the batch (`batch[batchIndex]` is the event).
        public let batchIndex: Int
        public let user: UserIndex
        public let item: ItemIndex
        /// The event's plays.
        public let plays: Int64
        /// The (user, item) pair's play count in `listens` after this event.
        public let totalPlays: Int64
    }

    /// Events stored (`events.count`).
    public let accepted: Int
    /// Events skipped because their event id was already stored, or appeared earlier in the batch.
    public let duplicates: Int
    /// External ids of the users this batch created, in creation order (they got consecutive dense ids).
    public let newUsers: [String]
    /// External ids of the items this batch created (no artist, title or metadata; active), in creation order.
    public let newItems: [String]
    /// The stored events in batch order.
    public let events: [Event]
}

/// One stored live listen event, as `GraphStore.listenEvents()` returns it.
public struct StoredListen: Sendable, Equatable, Codable {
    public let eventID: String
    public let user: UserIndex
    public let item: ItemIndex
    public let plays: Int64
    /// Event time, Unix seconds.
    public let at: Int64
    /// When the store received it, Unix seconds.
    public let receivedAt: Int64
}

extension GraphStore {
    /// Stores a batch of live listens in one transaction: all of it, or (on any error) nothing.
    ///
    /// Each event whose `eventID` is new is written to `listen_events`, and its plays are added to the
    /// (user, item) pair in `listens` (an upsert: `play_count += plays`), so `catalog()` and `listens()` see
    /// it at once. An event id already stored, or repeated earlier in the batch, is a duplicate: it changes
    /// nothing (not even when its other fields differ), so retrying a batch is safe. Users and items the
    /// store does not hold are created with the next dense ids, in order of first appearance, with the
    /// external id as given; a new item has no artist, title or other metadata and is active. The listens
    /// are logged under the import-log row of kind `live` (`LiveImportRow`).
    ///
    /// Event ids are kept unique by an in-memory index of the stored ones (`LiveEventIndex`), loaded by the
    /// first call on a handle: that call reads every stored event id once (O(events)).
    ///
    /// The batch is committed into the write-ahead log before this returns: it survives the process being
    /// killed, and with `Durability.powerLoss` a power cut too. Statements are compiled once per store.
    ///
    /// - Parameters:
    ///   - batch: the events, in order.
    ///   - receivedAt: when the batch arrived, Unix seconds (stored with each event).
    /// - Returns: counts, the created ids, and each stored event's dense ids and new play total.
    /// - Throws: `LiveWriteError` (`.invalid`) naming the element's index and field for an empty id, an id
    ///   longer than 1,024 bytes or holding a control character, plays outside 1…1,000,000,000, or plays
    ///   that would lift the pair's total above 1,000,000,000; `StoreError` when another process holds the
    ///   store's write lock; `SQLiteError` for a failing disk. Nothing of the batch is stored then.
    /// - Complexity: O(B log n) for B events over tables of n rows: a few index lookups and writes per event.
    public func appendListens(_ batch: [LiveListen], receivedAt: Int64) throws -> LiveListenReceipt {
        do {
            return try appendListens(batches: [batch], receivedAt: receivedAt)[0]
        } catch let group as LiveGroupError {
            throw group.error
        }
    }

    /// Stores several batches in ONE transaction ("group commit"), as if they were appended one after
    /// another: an event id repeated in a later batch is a duplicate there, and each batch gets its own
    /// receipt (its `batchIndex`es index that batch). All of them, or (on any error) none.
    ///
    /// A commit writes every page the transaction touched once, so grouping the batches that arrive while a
    /// commit is running divides that cost between them: with 16 KiB pages, a batch of 100 listens of
    /// random users touches most leaf pages of a lastfm-sized `listens` table.
    /// - Throws: as `appendListens(_:receivedAt:)`; a `LiveWriteError`'s `index` is within its batch, and
    ///   `batch` (see `LiveGroupError`) says which batch.
    public func appendListens(batches: [[LiveListen]], receivedAt: Int64) throws -> [LiveListenReceipt] {
        for (number, batch) in batches.enumerated() {
            do {
                for (index, listen) in batch.enumerated() {
                    try LiveValidation.checkText(listen.eventID, index: index, field: "event_id")
                    try LiveValidation.checkText(listen.user, index: index, field: "user")
                    try LiveValidation.checkText(listen.item, index: index, field: "item")
                    try LiveValidation.checkPlays(listen.plays, index: index)
                }
            } catch let error as LiveWriteError {
                throw LiveGroupError(batch: number, error: error)
            }
        }
        guard batches.contains(where: { !$0.isEmpty }) else {
            return batches.map { _ in LiveListenReceipt(accepted: 0, duplicates: 0, newUsers: [], newItems: [], events: []) }
        }
        let eventIndex = liveEvents ?? LiveEventIndex()
        liveEvents = eventIndex
        var committed: [(id: String, seq: Int64)] = []
        let receipts = try transaction {
            try eventIndex.catchUp(self)
            var live = try LiveImportRow.fetchOrCreate(self, receivedAt: receivedAt)
            var users = try LiveIDResolver(store: self, table: "users", insertSQL: "INSERT INTO users(id, external_id) VALUES (?, ?)")
            var items = try LiveIDResolver(store: self, table: "items", insertSQL: "INSERT INTO items(id, external_id) VALUES (?, ?)")
            var seen = Set<String>()
            let insertEvent = try cached(
                "INSERT INTO listen_events(event_id, user_id, item_id, plays, at, received_at) VALUES (?, ?, ?, ?, ?, ?)")
            let addPlays = try cached(
                """
                INSERT INTO listens(user_id, item_id, play_count, import_id) VALUES (?, ?, ?, ?)
                ON CONFLICT(user_id, item_id) DO UPDATE SET play_count = play_count + excluded.play_count, import_id = excluded.import_id
                RETURNING play_count
                """)
            var record: [UInt8] = []
            var receipts: [LiveListenReceipt] = []
            var received = 0
            var accepted = 0
            var duplicatesInAll = 0
            for (number, batch) in batches.enumerated() {
                let usersBefore = users.created.count
                let itemsBefore = items.created.count
                var events: [LiveListenReceipt.Event] = []
                events.reserveCapacity(batch.count)
                var duplicates = 0
                for (position, listen) in batch.enumerated() {
                    guard !seen.contains(listen.eventID), try !eventIndex.contains(listen.eventID, in: self) else {
                        duplicates += 1
                        continue
                    }
                    seen.insert(listen.eventID)
                    let user = try users.id(for: listen.user).id
                    let item = try items.id(for: listen.item).id
                    insertEvent.bind(1, listen.eventID)
                    insertEvent.bind(2, user)
                    insertEvent.bind(3, item)
                    insertEvent.bind(4, listen.plays)
                    insertEvent.bind(5, listen.at)
                    insertEvent.bind(6, receivedAt)
                    _ = try insertEvent.executeBound()
                    committed.append((listen.eventID, db.lastInsertRowID))
                    addPlays.bind(1, user)
                    addPlays.bind(2, item)
                    addPlays.bind(3, listen.plays)
                    addPlays.bind(4, live.id)
                    var total: Int64 = 0
                    try addPlays.query { total = $0.int64(0) }
                    guard total <= Self.maximumPlayCount else {
                        throw LiveGroupError(
                            batch: number,
                            error: LiveWriteError(
                                kind: .invalid, index: position, field: "plays",
                                reason: "user \(listen.user) would have \(total) plays of item \(listen.item), more than \(Self.maximumPlayCountText)"))
                    }
                    events.append(
                        LiveListenReceipt.Event(
                            batchIndex: position, user: UserIndex(Int(user)), item: ItemIndex(Int(item)), plays: listen.plays, totalPlays: total))
                    record.appendRecord("listen", listen.eventID, listen.user, listen.item, String(listen.plays), String(listen.at))
                }
                received += batch.count
                accepted += events.count
                duplicatesInAll += duplicates
                receipts.append(
                    LiveListenReceipt(
                        accepted: events.count, duplicates: duplicates, newUsers: Array(users.created[usersBefore...]),
                        newItems: Array(items.created[itemsBefore...]), events: events))
            }
            try live.commit(self, record: record, received: received, accepted: accepted, duplicates: duplicatesInAll)
            return receipts
        }
        eventIndex.record(committed)
        return receipts
    }

    /// Every stored live listen event, in arrival order.
    /// - Throws: `SQLiteError` when the store cannot be read.
    /// - Complexity: O(events).
    public func listenEvents() throws -> [StoredListen] {
        var events: [StoredListen] = []
        try db.prepare("SELECT event_id, user_id, item_id, plays, at, received_at FROM listen_events ORDER BY seq").query { row in
            guard row.int(1) >= 0, row.int(2) >= 0 else { throw corruptError("a listen event names a negative user or item id") }
            events.append(
                StoredListen(
                    eventID: row.text(0) ?? "", user: UserIndex(row.int(1)), item: ItemIndex(row.int(2)), plays: row.int64(3),
                    at: row.int64(4), receivedAt: row.int64(5)))
        }
        return events
    }

    /// The number of stored live listen events.
    /// - Complexity: O(events) (SQLite counts the rows).
    public func listenEventCount() throws -> Int { Int(try db.integer("SELECT COUNT(*) FROM listen_events")) }
}

/// A grouped append failed because of one batch: which one, and its element's error. Nothing was stored.
public struct LiveGroupError: Error, CustomStringConvertible, Sendable, Equatable {
    public let batch: Int
    public let error: LiveWriteError
    public var description: String { "batch \(batch): \(error)" }
}
