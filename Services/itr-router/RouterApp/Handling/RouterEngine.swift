import AMQPClient
import Foundation
import ITRConfig
import ITREvents
import ServiceKit

/// Applies one input to the store inside the caller's write transaction: state changes, history
/// with the rule behind each decision, due moments and the events to publish (outbox), all or
/// nothing. One engine per transaction, with one rules snapshot and one `now`.
public struct RouterEngine {
    public static let source = "//itr/itr-router"

    public let rules: RouterRules
    public let now: Date
    /// The earliest due moment stored by this engine (the scheduler is woken when it is earlier
    /// than what it waits for).
    public internal(set) var earliestDue: Date?
    public private(set) var emittedCount = 0

    public init(rules: RouterRules, now: Date) {
        self.rules = rules
        self.now = now
    }

    // MARK: Emitting and saving

    mutating func emit<P: EventPayload>(_ db: any SQLTransaction, _ payload: P, cause: Cause, correlation: String) throws {
        var event = try CloudEvent(source: Self.source, payload: payload, subject: correlation, time: now)
        event.causationID = cause.id
        event.correlationID = correlation
        if let traceparent = cause.traceparent {
            event.traceparent = traceparent
            event.tracestate = cause.tracestate
        }
        try Outbox.enqueue(
            db, message: AMQPCloudEventCodec.encode(event, now: now), exchange: ITRNames.eventsExchange,
            routingKey: event.type)
        // Counted in the same transaction: a report read in one snapshot knows how many of the
        // router's events (in outbox order) its figures reflect.
        try Self.countEmitted(db)
        emittedCount += 1
    }

    /// Saves the ticket; returns its clocks at the instant of its history (computed once for the
    /// save and the caller), see ``TicketRepository/asOf(_:now:)``.
    @discardableResult
    mutating func save(_ db: any SQLTransaction, _ ticket: inout TicketRecord, cause: Cause) throws -> TicketClocks {
        let clocks = ticket.clocks(rules: rules, now: TicketRepository.asOf(ticket, now: now))
        if let due = try TicketRepository.save(
            db, &ticket, rules: rules, now: now, causeId: cause.id, traceparent: cause.traceparent, clocks: clocks)
        {
            earliestDue = min(earliestDue ?? due, due)
        }
        return clocks
    }

    /// Loads a ticket for a change, after taking its lock (see ``lockTicket(_:_:)``).
    func load(_ db: any SQLTransaction, _ id: String) throws -> TicketRecord? {
        try Self.lockTicket(db, id)
        return try TicketRepository.load(db, id: id, policy: rules.policy)
    }

    /// Serialises the transactions that change one ticket across the instances sharing a
    /// PostgreSQL database (the consumer, any instance's due-moment scheduler, any instance's
    /// HTTP actions): taken before the ticket is read, held to commit, so each reads what the
    /// one before it committed and no update is lost. SQLite: one writer, nothing to take.
    static func lockTicket(_ db: any SQLTransaction, _ id: String) throws {
        try db.lock(ticketLock, key: id)
    }

    /// ``lockTicket(_:_:)`` without waiting: false when another transaction holds it.
    static func tryLockTicket(_ db: any SQLTransaction, _ id: String) throws -> Bool {
        try db.tryLock(ticketLock, key: id)
    }

    static let ticketLock = "itr-router.ticket"

    /// The counter key of the events this writer emitted: one row per instance on a shared
    /// database (no row every instance's transactions would queue on), summed by the report.
    static func emittedKey(_ db: any SQLTransaction) -> String {
        db.instance.map { "events_emitted@\($0)" } ?? "events_emitted"
    }

    static func countEmitted(_ db: any SQLTransaction) throws {
        try db.execute(
            """
            INSERT INTO router_counters (key, value) VALUES (?, 1)
            ON CONFLICT (key) DO UPDATE SET value = router_counters.value + 1
            """,
            [.text(emittedKey(db))])
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

    /// Classifies, assigns, runs problem detection and emits `classified` + `assigned`.
    /// Returns false when the ticket already exists (nothing done).
    @discardableResult
    public mutating func open(_ db: any SQLTransaction, _ opened: TicketOpened, cause: Cause) throws -> Bool {
        try Self.lockTicket(db, opened.ticketId)
        if try TicketRepository.exists(db, id: opened.ticketId) { return false }
        let version = rules.version
        let contract = rules.contract(account: opened.account, openedAt: opened.openedAt)
        let facts = ReportFacts(
            title: opened.summary, description: opened.description ?? "", categoryHint: opened.categoryHint,
            channel: opened.channel.rawValue, alarmCode: opened.alarm?.code, productLine: opened.product.line,
            model: opened.product.model, version: opened.product.version, component: opened.product.component,
            severity: opened.severity?.alarm ?? opened.severity?.reported, region: contract.region)
        let prepared = PreparedFacts(facts)
        let classification = rules.classifier.classify(prepared)
        let decision = classification.decision
        let assignment = rules.assigner.assign(
            prepared, serviceType: classification.serviceType, needsTriage: decision.needsTriage)
        let isIncident = classification.serviceType == .hardwareFault || classification.serviceType == .softwareFault
        let fingerprint = isIncident ? IncidentFingerprint(facts, synonyms: rules.symptomSynonyms) : nil

        let lifecycle = TicketLifecycle(id: opened.ticketId, openedAt: opened.openedAt, policy: rules.policy)
        var ticket = TicketRecord(
            id: opened.ticketId, account: opened.account, contractPackage: contract.package, contractId: contract.contractId,
            region: contract.region, productLine: opened.product.line, model: opened.product.model,
            version: opened.product.version, component: opened.product.component, alarmCode: opened.alarm?.code,
            summary: opened.summary, isIncident: isIncident, fingerprint: fingerprint?.key, problemId: nil,
            openedAt: opened.openedAt, firstTier: assignment.tier, impact: classification.impact,
            urgency: classification.urgency, reopenCount: 0, escalationCount: 0, hierarchicalCount: 0,
            lifecycle: lifecycle,
            log: [TicketLogEntry(
                at: opened.openedAt, kind: "opened", fact: .opened,
                detail: "report \(opened.reportId) from \(opened.sourceSystem) via \(opened.channel.rawValue)",
                causeId: cause.id)],
            storedLogCount: 0, isStored: false)
        ticket.needsTriage = decision.needsTriage
        ticket.reportFacts = facts
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
        if let match = opened.knownError, let problem = try TicketRepository.problemLink(db, id: match.problemId) {
            ticket.problemId = problem.id
            ticket.decide(
                "known-error-attached", at: at, detail: "problem \(problem.id): workaround \(match.workaround)",
                ruleId: "intake.known-error-match", rulesVersion: version, causeId: cause.id)
        } else if let fingerprint {
            let incident = IncidentRecord(
                ticketId: ticket.id, fingerprint: fingerprint, priority: classification.priority, openedAt: opened.openedAt)
            // Two instances opening incidents of one fingerprint at once would each see the other's
            // missing and open a problem each: the detection of one fingerprint is serialised.
            try db.lock("itr-router.fingerprint", key: fingerprint.key)
            // One indexed row: the problem this incident would join (the detector's first rule).
            let openProblem = try TicketRepository.oldestOpenProblem(db, fingerprint: fingerprint)
            let openProblems = openProblem.map { [OpenProblem(id: $0.id, fingerprint: fingerprint)] } ?? []
            var recent: [IncidentRecord] = []
            if rules.detector.needsRecentIncidents(incident, openProblems: openProblems) {
                let limit = max(rules.detector.rules.recurrenceThreshold, 1) * 2
                recent = try TicketRepository.recentIncidents(
                    db, fingerprint: fingerprint, openedAt: opened.openedAt, window: rules.detector.rules.recurrenceWindow,
                    excluding: ticket.id, limit: limit)
            }
            let decision = rules.detector.decide(incident: incident, recent: recent, openProblems: openProblems)
            switch decision.outcome {
            case .joinProblem(let id):
                ticket.problemId = id
                let problem = openProblem?.id == id ? openProblem : try TicketRepository.problemLink(db, id: id)
                ticket.decide(
                    "problem-linked", at: at, detail: "joined open problem \(id)", ruleId: decision.ruleId,
                    rulesVersion: version, causeId: cause.id)
                if let problem, problem.state == .knownError, let workaround = problem.workaround {
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

        let clocks = try save(db, &ticket, cause: cause)
        try emit(db, Self.classifiedEvent(ticket, classification), cause: cause, correlation: ticket.id)
        ClassificationMetrics.record(classification)
        try emit(
            db,
            assignedEvent(
                ticket, assignment, priority: classification.priority, clocks: clocks, reason: "rule \(assignment.ruleId)"),
            cause: cause, correlation: ticket.id)

        if let (decision, incidents) = problemToOpen {
            try openProblem(db, decision: decision, incidents: incidents, trigger: ticket, cause: cause)
        }
        return true
    }

    /// Opens a problem for `incidents` (the triggering ticket among them) and links them.
    mutating func openProblem(
        _ db: any SQLTransaction, decision: ProblemDecision, incidents: [String], trigger: TicketRecord, cause: Cause
    ) throws {
        guard let key = trigger.fingerprint else { return }
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
        try problem.save(db)
        let detail = major
            ? "problem \(id) opened for a major incident"
            : "problem \(id) opened: \(incidents.count) incidents with one fingerprint within the window"
        for ticketId in incidents {
            guard var ticket = try load(db, ticketId) else { continue }
            ticket.problemId = id
            ticket.decide(
                "problem-linked", at: factTime(ticket, preferred: cause.time), detail: detail, ruleId: decision.ruleId,
                rulesVersion: decision.rulesVersion, causeId: cause.id)
            try save(db, &ticket, cause: cause)
        }
        try emit(
            db,
            ProblemOpened(
                problemId: id, title: problem.title, fingerprint: problem.fingerprintHash, productLine: trigger.productLine,
                model: trigger.model, component: trigger.component, code: trigger.alarmCode, symptom: problem.symptom,
                trigger: major ? .major : .recurring, ticketIds: incidents),
            cause: cause, correlation: id)
    }

    // MARK: itr.ticket.correlated

    /// Records a repeated alarm folded into the ticket; false when the ticket is unknown.
    public mutating func correlate(_ db: any SQLTransaction, _ correlated: TicketCorrelated, cause: Cause) throws -> Bool {
        guard var ticket = try load(db, correlated.ticketId) else { return false }
        let device = correlated.device.map { " on \($0)" } ?? ""
        ticket.decide(
            "correlated", at: factTime(ticket, preferred: cause.time),
            detail: "alarm \(correlated.alarmCode)\(device) repeated: \(correlated.count) reports, last \(RFC3339.format(correlated.lastSeenAt))\(correlated.cleared ? ", cleared" : "")",
            ruleId: "intake.correlation", rulesVersion: rules.version, causeId: cause.id)
        try save(db, &ticket, cause: cause)
        return true
    }

    // MARK: Helpers

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

    static func minutes(_ seconds: TimeInterval) -> Int { max(1, Int((seconds / 60).rounded())) }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
