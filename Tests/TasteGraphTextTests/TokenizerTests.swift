import Foundation
import Testing

@testable import TasteGraphText

/// The BERT rules on a small hand-made vocabulary, without the model files.
@Suite struct TokenizerTests {
    static let tokens = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "##s", "un", "##aff", "##able", ",", "!", "/", "'", "$",
        "ac", "dc", "guns", "n", "roses", "cafe", "坂", "本", "abc", "a", "b", "ab", "##c", "istanbul",
    ]
    static let vocabulary = try! Vocabulary(tokens: tokens)
    static func id(_ token: String) -> Int32 { Int32(tokens.firstIndex(of: token)!) }

    @Test(arguments: [
        ("Hello, World!", ["hello", ",", "world", "!"]),
        ("Café", ["cafe"]),  // lower-cased, NFD, the combining acute dropped
        ("AC/DC", ["ac", "/", "dc"]),
        ("Guns N' Roses", ["guns", "n", "'", "roses"]),
        ("Ke$ha", ["ke", "$", "ha"]),  // ASCII symbols count as punctuation
        ("坂本abc", ["坂", "本", "abc"]),  // CJK ideographs are words of their own
        ("방탄", ["방탄"]),  // Hangul is not CJK-split; NFD turns each syllable into its jamo
        ("\ta\u{00A0}b\n", ["a", "b"]),  // tab, no-break space and newline are whitespace
        ("a\u{200B}b\u{0007}c", ["abc"]),  // zero-width space (Cf) and BEL (Cc) are dropped
        ("İstanbul", ["istanbul"]),  // İ → I + combining dot (stripped) → i
        ("ΣΟΦΙΑ", ["σοφια"]),  // per-character lower-casing: no final-sigma rule
        ("", []), ("   ", []),
    ])
    func basicSplit(text: String, expected: [String]) {
        // Swift compares strings by canonical equivalence, so the NFD output equals precomposed expectations;
        // the scalar check below makes sure the output really is decomposed.
        let words = BasicTokenizer().split(text)
        #expect(words == expected, "\(text.debugDescription)")
        #expect(words.allSatisfy { $0.unicodeScalars.elementsEqual($0.decomposedStringWithCanonicalMapping.unicodeScalars) })
    }

    @Test func wordPieceTakesTheLongestPiecesAndFallsBackToUnknown() throws {
        let pieces = try WordPiece(vocabulary: Self.vocabulary)
        func cut(_ word: String) -> [Int32] {
            var ids: [Int32] = []
            pieces.append(word, to: &ids)
            return ids
        }
        #expect(cut("unaffable") == ["un", "##aff", "##able"].map(Self.id))
        #expect(cut("hellos") == ["hello", "##s"].map(Self.id))
        #expect(cut("abc") == [Self.id("abc")])  // the whole word first, not ab + ##c
        #expect(cut("abcs") == ["abc", "##s"].map(Self.id))
        #expect(cut("hellox") == [Self.id("[UNK]")])  // one piece missing: the whole word is [UNK]
        #expect(cut(String(repeating: "a", count: 101)) == [Self.id("[UNK]")])  // over 100 characters
    }

    @Test func encodeAddsSpecialTokensAndTruncates() throws {
        let tokenizer = try BertTokenizer(vocabulary: Self.vocabulary, maxLength: 5)
        let cls = Self.id("[CLS]"), sep = Self.id("[SEP]")
        #expect(tokenizer.encode("") == [cls, sep])
        #expect(tokenizer.encode("hello world") == [cls, Self.id("hello"), Self.id("world"), sep])
        // 4 pieces do not fit in 5 − 2 = 3: the last is cut, even inside a word.
        #expect(tokenizer.encode("hello unaffable") == [cls, Self.id("hello"), Self.id("un"), Self.id("##aff"), sep])
        #expect(tokenizer.encode("hellos, world!") == [cls, Self.id("hello"), Self.id("##s"), Self.id(","), sep])
    }

    /// Every limit keeps exactly min(limit, length) tokens, [CLS] first and [SEP] last, and a longer limit
    /// only adds pieces: the ids at a limit are a prefix (before [SEP]) of those at any larger one.
    @Test func everyLimitKeepsExactlyThatManyTokens() throws {
        let text = "hello unaffable world, hellos! guns n' roses ac/dc cafe"
        let whole = try BertTokenizer(vocabulary: Self.vocabulary, maxLength: 512).encode(text)
        #expect(whole.count == 19)
        for limit in [2, 3, 4, 8, 18, 19, 20, 128, 256] {
            let ids = try BertTokenizer(vocabulary: Self.vocabulary, maxLength: limit).encode(text)
            #expect(ids.count == min(limit, whole.count), "limit \(limit)")
            #expect(ids.first == Self.id("[CLS]") && ids.last == Self.id("[SEP]"))
            #expect(Array(ids.dropLast()) == Array(whole.prefix(ids.count - 1)), "limit \(limit)")
        }
        #expect(try BertTokenizer(vocabulary: Self.vocabulary).maxLength == 128)  // without a model folder's own limit
    }

    @Test func badVocabulariesAreClearErrors() {
        #expect(throws: TextModelError.badVocabulary("token 'a' appears twice (line 3)")) { try Vocabulary(tokens: ["[UNK]", "a", "a"]) }
        #expect(throws: TextModelError.badVocabulary("the vocabulary is empty")) { try Vocabulary(text: "") }
        #expect(throws: TextModelError.badVocabulary("the vocabulary has no [CLS] token")) {
            try BertTokenizer(vocabulary: try Vocabulary(tokens: ["[UNK]", "[SEP]"]))
        }
    }

    @Test func vocabularyFileLinesAreIDs() throws {
        let vocabulary = try Vocabulary(text: "[PAD]\r\n[UNK]\nhello\n")
        #expect(vocabulary.count == 3)
        #expect(vocabulary.id(of: "[UNK]") == 1)
        #expect(vocabulary.id(of: "hello") == 2)
    }
}
