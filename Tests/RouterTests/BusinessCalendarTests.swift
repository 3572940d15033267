import Foundation
import Testing
import ITRConfig
@testable import RouterApp

@Suite struct BusinessCalendarTests {
    @Test func fridayEveningTicketIsDueMondayMorning() {
        // Friday 2026-03-06 19:30 Shanghai, 4 business hours → Monday 13:00.
        let opened = at(2026, 3, 6, 19, 30)
        #expect(chinaBusiness.date(adding: 4 * hour, to: opened) == at(2026, 3, 9, 13))
        #expect(chinaBusiness.businessTime(from: opened, to: at(2026, 3, 9, 10)) == hour)
        #expect(!chinaBusiness.isOpen(at: opened))
        #expect(chinaBusiness.isOpen(at: at(2026, 3, 9, 9)))
    }

    @Test func holidaysAreSkippedAndMakeUpDaysCount() {
        // Wednesday 2026-09-30 17:00 + 2h: 1h on Sep 30, Oct 1-7 closed (holiday + weekend),
        // Oct 8 (Thursday) 09:00 + 1h.
        #expect(chinaBusiness.date(adding: 2 * hour, to: at(2026, 9, 30, 17)) == at(2026, 10, 8, 10))
        // Saturday 2026-10-10 is a make-up working day (调休), Saturday 2026-10-17 is not.
        #expect(chinaBusiness.isOpen(at: at(2026, 10, 10, 10)))
        #expect(!chinaBusiness.isOpen(at: at(2026, 10, 17, 10)))
        #expect(chinaBusiness.businessTime(from: at(2026, 10, 9, 17), to: at(2026, 10, 12, 10)) == 11 * hour)
    }

    @Test func timeZonesAreRespected() {
        // 09:00 Shanghai is 02:00 Berlin (summer); a Berlin 08:00-17:00 calendar is closed then.
        let hours = [CalendarDefinition.Interval(start: 8 * 60, end: 17 * 60)]
        let germany = BusinessCalendar(CalendarDefinition(
            id: "de", timeZone: berlin, weeklyHours: [1: hours, 2: hours, 3: hours, 4: hours, 5: hours]))
        let instant = at(2026, 6, 10, 9)
        #expect(chinaBusiness.isOpen(at: instant))
        #expect(!germany.isOpen(at: instant))
        #expect(germany.date(adding: hour, to: instant) == at(2026, 6, 10, 9, 0, berlin))
    }

    @Test func daylightSavingTimeInBerlin() {
        // 2026-03-29: clocks go 02:00 → 03:00 in Europe/Berlin.
        let hours = [CalendarDefinition.Interval(start: 0, end: 24 * 60)]
        let allWeek = Dictionary(uniqueKeysWithValues: (1...7).map { ($0, hours) })
        let weekly = BusinessCalendar(CalendarDefinition(id: "de-all", timeZone: berlin, weeklyHours: allWeek))
        let dayStart = at(2026, 3, 29, 0, 0, berlin)
        let nextDay = at(2026, 3, 30, 0, 0, berlin)
        #expect(weekly.businessTime(from: dayStart, to: nextDay) == 23 * hour)
        let always = BusinessCalendar(CalendarDefinition(id: "de-24x7", timeZone: berlin, is24x7: true))
        #expect(always.businessTime(from: dayStart, to: nextDay) == 23 * hour)
        // Business hours stay 9 local hours on the DST day (a Monday in autumn: 2026-10-26 after the switch).
        let nine = [CalendarDefinition.Interval(start: 8 * 60, end: 17 * 60)]
        let office = BusinessCalendar(CalendarDefinition(id: "de", timeZone: berlin, weeklyHours: [1: nine, 7: nine]))
        // Sunday 2026-10-25 is the switch day (03:00 → 02:00).
        #expect(office.businessTime(from: at(2026, 10, 25, 0, 0, berlin), to: at(2026, 10, 26, 0, 0, berlin)) == 9 * hour)
        // 4h after Sunday 16:00 → 1h on Sunday, 3h on Monday → Monday 11:00 local.
        #expect(office.date(adding: 4 * hour, to: at(2026, 10, 25, 16, 0, berlin)) == at(2026, 10, 26, 11, 0, berlin))
    }

    @Test func additionAndElapsedAreInverse() {
        let start = at(2026, 3, 5, 15, 17)
        for duration in stride(from: 0.0, through: 40 * hour, by: 1_234) {
            let due = chinaBusiness.date(adding: duration, to: start)
            #expect(abs(chinaBusiness.businessTime(from: start, to: due) - duration) < 0.001)
        }
    }
}
