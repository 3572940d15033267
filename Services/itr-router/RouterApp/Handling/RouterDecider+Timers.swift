import Foundation
import ITRConfig
import ITREvents
import ServiceKit

extension RouterDecider {
    /// Fires one due moment, after checking against the ticket's clocks at `now` that it still
    /// holds and was not announced already (a moment planned before a pause, a resolution or a
    /// rules change may not hold). A moment that does not hold re-plans the ticket's moments under
    /// the current rules (``RouterEffects/Outcome/notDue``), so a target a rules change
    /// lengthened is still announced, later.
    mutating func fire(ticketId: String, kind: PlannedMoment.Kind, dueAt: Date) throws {
        guard var ticket = try ticket(ticketId) else {
            effects.outcome = .unknownTicket
            return
        }
        if !fire(&ticket, kind: kind, dueAt: dueAt) {
            effects.outcome = .notDue
            effects.replans.append((ticket, after: dueAt))
        }
    }

    private mutating func fire(_ ticket: inout TicketRecord, kind: PlannedMoment.Kind, dueAt: Date) -> Bool {
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
        let log = ticket.log
        func announced(_ kind: String, detail: String? = nil, ruleId: String? = nil) -> Bool {
            log.contains { $0.kind == kind && (detail == nil || $0.detail == detail) && (ruleId == nil || $0.ruleId == ruleId) }
        }
        func clockEvent<K: EventKind>(_: K.Type, _ clock: ITREvents.SLAClock, _ status: ClockStatus) -> SLAClockEvent<K> {
            SLAClockEvent<K>(
                ticketId: ticket.id, clock: clock, priority: priority, targetMinutes: Self.minutes(status.target),
                dueAt: status.breachedAt ?? status.dueAt ?? dueAt, share: status.shareConsumed,
                contractPackage: ticket.contractPackage, serviceType: ticket.lifecycle.serviceType, account: ticket.account)
        }
        switch kind {
        case .responseBreach:
            guard sla.response.isBreached, !announced("sla-breached", detail: Self.responseMissed) else { return false }
            ticket.decide(
                "sla-breached", at: factTime(ticket, preferred: sla.response.breachedAt ?? dueAt), detail: Self.responseMissed,
                ruleId: "catalogue.\(package).\(priority.rawValue).response", rulesVersion: version, causeId: cause.id)
            save(ticket)
            emit(clockEvent(SLABreachedKind.self, .response, sla.response), correlation: ticket.id)

        case .slaWarning(let share):
            // Not when the target ran out at or before the warning's own instant (the breach says it).
            let breachedFirst = sla.resolution.breachedAt.map { $0 <= dueAt } ?? false
            guard active, sla.resolution.shareConsumed + 1e-9 >= share, !breachedFirst, !announced("sla-warning") else {
                return false
            }
            ticket.decide(
                "sla-warning", at: factTime(ticket, preferred: dueAt),
                detail: "\(Int((share * 100).rounded())) % of the resolution target used",
                ruleId: "assignment.escalation.slaWarningAt", rulesVersion: version, causeId: cause.id)
            save(ticket)
            var event = clockEvent(SLAWarningKind.self, .resolution, sla.resolution)
            event.dueAt = sla.resolution.dueAt ?? dueAt
            emit(event, correlation: ticket.id)

        case .slaBreach:
            guard sla.resolution.isBreached, !announced("sla-breached", detail: Self.resolutionMissed) else { return false }
            ticket.decide(
                "sla-breached", at: factTime(ticket, preferred: sla.resolution.breachedAt ?? dueAt),
                detail: Self.resolutionMissed,
                ruleId: "catalogue.\(package).\(priority.rawValue).resolution", rulesVersion: version, causeId: cause.id)
            save(ticket)
            emit(clockEvent(SLABreachedKind.self, .resolution, sla.resolution), correlation: ticket.id)

        case let .hierarchical(stepId, share, notify):
            guard active, sla.resolution.shareConsumed + 1e-9 >= share, !announced("escalated-hierarchical", ruleId: stepId) else {
                return false
            }
            ticket.hierarchicalCount += 1
            ticket.decide(
                "escalated-hierarchical", at: factTime(ticket, preferred: dueAt),
                detail: "\(Int((share * 100).rounded())) % of the resolution target used; notify \(notify.joined(separator: ", "))",
                ruleId: stepId, rulesVersion: version, causeId: cause.id)
            save(ticket)
            let steps = rules.bundle.assignment.hierarchicalSteps
            let step = (steps.firstIndex { $0.id == stepId } ?? (ticket.hierarchicalCount - 1)) + 1
            emit(TicketEscalated(
                    ticketId: ticket.id, kind: .hierarchical, fromTier: ticket.lifecycle.tier.flatMap(Tier.init(rawValue:)),
                    step: step, group: ticket.lifecycle.group, notifyRoles: notify, reason: "sla-at-risk",
                    slaShare: min(sla.resolution.shareConsumed, 100)),
                correlation: ticket.id)

        case .olaBreach:
            // Every breached stint is announced once, in order, even when it ended (resolved, or
            // escalated by hand) before this moment fired; only the current one escalates.
            let breached = clocks.ola.enumerated().filter { $0.element.clock.isBreached }
            let announcedCount = log.filter { $0.kind == "ola-breached" }.count
            guard announcedCount < breached.count else { return false }
            let (index, stint) = breached[announcedCount]
            let tier = stint.tier
            let isCurrent = active && index == clocks.ola.count - 1 && stint.isCurrent
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
            if isCurrent, let next = rules.planner.nextTier(after: tier) {
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
            save(ticket)
            emit(breach, correlation: ticket.id)
            if let escalation { emit(escalation, correlation: ticket.id) }

        case .autoClose:
            guard ticket.lifecycle.state == .resolved, let due = ticket.lifecycle.autoCloseAt, due <= now else { return false }
            let at = factTime(ticket, preferred: due)
            guard let transition = try? ticket.lifecycle.apply(.autoClose, at: max(at, due)) else { return false }
            ticket.record(
                transition, ruleId: "lifecycle.confirmationTimeout", rulesVersion: version, causeId: cause.id,
                detail: "no confirmation within the confirmation timeout")
            save(ticket)
            emit(
                TicketClosed(ticketId: ticket.id, reason: .timeout, closedAt: max(at, due), note: "confirmation timeout"),
                correlation: ticket.id)
        }
        return true
    }

    static let responseMissed = "response target missed"
    static let resolutionMissed = "resolution target missed"
}
