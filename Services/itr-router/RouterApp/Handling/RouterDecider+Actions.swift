import Foundation
import ITRConfig
import ITREvents
import ServiceKit

extension RouterDecider {
    /// Decides a service-desk action (`itr.ticket.action` or `POST /v1/tickets/{id}/actions`).
    /// Throws `ActionRefusal` when the action is forbidden (no effects then).
    mutating func act(_ action: ITREvents.TicketAction) throws {
        guard var ticket = try ticket(action.ticketId) else {
            throw ActionRefusal(code: "unknown-ticket", message: "no ticket \(action.ticketId)", status: 404)
        }
        let version = rules.version
        let at = factTime(ticket, preferred: cause.time)
        let ruleId = "action.\(action.action.rawValue)"
        let by = "by \(action.actor.id)" + (action.actor.role.map { " (\($0))" } ?? "")
        func apply(_ domain: TicketAction, detail: String? = nil) throws -> TicketLifecycle.Transition {
            var lifecycle = ticket.lifecycle
            let result = Result { () throws(TicketRefusal) -> TicketLifecycle.Transition in try lifecycle.apply(domain, at: at) }
            guard case .success(let transition) = result else {
                if case .failure(let refusal) = result { throw ActionRefusal(refusal) }
                throw ActionRefusal(code: "refused", message: "refused")
            }
            ticket.lifecycle = lifecycle
            ticket.record(
                transition, ruleId: ruleId, rulesVersion: version, causeId: cause.id,
                detail: [detail, by].compactMap { $0 }.joined(separator: "; "))
            return transition
        }
        func updated(_ note: String? = nil, pauseReason: PauseReason? = nil) -> TicketUpdated {
            TicketUpdated(
                ticketId: ticket.id, action: action.action, state: ticket.lifecycle.state.name, note: note,
                pauseReason: pauseReason, actor: action.actor, at: at)
        }

        // A refusal thrown on the way discards every effect, the events emitted before it included.
        var knownError: (problemId: String, rootCause: String, workaround: String)?
        switch action.action {
        case .acknowledge:
            _ = try apply(.acknowledge, detail: action.note)
            let event = updated(action.note)
            emit(event, correlation: event.ticketId)
        case .note:
            let text = action.note ?? ""
            _ = try apply(.note(text))
            let event = updated(text)
            emit(event, correlation: event.ticketId)
        case .pause:
            let reason = action.pauseReason ?? .other
            _ = try apply(.pause(reason), detail: "\(reason.rawValue)" + (rules.pausingReasons.contains(reason) ? " (pauses the SLA)" : " (SLA keeps running)"))
            let event = updated(action.note, pauseReason: reason)
            emit(event, correlation: event.ticketId)
        case .resume:
            _ = try apply(.resume, detail: action.note)
            let event = updated(action.note)
            emit(event, correlation: event.ticketId)
        case .escalate:
            let escalation = action.escalation ?? .init(reason: "manual")
            if escalation.kind == .hierarchical {
                try requireOpen(ticket)
                ticket.hierarchicalCount += 1
                let steps = rules.bundle.assignment.hierarchicalSteps
                let roles = steps.isEmpty ? [] : steps[min(ticket.hierarchicalCount, steps.count) - 1].notify
                ticket.decide(
                    "escalated-hierarchical", at: at, detail: "\(escalation.reason); notify \(roles.joined(separator: ", ")); \(by)",
                    ruleId: ruleId, rulesVersion: version, causeId: cause.id)
                let share = ticket.clocks(rules: rules, now: at).sla.resolution.shareConsumed
                let event = TicketEscalated(
                    ticketId: ticket.id, kind: .hierarchical, fromTier: ticket.lifecycle.tier.flatMap(Tier.init(rawValue:)),
                    step: ticket.hierarchicalCount, group: ticket.lifecycle.group, notifyRoles: roles,
                    reason: escalation.reason, slaShare: min(share, 100))
                emit(event, correlation: event.ticketId)
            } else {
                let from = ticket.lifecycle.tier
                let target: EscalationTarget = escalation.toTier.map { .tier($0.rawValue) } ?? .nextTier
                let reason = EscalationReason(rawValue: escalation.reason) ?? .manual
                let group = escalationGroup(ticket, to: target)
                _ = try apply(.escalate(target, reason: reason, group: group), detail: escalation.reason)
                ticket.escalationCount += 1
                let share = ticket.clocks(rules: rules, now: at).sla.resolution.shareConsumed
                let event = TicketEscalated(
                    ticketId: ticket.id, kind: .functional, fromTier: from.flatMap(Tier.init(rawValue:)),
                    toTier: ticket.lifecycle.tier.flatMap(Tier.init(rawValue:)), step: ticket.escalationCount,
                    group: ticket.lifecycle.group, reason: escalation.reason, slaShare: min(share, 100))
                emit(event, correlation: event.ticketId)
            }
        case .resolve:
            guard let resolution = action.resolution else {
                throw ActionRefusal(code: "missing-resolution", message: "resolve carries the resolution", status: 422)
            }
            guard let judgement = rules.judge.judge(resolutionCode: resolution.resolutionCode) else {
                throw ActionRefusal(
                    code: "unknown-resolution-code",
                    message: "resolution code \"\(resolution.resolutionCode)\" is not in quality.yaml", status: 422)
            }
            // The resolver's statement of the quality responsibility is honoured; without one it
            // follows from the resolution code. Either way the rule behind it is recorded.
            let stated = resolution.qualityResponsibility
            let responsibility = stated ?? judgement.responsibility
            let domain = Resolution(
                code: resolution.resolutionCode, rootCause: resolution.rootCause ?? "", workaround: resolution.workaround,
                spareParts: resolution.spareParts.map(\.partNumber), responsibility: stated)
            _ = try apply(.resolve(domain), detail: "quality responsibility \(responsibility.rawValue)")
            ticket.decide(
                "quality-responsibility", at: at,
                detail: stated.map {
                    $0 == judgement.responsibility
                        ? "\($0.rawValue), stated by the resolver (the resolution code says the same)"
                        : "\($0.rawValue), stated by the resolver (the resolution code \(resolution.resolutionCode) says \(judgement.responsibility.rawValue))"
                } ?? judgement.responsibility.rawValue,
                ruleId: stated == nil ? judgement.ruleId : Self.statedResponsibilityRuleId,
                rulesVersion: judgement.rulesVersion, causeId: cause.id)
            let event = resolvedEvent(
                ticket, resolution: domain, responsibility: responsibility, spareParts: resolution.spareParts,
                actor: action.actor, at: at)
            emit(event, correlation: event.ticketId)
            if let problemId = ticket.problemId, let root = resolution.rootCause, !root.isEmpty,
               let workaround = resolution.workaround, !workaround.isEmpty
            {
                knownError = (problemId, root, workaround)
            }
        case .confirm:
            _ = try apply(.confirm, detail: action.note)
            let event = TicketClosed(ticketId: ticket.id, reason: .confirmed, closedAt: at, note: action.note)
            emit(event, correlation: event.ticketId)
        case .reopen:
            let reason = action.reason ?? action.note ?? "reopened"
            _ = try apply(.reopen(reason: reason))
            ticket.reopenCount += 1
            let event = TicketReopened(
                ticketId: ticket.id, reason: reason, reopenCount: ticket.reopenCount, actor: action.actor, reopenedAt: at)
            emit(event, correlation: event.ticketId)
        case .cancel:
            let reason = action.reason ?? action.note ?? "cancelled"
            _ = try apply(.cancel(reason: reason))
            let event = TicketClosed(ticketId: ticket.id, reason: .cancelled, closedAt: at, note: reason)
            emit(event, correlation: event.ticketId)
        case .reclassify:
            let (classification, assigned, correction) = try reclassify(&ticket, action, at: at, by: by)
            let event = Self.classifiedEvent(
                ticket, classification, previous: correction.fromType, reason: correction.reason, actor: action.actor)
            effects.classificationChanges.append(ticket.id)
            effects.corrections.append(correction)
            effects.classifications.append(classification)
            emit(event, correlation: event.ticketId)
            if let assigned { emit(assigned, correlation: assigned.ticketId) }
        case .reprioritise:
            let event = try reprioritise(&ticket, action, at: at, by: by)
            effects.gradingChanges.append(ticket.id)
            emit(event, correlation: event.ticketId)
        case .merge:
            let target = action.mergeInto ?? ""
            guard target != ticket.id else {
                throw ActionRefusal(code: "merge-into-self", message: "a ticket cannot be merged into itself")
            }
            guard try exists(target) else {
                throw ActionRefusal(code: "unknown-merge-target", message: "no ticket \(target) to merge into", status: 422)
            }
            _ = try apply(.merge(into: target))
            let event = TicketClosed(ticketId: ticket.id, reason: .merged, closedAt: at, mergedInto: target, note: action.note)
            emit(event, correlation: event.ticketId)
        }
        save(ticket)
        if let (problemId, rootCause, workaround) = knownError {
            try markKnownError(problemId: problemId, rootCause: rootCause, workaround: workaround, from: ticket.id)
        }
    }

    /// The desk's `reclassify`: the new service type re-grades the report (impact, urgency →
    /// priority, so the SLA targets and the due moments follow at the save), re-assigns it when it
    /// is still at its starting tier and not waiting (a new OLA stint for the new group), clears
    /// `needs-triage`, and keeps the correction as a labelled example. The same type is accepted
    /// only to confirm a ticket waiting for triage.
    func reclassify(
        _ ticket: inout TicketRecord, _ action: ITREvents.TicketAction, at: Date, by: String
    ) throws -> (Classification, TicketAssigned?, ClassifierCorrection) {
        guard let newType = action.serviceType else {
            throw ActionRefusal(code: "missing-service-type", message: "reclassify names the new service type", status: 422)
        }
        let reason = (action.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw ActionRefusal(code: "missing-reason", message: "reclassify says why", status: 422)
        }
        try requireOpen(ticket)
        let previous = ticket.lifecycle.serviceType
        if previous == newType && !ticket.needsTriage {
            throw ActionRefusal(
                code: "same-service-type", message: "the ticket is already \(newType.rawValue) (and not waiting for triage)")
        }
        let version = rules.version
        let ruleId = Self.reclassifyRuleId
        let inputs = try snapshot.classification(of: ticket.id)
        let before = inputs.decision
        let facts = inputs.facts ?? ReportFacts(
            title: ticket.summary, alarmCode: ticket.alarmCode, productLine: ticket.productLine, model: ticket.model,
            version: ticket.version, component: ticket.component, region: ticket.region)
        let prepared = PreparedFacts(facts)
        let decision = ServiceTypeDecision(by: .desk, ruleId: ruleId)
        let classification = rules.classifier.grade(prepared, serviceType: newType, decision: decision)

        var lifecycle = ticket.lifecycle
        let transition: TicketLifecycle.Transition
        do {
            transition = try lifecycle.apply(
                .classify(serviceType: newType, priority: classification.priority, ruleId: ruleId, rulesVersion: version),
                at: at)
        } catch {
            throw ActionRefusal(error)
        }
        ticket.lifecycle = lifecycle
        let from = previous?.rawValue ?? "-"
        ticket.record(
            transition, ruleId: ruleId, rulesVersion: version, causeId: cause.id,
            detail: "reclassified \(from) → \(newType.rawValue): \(reason); impact \(classification.impact) x urgency \(classification.urgency) → \(classification.priority.rawValue) (priority matrix); \(by)")
        ticket.decideGrading(classification, at: at, causeId: cause.id)
        ticket.impact = classification.impact
        ticket.urgency = classification.urgency
        ticket.isIncident = newType == .hardwareFault || newType == .softwareFault
        ticket.fingerprint = ticket.isIncident ? IncidentFingerprint(facts, synonyms: rules.symptomSynonyms).key : nil
        let wasWaiting = ticket.needsTriage
        ticket.needsTriage = false
        ticket.decision = decision

        // Re-assigned while it is still at its first tier (an escalated ticket keeps its tier and
        // group) and not pending (assigning would resume it).
        var announcement: TicketAssigned?
        let assignment = rules.assigner.assign(prepared, serviceType: newType)
        var isPending = false
        if case .pending = ticket.lifecycle.state { isPending = true }
        if ticket.escalationCount > 0 || isPending {
            ticket.decide(
                "assignment-kept", at: at,
                detail: "stays with \(ticket.lifecycle.group ?? "-") at \(ticket.lifecycle.tier ?? "-") (\(isPending ? "pending" : "escalated")); rule \(assignment.ruleId) would start it with \(assignment.group)",
                ruleId: ruleId, rulesVersion: version, causeId: cause.id)
        } else if assignment.group != ticket.lifecycle.group || assignment.tier != ticket.lifecycle.tier || wasWaiting {
            var lifecycle = ticket.lifecycle
            let assigned: TicketLifecycle.Transition
            do {
                assigned = try lifecycle.apply(.assign(tier: assignment.tier, group: assignment.group), at: at)
            } catch {
                throw ActionRefusal(error)
            }
            ticket.lifecycle = lifecycle
            ticket.record(
                assigned, ruleId: assignment.ruleId, rulesVersion: version, causeId: cause.id,
                detail: "group \(assignment.group), tier \(assignment.tier) (after reclassification)")
            announcement = assignedEvent(
                ticket, assignment, priority: classification.priority, clocks: ticket.clocks(rules: rules, now: at),
                reason: "rule \(assignment.ruleId) after reclassification")
        }
        let correction = ClassifierCorrection(
            ticketId: ticket.id, at: at, title: facts.title, description: facts.description.isEmpty ? nil : facts.description,
            fromType: previous, toType: newType, decidedBy: before?.by, modelVersion: before?.modelVersion,
            confidence: before?.confidence, actor: action.actor.id, reason: reason, causeId: cause.id)
        return (classification, announcement, correction)
    }

    /// The desk's `reprioritise`: a new impact and/or urgency (with a reason) re-grades the open
    /// ticket; the priority follows from the priority matrix, so the SLA targets, the OLA budget
    /// and the due moments follow at the save. Announced as `itr.ticket.classified` (the event
    /// that carries the grading) decided by the desk under rule `action.reprioritise`.
    func reprioritise(
        _ ticket: inout TicketRecord, _ action: ITREvents.TicketAction, at: Date, by: String
    ) throws -> TicketClassified {
        let reason = (action.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw ActionRefusal(code: "missing-reason", message: "reprioritise says why", status: 422)
        }
        guard action.impact != nil || action.urgency != nil else {
            throw ActionRefusal(
                code: "missing-grading", message: "reprioritise names the new impact, the new urgency or both", status: 422)
        }
        try requireOpen(ticket)
        guard let serviceType = ticket.lifecycle.serviceType else {
            throw ActionRefusal(code: TicketRefusal.Code.notClassified.rawValue, message: "the ticket is not classified yet")
        }
        let impact = action.impact.map(Self.level) ?? ticket.impact ?? 3
        let urgency = action.urgency.map(Self.level) ?? ticket.urgency ?? 3
        guard impact != ticket.impact || urgency != ticket.urgency else {
            throw ActionRefusal(
                code: "same-grading",
                message: "the ticket already has impact \(Self.impact(impact).rawValue) and urgency \(Self.urgency(urgency).rawValue)")
        }
        let version = rules.version
        let ruleId = Self.reprioritiseRuleId
        let previous = ticket.lifecycle.priority
        let priority = rules.classifier.rules.priorityMatrix.priority(impact: impact, urgency: urgency)
        var lifecycle = ticket.lifecycle
        let transition: TicketLifecycle.Transition
        do {
            transition = try lifecycle.apply(
                .classify(serviceType: serviceType, priority: priority, ruleId: ruleId, rulesVersion: version), at: at)
        } catch {
            throw ActionRefusal(error)
        }
        ticket.lifecycle = lifecycle
        func change(_ name: String, _ from: Int?, _ to: Int, _ label: (Int) -> String) -> String {
            from == to ? "\(name) \(label(to))" : "\(name) \(from.map(label) ?? "-") → \(label(to))"
        }
        ticket.record(
            transition, ruleId: ruleId, rulesVersion: version, causeId: cause.id,
            detail: "reprioritised: \(change("impact", ticket.impact, impact) { Self.impact($0).rawValue }) x \(change("urgency", ticket.urgency, urgency) { Self.urgency($0).rawValue }) → \(priority.rawValue) (priority matrix; was \(previous?.rawValue ?? "-")): \(reason); \(by)")
        ticket.impact = impact
        ticket.urgency = urgency
        ticket.decide("impact", at: at, detail: "impact \(impact)", ruleId: ruleId, rulesVersion: version, causeId: cause.id)
        ticket.decide("urgency", at: at, detail: "urgency \(urgency)", ruleId: ruleId, rulesVersion: version, causeId: cause.id)
        return TicketClassified(
            ticketId: ticket.id, serviceType: serviceType, impact: Self.impact(impact), urgency: Self.urgency(urgency),
            priority: priority, contractPackage: ticket.contractPackage, account: ticket.account, ruleId: ruleId,
            rulesVersion: version, decidedBy: .desk, model: nil, needsTriage: ticket.needsTriage ? true : nil,
            // A desk decision names the service type before it (the schema requires it): unchanged here.
            previousServiceType: serviceType, reason: reason, actor: action.actor)
    }

    static let reprioritiseRuleId = "action.reprioritise"
    static let reclassifyRuleId = "action.reclassify"
    /// The rule of a quality responsibility the resolver stated (`resolution.qualityResponsibility`).
    static let statedResponsibilityRuleId = "action.resolve.quality-responsibility"

    func requireOpen(_ ticket: TicketRecord) throws {
        switch ticket.lifecycle.state {
        case .closed: throw ActionRefusal(code: TicketRefusal.Code.ticketClosed.rawValue, message: "the ticket is closed")
        case .cancelled: throw ActionRefusal(code: TicketRefusal.Code.ticketCancelled.rawValue, message: "the ticket is cancelled")
        case .merged: throw ActionRefusal(code: TicketRefusal.Code.ticketMerged.rawValue, message: "the ticket was merged")
        case .resolved: throw ActionRefusal(code: TicketRefusal.Code.alreadyResolved.rawValue, message: "the ticket is resolved")
        default: return
        }
    }

    func resolvedEvent(
        _ ticket: TicketRecord, resolution: Resolution, responsibility: QualityResponsibility, spareParts: [SparePart],
        actor: Actor?, at: Date
    ) -> TicketResolved {
        TicketResolved(
            ticketId: ticket.id, resolutionCode: resolution.code,
            rootCause: resolution.rootCause.isEmpty ? nil : resolution.rootCause, workaround: resolution.workaround,
            spareParts: spareParts, qualityResponsibility: responsibility, product: ticket.product,
            priority: ticket.lifecycle.priority ?? .p3, serviceType: ticket.lifecycle.serviceType ?? .softwareOperation,
            account: ticket.account, contractPackage: ticket.contractPackage, problemId: ticket.problemId,
            resolvedBy: actor, resolvedAt: at)
    }

    /// Known errors: a problem becomes a known error when one of its incidents is resolved with a
    /// root cause AND a workaround (the first such resolution documents it).
    mutating func markKnownError(problemId: String, rootCause: String, workaround: String, from ticketId: String) throws {
        try require([.problem(problemId), .problemTickets(problemId)])
        guard var problem = try problem(problemId), problem.state == .open else { return }
        problem.state = .knownError
        problem.rootCause = rootCause
        problem.workaround = workaround
        problem.knownErrorAt = min(cause.time ?? now, now)
        effects.save(problem)
        let ids = try snapshot.ticketIds(problem: problemId)
        if var ticket = try ticket(ticketId) {
            ticket.decide(
                "problem-known-error", at: factTime(ticket, preferred: cause.time), detail: "problem \(problemId) documented as a known error",
                ruleId: "problem.known-error.on-resolution", rulesVersion: rules.version, causeId: cause.id)
            save(ticket)
        }
        emit(
            ProblemKnownError(
                problemId: problemId, title: problem.title, fingerprint: problem.fingerprintHash, rootCause: rootCause,
                workaround: workaround, ticketIds: ids),
            correlation: problemId)
    }
}

extension RouterDecider {
    /// The group a functional escalation of `ticket` to `target` hands it to
    /// (`assignment.yaml`: its assignment rule's `escalateTo`, else the tier's `group`), or nil
    /// when it keeps its group.
    func escalationGroup(_ ticket: TicketRecord, to target: EscalationTarget) -> String? {
        let assignment = rules.bundle.assignment
        let tier: String?
        switch target {
        case .tier(let wanted): tier = wanted
        case .nextTier: tier = ticket.lifecycle.tier.flatMap { assignment.nextTier(after: $0) }
        }
        guard let tier else { return nil }
        let startGroup = ticket.lifecycle.history.lazy.compactMap { entry -> String? in
            if case .assigned(_, let group) = entry.fact { return group }
            return nil
        }.first
        return assignment.escalationGroup(toTier: tier, startGroup: startGroup)
    }
}
