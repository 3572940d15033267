import Foundation
import GRDB
import ITRConfig
import ITREvents

extension RouterEngine {
    /// Fires one due moment, after checking against the ticket's clocks at `now` that it still
    /// holds (a moment planned before a pause, a resolution or a rules change may not).
    /// Returns true when something was emitted.
    @discardableResult
    public mutating func fire(
        _ db: Database, ticketId: String, kind: PlannedMoment.Kind, dueAt: Date, cause: Cause
    ) throws -> Bool {
        guard var ticket = try load(db, ticketId) else { return false }
        let clocks = ticket.clocks(rules: rules, now: now)
        let priority = ticket.lifecycle.priority ?? .p3
        let package = ticket.contractPackage ?? "uncontracted"
        let version = rules.version
        let sla = clocks.sla
        let active: Bool = {
            switch ticket.lifecycle.state {
            case .resolved, .closed, .cancelled, .merged: false
            default: true
            }
        }()
        func clockEvent<K: EventKind>(_: K.Type, _ clock: ITREvents.SLAClock, _ status: ClockStatus) -> SLAClockEvent<K> {
            SLAClockEvent<K>(
                ticketId: ticket.id, clock: clock, priority: priority, targetMinutes: Self.minutes(status.target),
                dueAt: status.breachedAt ?? status.dueAt ?? dueAt, share: status.shareConsumed,
                contractPackage: ticket.contractPackage, serviceType: ticket.lifecycle.serviceType, account: ticket.account)
        }
        switch kind {
        case .responseBreach:
            guard sla.response.isBreached else { return false }
            ticket.decide(
                "sla-breached", at: factTime(ticket, preferred: dueAt), detail: "response target missed",
                ruleId: "catalogue.\(package).\(priority.rawValue).response", rulesVersion: version, causeId: cause.id)
            try save(db, &ticket, cause: cause)
            try emit(db, clockEvent(SLABreachedKind.self, .response, sla.response), cause: cause, correlation: ticket.id)
            ServiceLevelMetrics.recordBreach(sla: "response")

        case .slaWarning(let share):
            guard active, sla.resolution.shareConsumed + 1e-9 >= share, !sla.resolution.isBreached else { return false }
            ticket.decide(
                "sla-warning", at: factTime(ticket, preferred: dueAt),
                detail: "\(Int((share * 100).rounded())) % of the resolution target used",
                ruleId: "assignment.escalation.slaWarningAt", rulesVersion: version, causeId: cause.id)
            try save(db, &ticket, cause: cause)
            var event = clockEvent(SLAWarningKind.self, .resolution, sla.resolution)
            event.dueAt = sla.resolution.dueAt ?? dueAt
            try emit(db, event, cause: cause, correlation: ticket.id)

        case .slaBreach:
            guard sla.resolution.isBreached else { return false }
            ticket.decide(
                "sla-breached", at: factTime(ticket, preferred: dueAt), detail: "resolution target missed",
                ruleId: "catalogue.\(package).\(priority.rawValue).resolution", rulesVersion: version, causeId: cause.id)
            try save(db, &ticket, cause: cause)
            try emit(db, clockEvent(SLABreachedKind.self, .resolution, sla.resolution), cause: cause, correlation: ticket.id)
            ServiceLevelMetrics.recordBreach(sla: "resolution")

        case let .hierarchical(stepId, share, notify):
            guard active, sla.resolution.shareConsumed + 1e-9 >= share else { return false }
            ticket.hierarchicalCount += 1
            ticket.decide(
                "escalated-hierarchical", at: factTime(ticket, preferred: dueAt),
                detail: "\(Int((share * 100).rounded())) % of the resolution target used; notify \(notify.joined(separator: ", "))",
                ruleId: stepId, rulesVersion: version, causeId: cause.id)
            try save(db, &ticket, cause: cause)
            let steps = rules.bundle.assignment.hierarchicalSteps
            let step = (steps.firstIndex { $0.id == stepId } ?? (ticket.hierarchicalCount - 1)) + 1
            try emit(
                db,
                TicketEscalated(
                    ticketId: ticket.id, kind: .hierarchical, fromTier: ticket.lifecycle.tier.flatMap(Tier.init(rawValue:)),
                    step: step, group: ticket.lifecycle.group, notifyRoles: notify, reason: "sla-at-risk",
                    slaShare: min(sla.resolution.shareConsumed, 100)),
                cause: cause, correlation: ticket.id)

        case let .olaBreach(tier, _):
            guard active, let stint = clocks.currentStint, stint.tier == tier, stint.clock.isBreached else { return false }
            let breachedAt = stint.clock.breachedAt ?? dueAt
            let group = ticket.lifecycle.group ?? ""
            ticket.decide(
                "ola-breached", at: factTime(ticket, preferred: breachedAt),
                detail: "tier \(tier) used its OLA budget of \(Self.minutes(stint.clock.target)) min",
                ruleId: "assignment.ola.\(tier).\(priority.rawValue)", rulesVersion: version, causeId: cause.id)
            let breach = OLABreached(
                ticketId: ticket.id, tier: Tier(rawValue: tier) ?? .l1, group: group,
                budgetMinutes: Self.minutes(stint.clock.target), dueAt: breachedAt, breachedAt: breachedAt)
            var escalation: TicketEscalated?
            if let next = rules.planner.nextTier(after: tier), ticket.lifecycle.state != .resolved {
                let at = factTime(ticket, preferred: breachedAt)
                let nextGroup = escalationGroup(ticket, to: .tier(next))
                if let transition = try? ticket.lifecycle.apply(.escalate(.tier(next), reason: .olaBreach, group: nextGroup), at: at) {
                    ticket.record(
                        transition, ruleId: "assignment.escalation.functional", rulesVersion: version, causeId: cause.id,
                        detail: "OLA of \(tier) ran out: to \(next) (group \(ticket.lifecycle.group ?? group)) with a new OLA stint")
                    ticket.escalationCount += 1
                    escalation = TicketEscalated(
                        ticketId: ticket.id, kind: .functional, fromTier: Tier(rawValue: tier), toTier: Tier(rawValue: next),
                        step: ticket.escalationCount, group: ticket.lifecycle.group ?? group, reason: "ola-expired",
                        slaShare: min(sla.resolution.shareConsumed, 100))
                }
            }
            try save(db, &ticket, cause: cause)
            try emit(db, breach, cause: cause, correlation: ticket.id)
            ServiceLevelMetrics.recordBreach(ola: tier)
            if let escalation { try emit(db, escalation, cause: cause, correlation: ticket.id) }

        case .autoClose:
            guard ticket.lifecycle.state == .resolved, let due = ticket.lifecycle.autoCloseAt, due <= now else { return false }
            let at = factTime(ticket, preferred: due)
            guard let transition = try? ticket.lifecycle.apply(.autoClose, at: max(at, due)) else { return false }
            ticket.record(
                transition, ruleId: "lifecycle.confirmationTimeout", rulesVersion: version, causeId: cause.id,
                detail: "no confirmation within the confirmation timeout")
            try save(db, &ticket, cause: cause)
            try emit(
                db, TicketClosed(ticketId: ticket.id, reason: .timeout, closedAt: max(at, due), note: "confirmation timeout"),
                cause: cause, correlation: ticket.id)
        }
        return true
    }
}
