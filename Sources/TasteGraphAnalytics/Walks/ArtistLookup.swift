import TasteGraphCore

/// Why an artist name could not be resolved; lists the closest names.
public struct ArtistLookupError: Error, CustomStringConvertible, Sendable {
    public let query: String
    public let ambiguous: Bool
    public let suggestions: [String]

    public var description: String {
        let list = suggestions.map { "'\($0)'" }.joined(separator: ", ")
        if ambiguous { return "artist '\(query)' is ambiguous: it matches \(list); give the artist id instead" }
        return suggestions.isEmpty
            ? "no artist named '\(query)'"
            : "no artist named '\(query)'; closest matches: \(list)"
    }
}

/// Resolves `--artist NAME|ID` to an artist index.
public struct ArtistLookup: Sendable {
    let names: [String]
    let externalIDs: [String: Int]
    let byFoldedName: [String: [Int]]

    public init(catalog: Catalog) {
        names = catalog.artistNames
        var ids: [String: Int] = [:]
        for (index, id) in catalog.artistExternalIDs.enumerated() { ids[id] = index }
        externalIDs = ids
        var folded: [String: [Int]] = [:]
        for (index, name) in catalog.artistNames.enumerated() { folded[Self.fold(name), default: []].append(index) }
        byFoldedName = folded
    }

    /// Case- and accent-insensitive form of a name.
    static func fold(_ name: String) -> String {
        name.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).trimmingCharacters(in: .whitespaces)
    }

    /// An exact name (case- and accent-insensitive) or an external artist id.
    /// - Throws: `ArtistLookupError` with the closest names when nothing or several artists match.
    public func resolve(_ query: String) throws -> Int {
        let matches = byFoldedName[Self.fold(query)] ?? []
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 {
            if let exact = matches.filter({ names[$0] == query }).first, matches.filter({ names[$0] == query }).count == 1 {
                return exact
            }
            throw ArtistLookupError(query: query, ambiguous: true, suggestions: matches.map { names[$0] })
        }
        if let id = externalIDs[query] { return id }
        throw ArtistLookupError(query: query, ambiguous: false, suggestions: closest(to: query, count: 5))
    }

    /// The names nearest to `query` by edit distance on folded text (ties: shorter, then alphabetical).
    public func closest(to query: String, count: Int) -> [String] {
        let target = Array(Self.fold(query))
        var scored: [(Int, String)] = []
        for (folded, indices) in byFoldedName {
            let candidate = Array(folded)
            // Substring matches rank first, then the edit distance decides.
            let distance = folded.contains(String(target)) ? 0 : Self.editDistance(target, candidate)
            for index in indices { scored.append((distance, names[index])) }
        }
        scored.sort { ($0.0, $0.1.count, $0.1) < ($1.0, $1.1.count, $1.1) }
        return scored.prefix(count).map(\.1)
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

import Foundation
