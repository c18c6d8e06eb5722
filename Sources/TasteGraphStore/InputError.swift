import TasteGraphSupport

/// A problem with input data: the file, the 1-based line (when the problem is on one line) and the reason.
///
/// Import failures that are the data's fault are `InputError`s; the CLI exits with status 3 for them.
/// `description` escapes control characters (`Printable.escaped`), since the file name and the reason
/// quote input; `reason` keeps the text as built.
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int?
    public let reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        if let line { return Printable.escaped("\(file):\(line): \(reason)") }
        return Printable.escaped("\(file): \(reason)")
    }
}

/// An import stopped because more rows were bad than `--max-errors` allows. Nothing was written.
public struct ImportAborted: Error, CustomStringConvertible, Sendable {
    /// The bad rows seen, in order; the last one is the row that exceeded the budget.
    public let errors: [InputError]
    public let maxErrors: Int

    public var description: String {
        let last = errors.last.map(\.description) ?? "unknown error"
        if maxErrors == 0 {
            return "\(last)\nimport rolled back; the store is unchanged (use --max-errors N to skip up to N bad rows)"
        }
        return "\(last)\nmore than \(maxErrors) bad rows (\(errors.count) seen); import rolled back, the store is unchanged"
    }
}

/// A request the store cannot carry out as asked (wrong dataset kind, missing file, locked store, …).
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { Printable.escaped(message, keepingNewlines: true) }
}
