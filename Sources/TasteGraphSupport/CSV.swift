/// RFC 4180 writing helpers shared by every CSV the tool writes.
public enum CSV {
    /// The field as written: quoted, with inner quotes doubled, when it holds a comma, quote or line break.
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
