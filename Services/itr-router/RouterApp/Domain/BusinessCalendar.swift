import Foundation
import ITRConfig

/// Business-time arithmetic in one coverage calendar (time zone, weekly hours, holidays, 24x7).
///
/// Opening hours are local wall-clock times, converted per day in the calendar's time
/// zone, so a 09:00-18:00 day is nine hours on DST days too; a 24x7 calendar counts
/// absolute (wall-clock) time, so the 23-hour DST day counts 23 hours.
public struct BusinessCalendar: Sendable {
    public let definition: CalendarDefinition
    private let calendar: Calendar
    /// Guard against calendars that are never open (validation forbids them): at most ~10 years scanned.
    private static let maximumDays = 3_660

    public init(_ definition: CalendarDefinition) {
        self.definition = definition
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = definition.timeZone
        self.calendar = calendar
    }

    /// An always-open calendar (used for wall-clock rules and tests).
    public static func always(timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> BusinessCalendar {
        BusinessCalendar(CalendarDefinition(id: "24x7", timeZone: timeZone, is24x7: true))
    }

    public var timeZone: TimeZone { definition.timeZone }

    /// Business time between two instants (0 when `end <= start`).
    public func businessTime(from start: Date, to end: Date) -> TimeInterval {
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

    /// The instant at which `duration` of business time has elapsed after `start`
    /// (`start` itself for a zero duration; `.distantFuture` if the calendar never opens).
    public func date(adding duration: TimeInterval, to start: Date) -> Date {
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
        return openIntervals(dayStart: startOfDay(containing: instant)).contains { $0.0 <= instant && instant < $0.1 }
    }

    /// The open intervals (absolute instants) of a local day.
    public func openIntervals(on day: LocalDate) -> [(Date, Date)] {
        let components = DateComponents(year: day.year, month: day.month, day: day.day)
        guard let dayStart = calendar.date(from: components) else { return [] }
        return openIntervals(dayStart: calendar.startOfDay(for: dayStart))
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
