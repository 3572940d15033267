import Foundation
import GRDB
import ITREvents

extension ReportIntake {
    /// A monitoring alarm. Alarms of one site, device and alarm code fold into the ticket open
    /// for them while each comes within the storm window of the last one (`itr.ticket.correlated`
    /// with count, first and last seen); a clear alarm is recorded on that ticket and ends the
    /// storm, so the next raise opens a new ticket. A clear with no open ticket is recorded only.
    func applyAlarm(
        _ db: Database, report: ReportSubmitted, alarm: Alarm, event: CloudEvent, policy: IntakePolicy, now: Date
    ) throws -> IntakeOutcome {
        let site = report.product.site ?? ""
        let device = alarm.device ?? ""
        let seenAt = report.occurredAt.timeIntervalSince1970
        let storm = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT ticket_id, count, first_seen, last_seen, cleared FROM alarm_storm
                    WHERE site = ? AND device = ? AND code = ?
                    """),
            arguments: [site, device, alarm.code])
        let open = storm.flatMap { row -> (ticketId: String, count: Int, first: Double, last: Double)? in
            let cleared: Bool = row["cleared"]
            let last: Double = row["last_seen"]
            guard !cleared else { return nil }
            if alarm.state == .raised, seenAt - last > policy.configuration.stormWindow { return nil }
            return (row["ticket_id"], row["count"], row["first_seen"], last)
        }

        if alarm.state == .cleared {
            guard let open else {
                try record(db, event: event, ticketId: nil, outcome: "cleared", now: now)
                return .cleared(ticketId: nil)
            }
            let last = max(open.last, seenAt)
            try db.cachedStatement(
                sql: "UPDATE alarm_storm SET cleared = 1, last_seen = ? WHERE site = ? AND device = ? AND code = ?"
            ).execute(arguments: [last, site, device, alarm.code])
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
            try db.cachedStatement(
                sql: """
                    UPDATE alarm_storm SET count = ?, first_seen = ?, last_seen = ?
                    WHERE site = ? AND device = ? AND code = ?
                    """
            ).execute(arguments: [count, first, last, site, device, alarm.code])
            try announce(
                db, ticketId: open.ticketId, event: event, report: report, alarm: alarm, count: count, first: first,
                last: last, cleared: false, now: now)
            try record(db, event: event, ticketId: open.ticketId, outcome: "correlated", now: now)
            return .correlated(ticketId: open.ticketId, count: count)
        }

        let ticketId = try openTicket(db, report: report, event: event, policy: policy, now: now)
        try db.cachedStatement(
            sql: """
                INSERT INTO alarm_storm (site, device, code, ticket_id, count, first_seen, last_seen, cleared)
                VALUES (?, ?, ?, ?, 1, ?, ?, 0)
                ON CONFLICT (site, device, code) DO UPDATE SET
                    ticket_id = excluded.ticket_id, count = 1, first_seen = excluded.first_seen,
                    last_seen = excluded.last_seen, cleared = 0
                """
        ).execute(arguments: [site, device, alarm.code, ticketId, seenAt, seenAt])
        try record(db, event: event, ticketId: ticketId, outcome: "opened", now: now)
        return .opened(ticketId: ticketId)
    }

    /// `itr.ticket.correlated` for a folded or cleared alarm.
    private func announce(
        _ db: Database, ticketId: String, event: CloudEvent, report: ReportSubmitted, alarm: Alarm, count: Int,
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
