import TasteGraphCore

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
