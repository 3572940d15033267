import Foundation
import ITREvents

/// The defect book's decisions, apart from storage: `decide(input, snapshot, rules, now) -> effects`.
/// Pure: it reads only the ``DefectSnapshot`` it is given (throwing ``DefectSnapshot/Needs`` for
/// what is not in it) and returns the ``DefectEffects`` ``DefectBook`` applies. Nothing here
/// touches a database, a clock or the network: the domain (``DefectPolicy``,
/// ``DefectTransition``, ``Defect``) is combined here, so the same decisions run on SQLite and
/// PostgreSQL and are tested without either.
public struct DefectDecider {
    public let rules: IPDRules
    public let now: Date
    let snapshot: DefectSnapshot
    /// The input event, for the causation of what it changes (nil: the flush, whose update
    /// carries the cause of the defect's last change).
    let cause: CauseContext?
    var effects = DefectEffects()
    var policy: DefectPolicy { DefectPolicy(rules: rules) }

    /// Decides what `input` (caused by `cause`) changes, given `snapshot`. Throws
    /// ``DefectSnapshot/Needs`` when the decision reads something the snapshot does not hold.
    public static func decide(
        _ input: DefectInput, cause: CauseContext?, _ snapshot: DefectSnapshot, rules: IPDRules, now: Date
    ) throws(DefectSnapshot.Needs) -> DefectEffects {
        var decider = DefectDecider(rules: rules, now: now, snapshot: snapshot, cause: cause)
        let outcome: DefectEffects.Outcome
        switch input {
        case .problemOpened(let opened): outcome = try decider.problemOpened(opened)
        case .problemKnownError(let known):
            outcome = try decider.updateProblem(known.problemId) { $0.rootCause = known.rootCause }
        case .problemResolved(let resolved):
            outcome = try decider.updateProblem(resolved.problemId) { problem in
                problem.resolved = true
                problem.rootCause = resolved.rootCause ?? problem.rootCause
            }
        case .ticketResolved(let resolved): outcome = try decider.ticketResolved(resolved)
        case .slaBreached(let breach): outcome = try decider.slaBreached(breach)
        case .defectStatus(let decision): outcome = try decider.defectStatus(decision)
        case .flush(let id): outcome = try decider.flush(defectId: id)
        case .otherProblemEvent: outcome = .applied
        }
        if case .refused(let code, let message) = outcome { return .refused(code: code, message: message) }
        return decider.effects
    }

    /// What deciding `input` reads in any case: loaded before the first pass, so that most inputs
    /// are decided in one or two.
    public static func reads(for input: DefectInput) -> [DefectSnapshot.Read] {
        switch input {
        case .problemOpened(let opened): [.problem(opened.problemId), .waitingTickets(problem: opened.problemId)]
        case .problemKnownError(let known): [.problem(known.problemId)]
        case .problemResolved(let resolved): [.problem(resolved.problemId)]
        case .ticketResolved(let resolved):
            resolved.qualityResponsibility.isProductCause
                ? [.ticket(resolved.ticketId)] + (resolved.problemId.map { [.problem($0)] } ?? []) : []
        case .slaBreached(let breach): [.ticket(breach.ticketId)]
        case .defectStatus(let decision):
            [.defect(decision.defectId)] + (decision.status == .duplicate ? decision.duplicateOf.map { [.defect($0)] } ?? [] : [])
        case .flush(let id): [.defect(id)]
        case .otherProblemEvent: []
        }
    }

    // MARK: Reading (this decision's own changes first, then the snapshot)

    func problem(_ id: String) throws(DefectSnapshot.Needs) -> ProblemRecord? {
        if let problem = effects.problemSaves.latest(id) { return problem }
        return try snapshot.problem(id)
    }

    func ticket(_ id: String) throws(DefectSnapshot.Needs) -> TicketRecord? {
        if let ticket = effects.ticketSaves.latest(id) { return ticket }
        return try snapshot.ticket(id)
    }

    func defect(_ id: String) throws(DefectSnapshot.Needs) -> Defect? {
        if let saved = effects.defectSaves.latest(id) { return saved.defect }
        return try snapshot.defect(id)
    }

    mutating func save(_ problem: ProblemRecord) { effects.problemSaves.save(problem, id: problem.problemId) }

    mutating func save(_ ticket: TicketRecord) { effects.ticketSaves.save(ticket, id: ticket.ticketId) }

    mutating func save(_ defect: Defect) {
        effects.defectSaves.save(.init(defect: defect, score: defect.snapshot(weights: rules.score).score), id: defect.id)
    }

    // MARK: Problems and tickets

    mutating func problemOpened(_ opened: ProblemOpened) throws(DefectSnapshot.Needs) -> DefectEffects.Outcome {
        if let known = try self.problem(opened.problemId) {
            // The same problem announced again (e.g. re-opened): keep its defect, refresh the rest.
            var refreshed = ProblemRecord(opened)
            refreshed.defectId = known.defectId
            save(refreshed)
            return .applied
        }
        let problem = ProblemRecord(opened)
        let waiting = try snapshot.waitingTickets(problem: opened.problemId)
        if waiting.isEmpty {
            save(problem)  // not known to be product-caused yet
            return .applied
        }
        try fold(problem: problem, tickets: waiting)
        return .applied
    }

    /// A later event about a known problem (known error, resolved); nothing for an unknown one.
    mutating func updateProblem(
        _ id: String, _ change: (inout ProblemRecord) -> Void
    ) throws(DefectSnapshot.Needs) -> DefectEffects.Outcome {
        if var problem = try self.problem(id) {
            change(&problem)
            save(problem)
        }
        return .applied
    }

    mutating func ticketResolved(_ resolved: TicketResolved) throws(DefectSnapshot.Needs) -> DefectEffects.Outcome {
        guard resolved.qualityResponsibility.isProductCause else { return .applied }
        var ticket = try self.ticket(resolved.ticketId) ?? TicketRecord(ticketId: resolved.ticketId)
        ticket.resolved = resolved
        if let problemId = resolved.problemId { ticket.problemId = problemId }
        if let problemId = ticket.problemId {
            guard let problem = try self.problem(problemId) else {
                save(ticket)  // waits for itr.problem.opened
                return .applied
            }
            try fold(problem: problem, tickets: [ticket])
            return .applied
        }
        // A product-caused ticket without a problem: its own root cause text is the symptom.
        let product = resolved.product
        let fingerprint = DefectFingerprint(
            productLine: product.line, model: product.model, component: product.component, code: nil,
            symptomText: resolved.rootCause ?? resolved.resolutionCode, recipe: rules.fingerprint)
        var defect = try self.defect(
            for: fingerprint, productLine: product.line, model: product.model, component: product.component, code: nil)
        absorb(&ticket, into: &defect)
        changed(&defect)
        return .applied
    }

    mutating func slaBreached(_ breach: SLABreached) throws(DefectSnapshot.Needs) -> DefectEffects.Outcome {
        var ticket = try self.ticket(breach.ticketId) ?? TicketRecord(ticketId: breach.ticketId)
        ticket.slaBreaches += 1
        save(ticket)
        if let id = ticket.defectId, var defect = try self.defect(id) {
            defect.slaBreaches += 1
            changed(&defect)
        }
        return .applied
    }

    /// Folds a product-caused problem (and the given tickets of it) into its defect.
    mutating func fold(problem: ProblemRecord, tickets: [TicketRecord]) throws(DefectSnapshot.Needs) {
        var problem = problem
        var defect: Defect
        if let id = problem.defectId, let existing = try self.defect(id) {
            defect = existing
        } else {
            let fingerprint = DefectFingerprint(
                productLine: problem.productLine, model: problem.model, component: problem.component, code: problem.code,
                symptomText: problem.symptom ?? problem.title, recipe: rules.fingerprint)
            defect = try self.defect(
                for: fingerprint, productLine: problem.productLine, model: problem.model, component: problem.component,
                code: problem.code)
            problem.defectId = defect.id
            defect.absorb(problemId: problem.problemId, ticketIds: problem.ticketIds)
            save(problem)
        }
        for var ticket in tickets {
            absorb(&ticket, into: &defect)
        }
        changed(&defect)
    }

    /// The defect a fingerprint folds into (its target when merged), or a new one.
    func defect(
        for fingerprint: DefectFingerprint, productLine: String, model: String?, component: String?, code: String?
    ) throws(DefectSnapshot.Needs) -> Defect {
        let id = try snapshot.defectId(fingerprint: fingerprint.digest) ?? fingerprint.defectId
        if let existing = try defect(id) { return existing }
        return Defect(id: id, fingerprint: fingerprint, productLine: productLine, model: model, component: component, code: code)
    }

    mutating func absorb(_ ticket: inout TicketRecord, into defect: inout Defect) {
        var incident = ticket.incident
        if ticket.defectId != nil { incident.slaBreaches = 0 }  // already counted (resolved again)
        defect.absorb(incident)
        ticket.defectId = defect.id
        save(ticket)
    }

    // MARK: R&D decisions

    mutating func defectStatus(_ decision: DefectStatus) throws(DefectSnapshot.Needs) -> DefectEffects.Outcome {
        guard var defect = try self.defect(decision.defectId), defect.isReported else {
            return .refused(code: "unknown-defect", message: "no reported defect \(decision.defectId)")
        }
        switch DefectTransition.apply(decision, to: &defect) {
        case .refused(let code, let message):
            return .refused(code: code, message: message)
        case .unchanged:
            return .applied
        case .changed(let type):
            defect.cause = cause
            if defect.status == .duplicate, let targetId = defect.duplicateOf {
                guard var target = try self.defect(targetId) else {
                    return .refused(code: "unknown-defect", message: "duplicate target \(targetId) does not exist")
                }
                if case .refused(let code, let message)? = DefectTransition.canMerge(into: target) {
                    return .refused(code: code, message: message)
                }
                target.merge(defect)
                target.cause = cause
                effects.repoints.append(.init(from: defect.id, to: target.id))
                emit(DefectUpdatedKind.self, &defect)
                if target.status == .fixReleased {
                    emit(DefectFixedKind.self, &target)  // the merged problems are fixed too
                } else {
                    emit(DefectUpdatedKind.self, &target)
                }
                save(target)
            } else if type == .defectFixed {
                emit(DefectFixedKind.self, &defect)
            } else {
                emit(DefectUpdatedKind.self, &defect)
            }
            save(defect)
            return .applied
        }
    }

    // MARK: Emitting

    /// After the defect's impact changed: report, update, defer or nothing (``DefectPolicy``); saves it.
    mutating func changed(_ defect: inout Defect) {
        defect.cause = cause
        switch policy.afterChange(defect, now: now) {
        case .none: break
        case .report:
            defect.reportedAt = now
            emit(DefectReportedKind.self, &defect)
        case .update:
            emit(DefectUpdatedKind.self, &defect)
        case .deferUpdate:
            defect.pendingUpdate = true
        }
        save(defect)
    }

    /// The deferred update of `id` if its debounce interval is over (a deferred update of a
    /// defect rejected or merged meanwhile is dropped).
    mutating func flush(defectId id: String) throws(DefectSnapshot.Needs) -> DefectEffects.Outcome {
        guard var defect = try self.defect(id) else { return .applied }
        guard policy.isFlushDue(defect, now: now) else {
            if defect.pendingUpdate, defect.status == .rejected || defect.status == .duplicate {
                defect.pendingUpdate = false
                save(defect)
            }
            return .applied
        }
        emit(DefectUpdatedKind.self, &defect)
        save(defect)
        return .applied
    }

    /// Emits the defect's snapshot as `Kind` and records it as emitted.
    mutating func emit<Kind: EventKind>(_ kind: Kind.Type, _ defect: inout Defect) {
        effects.events.append(
            .init(payload: defect.payload(kind, weights: rules.score, now: now), defectId: defect.id, cause: defect.cause, time: now))
        defect.lastEmittedAt = now
        defect.lastEmitted = defect.snapshot(weights: rules.score)
        defect.pendingUpdate = false
        defect.regressionPending = nil
    }
}
