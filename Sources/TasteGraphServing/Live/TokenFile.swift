import Foundation

/// The bearer token of write and admin routes, kept in a file (never on a command line, where `ps` shows
/// it): its first line, trimmed.
public enum TokenFile {
    /// The first line of `path`, trimmed.
    /// - Throws: `TokenFileError` when the file cannot be read or its token is shorter than `minimumLength`.
    public static func read(_ path: String, minimumLength: Int = 16) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TokenFileError(description: "cannot read the token file \(path)") }
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard token.count >= minimumLength else {
            throw TokenFileError(description: "the token in \(path) must be at least \(minimumLength) characters (got \(token.count))")
        }
        return token
    }
}

public struct TokenFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
