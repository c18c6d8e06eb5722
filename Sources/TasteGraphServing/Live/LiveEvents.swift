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

/// RFC 3339 date-times (ISO 8601's internet profile) to Unix seconds, without Foundation's formatters.
enum RFC3339 {
    /// nil unless `text` is `YYYY-MM-DD(T|t| )hh:mm:ss(.fraction)?(Z|z|±hh:mm)` with fields in range.
    static func seconds(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 40 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for k in from..<(from + count) {
                guard k < b.count, b[k] >= 48, b[k] <= 57 else { return nil }
                value = value * 10 + Int(b[k] - 48)
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45, let day = digits(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32,
              let hour = digits(11, 2), b[13] == 58, let minute = digits(14, 2), b[16] == 58, let second = digits(17, 2),
              (1...12).contains(month), hour < 24, minute < 60, second < 61
        else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day >= 1, day <= monthDays[month - 1] else { return nil }
        var k = 19
        if k < b.count, b[k] == 46 {  // fraction: at least one digit
            k += 1
            let start = k
            while k < b.count, b[k] >= 48, b[k] <= 57 { k += 1 }
            guard k > start else { return nil }
        }
        guard k < b.count else { return nil }
        var offset = 0
        if b[k] == 90 || b[k] == 122 {
            k += 1
        } else if b[k] == 43 || b[k] == 45 {
            guard let oh = digits(k + 1, 2), k + 3 < b.count, b[k + 3] == 58, let om = digits(k + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * 60 * (b[k] == 43 ? 1 : -1)
            k += 6
        } else {
            return nil
        }
        guard k == b.count else { return nil }
        // Days since 1970-01-01 of the civil date (proleptic Gregorian).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offset)
    }
}
