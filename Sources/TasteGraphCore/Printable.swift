/// Renders untrusted text (input bytes, ids, file names) safely for a terminal.
///
/// Every message that quotes input goes through `escaped(_:)`, so a value such as `ESC]0;title BEL ESC[2J`
/// reaches the terminal as the visible text `\x1b]0;title\x07\x1b[2J` instead of retitling the window and
/// clearing the screen, and a NUL byte shows as `\0` instead of vanishing.
///
/// Escaped: the C0 controls U+0000–U+001F (`\0`, `\t`, `\n`, `\r`, else `\xHH`), DEL (`\x7f`), the C1
/// controls U+0080–U+009F (some terminals read U+009B as CSI) and the bidirectional-override and isolate
/// controls U+202A–U+202E, U+2066–U+2069 (they reorder what is shown), as `\u{HHHH}`. Everything else,
/// backslashes included, is kept, so escaping already escaped text changes nothing.
public enum Printable {
    /// `text` with every control character escaped.
    /// - Parameter keepingNewlines: keep `\n` as a line break (for multi-line messages whose lines
    ///   are each escaped); every other control character is still escaped.
    public static func escaped(_ text: String, keepingNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0) && !(keepingNewlines && $0 == "\n") }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if keepingNewlines && scalar == "\n" || !needsEscape(scalar) {
                out.append(scalar)
            } else {
                out.append(contentsOf: escape(scalar).unicodeScalars)
            }
        }
        return String(out)
    }

    /// Raw bytes as escaped text: valid UTF-8 is decoded (controls escaped as above), every byte that is not
    /// part of valid UTF-8 shows as `\xHH`. At most `limit` bytes are rendered; a longer input ends in `…`.
    public static func escaped(bytes: UnsafeRawBufferPointer, limit: Int = 40) -> String {
        let shown = UnsafeRawBufferPointer(rebasing: bytes.prefix(limit)).bindMemory(to: UInt8.self)
        var out = ""
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = shown.makeIterator()
        var offset = 0
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                out += needsEscape(scalar) ? escape(scalar) : String(scalar)
                offset += encoded.count
            case .error(let length):
                for i in offset..<(offset + length) { out += hex(shown[i]) }
                offset += length
            case .emptyInput:
                break loop
            }
        }
        return bytes.count > limit ? out + "…" : out
    }

    /// As `escaped(bytes:limit:)`, for a byte array.
    public static func escaped(bytes: [UInt8], limit: Int = 40) -> String {
        bytes.withUnsafeBytes { escaped(bytes: $0, limit: limit) }
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x00: return "\\0"
        case 0x09: return "\\t"
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x01...0x7F: return hex(UInt8(scalar.value))
        default: return "\\u{" + String(scalar.value, radix: 16) + "}"
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
    }
}
