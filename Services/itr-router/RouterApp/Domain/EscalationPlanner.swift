import Foundation
import ITRConfig

/// A moment at which something is due for a ticket.
public struct PlannedMoment: Sendable, Hashable, Codable {
    public enum Kind: Sendable, Hashable, Codable {
        /// The response target is reached without acknowledgement.
        case responseBreach
        /// The SLA warning share of the resolution target (e.g. 75 %) is reached.
        case slaWarning(share: Double)
        /// The resolution target is reached.
        case slaBreach
        /// A hierarchical escalation step: notify these roles.
        case hierarchical(stepId: String, share: Double, notify: [String])
        /// The current tier's OLA runs out; `escalateTo` is the next tier of the functional chain (nil at its end).
        case olaBreach(tier: String, escalateTo: String?)
        /// A resolved ticket closes itself when the customer has not confirmed it.
        case autoClose

        var order: Int {
            switch self {
            case .responseBreach: 0
            case .olaBreach: 1
            case .hierarchical: 2
            case .slaWarning: 3
            case .slaBreach: 4
            case .autoClose: 5
            }
        }
    }

    public var at: Date
    public var kind: Kind

    public init(at: Date, kind: Kind) {
        self.at = at
        self.kind = kind
    }
}

/// Plans the upcoming due moments of a ticket from its clocks. Pure; recompute after every
/// ticket change. The IO layer stores the result in an indexed table and wakes only for what is due.
public struct EscalationPlanner: Sendable {
    public var slaWarningAt: Double
    public var hierarchicalSteps: [HierarchicalStep]
    public var functionalChain: [String]

    public init(slaWarningAt: Double, hierarchicalSteps: [HierarchicalStep], functionalChain: [String]) {
        self.slaWarningAt = slaWarningAt
        self.hierarchicalSteps = hierarchicalSteps
        self.functionalChain = functionalChain
    }

    public init(_ assignment: AssignmentSection) {
        self.init(
            slaWarningAt: assignment.slaWarningAt, hierarchicalSteps: assignment.hierarchicalSteps,
            functionalChain: assignment.functionalChain)
    }

    /// Moments after `now` (by more than `ClockStatus.tolerance`), sorted by instant (ties in a
    /// fixed kind order).
    /// Paused and stopped clocks plan nothing; their moments come back when they run again.
    public func plan(
        sla: SLAStatus, ola: OLAStint?, calendar: BusinessCalendar, autoCloseAt: Date? = nil, now: Date
    ) -> [PlannedMoment] {
        var moments: [PlannedMoment] = []
        func at(share: Double, of clock: ClockStatus) -> Date? {
            guard clock.isRunning, clock.target > 0 else { return nil }
            let point = share * clock.target
            guard point > clock.elapsed else { return nil }
            return calendar.date(adding: point - clock.elapsed, to: now)
        }
        if let instant = at(share: 1, of: sla.response) {
            moments.append(PlannedMoment(at: instant, kind: .responseBreach))
        }
        if let instant = at(share: slaWarningAt, of: sla.resolution) {
            moments.append(PlannedMoment(at: instant, kind: .slaWarning(share: slaWarningAt)))
        }
        if let instant = at(share: 1, of: sla.resolution) {
            moments.append(PlannedMoment(at: instant, kind: .slaBreach))
        }
        for step in hierarchicalSteps {
            if let instant = at(share: step.at, of: sla.resolution) {
                moments.append(PlannedMoment(
                    at: instant, kind: .hierarchical(stepId: step.id, share: step.at, notify: step.notify)))
            }
        }
        if let ola, ola.isCurrent, let instant = at(share: 1, of: ola.clock) {
            moments.append(PlannedMoment(at: instant, kind: .olaBreach(tier: ola.tier, escalateTo: nextTier(after: ola.tier))))
        }
        if let autoCloseAt, autoCloseAt > now {
            moments.append(PlannedMoment(at: autoCloseAt, kind: .autoClose))
        }
        // Strictly after `now` by more than the clocks' tolerance: a moment that falls on `now`
        // (summed business time is not exact) is due already, not planned again.
        return moments.filter { $0.at > now.addingTimeInterval(ClockStatus.tolerance) }
            .sorted { ($0.at, $0.kind.order) < ($1.at, $1.kind.order) }
    }

    public func nextTier(after tier: String) -> String? {
        guard let index = functionalChain.firstIndex(of: tier), index + 1 < functionalChain.count else { return nil }
        return functionalChain[index + 1]
    }
}
