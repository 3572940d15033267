import Foundation
import ITRConfig
import ITREvents
import ServiceKit

/// The router's decisions, apart from storage: `decide(input, snapshot, rules, now) -> effects`.
/// Pure: it reads only the ``RouterSnapshot`` it is given (throwing ``RouterSnapshot/Needs`` for
/// what is not in it) and returns the ``RouterEffects`` ``RouterEngine`` applies. Nothing here
/// touches a database, a clock or the network, so the same decisions run on SQLite and
/// PostgreSQL and are tested without either.
public struct RouterDecider {
    public let rules: RouterRules
    public let now: Date
    let snapshot: RouterSnapshot
    let cause: Cause
    var effects = RouterEffects()

    init(rules: RouterRules, now: Date, snapshot: RouterSnapshot, cause: Cause) {
        self.rules = rules
        self.now = now
        self.snapshot = snapshot
        self.cause = cause
    }

    /// Decides what `input` (caused by `cause`) changes, given `snapshot`. Throws
    /// ``RouterSnapshot/Needs`` when the decision reads something the snapshot does not hold, an
    /// ``ActionRefusal`` when an action is refused (no effects then).
    public static func decide(
        _ input: RouterInput, cause: Cause, _ snapshot: RouterSnapshot, rules: RouterRules, now: Date
    ) throws -> RouterEffects {
        var decider = RouterDecider(rules: rules, now: now, snapshot: snapshot, cause: cause)
        switch input {
        case .open(let opened, let plan): try decider.open(opened, plan)
        case .correlate(let correlated): try decider.correlate(correlated)
        case .act(let action): try decider.act(action)
        case .fire(let ticketId, let kind, let dueAt): try decider.fire(ticketId: ticketId, kind: kind, dueAt: dueAt)
        case .defectFixed(let fixed): try decider.defectFixed(fixed)
        }
        return decider.effects
    }

    /// What deciding `input` reads in any case: loaded before the first pass, so that most inputs
    /// are decided in one.
    public static func reads(for input: RouterInput) -> [RouterSnapshot.Read] {
        switch input {
        case .open(let opened, let plan):
            if let match = opened.knownError { return [.ticket(opened.ticketId), .problem(match.problemId)] }
            return [.ticket(opened.ticketId)] + (plan.fingerprint.map { [.openProblem($0)] } ?? [])
        case .correlate(let correlated): return [.ticket(correlated.ticketId)]
        case .act(let action):
            switch action.action {
            case .reclassify: return [.ticket(action.ticketId), .classificationInputs(action.ticketId)]
            case .merge: return [.ticket(action.ticketId)] + (action.mergeInto.map { [.ticketExists($0)] } ?? [])
            default: return [.ticket(action.ticketId)]
            }
        case .fire(let ticketId, _, _): return [.ticket(ticketId)]
        case .defectFixed(let fixed): return fixed.ticketIds.map { .problemOf(ticket: $0) }
        }
    }

    // MARK: Reading (this decision's own changes first, then the snapshot)

    func ticket(_ id: String) throws(RouterSnapshot.Needs) -> TicketRecord? {
        if let ticket = effects.ticket(id) { return ticket }
        return try snapshot.ticket(id)
    }

    func exists(_ id: String) throws(RouterSnapshot.Needs) -> Bool {
        effects.ticket(id) != nil ? true : try snapshot.exists(id)
    }

    func problem(_ id: String) throws(RouterSnapshot.Needs) -> ProblemRecord? {
        if let problem = effects.problem(id) { return problem }
        return try snapshot.problem(id)
    }

    /// Throws for all of `reads` the snapshot lacks at once (one more pass, not one per read).
    func require(_ reads: [RouterSnapshot.Read]) throws(RouterSnapshot.Needs) {
        let missing = reads.filter { read in
            if case .ticket(let id) = read, effects.ticket(id) != nil { return false }
            return !snapshot.holds(read)
        }
        if !missing.isEmpty { throw RouterSnapshot.Needs(reads: missing) }
    }

    mutating func save(_ ticket: TicketRecord, clocks: TicketClocks? = nil) { effects.save(ticket, clocks: clocks) }

    mutating func emit(_ payload: some EventPayload, correlation: String) { effects.emit(payload, correlation: correlation) }

    /// The ticket's clocks as its save will compute them (see ``TicketRepository/asOf(_:now:)``).
    func clocksAtSave(_ ticket: TicketRecord) -> TicketClocks {
        ticket.clocks(rules: rules, now: TicketRepository.asOf(ticket, now: now))
    }

    /// The instant of a fact: the time of the event that caused it when it carries one
    /// (`preferred`: the opening, the action's `time`, the due moment), else `now`; never after
    /// `now` (a cause stamped in the future by a skewed clock) and never before the ticket's last
    /// line. So the history, and the clocks computed from it, depend on the events and not on
    /// when they were processed: a replay of the same events gives the same clocks.
    func factTime(_ ticket: TicketRecord, preferred: Date? = nil) -> Date {
        let wanted = min(preferred ?? now, now)
        return max(wanted, ticket.log.last?.at ?? wanted)
    }

    // MARK: itr.ticket.opened

    /// The contract, classification, grading, assignment and fingerprint of an opening report.
    public static func classify(_ opened: TicketOpened, rules: RouterRules) -> OpeningPlan {
        let contract = rules.contract(account: opened.account, openedAt: opened.openedAt)
        let facts = ReportFacts(
            title: opened.summary, description: opened.description ?? "", categoryHint: opened.categoryHint,
            channel: opened.channel.rawValue, alarmCode: opened.alarm?.code, productLine: opened.product.line,
            model: opened.product.model, version: opened.product.version, component: opened.product.component,
            severity: opened.severity?.alarm ?? opened.severity?.reported, region: contract.region)
        let prepared = PreparedFacts(facts)
        let classification = rules.classifier.classify(prepared)
        let assignment = rules.assigner.assign(
            prepared, serviceType: classification.serviceType, needsTriage: classification.decision.needsTriage)
        let isIncident = classification.serviceType == .hardwareFault || classification.serviceType == .softwareFault
        return OpeningPlan(
            facts: facts, contract: contract, classification: classification, assignment: assignment,
            fingerprint: isIncident ? IncidentFingerprint(facts, synonyms: rules.symptomSynonyms) : nil)
    }

    /// Opens the ticket as classified and assigned, runs problem detection and emits `classified`
    /// + `assigned` (and `itr.problem.opened` when the incident opens a problem). Nothing when the
    /// ticket exists (``RouterEffects/Outcome/alreadyOpen``).
    mutating func open(_ opened: TicketOpened, _ plan: OpeningPlan) throws {
        if try ticket(opened.ticketId) != nil {
            effects.outcome = .alreadyOpen
            return
        }
        let version = rules.version
        let contract = plan.contract
        let classification = plan.classification
        let decision = classification.decision
        let assignment = plan.assignment

        let lifecycle = TicketLifecycle(id: opened.ticketId, openedAt: opened.openedAt, policy: rules.policy)
        var ticket = TicketRecord(
            id: opened.ticketId, account: opened.account, contractPackage: contract.package, contractId: contract.contractId,
            region: contract.region, productLine: opened.product.line, model: opened.product.model,
            version: opened.product.version, component: opened.product.component, alarmCode: opened.alarm?.code,
            summary: opened.summary, isIncident: plan.fingerprint != nil, fingerprint: plan.fingerprint?.key, problemId: nil,
            openedAt: opened.openedAt, firstTier: assignment.tier, impact: classification.impact,
            urgency: classification.urgency, reopenCount: 0, escalationCount: 0, hierarchicalCount: 0,
            lifecycle: lifecycle,
            log: [TicketLogEntry(
                at: opened.openedAt, kind: "opened", fact: .opened,
                detail: "report \(opened.reportId) from \(opened.sourceSystem) via \(opened.channel.rawValue)",
                causeId: cause.id)],
            storedLogCount: 0, isStored: false)
        ticket.needsTriage = decision.needsTriage
        ticket.reportFacts = plan.facts
        ticket.decision = decision
        let at = factTime(ticket, preferred: opened.openedAt)
        ticket.decide(
            "contract", at: at,
            detail: contract.contractId.map { "contract \($0): package \(contract.package ?? "-")" }
                ?? "no valid contract for \(opened.account): package \(contract.package ?? "-")",
            ruleId: contract.ruleId, rulesVersion: version, causeId: cause.id)
        ticket.decideGrading(classification, at: at, causeId: cause.id)
        let classified = try ticket.lifecycle.apply(
            .classify(
                serviceType: classification.serviceType, priority: classification.priority,
                ruleId: classification.serviceTypeRuleId, rulesVersion: version), at: at)
        ticket.record(
            classified, ruleId: classification.serviceTypeRuleId, rulesVersion: version, causeId: cause.id,
            detail: "\(classification.serviceType.rawValue) by \(decision.summary); impact \(classification.impact) x urgency \(classification.urgency) → \(classification.priority.rawValue) (priority matrix)")
        if decision.needsTriage {
            ticket.decide(
                "needs-triage", at: at,
                detail: "the model is \(Int(((decision.confidence ?? 0) * 100).rounded()))% sure (below \(Int(((rules.classifier.rules.model?.minConfidence ?? 0) * 100).rounded()))%): the triage group confirms or reclassifies",
                ruleId: decision.ruleId, rulesVersion: version, causeId: cause.id)
        }
        let assigned = try ticket.lifecycle.apply(.assign(tier: assignment.tier, group: assignment.group), at: at)
        ticket.record(
            assigned, ruleId: assignment.ruleId, rulesVersion: version, causeId: cause.id,
            detail: "group \(assignment.group), tier \(assignment.tier)")

        var problemToOpen: (ProblemDecision, [String])?
        if let match = opened.knownError, let problem = try problem(match.problemId) {
            ticket.problemId = problem.id
            ticket.decide(
                "known-error-attached", at: at, detail: "problem \(problem.id): workaround \(match.workaround)",
                ruleId: "intake.known-error-match", rulesVersion: version, causeId: cause.id)
        } else if let fingerprint = plan.fingerprint {
            let incident = IncidentRecord(
                ticketId: ticket.id, fingerprint: fingerprint, priority: classification.priority, openedAt: opened.openedAt)
            // One indexed row: the problem this incident would join (the detector's first rule).
            let openProblem = try snapshot.oldestOpenProblem(fingerprint)
            let openProblems = openProblem.map { [OpenProblem(id: $0.id, fingerprint: fingerprint)] } ?? []
            var recent: [IncidentRecord] = []
            if rules.detector.needsRecentIncidents(incident, openProblems: openProblems) {
                recent = try snapshot.incidents(
                    RouterSnapshot.IncidentQuery(
                        fingerprint: fingerprint, openedAt: opened.openedAt, window: rules.detector.rules.recurrenceWindow,
                        excluding: ticket.id, limit: max(rules.detector.rules.recurrenceThreshold, 1) * 2))
            }
            let decision = rules.detector.decide(incident: incident, recent: recent, openProblems: openProblems)
            switch decision.outcome {
            case .joinProblem(let id):
                ticket.problemId = id
                let link = openProblem?.id == id
                    ? openProblem : try problem(id).map { TicketRepository.ProblemLink(id: $0.id, state: $0.state, workaround: $0.workaround) }
                ticket.decide(
                    "problem-linked", at: at, detail: "joined open problem \(id)", ruleId: decision.ruleId,
                    rulesVersion: version, causeId: cause.id)
                if let link, link.state == .knownError, let workaround = link.workaround {
                    ticket.decide(
                        "known-error-attached", at: at, detail: "problem \(id): workaround \(workaround)",
                        ruleId: decision.ruleId, rulesVersion: version, causeId: cause.id)
                }
            case .openProblem(let incidents):
                problemToOpen = (decision, incidents)
            case .nothing:
                break
            }
        }

        let clocks = clocksAtSave(ticket)
        save(ticket, clocks: clocks)
        emit(Self.classifiedEvent(ticket, classification), correlation: ticket.id)
        effects.classifications.append(classification)
        emit(
            assignedEvent(ticket, assignment, priority: classification.priority, clocks: clocks, reason: "rule \(assignment.ruleId)"),
            correlation: ticket.id)

        if let (decision, incidents) = problemToOpen {
            try openProblem(decision: decision, incidents: incidents, trigger: ticket)
        }
    }

    /// Opens a problem for `incidents` (the triggering ticket among them) and links them.
    mutating func openProblem(decision: ProblemDecision, incidents: [String], trigger: TicketRecord) throws {
        guard let key = trigger.fingerprint else { return }
        try require(incidents.map { .ticket($0) })
        let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let fingerprint = IncidentFingerprint(
            productLine: parts[safe: 0] ?? "", model: parts[safe: 1] ?? "", version: parts[safe: 2] ?? "",
            component: parts[safe: 3] ?? "", symptom: parts[safe: 4] ?? "")
        let major = decision.ruleId == rules.detector.rules.majorIncidentRuleId
        // Named after what opened it (a ticket opens at most one problem), so a replay names it alike.
        let id = ProblemRecord.id(trigger: trigger.id, fingerprint: key)
        let problem = ProblemRecord(
            id: id, fingerprint: fingerprint, state: .open, title: String(trigger.summary.prefix(200)),
            trigger: major ? ProblemTrigger.major.rawValue : ProblemTrigger.recurring.rawValue,
            ruleId: decision.ruleId ?? "", rulesVersion: decision.rulesVersion, openedAt: factTime(trigger, preferred: cause.time))
        effects.save(problem)
        let detail = major
            ? "problem \(id) opened for a major incident"
            : "problem \(id) opened: \(incidents.count) incidents with one fingerprint within the window"
        for ticketId in incidents {
            guard var ticket = try ticket(ticketId) else { continue }
            ticket.problemId = id
            ticket.decide(
                "problem-linked", at: factTime(ticket, preferred: cause.time), detail: detail, ruleId: decision.ruleId,
                rulesVersion: decision.rulesVersion, causeId: cause.id)
            save(ticket)
        }
        emit(
            ProblemOpened(
                problemId: id, title: problem.title, fingerprint: problem.fingerprintHash, productLine: trigger.productLine,
                model: trigger.model, component: trigger.component, code: trigger.alarmCode, symptom: problem.symptom,
                trigger: major ? .major : .recurring, ticketIds: incidents),
            correlation: id)
    }

    // MARK: itr.ticket.correlated

    /// Records a repeated alarm folded into the ticket (``RouterEffects/Outcome/unknownTicket``
    /// when there is no such ticket).
    mutating func correlate(_ correlated: TicketCorrelated) throws {
        guard var ticket = try ticket(correlated.ticketId) else {
            effects.outcome = .unknownTicket
            return
        }
        let device = correlated.device.map { " on \($0)" } ?? ""
        ticket.decide(
            "correlated", at: factTime(ticket, preferred: cause.time),
            detail: "alarm \(correlated.alarmCode)\(device) repeated: \(correlated.count) reports, last \(RFC3339.format(correlated.lastSeenAt))\(correlated.cleared ? ", cleared" : "")",
            ruleId: "intake.correlation", rulesVersion: rules.version, causeId: cause.id)
        save(ticket)
    }

    // MARK: Events

    /// `itr.ticket.assigned` for the ticket's current assignment.
    func assignedEvent(
        _ ticket: TicketRecord, _ assignment: Assignment, priority: Priority, clocks: TicketClocks, reason: String
    ) -> TicketAssigned {
        let budget = rules.olaBudgets(priority: priority)[assignment.tier] ?? 0
        return TicketAssigned(
            ticketId: ticket.id, group: assignment.group, tier: Tier(rawValue: assignment.tier) ?? .l1, priority: priority,
            olaDueAt: clocks.currentStint?.clock.dueAt, olaBudgetMinutes: budget >= 60 ? Int(budget / 60) : nil,
            reason: reason)
    }

    /// `itr.ticket.classified` for a classification of `ticket` (at opening or by `reclassify`).
    static func classifiedEvent(
        _ ticket: TicketRecord, _ classification: Classification, previous: ServiceType? = nil, reason: String? = nil,
        actor: Actor? = nil
    ) -> TicketClassified {
        let decision = classification.decision
        let model = decision.by == .model
            ? decision.modelVersion.map {
                TicketClassified.ModelDecision(
                    version: $0, confidence: decision.confidence ?? 0, runnerUp: decision.runnerUp,
                    runnerUpConfidence: decision.runnerUpConfidence)
            } : nil
        let decider: TicketClassified.Decider = switch decision.by {
        case .rule: .rule
        case .model: .model
        case .desk: .desk
        }
        return TicketClassified(
            ticketId: ticket.id, serviceType: classification.serviceType, impact: impact(classification.impact),
            urgency: urgency(classification.urgency), priority: classification.priority,
            contractPackage: ticket.contractPackage, account: ticket.account, ruleId: classification.serviceTypeRuleId,
            rulesVersion: classification.rulesVersion, decidedBy: decider, model: model,
            needsTriage: decision.needsTriage ? true : nil, previousServiceType: previous, reason: reason, actor: actor)
    }

    static func impact(_ level: Int) -> Impact {
        switch level {
        case 1: .extensive
        case 2: .significant
        case 3: .moderate
        default: .minor
        }
    }

    static func urgency(_ level: Int) -> Urgency {
        switch level {
        case 1: .critical
        case 2: .high
        case 3: .medium
        default: .low
        }
    }

    /// The grading level of an impact (1 extensive ... 4 minor), the inverse of ``impact(_:)``.
    static func level(_ impact: Impact) -> Int {
        switch impact {
        case .extensive: 1
        case .significant: 2
        case .moderate: 3
        case .minor: 4
        }
    }

    /// The grading level of an urgency (1 critical ... 4 low), the inverse of ``urgency(_:)``.
    static func level(_ urgency: Urgency) -> Int {
        switch urgency {
        case .critical: 1
        case .high: 2
        case .medium: 3
        case .low: 4
        }
    }

    static func minutes(_ seconds: TimeInterval) -> Int { max(1, Int((seconds / 60).rounded())) }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
