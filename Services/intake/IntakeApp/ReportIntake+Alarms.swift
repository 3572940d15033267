import Foundation
import ITREvents
import ServiceKit

extension ReportIntake {
    /// A monitoring alarm. Alarms of one site, device and alarm code fold into the ticket open
    /// for them while each comes within the storm window of the last one (`itr.ticket.correlated`
    /// with count, first and last seen); a clear alarm is recorded on that ticket and ends the
    /// storm, so the next raise opens a new ticket. A clear with no open ticket is recorded only.
    func applyAlarm(
        _ db: some SQLTransaction, report: ReportSubmitted, alarm: Alarm, event: CloudEvent, policy: IntakePolicy, now: Date
    ) throws -> IntakeOutcome {
        let site = report.product.site ?? ""
        let device = alarm.device ?? ""
        let seenAt = report.occurredAt.timeIntervalSince1970
        let key: [SQLValue] = [.text(site), .text(device), .text(alarm.code)]
        try Self.lock(db, "storm", site, device, alarm.code)
        let storm = try db.fetchOne(
            "SELECT ticket_id, count, first_seen, last_seen, cleared FROM alarm_storm WHERE site = ? AND device = ? AND code = ?",
            key)
        var open: (ticketId: String, count: Int, first: Double, last: Double)?
        if let row = storm, try row.int(4) == 0 {
            let last = try row.double(3)
            if !(alarm.state == .raised && seenAt - last > policy.configuration.stormWindow) {
                open = (try row.string(0), try row.int(1), try row.double(2), last)
            }
        }

        if alarm.state == .cleared {
            guard let open else {
                try record(db, event: event, ticketId: nil, outcome: "cleared", now: now)
                return .cleared(ticketId: nil)
            }
            let last = max(open.last, seenAt)
            try db.execute("UPDATE alarm_storm SET cleared = 1, last_seen = ? WHERE site = ? AND device = ? AND code = ?", [.real(last)] + key)
            try announce(
                db, ticketId: open.ticketId, event: event, report: report, alarm: alarm, count: open.count,
                first: open.first, last: last, cleared: true, now: now)
            try record(db, event: event, ticketId: open.ticketId, outcome: "cleared", now: now)
            return .cleared(ticketId: open.ticketId)
        }

        if let open {
            let count = open.count + 1
            let first = min(open.first, seenAt)
            let last = max(open.last, seenAt)
            try db.execute(
                "UPDATE alarm_storm SET count = ?, first_seen = ?, last_seen = ? WHERE site = ? AND device = ? AND code = ?",
                [.integer(Int64(count)), .real(first), .real(last)] + key)
            try announce(
                db, ticketId: open.ticketId, event: event, report: report, alarm: alarm, count: count, first: first,
                last: last, cleared: false, now: now)
            try record(db, event: event, ticketId: open.ticketId, outcome: "correlated", now: now)
            return .correlated(ticketId: open.ticketId, count: count)
        }

        let ticketId = try openTicket(db, report: report, event: event, policy: policy, now: now)
        try db.execute(
            """
            INSERT INTO alarm_storm (site, device, code, ticket_id, count, first_seen, last_seen, cleared)
            VALUES (?, ?, ?, ?, 1, ?, ?, 0)
            ON CONFLICT (site, device, code) DO UPDATE SET
                ticket_id = excluded.ticket_id, count = 1, first_seen = excluded.first_seen,
                last_seen = excluded.last_seen, cleared = 0
            """,
            key + [.text(ticketId), .real(seenAt), .real(seenAt)])
        try record(db, event: event, ticketId: ticketId, outcome: "opened", now: now)
        return .opened(ticketId: ticketId)
    }

    /// `itr.ticket.correlated` for a folded or cleared alarm.
    private func announce(
        _ db: some SQLTransaction, ticketId: String, event: CloudEvent, report: ReportSubmitted, alarm: Alarm, count: Int,
        first: Double, last: Double, cleared: Bool, now: Date
    ) throws {
        let payload = TicketCorrelated(
            ticketId: ticketId, reportId: event.id, upstreamId: report.upstreamId, alarmCode: alarm.code,
            device: alarm.device, count: count, firstSeenAt: Date(timeIntervalSince1970: first),
            lastSeenAt: Date(timeIntervalSince1970: last), cleared: cleared)
        try publish(
            db,
            CloudEvent.caused(by: event, source: Self.eventSource, payload: payload, subject: ticketId, time: now, correlationID: ticketId))
        logger.debug(
            cleared ? "alarm cleared" : "alarm folded into open ticket",
            metadata: ["ticket_id": "\(ticketId)", "event_id": "\(event.id)", "count": "\(count)"])
    }
}
