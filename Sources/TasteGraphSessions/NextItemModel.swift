import TasteGraphCore
import TasteGraphSupport

/// What a next-item model is asked: the session so far and, optionally, who listens and when.
public struct SessionQuery: Sendable, Equatable {
    /// The session's items so far, oldest first (dense item ids).
    public var items: [Int32]
    /// The listener's dense id, or nil for an anonymous session (no personal model, no context profile).
    public var user: Int32?
    /// Hour of day, 0–23, of the next play (the context re-ranking's signal).
    public var hour: Int?
    /// Weekday, 0 = Monday … 6 = Sunday, of the next play.
    public var weekday: Int?

    public init(items: [Int32], user: Int32? = nil, hour: Int? = nil, weekday: Int? = nil) {
        self.items = items
        self.user = user
        self.hour = hour
        self.weekday = weekday
    }
}

/// Sparse scores over the catalog: a dense value per item plus the list of items touched, so a model can
/// score a few hundred candidates of a million-item catalog and be reset in O(touched).
///
/// Untouched items have score 0 and rank after every touched item.
public struct CandidateScores: Sendable {
    public private(set) var values: [Float]
    public private(set) var touched: [Int32] = []
    private var seen: [Bool]

    public init(itemCount: Int) {
        values = [Float](repeating: 0, count: itemCount)
        seen = [Bool](repeating: false, count: itemCount)
    }

    public var itemCount: Int { values.count }

    @inline(__always)
    public mutating func add(_ item: Int32, _ value: Float) {
        let i = Int(item)
        if !seen[i] {
            seen[i] = true
            touched.append(item)
        }
        values[i] += value
    }

    /// Multiplies every touched score by `factor(item)`.
    public mutating func reweight(_ factor: (Int32) -> Float) {
        for item in touched { values[Int(item)] *= factor(item) }
    }

    /// The largest touched score (0 when none).
    public var maximum: Float { touched.reduce(0) { max($0, values[Int($1)]) } }

    public mutating func reset() {
        for item in touched {
            values[Int(item)] = 0
            seen[Int(item)] = false
        }
        touched.removeAll(keepingCapacity: true)
    }

    /// The best `k` touched items with a positive score that `keep` admits, best first (ties: lower item id).
    /// - Complexity: O(touched · log k) (`TopK.select` over the touched items).
    public func top(_ k: Int, where keep: (Int32) -> Bool = { _ in true }) -> [(item: Int32, score: Float)] {
        values.withUnsafeBufferPointer { values in
            TopK.select(k, of: values, among: touched, where: { values[$0] > 0 && keep(Int32($0)) })
                .map { (Int32($0), values[$0]) }
        }
    }

    /// The 1-based rank of `item` among all items (touched by score, ties by lower id), or nil when it is
    /// not among the first `cutoff` (untouched items never are).
    public func rank(of item: Int32, cutoff: Int) -> Int? {
        let target = values[Int(item)]
        guard seen[Int(item)], target > 0 else { return nil }
        var rank = 1
        for other in touched {
            let v = values[Int(other)]
            if v > target || (v == target && other < item) {
                rank += 1
                if rank > cutoff { return nil }
            }
        }
        return rank
    }
}

/// A fitted next-item model: scores what comes next in a session.
public protocol NextItemModel: Sendable {
    var kind: NextItemModelKind { get }
    var itemCount: Int { get }
    /// Adds the model's scores for the next play after `query.items` to `scores` (which the caller resets).
    func score(_ query: SessionQuery, into scores: inout CandidateScores)
}

/// A next-item model's name in flags and JSON (`sknn`, `transitions`, …).
public struct NextItemModelKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// What fitting a next-item model reads: the training sessions and the catalog's size, plus the optional
/// personal top lists and item groups that the blend and the context re-ranking use.
public struct NextItemTrainingData: Sendable {
    public var sessions: ListeningSessions
    public var itemCount: Int
    public var userCount: Int
    /// Each listener's top items from a personal (user–item) model, best first, or nil.
    public var personal: PersonalTopLists?
    /// The artist of each item (−1: unknown), the groups of the context profile; nil: each item its own.
    public var itemArtist: [Int32]?

    public init(sessions: ListeningSessions, itemCount: Int, userCount: Int, personal: PersonalTopLists? = nil, itemArtist: [Int32]? = nil) {
        self.sessions = sessions
        self.itemCount = itemCount
        self.userCount = userCount
        self.personal = personal
        self.itemArtist = itemArtist
    }
}

/// Each listener's best items from a personal recommender (GCN, EASE, RP3β, …), computed once: a
/// user–item model answers "what does this listener like", the session models "what comes next".
///
/// Shapes: `lists[u]` at most `depth` items, best first; an empty list for listeners the model lacks.
public struct PersonalTopLists: Sendable {
    public let model: String
    public let depth: Int
    public let lists: [[Int32]]

    public init(model: String, depth: Int, lists: [[Int32]]) {
        self.model = model
        self.depth = depth
        self.lists = lists
    }

    public func list(for user: Int32?) -> [Int32] {
        guard let user, lists.indices.contains(Int(user)) else { return [] }
        return lists[Int(user)]
    }
}

/// A next-item model the registry can fit: its kind, a one-line summary, typed settings with defaults.
public protocol RegisteredNextItemModel: NextItemModel {
    associatedtype Settings: Codable & Sendable & Equatable
    static var modelKind: NextItemModelKind { get }
    static var summary: String { get }
    static var defaultSettings: Settings { get }
    static func fit(_ data: NextItemTrainingData, settings: Settings) throws -> Self
}

extension RegisteredNextItemModel {
    public var kind: NextItemModelKind { Self.modelKind }
}

/// Settings that do not decode for a next-item model.
public struct NextItemSettingsError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
