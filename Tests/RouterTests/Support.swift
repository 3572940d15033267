import Foundation
import ITRConfig
@testable import RouterApp

let shanghai = TimeZone(identifier: "Asia/Shanghai")!
let berlin = TimeZone(identifier: "Europe/Berlin")!

/// An instant from local wall-clock time in a zone.
func at(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0, _ zone: TimeZone = shanghai) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = zone
    return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
}

let nineToSix = [CalendarDefinition.Interval(start: 9 * 60, end: 18 * 60)]

/// 09:00-18:00 Mon-Fri Asia/Shanghai with National Day 2026 and the 2026-10-10 make-up day.
let chinaBusiness = BusinessCalendar(CalendarDefinition(
    id: "cn-business", timeZone: shanghai,
    weeklyHours: [1: nineToSix, 2: nineToSix, 3: nineToSix, 4: nineToSix, 5: nineToSix],
    holidays: Set((1...7).map { LocalDate(year: 2026, month: 10, day: $0) }),
    extraWorkingDays: [LocalDate(year: 2026, month: 10, day: 10)]))

let hour: TimeInterval = 3_600

let policy = TicketLifecycle.Policy(tiers: ["L1", "L2", "L3"], reopenWindow: 7 * 86_400, confirmationTimeout: 72 * hour)
