import Foundation
import ITRConfig

/// One tier's hold of a ticket: from the hand-off to the tier until it hands on or resolves.
public struct OLAStint: Sendable, Hashable, Codable {
    public var tier: String
    public var clock: ClockStatus
    /// True while the tier still holds the ticket.
    public var isCurrent: Bool
}

/// OLA clocks per tier, computed from the ticket's history.
///
/// A stint starts at `assigned` or `escalated` (the hand-off), pauses with the SLA's pausing
/// reasons, and ends at the next hand-off or at resolution. A reopen starts a new stint for the
/// tier that resolved it, with a fresh budget.
public enum OLAClock {
    /// - Parameter budgets: OLA budget per tier for the ticket's priority.
    public static func compute(
        history: [TicketHistoryEntry], calendar: BusinessCalendar, budgets: [String: TimeInterval],
        pausingReasons: Set<PendingReason> = [.waitingCustomer], now: Date
    ) -> [OLAStint] {
        var stints: [(tier: String, segments: ClockSegments)] = []
        var lastTier: String?
        func handOff(to tier: String, at instant: Date) {
            if !stints.isEmpty { stints[stints.count - 1].segments.stop(at: instant) }
            var segments = ClockSegments()
            segments.start(at: instant)
            stints.append((tier, segments))
            lastTier = tier
        }
        for entry in history where entry.at <= now {
            switch entry.fact {
            case .assigned(let tier, _):
                handOff(to: tier, at: entry.at)
            case .escalated(_, let to, _, _):
                handOff(to: to, at: entry.at)
            case .paused(let reason):
                if pausingReasons.contains(reason), !stints.isEmpty { stints[stints.count - 1].segments.pause(at: entry.at) }
            case .resumed:
                if !stints.isEmpty { stints[stints.count - 1].segments.resume(at: entry.at) }
            case .resolved, .closed, .cancelled, .merged:
                if !stints.isEmpty { stints[stints.count - 1].segments.stop(at: entry.at) }
            case .reopened:
                if let tier = lastTier { handOff(to: tier, at: entry.at) }
            case .opened, .classified, .acknowledged, .noted:
                break
            }
        }
        return stints.enumerated().map { index, stint in
            let status = stint.segments.status(target: budgets[stint.tier] ?? 0, calendar: calendar, now: now)
            return OLAStint(tier: stint.tier, clock: status, isCurrent: index == stints.count - 1 && !status.isStopped)
        }
    }
}
