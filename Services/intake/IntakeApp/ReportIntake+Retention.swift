import Foundation
import ServiceKit

extension ReportIntake {
    /// How long after a storm was cleared its `alarm_storm` row is kept, beyond the storm window.
    public static let clearedStormMargin: TimeInterval = 86_400

    /// Intake's prune steps for the host's ``RetentionService``, with the store's `retention`
    /// (`ITR_INBOX_RETENTION_DAYS`) and the storm window of the rules in force at each run.
    public func retentionSteps(retention: TimeInterval) -> [RetentionStep] {
        Self.retentionSteps(retention: retention, stormWindow: { [self] in policy.configuration.stormWindow })
    }

    /// - `intake_report`: idempotency records (`source` + `id` → ticket) received more than
    ///   `retention` before now. The same trade-off as the shared inbox: a report repeated after
    ///   that opens a new ticket instead of answering with the old one.
    /// - `alarm_storm`, conservatively (`last_seen` is the alarm's own time):
    ///   - a cleared storm is over (the next raise opens a new ticket whether or not its row is
    ///     there), so its row goes once `last_seen` is more than the storm window plus
    ///     ``clearedStormMargin`` (a day) ago; the margin absorbs late and out-of-order alarms
    ///     and device clocks that run behind;
    ///   - a storm never cleared stays while a late clear could still reach its ticket: its row
    ///     goes only once `last_seen` is older than `retention` (or the cleared rule's cut-off,
    ///     if later). A clear arriving after that is recorded without touching the ticket.
    public static func retentionSteps(
        retention: TimeInterval, stormWindow: @escaping @Sendable () -> TimeInterval
    ) -> [RetentionStep] {
        [
            RetentionStep(table: "intake_report") { db, now, limit in
                try db.execute(
                    """
                    DELETE FROM intake_report WHERE (source, id) IN (
                        SELECT source, id FROM intake_report WHERE received_at < ? LIMIT ?)
                    """,
                    [db.moment(now.addingTimeInterval(-retention)), .integer(Int64(limit))])
            },
            RetentionStep(table: "alarm_storm") { db, now, limit in
                let clearedAge = max(0, stormWindow()) + clearedStormMargin
                let openAge = max(retention, clearedAge)
                return try db.execute(
                    """
                    DELETE FROM alarm_storm WHERE (site, device, code) IN (
                        SELECT site, device, code FROM alarm_storm
                        WHERE (cleared = 1 AND last_seen < ?) OR last_seen < ?
                        LIMIT ?)
                    """,
                    [.real(now.timeIntervalSince1970 - clearedAge), .real(now.timeIntervalSince1970 - openAge), .integer(Int64(limit))])
            },
        ]
    }
}
