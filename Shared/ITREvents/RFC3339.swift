import Foundation

/// Fast RFC 3339 timestamps without `DateFormatter` (which is slow and locale-sensitive).
///
/// Parsing accepts `T`/`t`/space as separator, `Z`/`z` or `±hh:mm` offsets and any number of
/// fractional digits (kept to the nanosecond before conversion to `Date`). Formatting writes UTC
/// with `Z`, and fractional seconds when there are any (milliseconds, or microseconds when
/// the value has sub-millisecond precision): `2025-03-01T08:30:00Z`, `2025-03-01T08:30:00.120Z`.
public enum RFC3339 {
    /// Parses an RFC 3339 timestamp; `nil` when malformed or out of range.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> Date? {
        // yyyy-mm-ddThh:mm:ss
        guard b.count >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for i in start..<(start + count) {
                let c = b[i]
                guard c >= 0x30, c <= 0x39 else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D,
            let day = digits(8, 2), b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20,
            let hour = digits(11, 2), b[13] == 0x3A, let minute = digits(14, 2), b[16] == 0x3A,
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year, month), hour <= 23, minute <= 59,
            second <= 60
        else { return nil }
        var i = 19
        var nanos = 0
        if b[i] == 0x2E {  // fraction
            i += 1
            var scale = 100_000_000
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                nanos += Int(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        switch b[i] {
        case 0x5A, 0x7A:  // Z z
            i += 1
        case 0x2B, 0x2D:  // + -
            guard b.count - i == 6, let oh = digits(i + 1, 2), b[i + 3] == 0x3A, let om = digits(i + 4, 2),
                oh <= 23, om <= 59
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 0x2D ? -1 : 1)
            i += 6
        default:
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9)
    }

    /// The instants RFC 3339 can write: years 0000 to 9999, in seconds since 1970.
    public static let representable: ClosedRange<TimeInterval> = -62_167_219_200...253_402_300_799

    /// Formats in UTC with `Z`; fractional seconds only when non-zero. An instant outside
    /// ``representable`` is written as the nearest end of it (never a trap: the codecs refuse
    /// such instants on read, so only a date made in code can get here).
    public static func format(_ date: Date) -> String {
        let raw = date.timeIntervalSince1970
        let t = raw.isNaN ? 0 : min(max(raw, representable.lowerBound), representable.upperBound)
        var whole = t.rounded(.down)
        var micros = Int(((t - whole) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            whole += 1
            micros -= 1_000_000
        }
        let secs = Int(whole)
        var days = secs / 86_400
        var rem = secs % 86_400
        if rem < 0 {
            rem += 86_400
            days -= 1
        }
        let (y, m, d) = civilFromDays(days)
        var out = [UInt8]()
        out.reserveCapacity(27)
        func put(_ v: Int, _ width: Int) {
            var digits = [UInt8](repeating: 0x30, count: width)
            var v = v
            for k in stride(from: width - 1, through: 0, by: -1) {
                digits[k] = UInt8(0x30 + v % 10)
                v /= 10
            }
            out.append(contentsOf: digits)
        }
        put(y, 4); out.append(0x2D); put(m, 2); out.append(0x2D); put(d, 2); out.append(0x54)
        put(rem / 3600, 2); out.append(0x3A); put(rem % 3600 / 60, 2); out.append(0x3A); put(rem % 60, 2)
        if micros != 0 {
            out.append(0x2E)
            if micros % 1000 == 0 { put(micros / 1000, 3) } else { put(micros, 6) }
        }
        out.append(0x5A)
        return String(decoding: out, as: UTF8.self)
    }

    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar, negative before it (Howard
    /// Hinnant's days_from_civil): integer arithmetic, no Foundation `Calendar`. The one
    /// implementation every module uses (RFC 3339 here, `LocalDate` in ITRConfig).
    public static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// (year, month, day) of the day `z0` days after 1970-01-01 (Hinnant's civil_from_days).
    public static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
