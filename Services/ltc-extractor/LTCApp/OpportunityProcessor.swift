import AMQPClient
import Foundation
import ITREvents
import Logging
import ServiceKit

/// The extractor's consumer logic: each delivery is decoded, de-duplicated (inbox), turned into
/// observations and signals, merged into opportunities, and the resulting events written to the
/// outbox, all in the batch's one write transaction (each delivery in a savepoint of its own), on
/// either engine. With several instances on one PostgreSQL database the transaction first takes
/// the locks of what the batch touches (``StoreLocks``).
public struct OpportunityProcessor: EventHandler {
    public static let source = "//itr/ltc-extractor"
    /// The types consumed; anything else on the queue is dead-lettered as `unexpected-type`.
    public static let consumedTypes: Set<EventType> = [
        .ticketOpened, .ticketCorrelated, .ticketClassified, .ticketResolved, .slaBreached, .opportunityStatus,
    ]

    let store: SQLStore
    let rules: LTCRules
    let logger: Logger
    let metrics: LTCMetrics?
    let now: @Sendable () -> Date
    let newID: @Sendable () -> String
    /// Overrides `updateInterval` of the rules (tests; nil = the rules').
    let updateInterval: TimeInterval?

    public init(
        store: SQLStore, rules: LTCRules, logger: Logger, metrics: LTCMetrics? = nil,
        now: @escaping @Sendable () -> Date = { Date() },
        newID: @escaping @Sendable () -> String = { OpportunityProcessor.makeOpportunityID() },
        updateInterval: TimeInterval? = nil
    ) {
        self.store = store
        self.rules = rules
        self.logger = logger
        self.metrics = metrics
        self.now = now
        self.newID = newID
        self.updateInterval = updateInterval
    }

    /// The interval in force for deferred updates.
    public var effectiveUpdateInterval: TimeInterval { updateInterval ?? rules.detector.rules.updateInterval }

    /// `OPP-` and 16 upper-case hex digits.
    public static func makeOpportunityID() -> String {
        "OPP-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).uppercased()
    }

    public func handle(_ batch: [InboundMessage]) async throws -> [Disposition] {
        let detector = rules.detector
        let deliveries = batch.map(decode)
        let (dispositions, changes) = try await store.write { db in
            let locks = StoreLocks(db)
            try locks.take(for: deliveries)
            var changes: [Change] = []
            let dispositions = try zip(batch, deliveries).map { message, delivery in
                try self.apply(delivery, of: message, db: db, detector: detector, locks: locks, changes: &changes)
            }
            return (dispositions, changes)
        }
        record(changes)
        return dispositions
    }

    /// Counts and logs what a committed transaction changed (deferred changes at debug only).
    func record(_ changes: [Change]) {
        for change in changes {
            if change.change == "changed" {
                logger.debug(
                    "opportunity changed; update deferred",
                    metadata: ["opportunity_id": "\(change.id)", "ticket_id": "\(change.ticketId ?? "")", "event_id": "\(change.eventId)"])
                continue
            }
            metrics?.opportunities(kind: change.kind.rawValue, change: change.change).increment()
            logger.info(
                "opportunity \(change.change)",
                metadata: [
                    "opportunity_id": "\(change.id)", "kind": "\(change.kind.rawValue)", "account": "\(change.account)",
                    "ticket_id": "\(change.ticketId ?? "")", "event_id": "\(change.eventId)", "trace_id": "\(change.traceId ?? "")",
                ])
        }
    }

    /// Emits the deferred `itr.opportunity.updated` of every opportunity whose first unsent change
    /// is at least the update interval old (all of them when `force`), one per opportunity with its
    /// latest state, in transactions of at most `limit`. Returns how many it wrote to the outbox.
    @discardableResult
    public func flushPendingUpdates(force: Bool = false, limit: Int = 200) async throws -> Int {
        var total = 0
        while true {
            let instant = now()
            let cutoff = force ? Date.distantFuture : instant.addingTimeInterval(-effectiveUpdateInterval)
            let changes: [Change] = try await store.write { db in
                let pending = try LTCStore.pendingOpportunities(db, changedBefore: cutoff, limit: limit)
                try StoreLocks(db).take(accounts: Set(pending.map(\.account)))
                var changes: [Change] = []
                for (id, _) in pending {
                    // Read again under the lock: another instance may have emitted it since, or a
                    // later change replaced the cause.
                    guard let cause = try LTCStore.pendingCause(db, id: id, changedBefore: cutoff),
                        let opportunity = try LTCStore.opportunity(db, id: id)
                    else { continue }
                    var event = try CloudEvent(
                        source: Self.source, payload: opportunity.payload(OpportunityUpdated.self), subject: id, time: instant)
                    event.causationID = cause.eventId.isEmpty ? nil : cause.eventId
                    event.correlationID = cause.correlationId ?? id
                    event.traceparent = cause.traceparent
                    event.tracestate = cause.tracestate
                    try Outbox.enqueue(
                        db, message: AMQPCloudEventCodec.encode(event), exchange: ITRNames.eventsExchange, routingKey: event.type)
                    try LTCStore.clearPending(db, id: id)
                    changes.append(Change(
                        id: id, kind: opportunity.kind, account: opportunity.account, change: "updated",
                        ticketId: cause.correlationId, eventId: cause.eventId,
                        traceId: cause.traceparent.flatMap { Self.traceID(traceparent: $0) }))
                }
                return changes
            }
            record(changes)
            total += changes.count
            if changes.count < limit { return total }
        }
    }

    /// What a committed batch changed (logged and counted after the commit).
    struct Change {
        var id: String
        var kind: OpportunityKind
        var account: String
        var change: String
        var ticketId: String?
        var eventId: String
        var traceId: String?
    }

    /// A delivery decoded before its transaction: its event and payload, or why it is refused.
    enum Delivery: Sendable {
        /// Not a CloudEvent, or of a type not consumed: refused without an inbox claim.
        case refused(code: String, reason: String, event: CloudEvent?)
        case event(CloudEvent, Input)
    }

    /// A consumed event's payload.
    enum Input: Sendable {
        case opened(TicketOpened)
        case correlated(TicketCorrelated)
        case classified(TicketClassified)
        case resolved(TicketResolved)
        case breached(SLABreached)
        case status(OpportunityStatus)
        /// Its data is invalid: refused after the inbox claim (so a repeat stays a duplicate).
        case invalidData(String)

        /// The ticket whose facts it reads and writes.
        var ticketId: String? {
            switch self {
            case .opened(let p): p.ticketId
            case .correlated(let p): p.ticketId
            case .classified(let p): p.ticketId
            case .resolved(let p): p.ticketId
            case .breached(let p): p.ticketId
            case .status, .invalidData: nil
            }
        }

        /// The account it names (others come from the stored ticket or opportunity).
        var account: String? {
            switch self {
            case .opened(let p): p.account
            case .classified(let p): p.account
            case .resolved(let p): p.account
            case .breached(let p): p.account
            case .correlated, .status, .invalidData: nil
            }
        }

        var opportunityId: String? {
            if case .status(let p) = self { return p.opportunityId }
            return nil
        }
    }

    func decode(_ message: InboundMessage) -> Delivery {
        let event: CloudEvent
        do {
            event = try AMQPCloudEventCodec.decode(message.message)
        } catch {
            return .refused(code: error.code.rawValue, reason: error.message, event: nil)
        }
        let type = EventType(rawValue: event.type)
        guard Self.consumedTypes.contains(type) else {
            return .refused(code: "unexpected-type", reason: "ltc-extractor does not consume \(event.type)", event: event)
        }
        let validAt = validationNow(deploymentNow: now())
        func payload<P: EventPayload>(_ type: P.Type, _ input: (P) -> Input) -> Delivery {
            switch event.decodePayload(P.self, now: validAt) {
            case .failure(let failure): .event(event, .invalidData(failure.description))
            case .success(let payload): .event(event, input(payload))
            }
        }
        switch type {
        case .ticketOpened: return payload(TicketOpened.self, Input.opened)
        case .ticketCorrelated: return payload(TicketCorrelated.self, Input.correlated)
        case .ticketClassified: return payload(TicketClassified.self, Input.classified)
        case .ticketResolved: return payload(TicketResolved.self, Input.resolved)
        case .slaBreached: return payload(SLABreached.self, Input.breached)
        default: return payload(OpportunityStatus.self, Input.status)
        }
    }

    /// Applies one delivery inside a savepoint: rolled back when it turns out invalid.
    func apply(
        _ delivery: Delivery, of message: InboundMessage, db: any SQLTransaction, detector: SignalDetector, locks: StoreLocks,
        changes: inout [Change]
    ) throws -> Disposition {
        let event: CloudEvent
        let input: Input
        switch delivery {
        case .refused(let code, let reason, let refused): return invalid(message, code: code, reason, event: refused)
        case .event(let decoded, let payload): (event, input) = (decoded, payload)
        }
        var disposition: Disposition = .processed
        var local: [Change] = []
        try db.savepoint {
            guard try Inbox.claim(db, source: event.source, id: event.id, at: now()) else {
                disposition = .duplicate
                return .commit
            }
            var context = Context(db: db, locks: locks, detector: detector, cause: event, processor: self)
            switch input {
            case .opened(let opened): disposition = try context.opened(opened)
            case .correlated(let correlated): disposition = try context.correlated(correlated)
            case .classified(let classified): disposition = try context.classified(classified)
            case .resolved(let resolved): disposition = try context.resolved(resolved)
            case .breached(let breach): disposition = try context.breached(breach)
            case .status(let report): disposition = try context.status(report)
            case .invalidData(let reason): disposition = .invalid(reasonCode: "invalid-data", message: reason)
            }
            local = context.changes
            if case .invalid = disposition { return .rollback }
            return .commit
        }
        if case .invalid(let code, let reason) = disposition {
            return invalid(message, code: code, reason, event: event)
        }
        changes += local
        return disposition
    }

    private func invalid(_ message: InboundMessage, code: String, _ reason: String, event: CloudEvent? = nil) -> Disposition {
        logger.warning(
            "rejected delivery",
            metadata: [
                "reason_code": "\(code)", "reason": "\(reason)", "event_id": "\(event?.id ?? message.message.properties.messageID ?? "")",
                "routing_key": "\(message.routingKey)", "trace_id": "\(event.flatMap(Self.traceID) ?? "")",
            ])
        return .invalid(reasonCode: code, message: reason)
    }

    /// The trace id part of a W3C `traceparent`.
    static func traceID(_ event: CloudEvent) -> String? {
        event.traceparent.flatMap { traceID(traceparent: $0) }
    }

    static func traceID(traceparent parent: String) -> String? {
        let parts = parent.split(separator: "-")
        return parts.count >= 2 ? String(parts[1]) : nil
    }
}
