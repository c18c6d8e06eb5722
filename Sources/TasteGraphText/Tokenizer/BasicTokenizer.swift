import Foundation

/// The first half of BERT's uncased tokenizer: cleans, normalizes and splits a text into words and
/// punctuation marks, before WordPiece cuts each word into vocabulary pieces.
///
/// The rules are those of the reference BERT tokenizer (and of the `tokenizers` library's
/// `BertNormalizer` + `BertPreTokenizer` that sentence-transformers runs), applied in this order:
/// ```
/// clean      drop U+0000, U+FFFD and control characters (general category C*, except \t \n \r);
///            every whitespace character becomes " "
/// CJK        put spaces around every CJK ideograph, so each is a word of its own
/// accents    NFD, then drop every non-spacing mark (general category Mn)
/// lower      full Unicode lower-casing
/// split      on whitespace; every punctuation character (ASCII punctuation or category P*) is a word
/// ```
public struct BasicTokenizer: Sendable {
    public init() {}

    /// The words and punctuation marks of `text`, normalized.
    public func split(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)) }
            current = String.UnicodeScalarView()
        }
        for scalar in normalized(text) {
            if Self.isWhitespace(scalar) {
                flush()
            } else if Self.isPunctuation(scalar) {
                flush()
                words.append(String(scalar))
            } else {
                current.append(scalar)
            }
        }
        flush()
        return words
    }

    /// The cleaned, CJK-spaced, accent-stripped, lower-cased scalars of `text` (steps 1–4 above).
    func normalized(_ text: String) -> String.UnicodeScalarView {
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
            if Self.isWhitespace(scalar) {
                cleaned.append(" ")
            } else if Self.isCJK(scalar) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        // NFD, then drop the combining marks it separated out; then lower-case.
        let decomposed = String(cleaned).decomposedStringWithCanonicalMapping
        var stripped = String.UnicodeScalarView()
        for scalar in decomposed.unicodeScalars where scalar.properties.generalCategory != .nonspacingMark {
            stripped.append(scalar)
        }
        var lowered = String.UnicodeScalarView()
        for scalar in stripped {
            if scalar.isASCII {
                lowered.append((65...90).contains(scalar.value) ? Unicode.Scalar(UInt8(scalar.value + 32)) : scalar)
            } else {
                lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return lowered
    }

    /// Whitespace as BERT counts it: \t, \n, \r and every character with the White_Space property.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar.properties.isWhitespace
    }

    /// Control characters: general category C* (Cc, Cf, Cs, Co, Cn), except \t, \n and \r.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// ASCII punctuation (every non-alphanumeric printable ASCII character, so `$`, `+`, `^` count too)
    /// and every character of a Unicode punctuation category P*.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana, which BERT leaves in words).
    static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
            0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
