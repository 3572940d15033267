import AMQPClient
import Foundation
import ITREvents
import Logging
import ServiceKit

/// The consumer of `itr-router.inbox`: `itr.ticket.opened`, `itr.ticket.correlated`,
/// `itr.ticket.action` and `itr.defect.fixed`. A batch is applied in ONE write transaction
/// (inbox claims, state, history, due moments, outbox rows); then the scheduler is told about
/// the earliest moment stored.
///
/// Dispositions: a duplicate (`source` + `id` in the inbox) is acked without effect; a refused
/// action emits `itr.ticket.action-rejected` and is `.invalid` (kept in `itr-router.inbox.dlq`
/// with its reason; a redelivery of it is refused again); an event for a ticket not stored yet is
/// retried once (it may race its `itr.ticket.opened`), then refused. An event refused for what it
/// is (unreadable data, an unexpected type, an unknown ticket) leaves no inbox claim: a corrected
/// replay with the same `source` + `id` is processed, not taken for a duplicate.
public struct RouterHandler: EventHandler {
    public let store: SQLStore
    public let rules: RulesHolder
    public let clock: any RouterClock
    public let scheduler: DueScheduler?
    public let logger: Logger

    public init(
        store: SQLStore, rules: RulesHolder, clock: any RouterClock, scheduler: DueScheduler?,
        logger: Logger = Logger(label: "router-handler")
    ) {
        self.store = store
        self.rules = rules
        self.clock = clock
        self.scheduler = scheduler
        self.logger = logger
    }

    public func handle(_ batch: [InboundMessage]) async throws -> [Disposition] {
        let rules = self.rules.current
        let now = clock.now()
        let logger = self.logger
        let (dispositions, earliest) = try await store.write { db -> ([Disposition], Date?) in
            var engine = RouterEngine(rules: rules, now: now)
            var dispositions: [Disposition] = []
            dispositions.reserveCapacity(batch.count)
            for inbound in batch {
                dispositions.append(try Self.handle(db, inbound, engine: &engine, logger: logger))
            }
            return (dispositions, engine.earliestDue)
        }
        if let earliest { scheduler?.scheduled(earliest) }
        return dispositions
    }

    /// The actor of an AMQP action: the desk identity `access.yaml` maps the message's
    /// broker-validated `user_id` to (``Actor/bound(to:claimed:)``); refused without a mapped user
    /// (`unauthorized-actor`) or for an action kind the entry does not allow (`action-not-allowed`).
    static func brokerActor(of inbound: InboundMessage, _ action: ITREvents.TicketAction, rules: RouterRules) throws -> Actor {
        let user = inbound.message.properties.userID
        guard let entry = rules.brokerActors.entry(forUser: user) else {
            throw ActionRefusal(
                code: "unauthorized-actor",
                message: user.map { "broker user \($0) is not a desk actor in access.yaml (brokerActors)" }
                    ?? "a ticket action over AMQP needs the user_id property (the broker checks it against the connection's user)",
                status: 403)
        }
        guard entry.allows(action.action) else {
            throw ActionRefusal(
                code: "action-not-allowed",
                message: "broker user \(entry.user) (\(entry.actor)) may not send \(action.action.rawValue) (access.yaml actions)",
                status: 403)
        }
        return Actor.bound(to: entry.actor, claimed: action.actor)
    }

    static func handle(_ db: any SQLTransaction, _ inbound: InboundMessage, engine: inout RouterEngine, logger: Logger) throws -> Disposition {
        let event: CloudEvent
        do {
            event = try AMQPCloudEventCodec.decode(inbound.message)
        } catch {
            return .invalid(reasonCode: error.code.rawValue, message: error.message)
        }
        // Opened tickets and fixed defects are never retried: the claim comes first (one statement;
        // a duplicate is a claim that changes nothing, rolled back with the rest on error), and is
        // released again below when the event turns out invalid.
        let claimedFirst = event.type == EventType.ticketOpened.rawValue || event.type == EventType.defectFixed.rawValue
        if claimedFirst {
            if try !Inbox.claim(db, source: event.source, id: event.id) { return .duplicate }
        } else if try Inbox.contains(db, source: event.source, id: event.id) {
            if let row = try db.fetchOne(
                "SELECT reason_code, message FROM rejected_actions WHERE source = ? AND id = ?",
                [.text(event.source), .text(event.id)])
            {
                return .invalid(reasonCode: try row.string(0), message: try row.string(1))
            }
            return .duplicate
        }
        let cause = Cause(event)
        let validationNow = ServiceKit.validationNow(deploymentNow: engine.now)
        // Built only for the rare lines logged per event (nothing is logged for a routine one).
        var ticketId: String?
        func metadata(_ extra: Logger.Metadata = [:]) -> Logger.Metadata {
            var metadata: Logger.Metadata = ["event_id": "\(event.id)", "event_type": "\(event.type)"]
            if let trace = event.traceparent { metadata["trace_id"] = "\(trace)" }
            if let ticketId { metadata["ticket_id"] = "\(ticketId)" }
            return metadata.merging(extra) { $1 }
        }

        let disposition: Disposition
        // A refused action took effect (`itr.ticket.action-rejected`, the stored refusal): it is
        // claimed, so a redelivery gets the same refusal and no second event.
        var refusalRecorded = false
        switch EventType(rawValue: event.type) {
        case .ticketOpened:
            switch event.decodePayload(TicketOpened.self, now: validationNow) {
            case .failure(let failure):
                disposition = .invalid(reasonCode: "invalid-data", message: failure.description)
            case .success(let opened):
                ticketId = opened.ticketId
                let created = try engine.open(db, opened, cause: cause)
                if !created { logger.info("ticket already open; nothing to do", metadata: metadata()) }
                disposition = .processed
            }

        case .ticketCorrelated:
            switch event.decodePayload(TicketCorrelated.self, now: validationNow) {
            case .failure(let failure):
                disposition = .invalid(reasonCode: "invalid-data", message: failure.description)
            case .success(let correlated):
                if try engine.correlate(db, correlated, cause: cause) {
                    disposition = .processed
                } else if inbound.deliveryCount < 1 {
                    return .retry
                } else {
                    disposition = .invalid(reasonCode: "unknown-ticket", message: "no ticket \(correlated.ticketId)")
                }
            }

        case .ticketAction:
            switch event.decodePayload(ITREvents.TicketAction.self, now: validationNow) {
            case .failure(let failure):
                disposition = .invalid(reasonCode: "invalid-action", message: failure.description)
            case .success(var action):
                ticketId = action.ticketId
                do {
                    action.actor = try Self.brokerActor(of: inbound, action, rules: engine.rules)
                    try engine.act(db, action, cause: cause)
                    disposition = .processed
                } catch let refusal as ActionRefusal {
                    if refusal.code == "unknown-ticket", inbound.deliveryCount < 1 { return .retry }
                    logger.info("action refused", metadata: metadata(["reason": "\(refusal)"]))
                    try engine.emit(
                        db,
                        TicketActionRejected(
                            ticketId: action.ticketId, action: action.action.rawValue, reasonCode: refusal.code,
                            message: refusal.message, actionId: event.id),
                        cause: cause, correlation: action.ticketId)
                    try db.execute(
                        """
                        INSERT INTO rejected_actions (source, id, reason_code, message) VALUES (?, ?, ?, ?)
                        ON CONFLICT (source, id) DO UPDATE SET reason_code = excluded.reason_code, message = excluded.message
                        """,
                        [.text(event.source), .text(event.id), .text(refusal.code), .text(refusal.message)])
                    refusalRecorded = true
                    disposition = .invalid(reasonCode: refusal.code, message: refusal.message)
                }
            }

        case .defectFixed:
            switch event.decodePayload(DefectFixed.self, now: validationNow) {
            case .failure(let failure):
                disposition = .invalid(reasonCode: "invalid-data", message: failure.description)
            case .success(let fixed):
                let resolved = try engine.defectFixed(db, fixed, cause: cause)
                logger.info("defect fixed", metadata: metadata(["problems": "\(resolved)"]))
                disposition = .processed
            }

        default:
            disposition = .invalid(reasonCode: "unexpected-type", message: "itr-router does not handle \(event.type)")
        }
        // Claimed: what took effect. Invalid events leave no claim.
        let tookEffect = refusalRecorded || disposition == .processed
        if tookEffect, !claimedFirst {
            _ = try Inbox.claim(db, source: event.source, id: event.id)
        } else if !tookEffect, claimedFirst {
            try Inbox.release(db, source: event.source, id: event.id)
        }
        return disposition
    }
}
