/// RFC 3339 date-times (ISO 8601's internet profile) to and from Unix seconds, without Foundation's
/// formatters: the timestamped importers parse one per row, and Foundation's parser is ~50× slower.
public enum RFC3339 {
    /// The range every stored time must lie in: 1970-01-01T00:00:00Z up to, not including, 2100-01-01.
    public static let storedRange: Range<Int64> = 0..<4_102_444_800

    /// Unix seconds of `text`, or nil unless it is `YYYY-MM-DD(T|t| )hh:mm:ss(.fraction)?(Z|z|±hh:mm)` with
    /// fields in range. A leap second (`:60`) reads as `:59`; a fraction is dropped.
    public static func seconds(_ text: String) -> Int64? {
        var copy = text
        return copy.withUTF8 { seconds(UnsafeRawBufferPointer($0)) }
    }

    /// `seconds(_:)` over raw bytes (an importer's field, no `String` made).
    public static func seconds(_ b: UnsafeRawBufferPointer) -> Int64? {
        guard b.count >= 20, b.count <= 40 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for k in from..<(from + count) {
                guard k < b.count, b[k] >= 48, b[k] <= 57 else { return nil }
                value = value * 10 + Int(b[k] - 48)
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45, let day = digits(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32,
              let hour = digits(11, 2), b[13] == 58, let minute = digits(14, 2), b[16] == 58, let second = digits(17, 2),
              (1...12).contains(month), hour < 24, minute < 60, second < 61
        else { return nil }
        guard day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        var k = 19
        if k < b.count, b[k] == 46 {  // fraction: at least one digit
            k += 1
            let start = k
            while k < b.count, b[k] >= 48, b[k] <= 57 { k += 1 }
            guard k > start else { return nil }
        }
        guard k < b.count else { return nil }
        var offset = 0
        if b[k] == 90 || b[k] == 122 {
            k += 1
        } else if b[k] == 43 || b[k] == 45 {
            guard let oh = digits(k + 1, 2), k + 3 < b.count, b[k + 3] == 58, let om = digits(k + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * 60 * (b[k] == 43 ? 1 : -1)
            k += 6
        } else {
            return nil
        }
        guard k == b.count else { return nil }
        return Int64(daysSinceEpoch(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offset)
    }

    /// `YYYY-MM-DDThh:mm:ssZ` of Unix seconds `t` (UTC). The inverse of `seconds(_:)` on such strings.
    public static func string(_ t: Int64) -> String {
        let days = Int(t >= 0 ? t / 86_400 : (t - 86_399) / 86_400)
        let secondOfDay = Int(t - Int64(days) * 86_400)
        let (year, month, day) = civil(daysSinceEpoch: days)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let y = String(year)
        return "\(String(repeating: "0", count: max(0, 4 - y.count)))\(y)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))Z"
    }

    /// Hour of day (0–23, UTC) of Unix seconds `t`.
    public static func hour(_ t: Int64) -> Int { Int(((t % 86_400) + 86_400) % 86_400 / 3_600) }

    /// Weekday (0 = Monday … 6 = Sunday, UTC) of Unix seconds `t`; 1970-01-01 was a Thursday (3).
    public static func weekday(_ t: Int64) -> Int {
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        return Int(((days + 3) % 7 + 7) % 7)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's days_from_civil).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01 (the inverse of `daysSinceEpoch`).
    static func civil(daysSinceEpoch z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
