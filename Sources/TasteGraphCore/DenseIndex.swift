/// A dense position in a matrix or array: user `u` is row `u`, item `i` is row `i`, and so on.
///
/// `UserIndex`, `ItemIndex` and `ArtistIndex` are distinct types over the same `Int`, so a user's row cannot
/// be passed where an item's is expected. They are the store's dense ids (`Catalog` indexes its arrays by
/// them); external ids (the dataset's strings) map to them through `IDMap`.
public protocol DenseIndex: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    var rawValue: Int { get }
    init(_ rawValue: Int)
}

extension DenseIndex {
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Encoded as the bare integer, so JSON carries `7`, not `{"rawValue": 7}`.
    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(Int.self)
        guard value >= 0 else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "a dense index is never negative, found \(value)"))
        }
        self.init(value)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { String(rawValue) }
}

/// A user's dense position (row `u` of U).
public struct UserIndex: DenseIndex {
    public let rawValue: Int
    /// - Precondition: `rawValue >= 0`.
    public init(_ rawValue: Int) {
        precondition(rawValue >= 0, "a dense index is never negative")
        self.rawValue = rawValue
    }
}

/// An item's dense position (row `i` of I): a song, or an artist where listens are counted per artist.
public struct ItemIndex: DenseIndex {
    public let rawValue: Int
    /// - Precondition: `rawValue >= 0`.
    public init(_ rawValue: Int) {
        precondition(rawValue >= 0, "a dense index is never negative")
        self.rawValue = rawValue
    }
}

/// An artist's dense position in `Catalog.artistExternalIDs`.
public struct ArtistIndex: DenseIndex {
    public let rawValue: Int
    /// - Precondition: `rawValue >= 0`.
    public init(_ rawValue: Int) {
        precondition(rawValue >= 0, "a dense index is never negative")
        self.rawValue = rawValue
    }
}
