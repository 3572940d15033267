import Foundation
import GRDB

/// Ticket ids people can read and that sort by time: `T-<yyyyMMdd>-<6-digit sequence>` with the
/// UTC day of opening and a per-day counter kept in the same transaction as the ticket
/// (`T-20261123-000123`). Past 999999 tickets a day the sequence simply grows wider.
enum TicketNumber {
    static let prefix = "T-"

    /// The next id for a ticket opened at `date`.
    static func next(_ db: Database, at date: Date) throws -> String {
        let day = utcDay(date)
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO ticket_sequence (day, last) VALUES (?, 1)
                ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last
                """)
        let sequence = try Int.fetchOne(statement, arguments: [day]) ?? 1
        return format(day: day, sequence: sequence)
    }

    static func format(day: String, sequence: Int) -> String {
        let digits = String(sequence)
        return prefix + day + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// `yyyyMMdd` of the UTC day of `date` (civil-from-days, no Calendar on the hot path).
    static func utcDay(_ date: Date) -> String {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)\(two(month))\(two(day))"
    }
}
