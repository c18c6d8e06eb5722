/// RFC 4180 writing helpers shared by every CSV the tool writes.
public enum CSV {
    /// The field as written: quoted, with inner quotes doubled, when it holds a comma, quote or line break.
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension CSV {
    /// Where a CSV record stands at the end of one physical line, for records that span lines.
    ///
    /// RFC 4180 allows line breaks inside a quoted field, so one record may cover several lines. Feed the
    /// lines of a record to `scan(_:)` in order: after each, `isInsideQuotes` says whether a quoted field is
    /// still open (the record continues on the next line). The rules are those of the field parser: a field
    /// is quoted when its first byte is `"`; inside it `""` is a literal quote and a lone `"` closes it; a
    /// quote inside an unquoted field is literal.
    public struct RecordScanner: Sendable {
        /// A quoted field is open at the end of the last line scanned.
        public private(set) var isInsideQuotes = false

        public init() {}

        /// Scans one physical line (without its terminator) of the current record.
        public mutating func scan(_ line: UnsafeRawBufferPointer) {
            let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
            var i = 0
            var atFieldStart = !isInsideQuotes
            let n = line.count
            while i < n {
                let byte = line[i]
                if isInsideQuotes {
                    if byte == quote {
                        if i + 1 < n && line[i + 1] == quote {
                            i += 2
                            continue
                        }
                        isInsideQuotes = false
                    }
                } else if atFieldStart && byte == quote {
                    isInsideQuotes = true
                    atFieldStart = false
                } else {
                    atFieldStart = byte == comma
                }
                i += 1
            }
        }
    }
}
