import AMQPClient
import Foundation
import GRDB
import ITREvents
import Logging
import ServiceKit

/// The extractor's consumer logic: each delivery is decoded, de-duplicated (inbox), turned into
/// observations and signals, merged into opportunities, and the resulting events written to the
/// outbox, all in the batch's one write transaction (each delivery in a savepoint of its own).
public struct OpportunityProcessor: EventHandler {
    public static let source = "//itr/ltc-extractor"
    /// The types consumed; anything else on the queue is dead-lettered as `unexpected-type`.
    public static let consumedTypes: Set<EventType> = [
        .ticketOpened, .ticketCorrelated, .ticketClassified, .ticketResolved, .slaBreached, .opportunityStatus,
    ]

    let store: ServiceStore
    let rules: LTCRules
    let logger: Logger
    let metrics: LTCMetrics?
    let now: @Sendable () -> Date
    let newID: @Sendable () -> String
    /// Overrides `updateInterval` of the rules (tests; nil = the rules').
    let updateInterval: TimeInterval?

    public init(
        store: ServiceStore, rules: LTCRules, logger: Logger, metrics: LTCMetrics? = nil,
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
        let (dispositions, changes) = try await store.pool.write { db in
            var changes: [Change] = []
            let dispositions = try batch.map { message in try self.apply(message, db: db, detector: detector, changes: &changes) }
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
            let changes: [Change] = try await store.pool.write { db in
                var changes: [Change] = []
                for (id, cause) in try LTCStore.pendingOpportunities(db, changedBefore: cutoff, limit: limit) {
                    guard let opportunity = try LTCStore.opportunity(db, id: id) else { continue }
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

    /// Applies one delivery inside a savepoint: rolled back when it turns out invalid.
    func apply(_ message: InboundMessage, db: Database, detector: SignalDetector, changes: inout [Change]) throws -> Disposition {
        let event: CloudEvent
        do {
            event = try AMQPCloudEventCodec.decode(message.message)
        } catch {
            return invalid(message, code: error.code.rawValue, error.message)
        }
        let type = EventType(rawValue: event.type)
        guard Self.consumedTypes.contains(type) else {
            return invalid(message, code: "unexpected-type", "ltc-extractor does not consume \(event.type)", event: event)
        }
        var disposition: Disposition = .processed
        var local: [Change] = []
        try db.inSavepoint {
            guard try Inbox.claim(db, source: event.source, id: event.id, at: now()) else {
                disposition = .duplicate
                return .commit
            }
            var context = Context(db: db, detector: detector, cause: event, processor: self)
            switch type {
            case .ticketOpened: disposition = try decode(event, TicketOpened.self) { try context.opened($0) }
            case .ticketCorrelated: disposition = try decode(event, TicketCorrelated.self) { try context.correlated($0) }
            case .ticketClassified: disposition = try decode(event, TicketClassified.self) { try context.classified($0) }
            case .ticketResolved: disposition = try decode(event, TicketResolved.self) { try context.resolved($0) }
            case .slaBreached: disposition = try decode(event, SLABreached.self) { try context.breached($0) }
            default: disposition = try decode(event, OpportunityStatus.self) { try context.status($0) }
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

    private func decode<P: EventPayload>(
        _ event: CloudEvent, _ type: P.Type, _ body: (P) throws -> Disposition
    ) throws -> Disposition {
        switch event.decodePayload(P.self, now: validationNow(deploymentNow: now())) {
        case .failure(let failure): return .invalid(reasonCode: "invalid-data", message: failure.description)
        case .success(let payload): return try body(payload)
        }
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
