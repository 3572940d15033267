import AMQPClient
import Foundation
import ITRConfig
import ITREvents
import ServiceKit

/// Applies one input to the store inside the caller's write transaction: loads the
/// ``RouterSnapshot`` the decision reads (taking the locks that serialise the instances sharing a
/// PostgreSQL database), asks ``RouterDecider`` for the ``RouterEffects`` and applies them: state
/// changes, history with the rule behind each decision, due moments and the events to publish
/// (outbox), all or nothing. The one place where the router's decisions meet the store, for both
/// engines. One engine per transaction, with one rules snapshot and one `now`.
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

    // MARK: Deciding and applying

    /// Decides `input` on a snapshot loaded from `db` and applies the effects; throws what the
    /// decision throws (an ``ActionRefusal`` with nothing written).
    @discardableResult
    public mutating func apply(_ db: any SQLTransaction, _ input: RouterInput, cause: Cause) throws -> RouterEffects {
        var snapshot = RouterSnapshot()
        try snapshot.load(RouterDecider.reads(for: input), from: db, policy: rules.policy)
        let effects = try snapshot.decide(load: { try $0.load($1, from: db, policy: rules.policy) }) {
            try RouterDecider.decide(input, cause: cause, $0, rules: rules, now: now)
        }
        try execute(db, effects, cause: cause)
        return effects
    }

    /// Applies a decision's effects: problems, tickets (each saved once, its due moments planned),
    /// classification and grading changes, corrections, re-plans, then the events in order.
    mutating func execute(_ db: any SQLTransaction, _ effects: RouterEffects, cause: Cause) throws {
        for problem in effects.problems { try problem.save(db) }
        for var ticket in effects.tickets {
            let clocks = effects.clocks[ticket.id] ?? ticket.clocks(rules: rules, now: TicketRepository.asOf(ticket, now: now))
            if let due = try TicketRepository.save(
                db, &ticket, rules: rules, now: now, causeId: cause.id, traceparent: cause.traceparent, clocks: clocks)
            {
                earliestDue = min(earliestDue ?? due, due)
            }
        }
        for id in effects.classificationChanges {
            if let ticket = effects.ticket(id) { try TicketRepository.saveClassification(db, ticket) }
        }
        for id in effects.gradingChanges {
            if let ticket = effects.ticket(id) { try TicketRepository.saveGrading(db, ticket) }
        }
        for correction in effects.corrections { try TicketRepository.saveCorrection(db, correction) }
        for (ticket, after) in effects.replans {
            if let due = try TicketRepository.replan(db, ticket, rules: rules, now: now, after: after, cause: cause) {
                earliestDue = min(earliestDue ?? due, due)
            }
        }
        for event in effects.events { try emit(db, event.payload, cause: cause, correlation: event.correlation) }
        for classification in effects.classifications { ClassificationMetrics.record(classification) }
    }

    /// `itr.ticket.opened`: true when the ticket was opened, false when it exists (nothing done).
    @discardableResult
    public mutating func open(_ db: any SQLTransaction, _ opened: TicketOpened, cause: Cause) throws -> Bool {
        try apply(db, .open(opened, RouterDecider.classify(opened, rules: rules)), cause: cause).outcome == .applied
    }

    /// `itr.ticket.correlated`: false when the ticket is unknown.
    public mutating func correlate(_ db: any SQLTransaction, _ correlated: TicketCorrelated, cause: Cause) throws -> Bool {
        try apply(db, .correlate(correlated), cause: cause).outcome == .applied
    }

    /// A service-desk action; throws ``ActionRefusal`` (nothing written) when it is refused.
    public mutating func act(_ db: any SQLTransaction, _ action: ITREvents.TicketAction, cause: Cause) throws {
        try apply(db, .act(action), cause: cause)
    }

    /// A due moment: true when it held and something was emitted.
    @discardableResult
    public mutating func fire(
        _ db: any SQLTransaction, ticketId: String, kind: PlannedMoment.Kind, dueAt: Date, cause: Cause
    ) throws -> Bool {
        try apply(db, .fire(ticketId: ticketId, kind: kind, dueAt: dueAt), cause: cause).outcome == .applied
    }

    /// `itr.defect.fixed`: the problems it resolved.
    @discardableResult
    public mutating func defectFixed(_ db: any SQLTransaction, _ fixed: DefectFixed, cause: Cause) throws -> [String] {
        try apply(db, .defectFixed(fixed), cause: cause).resolvedProblems
    }

    // MARK: Emitting

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
}
