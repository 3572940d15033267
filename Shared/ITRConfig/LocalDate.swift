import Foundation

/// A calendar day without time or zone (`2026-10-01`), as holidays and contract dates are written.
public struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`; rejects impossible dates such as `2026-02-30`.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1, day <= LocalDate.daysIn(month: month, year: year)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The day on which `instant` falls in `timeZone`.
    public init(_ instant: Date, in timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        self.init(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
    }

    /// Days since 1970-01-01 (proleptic Gregorian), negative before it.
    public var dayNumber: Int { RFC3339.daysFromCivil(year, month, day) }

    /// The day `number` days after 1970-01-01.
    public static func fromDayNumber(_ number: Int) -> LocalDate {
        let (year, month, day) = RFC3339.civilFromDays(number)
        return LocalDate(year: year, month: month, day: day)
    }

    /// The UTC day of an instant, by arithmetic (no Foundation `Calendar` per call).
    public init(utc instant: Date) {
        self = LocalDate.fromDayNumber(Int((instant.timeIntervalSince1970 / 86_400).rounded(.down)))
    }

    /// Whole days from `a` to `b` (negative when `b` is earlier).
    public static func days(from a: LocalDate, to b: LocalDate) -> Int {
        b.dayNumber - a.dayNumber
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public var description: String {
        let m = month < 10 ? "0\(month)" : "\(month)"
        let d = day < 10 ? "0\(day)" : "\(day)"
        return "\(year)-\(m)-\(d)"
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}
