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
