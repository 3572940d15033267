import Foundation
import ITRConfig
import Synchronization

/// Business-time arithmetic in one coverage calendar (time zone, weekly hours, holidays, 24x7).
///
/// Opening hours are local wall-clock times, converted per day in the calendar's time
/// zone, so a 09:00-18:00 day is nine hours on DST days too; a 24x7 calendar counts
/// absolute (wall-clock) time, so the 23-hour DST day counts 23 hours.
///
/// Each local day's bounds and open intervals are computed once with Foundation `Calendar` and
/// kept (as epoch seconds) in a per-calendar cache shared by the copies of this value, so the
/// hot paths (`businessTime`, `date(adding:to:)`) do plain arithmetic. The uncached
/// computations stay (`directBusinessTime`, `directDate`) as the reference the tests compare with.
public struct BusinessCalendar: Sendable {
    public let definition: CalendarDefinition
    private let calendar: Calendar
    private let days: DayCache
    /// Guard against calendars that are never open (validation forbids them): at most ~10 years scanned.
    private static let maximumDays = 3_660
    @usableFromInline static let utc = TimeZone(identifier: "UTC")!

    public init(_ definition: CalendarDefinition) {
        self.definition = definition
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = definition.timeZone
        self.calendar = calendar
        self.days = DayCache(offset: definition.timeZone.secondsFromGMT(for: Date()))
    }

    /// An always-open calendar (used for wall-clock rules and tests).
    public static func always(timeZone: TimeZone = utc) -> BusinessCalendar {
        BusinessCalendar(CalendarDefinition(id: "24x7", timeZone: timeZone, is24x7: true))
    }

    public var timeZone: TimeZone { definition.timeZone }

    /// Business time between two instants (0 when `end <= start`).
    public func businessTime(from start: Date, to end: Date) -> TimeInterval {
        guard end > start else { return 0 }
        if definition.is24x7 { return end.timeIntervalSince(start) }
        let from = start.timeIntervalSinceReferenceDate, until = end.timeIntervalSinceReferenceDate
        return days.withDays { days in
            var total: TimeInterval = 0
            var number = dayNumber(containing: from, &days)
            for _ in 0..<Self.maximumDays {
                let day = self.day(number, &days)
                guard day.start < until else { break }
                for (open, close) in day.intervals {
                    let a = max(open, from), b = min(close, until)
                    if b > a { total += b - a }
                }
                number += 1
            }
            return total
        }
    }

    /// The instant at which `duration` of business time has elapsed after `start`
    /// (`start` itself for a zero duration; `.distantFuture` if the calendar never opens).
    public func date(adding duration: TimeInterval, to start: Date) -> Date {
        guard duration > 0 else { return start }
        if definition.is24x7 { return start.addingTimeInterval(duration) }
        let from = start.timeIntervalSinceReferenceDate
        let result: Double? = days.withDays { days in
            var remaining = duration
            var number = dayNumber(containing: from, &days)
            for _ in 0..<Self.maximumDays {
                for (open, close) in self.day(number, &days).intervals where close > from {
                    let a = max(open, from)
                    let available = close - a
                    if remaining <= available { return a + remaining }
                    remaining -= available
                }
                number += 1
            }
            return nil
        }
        guard let result else { return .distantFuture }
        return Date(timeIntervalSinceReferenceDate: result)
    }

    /// `businessTime(from:to:)` computed day by day with Foundation `Calendar`, without the cache.
    func directBusinessTime(from start: Date, to end: Date) -> TimeInterval {
        guard end > start else { return 0 }
        if definition.is24x7 { return end.timeIntervalSince(start) }
        var total: TimeInterval = 0
        var dayStart = startOfDay(containing: start)
        for _ in 0..<Self.maximumDays {
            guard dayStart < end else { break }
            for (open, close) in openIntervals(dayStart: dayStart) {
                let from = max(open, start)
                let to = min(close, end)
                if to > from { total += to.timeIntervalSince(from) }
            }
            dayStart = nextDay(after: dayStart)
        }
        return total
    }

    /// `date(adding:to:)` computed day by day with Foundation `Calendar`, without the cache.
    func directDate(adding duration: TimeInterval, to start: Date) -> Date {
        guard duration > 0 else { return start }
        if definition.is24x7 { return start.addingTimeInterval(duration) }
        var remaining = duration
        var dayStart = startOfDay(containing: start)
        for _ in 0..<Self.maximumDays {
            for (open, close) in openIntervals(dayStart: dayStart) where close > start {
                let from = max(open, start)
                let available = close.timeIntervalSince(from)
                if remaining <= available { return from.addingTimeInterval(remaining) }
                remaining -= available
            }
            dayStart = nextDay(after: dayStart)
        }
        return .distantFuture
    }

    /// True when `instant` lies inside coverage hours.
    public func isOpen(at instant: Date) -> Bool {
        if definition.is24x7 { return true }
        let t = instant.timeIntervalSinceReferenceDate
        return days.withDays { days in
            day(dayNumber(containing: t, &days), &days).intervals.contains { $0.0 <= t && t < $0.1 }
        }
    }

    /// The open intervals (absolute instants) of a local day.
    public func openIntervals(on day: LocalDate) -> [(Date, Date)] {
        let components = DateComponents(year: day.year, month: day.month, day: day.day)
        guard let dayStart = calendar.date(from: components) else { return [] }
        return openIntervals(dayStart: calendar.startOfDay(for: dayStart))
    }

    // MARK: Day cache

    /// One local day: its bounds and open intervals as `timeIntervalSinceReferenceDate` (Date's
    /// own representation, so the arithmetic gives the same instants as `Date`'s).
    struct Day {
        var start: Double
        var next: Double
        var intervals: [(Double, Double)]
    }

    /// The days computed so far, by day number (days since 1970-01-01 in local time).
    final class DayCache: Sendable {
        /// The zone's offset when the calendar was made: the first guess of an instant's local day.
        let offset: Double
        private let days = Mutex<[Int: Day]>([:])
        /// Days touched over years of tickets stay few; a runaway scan empties the cache.
        static let capacity = 50_000

        init(offset: Int) { self.offset = Double(offset) }

        func withDays<R>(_ body: (inout [Int: Day]) -> R) -> R {
            days.withLock { days in
                if days.count > Self.capacity { days.removeAll(keepingCapacity: true) }
                return body(&days)
            }
        }
    }

    /// The day numbered `number`, computed with Foundation on first use.
    private func day(_ number: Int, _ days: inout [Int: Day]) -> Day {
        if let day = days[number] { return day }
        let date = LocalDate.fromDayNumber(number)
        let components = DateComponents(year: date.year, month: date.month, day: date.day)
        let dayStart = calendar.date(from: components).map { calendar.startOfDay(for: $0) }
            ?? Date(timeIntervalSince1970: Double(number) * 86_400 - self.days.offset)
        let day = Day(
            start: dayStart.timeIntervalSinceReferenceDate, next: nextDay(after: dayStart).timeIntervalSinceReferenceDate,
            intervals: openIntervals(dayStart: dayStart).map { ($0.0.timeIntervalSinceReferenceDate, $0.1.timeIntervalSinceReferenceDate) })
        days[number] = day
        return day
    }

    /// The number of the local day holding `instant`: guessed from the zone's usual offset,
    /// then moved by the cached days' bounds (a DST or zone change shifts it by at most a day).
    private func dayNumber(containing instant: Double, _ days: inout [Int: Day]) -> Int {
        let epoch = instant + Date.timeIntervalBetween1970AndReferenceDate
        var number = Int(((epoch + self.days.offset) / 86_400).rounded(.down))
        for _ in 0..<4 {
            let day = self.day(number, &days)
            if instant < day.start {
                number -= 1
            } else if instant >= day.next {
                number += 1
            } else {
                return number
            }
        }
        // Not reached for real zones; fall back to Foundation.
        let date = LocalDate(Date(timeIntervalSinceReferenceDate: instant), in: definition.timeZone)
        return date.dayNumber
    }

    // MARK: Private

    private func startOfDay(containing instant: Date) -> Date { calendar.startOfDay(for: instant) }

    private func nextDay(after dayStart: Date) -> Date {
        calendar.date(byAdding: .day, value: 1, to: dayStart).map { calendar.startOfDay(for: $0) }
            ?? dayStart.addingTimeInterval(86_400)
    }

    private func openIntervals(dayStart: Date) -> [(Date, Date)] {
        if definition.is24x7 { return [(dayStart, nextDay(after: dayStart))] }
        let day = LocalDate(dayStart, in: definition.timeZone)
        let intervals: [CalendarDefinition.Interval]
        if definition.holidays.contains(day) {
            intervals = []
        } else if definition.extraWorkingDays.contains(day) {
            intervals = definition.workingDayHours
        } else {
            let weekday = calendar.component(.weekday, from: dayStart)  // 1 = Sunday
            let iso = (weekday + 5) % 7 + 1  // 1 = Monday ... 7 = Sunday
            intervals = definition.weeklyHours[iso] ?? []
        }
        return intervals.compactMap { interval in
            guard let open = instant(dayStart: dayStart, day: day, minutes: interval.start),
                  let close = instant(dayStart: dayStart, day: day, minutes: interval.end),
                  close > open else { return nil }
            return (open, close)
        }
    }

    private func instant(dayStart: Date, day: LocalDate, minutes: Int) -> Date? {
        if minutes >= 24 * 60 { return nextDay(after: dayStart) }
        let components = DateComponents(
            year: day.year, month: day.month, day: day.day, hour: minutes / 60, minute: minutes % 60)
        return calendar.date(from: components)
    }
}
