import AMQPClient
import Foundation
import ITREvents
import ServiceKit

/// Applies one input event to the defects inside the caller's write transaction: the imperative
/// shell around ``DefectDecider``. Per input it decodes the payload, loads a ``DefectSnapshot``
/// of what the decision reads, asks the pure decider (again, with what a pass names, until it
/// has all it reads) and applies the ``DefectEffects`` through ``SQLTransaction``: the one
/// executor for both engines.
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

    public init(rules: IPDRules) { self.rules = rules }

    /// What became of one input.
    public enum Result: Sendable, Hashable {
        case applied
        /// Never acceptable: dead-letter with this reason.
        case refused(code: String, message: String)
    }

    // MARK: Dispatch

    public func apply(_ event: CloudEvent, _ db: some SQLTransaction, now: Date) throws -> Result {
        let input: DefectInput
        switch Self.input(of: event, now: now) {
        case .failure(let refusal): return .refused(code: refusal.code, message: refusal.message)
        case .success(let decoded): input = decoded
        }
        let effects = try decide(input, cause: CauseContext(event), db, now: now)
        switch effects.outcome {
        case .refused(let code, let message): return .refused(code: code, message: message)
        case .applied:
            try Self.execute(effects, db, now: now)
            return .applied
        }
    }

    /// Emits the deferred update of `id` if its debounce interval is over. Returns whether it did.
    public func flush(defectId id: String, _ db: some SQLTransaction, now: Date) throws -> Bool {
        let effects = try decide(.flush(defectId: id), cause: nil, db, now: now)
        try Self.execute(effects, db, now: now)
        return !effects.events.isEmpty
    }

    /// An input refused before any decision (unknown type, invalid payload).
    struct Refusal: Error {
        var code: String
        var message: String
    }

    /// The decision's input: the payload decoded and validated against the later of wall time
    /// (R&D tools) and the deployment's clock `now` (on an accelerated clock what the router
    /// stamps is ahead of wall time).
    static func input(of event: CloudEvent, now: Date) -> Swift.Result<DefectInput, Refusal> {
        let validationNow = validationNow(deploymentNow: now)
        func decode<P: EventPayload>(_ type: P.Type, _ input: (P) -> DefectInput) -> Swift.Result<DefectInput, Refusal> {
            event.decodePayload(P.self, now: validationNow).map(input).mapError {
                Refusal(code: "invalid-data", message: $0.description)
            }
        }
        switch EventType(rawValue: event.type) {
        case .problemOpened: return decode(ProblemOpened.self, DefectInput.problemOpened)
        case .problemKnownError: return decode(ProblemKnownError.self, DefectInput.problemKnownError)
        case .problemResolved: return decode(ProblemResolved.self, DefectInput.problemResolved)
        case .ticketResolved: return decode(TicketResolved.self, DefectInput.ticketResolved)
        case .slaBreached: return decode(SLABreached.self, DefectInput.slaBreached)
        case .defectStatus: return decode(DefectStatus.self, DefectInput.defectStatus)
        default:
            // Another problem type (`itr.problem.#` from itr.events): nothing to do with it.
            // Anything else (say an unknown type on `defect.<status>`) is refused, so that it is
            // kept in the dead-letter queue with its reason instead of acked without a trace.
            guard event.type.hasPrefix("itr.problem.") else {
                return .failure(Refusal(code: "unknown-type", message: "ipd-feedback does not handle events of type \(event.type)"))
            }
            return .success(.otherProblemEvent)
        }
    }

    // MARK: Deciding and executing

    /// Loads what deciding `input` reads in any case, then asks the decider until the snapshot
    /// holds every read it makes.
    func decide(_ input: DefectInput, cause: CauseContext?, _ db: some SQLTransaction, now: Date) throws -> DefectEffects {
        var snapshot = DefectSnapshot()
        try snapshot.load(DefectDecider.reads(for: input), from: db)
        return try snapshot.decide(load: { try $0.load($1, from: db) }) {
            try DefectDecider.decide(input, cause: cause, $0, rules: rules, now: now)
        }
    }

    /// Applies `effects` in a fixed order: re-points, problems, tickets, defects (each in the
    /// order the decision first touched it), then the events into the outbox in order.
    static func execute(_ effects: DefectEffects, _ db: some SQLTransaction, now: Date) throws {
        for repoint in effects.repoints {
            try DefectStore.repoint(db, from: repoint.from, to: repoint.to)
        }
        for problem in effects.problems { try DefectStore.save(db, problem) }
        for ticket in effects.tickets { try DefectStore.save(db, ticket) }
        for saved in effects.defects { try DefectStore.save(db, saved.defect, score: saved.score) }
        for emission in effects.events {
            try enqueue(emission, db, now: now)
        }
    }

    /// Writes one feed event to the outbox (routing key = type), caused by the defect's last change.
    static func enqueue(_ emission: DefectEffects.Emission, _ db: some SQLTransaction, now: Date) throws {
        var event = try CloudEvent(source: source, payload: emission.payload, subject: emission.defectId, time: emission.time)
        if let cause = emission.cause {
            event.causationID = cause.eventId
            event.traceparent = cause.traceparent
            event.tracestate = cause.tracestate
        }
        event.correlationID = emission.defectId
        try Outbox.enqueue(
            db, message: AMQPCloudEventCodec.encode(event, now: now), exchange: ITRNames.eventsExchange,
            routingKey: emission.type.rawValue)
    }
}
