import Foundation
import ITRConfig

/// The two customer-facing clocks of a ticket.
public struct SLAStatus: Sendable, Hashable, Codable {
    /// From opening until the first acknowledgement (or resolution); never paused.
    public var response: ClockStatus
    /// From opening until resolution; paused by pausing pending reasons; a reopen runs it again.
    public var resolution: ClockStatus
}

/// Computes SLA clocks from a ticket's history, so a rules change or a replay recomputes them deterministically.
public enum SLAClock {
    /// - Parameters:
    ///   - history: the ticket's facts in order.
    ///   - calendar: the contract's coverage calendar.
    ///   - targets: the package's targets for the ticket's current priority.
    ///   - pausingReasons: pending reasons that pause the resolution clock (`lifecycle.yaml`).
    ///   - now: the instant to compute at (facts after it are ignored).
    public static func compute(
        history: [TicketHistoryEntry], calendar: BusinessCalendar, targets: SLATargets,
        pausingReasons: Set<PendingReason> = [.waitingCustomer], now: Date
    ) -> SLAStatus {
        var response = ClockSegments()
        var resolution = ClockSegments()
        for entry in history where entry.at <= now {
            switch entry.fact {
            case .opened:
                response.start(at: entry.at)
                resolution.start(at: entry.at)
            case .acknowledged:
                response.stop(at: entry.at)
            case .paused(let reason):
                if pausingReasons.contains(reason) { resolution.pause(at: entry.at) }
            case .resumed:
                resolution.resume(at: entry.at)
            case .resolved:
                response.stop(at: entry.at)
                resolution.stop(at: entry.at)
            case .reopened:
                resolution.start(at: entry.at)
            case .closed, .cancelled, .merged:
                response.stop(at: entry.at)
                resolution.stop(at: entry.at)
            case .classified, .assigned, .noted, .escalated:
                break
            }
        }
        return SLAStatus(
            response: response.status(target: targets.response, calendar: calendar, now: now),
            resolution: resolution.status(target: targets.resolution, calendar: calendar, now: now))
    }
}
