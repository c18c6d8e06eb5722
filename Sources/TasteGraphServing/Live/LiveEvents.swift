import Foundation
import TasteGraphCore
import TasteGraphStore

/// One listen as a client sends it: who played what, how often, when (ISO 8601), under an id that makes
/// retries harmless.
public struct ListenEvent: Codable, Sendable, Equatable {
    public var eventId: String
    public var user: String
    public var item: String
    public var plays: Int64
    public var at: String

    public init(eventId: String, user: String, item: String, plays: Int64, at: String) {
        self.eventId = eventId
        self.user = user
        self.item = item
        self.plays = plays
        self.at = at
    }
}

public struct ListenBatch: Codable, Sendable, Equatable {
    public var listens: [ListenEvent]
    public init(listens: [ListenEvent]) { self.listens = listens }
}

/// What a stored listen batch changed.
public struct ListenReceipt: Codable, Sendable, Equatable {
    /// Events stored now.
    public let accepted: Int
    /// Events already stored (retries) or repeated within the batch: they changed nothing.
    public let duplicates: Int
    /// Users and items the batch created.
    public let newUsers: [String]
    public let newItems: [String]
    /// Users whose next recommendations come from their new history (folded in at that read).
    public let foldedUsers: Int
}

/// A listener's reaction to an item (`FeedbackKind`: the seed's up and down votes, and skips):
/// - like: counts as one play of the item, so it leaves the user's lists (heard) and its neighbours rise;
/// - dislike: the item is never recommended to that user again;
/// - skip: the item leaves that user's lists for `LiveServing.skipCooldown` seconds of event time after the
///   skip, then may return (a skip says "not now", not "never").
public struct FeedbackEvent: Codable, Sendable, Equatable {
    public var eventId: String
    public var user: String
    public var item: String
    public var kind: FeedbackKind
    public var at: String

    public init(eventId: String, user: String, item: String, kind: FeedbackKind, at: String) {
        self.eventId = eventId
        self.user = user
        self.item = item
        self.kind = kind
        self.at = at
    }
}

public struct FeedbackBatch: Codable, Sendable, Equatable {
    public var feedback: [FeedbackEvent]
    public init(feedback: [FeedbackEvent]) { self.feedback = feedback }
}

public struct FeedbackReceipt: Codable, Sendable, Equatable {
    public let accepted: Int
    public let duplicates: Int
}

/// A new song, with what its text features are built from.
public struct NewItemEvent: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var release: String?
    public var artist: String
    public var year: Int?
    public var tags: [String]?

    public init(id: String, title: String, release: String? = nil, artist: String, year: Int? = nil, tags: [String]? = nil) {
        self.id = id
        self.title = title
        self.release = release
        self.artist = artist
        self.year = year
        self.tags = tags
    }
}

public struct NewItemBatch: Codable, Sendable, Equatable {
    public var items: [NewItemEvent]
    public init(items: [NewItemEvent]) { self.items = items }
}

public struct NewItemReceipt: Codable, Sendable, Equatable {
    public let added: [String]
    /// Whether the model placed the new songs (a GCN with text features does; others recommend them
    /// once a retrained model knows them).
    public let placed: Bool
}

/// Checks of client input, each naming the element and the field (`listens[3].plays`).
public enum EventValidation {
    static let maximumIDLength = 256

    static func id(_ value: String, field: @autoclosure () -> String) throws {
        guard !value.isEmpty else { throw ServingError(field: field(), detail: "must not be empty") }
        guard value.utf8.count <= maximumIDLength else {
            throw ServingError(field: field(), detail: "at most \(maximumIDLength) bytes, got \(value.utf8.count)")
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ServingError(field: field(), detail: "must not contain control characters")
        }
    }

    /// Parses an RFC 3339 date-time (`2026-12-01T10:00:00Z`, `…:00.250+01:00`) to Unix seconds.
    ///
    /// By hand rather than with `ISO8601DateFormatter` (tens of µs to create one, which a 20,000 listens/s
    /// ingest cannot afford): digits by position, then days from the civil date (Hinnant's algorithm).
    public static func time(_ value: String, field: @autoclosure () -> String) throws -> Int64 {
        guard let seconds = RFC3339.seconds(value) else {
            throw ServingError(field: field(), detail: "must be an RFC 3339 date-time such as 2026-12-01T10:00:00Z, got '\(Printable.escaped(String(value.prefix(64))))'")
        }
        guard seconds >= 0, seconds < 4_102_444_800 else {  // 1970 … 2100
            throw ServingError(field: field(), detail: "must lie between 1970 and 2100")
        }
        return seconds
    }
}
