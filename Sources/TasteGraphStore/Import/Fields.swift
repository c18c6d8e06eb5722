#if canImport(Glibc)
import Glibc
#endif
import TasteGraphCore

/// Byte-level field parsing for the importers. Lines arrive as raw bytes (see `LineReader`); these
/// helpers split them and decode fields without going through `String` for numbers.
enum Fields {
    /// Splits `line` on a one-byte separator. Returns byte ranges into the line.
    static func split(_ line: UnsafeRawBufferPointer, separator: UInt8) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(6)
        var start = 0
        for i in 0..<line.count where line[i] == separator {
            ranges.append(start..<i)
            start = i + 1
        }
        ranges.append(start..<line.count)
        return ranges
    }

    /// Splits `line` on a one-byte separator into a reused array (no allocation once it has grown).
    static func split(_ line: UnsafeRawBufferPointer, separator: UInt8, into ranges: inout [Range<Int>]) {
        ranges.removeAll(keepingCapacity: true)
        guard let base = line.baseAddress else {
            ranges.append(0..<0)
            return
        }
        var start = 0
        while start <= line.count {
            if let found = memchr(base + start, Int32(separator), line.count - start) {
                let index = base.distance(to: UnsafeRawPointer(found))
                ranges.append(start..<index)
                start = index + 1
            } else {
                ranges.append(start..<line.count)
                break
            }
        }
    }

    /// Splits `line` on a multi-byte separator such as MSD's `<SEP>`.
    static func split(_ line: UnsafeRawBufferPointer, separator: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        var i = 0
        let n = separator.count
        while i + n <= line.count {
            var match = true
            for j in 0..<n where line[i + j] != separator[j] {
                match = false
                break
            }
            if match {
                ranges.append(start..<i)
                i += n
                start = i
            } else {
                i += 1
            }
        }
        ranges.append(start..<line.count)
        return ranges
    }

    /// Parses one line of RFC 4180 CSV: fields separated by commas, optionally double-quoted, with `""`
    /// for a quote inside a quoted field. Returns the unquoted field bytes.
    /// - Throws: a reason string when a quote is unterminated or stray text follows a closing quote.
    static func splitCSV(_ line: UnsafeRawBufferPointer) throws -> [[UInt8]] {
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var i = 0
        let n = line.count
        while true {
            field.removeAll(keepingCapacity: true)
            if i < n && line[i] == UInt8(ascii: "\"") {
                i += 1
                var closed = false
                while i < n {
                    let byte = line[i]
                    if byte == UInt8(ascii: "\"") {
                        if i + 1 < n && line[i + 1] == UInt8(ascii: "\"") {
                            field.append(byte)
                            i += 2
                            continue
                        }
                        closed = true
                        i += 1
                        break
                    }
                    field.append(byte)
                    i += 1
                }
                guard closed else { throw FieldError("unterminated quoted field") }
                if i < n && line[i] != UInt8(ascii: ",") {
                    throw FieldError("unexpected text after a closing quote in field \(fields.count + 1)")
                }
            } else {
                while i < n && line[i] != UInt8(ascii: ",") {
                    field.append(line[i])
                    i += 1
                }
            }
            fields.append(field)
            if i >= n { break }
            i += 1  // skip the comma
            if i == n {  // trailing comma: one more empty field
                fields.append([])
                break
            }
        }
        return fields
    }

    /// Parses a non-negative decimal integer field.
    /// - Throws: a reason naming the field and the offending text.
    static func count(_ bytes: UnsafeRawBufferPointer, name: String) throws -> Int64 {
        guard !bytes.isEmpty else { throw FieldError("\(name) is empty") }
        var value: Int64 = 0
        var start = 0
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative || bytes[0] == UInt8(ascii: "+") { start = 1 }
        guard start < bytes.count else { throw FieldError("\(name) '\(printable(bytes))' is not an integer") }
        for i in start..<bytes.count {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { throw FieldError("\(name) '\(printable(bytes))' is not an integer") }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(digit))
            guard !o1 && !o2 else { throw FieldError("\(name) '\(printable(bytes))' is too large") }
            value = next
        }
        if negative && value != 0 { throw FieldError("\(name) -\(value) is negative") }
        return value
    }

    /// Parses a play count: a non-negative integer of at most `GraphStore.maximumPlayCount`.
    /// - Throws: a reason naming the offending text.
    static func playCount(_ bytes: UnsafeRawBufferPointer) throws -> Int64 {
        let value: Int64
        do {
            value = try count(bytes, name: "play count")
        } catch let error as FieldError where error.reason.hasSuffix("is too large") {
            throw FieldError("play count '\(printable(bytes))' is too large: at most \(GraphStore.maximumPlayCountText) plays per row")
        }
        guard value <= GraphStore.maximumPlayCount else {
            throw FieldError("play count \(value) is too large: at most \(GraphStore.maximumPlayCountText) plays per row")
        }
        return value
    }

    /// Decodes a field as strict UTF-8 text without control characters.
    /// - Parameter allowingTabsAndNewlines: accept TAB and LF (a quoted CSV field may hold them, RFC 4180).
    static func utf8(_ bytes: UnsafeRawBufferPointer, name: String, allowingTabsAndNewlines: Bool = false) throws -> String {
        let typed = bytes.bindMemory(to: UInt8.self)
        guard let text = String(validating: typed, as: UTF8.self) else {
            let offset = firstInvalidUTF8Offset(typed)
            throw FieldError("\(name) is not valid UTF-8 (byte 0x\(String(typed[offset], radix: 16)) at offset \(offset))")
        }
        try rejectControlCharacters(typed, name: name, allowingTabsAndNewlines: allowingTabsAndNewlines)
        return text
    }

    static func utf8(_ bytes: [UInt8], name: String, allowingTabsAndNewlines: Bool = false) throws -> String {
        try bytes.withUnsafeBytes { raw in try utf8(raw, name: name, allowingTabsAndNewlines: allowingTabsAndNewlines) }
    }

    /// Decodes a field as ISO-8859-1 (every byte is a code point), rejecting control characters.
    static func latin1(_ bytes: UnsafeRawBufferPointer, name: String) throws -> String {
        let typed = bytes.bindMemory(to: UInt8.self)
        try rejectControlCharacters(typed, name: name)
        var scalars = String.UnicodeScalarView()
        for byte in typed { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }

    private static func rejectControlCharacters(_ bytes: UnsafeBufferPointer<UInt8>, name: String, allowingTabsAndNewlines: Bool = false) throws {
        for (offset, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x7F {
            if allowingTabsAndNewlines && (byte == 0x09 || byte == 0x0A) { continue }
            throw FieldError("\(name) contains control byte 0x\(String(byte, radix: 16)) at offset \(offset)")
        }
    }

    private static func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .error: return offset
            case .emptyInput: return max(0, bytes.count - 1)
            }
        }
    }

    /// A short rendering of raw bytes for error messages, control bytes and invalid UTF-8 escaped.
    static func printable(_ bytes: UnsafeRawBufferPointer) -> String {
        Printable.escaped(bytes: bytes, limit: 40)
    }
}

/// Why one field could not be read; the importer adds file and line.
struct FieldError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
