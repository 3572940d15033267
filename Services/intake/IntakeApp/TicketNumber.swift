import Foundation
import ITREvents
import ServiceKit

/// Ticket ids people can read and that sort by time: `T-<yyyyMMdd>-<6-digit sequence>` with the
/// UTC day of opening and a per-day counter kept in the same transaction as the ticket
/// (`T-20261123-000123`). Past 999999 tickets a day the sequence simply grows wider.
enum TicketNumber {
    static let prefix = "T-"

    /// The next id for a ticket opened at `date`.
    /// The upsert takes the day's row lock on PostgreSQL, so instances opening tickets at once
    /// get consecutive numbers, never one twice.
    static func next(_ db: some SQLTransaction, at date: Date) throws -> String {
        let day = utcDay(date)
        let row = try db.fetchOne(
            """
            INSERT INTO ticket_sequence (day, last) VALUES (?, 1)
            ON CONFLICT (day) DO UPDATE SET last = ticket_sequence.last + 1 RETURNING last
            """,
            [.text(day)])
        let sequence = try row?.int(0) ?? 1
        return format(day: day, sequence: sequence)
    }

    static func format(day: String, sequence: Int) -> String {
        let digits = String(sequence)
        return prefix + day + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// `yyyyMMdd` of the UTC day of `date` (civil-from-days, no Calendar on the hot path).
    static func utcDay(_ date: Date) -> String {
        let (year, month, day) = RFC3339.civilFromDays(Int((date.timeIntervalSince1970 / 86_400).rounded(.down)))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)\(two(month))\(two(day))"
    }
}
