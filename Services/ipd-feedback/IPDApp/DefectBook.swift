import AMQPClient
import Foundation
import GRDB
import ITREvents
import ServiceKit

/// Applies one input event to the defects inside the caller's write transaction and writes
/// the events it causes to the outbox: the one place where the pure domain (`DefectPolicy`,
/// `DefectTransition`, `Defect`) meets the database.
public struct DefectBook: Sendable {
    /// The CloudEvents `source` of everything this service emits.
    public static let source = "//itr/ipd-feedback"
    /// The lock every transaction that applies events or flushes updates takes first: instances
    /// sharing a PostgreSQL database change the book one at a time, so a defect per fingerprint
    /// is created once and no problem, ticket or defect update is lost when two instances handle
    /// events of one defect at once. The volume (product-caused problems) is far below what one
    /// writer takes; the instances are there so that one survives the other.
    public static let lockName = "ipd-feedback.defect-book"

    public var rules: IPDRules
    public var policy: DefectPolicy { DefectPolicy(rules: rules) }

    public init(rules: IPDRules) { self.rules = rules }

    /// What became of one input.
    public enum Result: Sendable, Hashable {
        case applied
        /// Never acceptable: dead-letter with this reason.
        case refused(code: String, message: String)
    }

    // MARK: Dispatch

    public func apply(_ event: CloudEvent, _ db: some SQLTransaction, now: Date) throws -> Result {
        switch EventType(rawValue: event.type) {
        case .problemOpened:
            return try decode(event, now: now, ProblemOpened.self) { try problemOpened($0, event, db, now: now) }
        case .problemKnownError:
            return try decode(event, now: now, ProblemKnownError.self) { known in
                if var problem = try DefectStore.problem(db, id: known.problemId) {
                    problem.rootCause = known.rootCause
                    try DefectStore.save(db, problem)
                }
                return .applied
            }
        case .problemResolved:
            return try decode(event, now: now, ProblemResolved.self) { resolved in
                if var problem = try DefectStore.problem(db, id: resolved.problemId) {
                    problem.resolved = true
                    problem.rootCause = resolved.rootCause ?? problem.rootCause
                    try DefectStore.save(db, problem)
                }
                return .applied
            }
        case .ticketResolved:
            return try decode(event, now: now, TicketResolved.self) { try ticketResolved($0, event, db, now: now) }
        case .slaBreached:
            return try decode(event, now: now, SLABreached.self) { try slaBreached($0, event, db, now: now) }
        case .defectStatus:
            return try decode(event, now: now, DefectStatus.self) { try defectStatus($0, event, db, now: now) }
        default:
            // Another problem type (`itr.problem.#` from itr.events): nothing to do with it.
            // Anything else (say an unknown type on `defect.<status>`) is refused, so that it is
            // kept in the dead-letter queue with its reason instead of acked without a trace.
            guard event.type.hasPrefix("itr.problem.") else {
                return .refused(code: "unknown-type", message: "ipd-feedback does not handle events of type \(event.type)")
            }
            return .applied
        }
    }

    /// Decodes and validates the payload against the later of wall time (R&D tools) and the
    /// deployment's clock `now` (on an accelerated clock what the router stamps is ahead of wall time).
    private func decode<P: EventPayload>(
        _ event: CloudEvent, now: Date, _ type: P.Type, _ body: (P) throws -> Result
    ) throws -> Result {
        switch event.decodePayload(P.self, now: validationNow(deploymentNow: now)) {
        case .failure(let failure): return .refused(code: "invalid-data", message: failure.description)
        case .success(let payload): return try body(payload)
        }
    }

    // MARK: Problems and tickets

    func problemOpened(_ opened: ProblemOpened, _ event: CloudEvent, _ db: some SQLTransaction, now: Date) throws -> Result {
        if var known = try DefectStore.problem(db, id: opened.problemId) {
            // The same problem announced again (e.g. re-opened): keep its defect, refresh the rest.
            let defectId = known.defectId
            known = ProblemRecord(opened)
            known.defectId = defectId
            try DefectStore.save(db, known)
            return .applied
        }
        let problem = ProblemRecord(opened)
        let waiting = try DefectStore.waitingTickets(db, problemId: opened.problemId)
        if waiting.isEmpty {
            try DefectStore.save(db, problem)  // not known to be product-caused yet
            return .applied
        }
        try fold(problem: problem, tickets: waiting, cause: event, db, now: now)
        return .applied
    }

    func ticketResolved(_ resolved: TicketResolved, _ event: CloudEvent, _ db: some SQLTransaction, now: Date) throws -> Result {
        guard resolved.qualityResponsibility.isProductCause else { return .applied }
        var ticket = try DefectStore.ticket(db, id: resolved.ticketId) ?? TicketRecord(ticketId: resolved.ticketId)
        ticket.resolved = resolved
        if let problemId = resolved.problemId { ticket.problemId = problemId }
        if let problemId = ticket.problemId {
            guard let problem = try DefectStore.problem(db, id: problemId) else {
                try DefectStore.save(db, ticket)  // waits for itr.problem.opened
                return .applied
            }
            try fold(problem: problem, tickets: [ticket], cause: event, db, now: now)
            return .applied
        }
        // A product-caused ticket without a problem: its own root cause text is the symptom.
        let product = resolved.product
        let fingerprint = DefectFingerprint(
            productLine: product.line, model: product.model, component: product.component, code: nil,
            symptomText: resolved.rootCause ?? resolved.resolutionCode, recipe: rules.fingerprint)
        var defect = try defect(for: fingerprint, db, productLine: product.line, model: product.model,
                                component: product.component, code: nil)
        try absorb(&ticket, into: &defect, db)
        try changed(&defect, cause: event, db, now: now)
        return .applied
    }

    func slaBreached(_ breach: SLABreached, _ event: CloudEvent, _ db: some SQLTransaction, now: Date) throws -> Result {
        var ticket = try DefectStore.ticket(db, id: breach.ticketId) ?? TicketRecord(ticketId: breach.ticketId)
        ticket.slaBreaches += 1
        try DefectStore.save(db, ticket)
        if let id = ticket.defectId, var defect = try DefectStore.defect(db, id: id) {
            defect.slaBreaches += 1
            try changed(&defect, cause: event, db, now: now)
        }
        return .applied
    }

    /// Folds a product-caused problem (and the given tickets of it) into its defect.
    func fold(problem: ProblemRecord, tickets: [TicketRecord], cause: CloudEvent, _ db: some SQLTransaction, now: Date) throws {
        var problem = problem
        var defect: Defect
        if let id = problem.defectId, let existing = try DefectStore.defect(db, id: id) {
            defect = existing
        } else {
            let fingerprint = DefectFingerprint(
                productLine: problem.productLine, model: problem.model, component: problem.component, code: problem.code,
                symptomText: problem.symptom ?? problem.title, recipe: rules.fingerprint)
            defect = try self.defect(
                for: fingerprint, db, productLine: problem.productLine, model: problem.model,
                component: problem.component, code: problem.code)
            problem.defectId = defect.id
            defect.absorb(problemId: problem.problemId, ticketIds: problem.ticketIds)
            try DefectStore.save(db, problem)
        }
        for var ticket in tickets {
            try absorb(&ticket, into: &defect, db)
        }
        try changed(&defect, cause: cause, db, now: now)
    }

    /// The defect a fingerprint folds into (its target when merged), or a new one.
    func defect(
        for fingerprint: DefectFingerprint, _ db: some SQLTransaction, productLine: String, model: String?, component: String?,
        code: String?
    ) throws -> Defect {
        let id = try DefectStore.defectId(db, fingerprint: fingerprint.digest) ?? fingerprint.defectId
        if let existing = try DefectStore.defect(db, id: id) { return existing }
        return Defect(id: id, fingerprint: fingerprint, productLine: productLine, model: model, component: component, code: code)
    }

    func absorb(_ ticket: inout TicketRecord, into defect: inout Defect, _ db: some SQLTransaction) throws {
        var incident = ticket.incident
        if ticket.defectId != nil { incident.slaBreaches = 0 }  // already counted (resolved again)
        defect.absorb(incident)
        ticket.defectId = defect.id
        try DefectStore.save(db, ticket)
    }

    // MARK: R&D decisions

    func defectStatus(_ decision: DefectStatus, _ event: CloudEvent, _ db: some SQLTransaction, now: Date) throws -> Result {
        guard var defect = try DefectStore.defect(db, id: decision.defectId), defect.isReported else {
            return .refused(code: "unknown-defect", message: "no reported defect \(decision.defectId)")
        }
        switch DefectTransition.apply(decision, to: &defect) {
        case .refused(let code, let message):
            return .refused(code: code, message: message)
        case .unchanged:
            return .applied
        case .changed(let type):
            defect.cause = CauseContext(event)
            if defect.status == .duplicate, let targetId = defect.duplicateOf {
                guard var target = try DefectStore.defect(db, id: targetId) else {
                    return .refused(code: "unknown-defect", message: "duplicate target \(targetId) does not exist")
                }
                if case .refused(let code, let message)? = DefectTransition.canMerge(into: target) {
                    return .refused(code: code, message: message)
                }
                target.merge(defect)
                target.cause = CauseContext(event)
                try DefectStore.repoint(db, from: defect.id, to: target.id)
                try emit(DefectUpdatedKind.self, &defect, db, now: now)
                if target.status == .fixReleased {
                    try emit(DefectFixedKind.self, &target, db, now: now)  // the merged problems are fixed too
                } else {
                    try emit(DefectUpdatedKind.self, &target, db, now: now)
                }
                try save(target, db)
            } else if type == .defectFixed {
                try emit(DefectFixedKind.self, &defect, db, now: now)
            } else {
                try emit(DefectUpdatedKind.self, &defect, db, now: now)
            }
            try save(defect, db)
            return .applied
        }
    }

    // MARK: Emitting

    /// After the defect's impact changed: report, update, defer or nothing (``DefectPolicy``); saves it.
    func changed(_ defect: inout Defect, cause: CloudEvent, _ db: some SQLTransaction, now: Date) throws {
        defect.cause = CauseContext(cause)
        switch policy.afterChange(defect, now: now) {
        case .none: break
        case .report:
            defect.reportedAt = now
            try emit(DefectReportedKind.self, &defect, db, now: now)
        case .update:
            try emit(DefectUpdatedKind.self, &defect, db, now: now)
        case .deferUpdate:
            defect.pendingUpdate = true
        }
        try save(defect, db)
    }

    /// Emits the deferred update of `id` if its debounce interval is over. Returns whether it did.
    public func flush(defectId id: String, _ db: some SQLTransaction, now: Date) throws -> Bool {
        guard var defect = try DefectStore.defect(db, id: id) else { return false }
        guard policy.isFlushDue(defect, now: now) else {
            if defect.pendingUpdate, defect.status == .rejected || defect.status == .duplicate {
                defect.pendingUpdate = false
                try save(defect, db)
            }
            return false
        }
        try emit(DefectUpdatedKind.self, &defect, db, now: now)
        try save(defect, db)
        return true
    }

    func save(_ defect: Defect, _ db: some SQLTransaction) throws {
        try DefectStore.save(db, defect, score: defect.snapshot(weights: rules.score).score)
    }

    /// Writes the defect's snapshot as `Kind` to the outbox (routing key = type) and records it as emitted.
    func emit<Kind: EventKind>(_ kind: Kind.Type, _ defect: inout Defect, _ db: some SQLTransaction, now: Date) throws {
        let payload = defect.payload(kind, weights: rules.score, now: now)
        var event = try CloudEvent(source: Self.source, payload: payload, subject: defect.id, time: now)
        if let cause = defect.cause {
            event.causationID = cause.eventId
            event.traceparent = cause.traceparent
            event.tracestate = cause.tracestate
        }
        event.correlationID = defect.id
        try Outbox.enqueue(
            db, message: AMQPCloudEventCodec.encode(event, now: now), exchange: ITRNames.eventsExchange,
            routingKey: Kind.eventType.rawValue)
        defect.lastEmittedAt = now
        defect.lastEmitted = defect.snapshot(weights: rules.score)
        defect.pendingUpdate = false
        defect.regressionPending = nil
    }
}
