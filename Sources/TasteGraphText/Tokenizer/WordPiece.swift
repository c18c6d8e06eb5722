/// A WordPiece vocabulary: one token per line of `vocab.txt`, its id the line number (from 0).
public struct Vocabulary: Sendable {
    public let tokens: [String]
    let ids: [String: Int32]

    /// - Throws: `TextModelError.badVocabulary` for an empty list or a repeated token.
    public init(tokens: [String]) throws {
        guard !tokens.isEmpty else { throw TextModelError.badVocabulary("the vocabulary is empty") }
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            guard ids.updateValue(Int32(id), forKey: token) == nil else {
                throw TextModelError.badVocabulary("token '\(token)' appears twice (line \(id + 1))")
            }
        }
        self.tokens = tokens
        self.ids = ids
    }

    /// Parses the text of a `vocab.txt` (LF or CRLF line ends; a final newline is optional).
    public init(text: String) throws {
        // Split on the byte \n (not on Characters: Swift reads "\r\n" as one Character), then drop a \r.
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        try self.init(tokens: lines)
    }

    public var count: Int { tokens.count }

    /// The id of `token`, or nil when the vocabulary lacks it.
    public func id(of token: String) -> Int32? { ids[token] }

    /// The id of a token the model cannot work without ([CLS], [SEP], [UNK]).
    func requiredID(of token: String) throws -> Int32 {
        guard let id = ids[token] else { throw TextModelError.badVocabulary("the vocabulary has no \(token) token") }
        return id
    }
}

/// WordPiece: cuts one word into the longest vocabulary pieces, left to right.
///
/// ```
/// start = 0
/// while start < len(word):
///     end = the largest end > start with piece(start, end) in the vocabulary,
///           where piece = word[start..<end], prefixed with "##" when start > 0
///     if there is none: the whole word is [UNK]
///     emit piece; start = end
/// ```
/// A word longer than `maxCharacters` (100) Unicode scalars is [UNK] without trying.
public struct WordPiece: Sendable {
    public let vocabulary: Vocabulary
    public let unknownID: Int32
    public let maxCharacters: Int

    public init(vocabulary: Vocabulary, unknownToken: String = "[UNK]", maxCharacters: Int = 100) throws {
        self.vocabulary = vocabulary
        self.unknownID = try vocabulary.requiredID(of: unknownToken)
        self.maxCharacters = maxCharacters
    }

    /// Appends the ids of `word`'s pieces to `ids`.
    public func append(_ word: String, to ids: inout [Int32]) {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= maxCharacters else { return ids.append(unknownID) }
        if let whole = vocabulary.id(of: word) { return ids.append(whole) }
        var pieces: [Int32] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int32?
            while start < end {
                var piece = start > 0 ? "##" : ""
                piece.unicodeScalars.append(contentsOf: scalars[start..<end])
                if let id = vocabulary.id(of: piece) {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else { return ids.append(unknownID) }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }
}
