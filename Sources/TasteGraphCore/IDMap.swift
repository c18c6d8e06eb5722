/// External ids (the dataset's strings) ↔ dense indices, both ways in O(1).
///
/// Index `k` is the `k`-th id given to `init`, so `index(of: externalID(of: k)) == k` for every `k`, and
/// `externalID(of: index(of: id)!) == id` for every known id.
public struct IDMap<Index: DenseIndex>: Sendable {
    /// The external id of each index, in index order.
    public let externalIDs: [String]
    private let indices: [String: Int]

    /// - Complexity: O(n).
    /// - Throws: `IDMapError` naming the first id that appears twice: two rows cannot share an external id.
    public init(externalIDs: [String]) throws {
        var indices: [String: Int] = [:]
        indices.reserveCapacity(externalIDs.count)
        for (index, id) in externalIDs.enumerated() {
            if let first = indices[id] {
                throw IDMapError(reason: "external id '\(Printable.escaped(id))' appears twice (indices \(first) and \(index)); ids must be unique")
            }
            indices[id] = index
        }
        self.externalIDs = externalIDs
        self.indices = indices
    }

    public var count: Int { externalIDs.count }

    /// The dense index of an external id, or nil when the id is unknown.
    public func index(of externalID: String) -> Index? { indices[externalID].map(Index.init) }

    /// The external id of a dense index.
    /// - Precondition: `index.rawValue < count`.
    public func externalID(of index: Index) -> String { externalIDs[index.rawValue] }

    /// Every index, in order.
    public var allIndices: [Index] { (0..<count).map(Index.init) }
}

/// External ids that cannot form an `IDMap` (a duplicate), with the reason.
public struct IDMapError: Error, CustomStringConvertible, Sendable, Equatable {
    public let reason: String
    public var description: String { reason }
}
