import AMQPClient
import Foundation
import GRDB
import ITRConfig
import ITREvents
import Logging
import ServiceKit
import Synchronization

/// The heart of intake: turns submitted reports into tickets, folded alarms or rejections,
/// one write transaction per batch (idempotency record, alarm storm state, outbox rows), so a
/// crash at any point neither loses nor doubles anything.
public final class ReportIntake: Sendable {
    /// The CloudEvents `source` of everything intake emits.
    public static let eventSource = "//itr/intake"

    /// One thing submitted: an event that could be read (or the rejection found while reading it).
    public struct Item: Sendable {
        /// The event, when its envelope could be read.
        public var event: CloudEvent?
        /// A rejection decided before the event's content was looked at (unreadable, too large, forbidden source).
        public var rejection: ReportRejection?
        /// The AMQP routing key (`report.<channel>`), checked against the report's channel.
        public var routingKey: String?
        /// The original to keep in `itr.rejected` when rejected (HTTP); nil when the caller keeps it
        /// (the AMQP consumer does, through its `.invalid` disposition).
        public var original: AMQPMessage?
        /// The identity of the token that submitted it (HTTP): whose kept-bytes budget a kept copy spends.
        public var submitter: String?
        public var receivedAt: ContinuousClock.Instant

        public init(
            event: CloudEvent?, rejection: ReportRejection? = nil, routingKey: String? = nil, original: AMQPMessage? = nil,
            submitter: String? = nil, receivedAt: ContinuousClock.Instant = .now
        ) {
            self.event = event
            self.rejection = rejection
            self.routingKey = routingKey
            self.original = original
            self.submitter = submitter
            self.receivedAt = receivedAt
        }
    }

    let store: SQLStore
    let metrics: IntakeMetrics
    let logger: Logger
    /// The deployment's clock: tickets' `openedAt`, events' `time`, the "not in the future" check.
    let clock: any ServiceClock
    private let currentPolicy: Mutex<IntakePolicy>
    /// False until a known error is indexed: spares fingerprinting every report while the index is
    /// empty. Always true on PostgreSQL: another instance may have indexed one since.
    let hasKnownErrors: Atomic<Bool>
    /// Bytes of refused input each token may have kept whole (``IntakeConfiguration/keptBytesPerTokenPerMinute``).
    private let keptBudget: Mutex<TokenBuckets>
    /// Seconds for the budget (monotonic; tests pass one that stands still).
    let budgetClock: @Sendable () -> Double

    public init(
        store: SQLStore, policy: IntakePolicy, metrics: IntakeMetrics, logger: Logger,
        clock: any ServiceClock = SystemClock(),
        budgetClock: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    ) async throws {
        self.store = store
        self.clock = clock
        self.budgetClock = budgetClock
        self.keptBudget = Mutex(Self.budget(policy.configuration))
        self.metrics = metrics
        self.logger = logger
        self.currentPolicy = Mutex(policy)
        let known = try await store.read { db in try db.fetchOne("SELECT COUNT(*) FROM known_error", [])?.int(0) ?? 0 }
        self.hasKnownErrors = Atomic(known > 0 || store.dialect == .postgres)
    }

    /// The migrations intake adds to the service store, in both dialects.
    public static let migrations: [StoreMigration] = IntakeSchema.migrations

    /// The migrations into GRDB's migrator (SQLite).
    public static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.register(migrations)
    }

    /// Serialises, across instances sharing a PostgreSQL database, the work on one report
    /// (`source` + `id`: sent to two instances at once, it opens one ticket) or one alarm storm
    /// (site, device, code: its count and its ticket); nothing on SQLite.
    static func lock(_ db: some SQLTransaction, _ what: String, _ parts: String...) throws {
        try db.lock("intake." + what, key: parts.joined(separator: "\u{1F}"))
    }

    public var policy: IntakePolicy { currentPolicy.withLock { $0 } }

    /// Swaps in new rules (reload); reports in flight finish with the old ones.
    public func update(policy: IntakePolicy) {
        let old = currentPolicy.withLock { current in
            defer { current = policy }
            return current.configuration.keptBytesPerTokenPerMinute
        }
        if old != policy.configuration.keptBytesPerTokenPerMinute {
            keptBudget.withLock { $0 = Self.budget(policy.configuration) }
        }
    }

    static func budget(_ configuration: IntakeConfiguration) -> TokenBuckets {
        let perMinute = Double(configuration.keptBytesPerTokenPerMinute)
        return TokenBuckets(rate: perMinute / 60, burst: perMinute)
    }

    /// The copy of refused input to keep: whole while its submitter's budget lasts, else cut to
    /// ``IntakeConfiguration/keptCutBytes`` and marked (`x-itr-truncated`, `x-itr-kept-cut`,
    /// `x-itr-content-length`). Counted per submitter either way.
    func budgeted(_ original: AMQPMessage, submitter: String?) -> AMQPMessage {
        guard let submitter else { return original }
        let size = original.body.count
        let decision = keptBudget.withLock { $0.take(submitter, now: budgetClock(), cost: Double(size)) }
        guard case .limited = decision, size > IntakeConfiguration.keptCutBytes else {
            metrics.keptBytes(submitter: submitter).increment(by: Int64(size))
            return original
        }
        var cut = original
        cut.body = original.body.prefix(IntakeConfiguration.keptCutBytes)
        cut.properties.headers["x-itr-truncated"] = .bool(true)
        cut.properties.headers["x-itr-kept-cut"] = .string(
            "the kept-bytes budget of \(submitter) (\(policy.configuration.keptBytesPerTokenPerMinute) per minute) is spent")
        if cut.properties.headers["x-itr-content-length"] == nil {
            cut.properties.headers["x-itr-content-length"] = .string("\(size)")
        }
        metrics.keptBytes(submitter: submitter).increment(by: Int64(cut.body.count))
        metrics.keptCut(submitter: submitter).increment()
        return cut
    }

    /// Applies every item in ONE write transaction and returns one outcome per item, in order.
    /// `acceptsKnownErrors`: whether `itr.problem.known-error` events are taken (AMQP, from `itr.events`).
    public func submit(
        _ items: [Item], via: IntakeMetrics.Via, acceptsKnownErrors: Bool = false, now: Date? = nil
    ) async throws -> [IntakeOutcome] {
        let now = now ?? clock.now()
        let policy = self.policy
        metrics.received(via).increment(by: Int64(items.count))
        let results: [(IntakeOutcome, Channel?)] = try await store.write { db in
            var outcomes: [(IntakeOutcome, Channel?)] = []
            outcomes.reserveCapacity(items.count)
            for item in items {
                if acceptsKnownErrors, let event = item.event, event.type == EventType.problemKnownError.rawValue {
                    let outcome = try self.indexKnownError(db, event: event, policy: policy, now: now)
                    // Set at once (not after commit) so later reports of this same batch are
                    // matched too; if the batch rolls back the flag only costs a lookup.
                    if case .indexed = outcome { self.hasKnownErrors.store(true, ordering: .relaxed) }
                    if case .rejected(let rejection) = outcome {
                        try self.recordRejection(db, rejection, item: item, now: now)
                    }
                    outcomes.append((outcome, nil))
                    continue
                }
                let (outcome, channel) = try self.apply(db, item: item, policy: policy, now: now)
                if case .rejected(let rejection) = outcome {
                    try self.recordRejection(db, rejection, item: item, now: now)
                }
                outcomes.append((outcome, channel))
            }
            return outcomes
        }
        let committed = ContinuousClock.now
        let latency = metrics.latency(via)
        for (item, (outcome, channel)) in zip(items, results) {
            latency.record(committed - item.receivedAt)
            count(outcome, channel: channel)
        }
        return results.map(\.0)
    }

    // MARK: One report

    /// Reads, de-duplicates, validates, normalizes and acts on one item inside the transaction.
    func apply(_ db: some SQLTransaction, item: Item, policy: IntakePolicy, now: Date) throws -> (IntakeOutcome, Channel?) {
        if let rejection = item.rejection { return (.rejected(rejection), nil) }
        guard let event = item.event else {
            return (.rejected(ReportRejection(ReportRejection.Reason.malformedEvent, "not a CloudEvent")), nil)
        }
        guard event.type == EventType.reportSubmitted.rawValue else {
            return (.rejected(ReportRejection(
                ReportRejection.Reason.unknownType,
                "intake takes \(EventType.reportSubmitted.rawValue), not \(event.type)",
                problems: [ValidationProblem(path: "type", code: .unknownValue, message: "unknown event type \(event.type)")])), nil)
        }
        try Self.lock(db, "report", event.source, event.id)
        if let existing = try db.fetchOne(
            "SELECT ticket_id FROM intake_report WHERE source = ? AND id = ?", [.text(event.source), .text(event.id)])
        {
            return (.duplicate(ticketId: existing[0].string), nil)
        }

        let validationNow = ServiceKit.validationNow(deploymentNow: now)
        var problems = event.validate(limits: policy.limits, now: validationNow)
        var decoded: ReportSubmitted?
        switch event.decodePayload(ReportSubmitted.self, limits: policy.limits, now: validationNow) {
        case .success(let report): decoded = report
        case .failure(let failure): problems += failure.problems
        }
        if let report = decoded {
            problems += Self.consistencyProblems(report, routingKey: item.routingKey)
        }
        guard problems.isEmpty, let decoded else { return (.rejected(ReportRejection(problems: problems)), nil) }

        let report = ReportNormalizer.normalize(decoded)
        if report.channel == .monitoring, let alarm = report.alarm {
            return (try applyAlarm(db, report: report, alarm: alarm, event: event, policy: policy, now: now), .monitoring)
        }
        let ticketId = try openTicket(db, report: report, event: event, policy: policy, now: now)
        try record(db, event: event, ticketId: ticketId, outcome: "opened", now: now)
        return (.opened(ticketId: ticketId), report.channel)
    }

    /// Checks beyond the schema: the routing key's channel and the alarm belong to the report.
    static func consistencyProblems(_ report: ReportSubmitted, routingKey: String?) -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        if let routingKey, routingKey.hasPrefix("report."), routingKey.utf8.count > 7 {
            let channel = routingKey.dropFirst(7)
            if channel != report.channel.rawValue {
                problems.append(ValidationProblem(
                    path: "data.channel", code: .inconsistent,
                    message: "channel \(report.channel.rawValue) was published with routing key \(routingKey)"))
            }
        }
        if report.alarm != nil, report.channel != .monitoring {
            problems.append(ValidationProblem(
                path: "data.alarm", code: .inconsistent, message: "only monitoring reports carry an alarm"))
        }
        return problems
    }

    /// Opens a ticket: a new id, the known error if one matches, `itr.ticket.opened` into the outbox.
    func openTicket(_ db: some SQLTransaction, report: ReportSubmitted, event: CloudEvent, policy: IntakePolicy, now: Date) throws -> String {
        let ticketId = try TicketNumber.next(db, at: now)
        let knownError = try matchKnownError(db, report: report, policy: policy)
        let payload = TicketOpened(
            ticketId: ticketId, report: report, event: event,
            accountKnown: policy.knownAccounts.contains(report.customer.account), openedAt: now, knownError: knownError)
        let opened = try CloudEvent.caused(
            by: event, source: Self.eventSource, payload: payload, subject: ticketId, time: now, correlationID: ticketId)
        try publish(db, opened)
        logger.info(
            "ticket opened",
            metadata: [
                "ticket_id": "\(ticketId)", "event_id": "\(event.id)", "trace_id": "\(Self.traceID(event) ?? "")",
                "channel": "\(report.channel.rawValue)", "account_known": "\(payload.accountKnown)",
                "known_error": "\(knownError?.problemId ?? "")",
            ])
        return ticketId
    }

    /// Remembers that `event` was handled (the idempotency record) and what it led to.
    func record(_ db: some SQLTransaction, event: CloudEvent, ticketId: String?, outcome: String, now: Date) throws {
        try db.execute(
            "INSERT INTO intake_report (source, id, ticket_id, outcome, received_at) VALUES (?, ?, ?, ?, ?)",
            [.text(event.source), .text(event.id), ticketId.map(SQLValue.text) ?? .null, .text(outcome), db.moment(now)])
    }

    /// An event into the outbox for `itr.events`, routing key = type.
    func publish(_ db: some SQLTransaction, _ event: CloudEvent) throws {
        try Outbox.enqueue(
            db, message: AMQPCloudEventCodec.encode(event), exchange: ITRNames.eventsExchange, routingKey: event.type)
    }

    // MARK: Rejections

    /// `itr.report.rejected` and, when the caller did not keep it, the original with reason
    /// headers for `itr.rejected` (both through the outbox, in the batch's transaction).
    func recordRejection(_ db: some SQLTransaction, _ rejection: ReportRejection, item: Item, now: Date) throws {
        let original = item.event
        var report: ReportSubmitted?
        if let original, original.type == EventType.reportSubmitted.rawValue {
            report = try? original.decodeData(ReportSubmitted.self)
        }
        let limits = ReportLimits.default
        let payload = ReportRejected(
            reasonCode: rejection.reasonCode, message: String(rejection.message.prefix(limits.maxDescriptionLength)),
            problems: Array(rejection.problems.prefix(limits.maxListLength)),
            originalId: original.flatMap { Self.bounded($0.id, limits.maxURILength) },
            originalSource: original.flatMap { Self.bounded($0.source, limits.maxURILength) },
            originalType: original.flatMap { Self.bounded($0.type, limits.maxFieldLength) },
            channel: report?.channel, upstreamId: report.flatMap { Self.bounded($0.upstreamId, limits.maxFieldLength) })
        var event: CloudEvent
        if let original {
            event = try CloudEvent.caused(
                by: original, source: Self.eventSource, payload: payload, time: now, correlationID: Self.bounded(original.id, 256))
        } else {
            event = try CloudEvent(source: Self.eventSource, payload: payload, time: now)
        }
        if event.extensions.keys.contains(where: { !CloudEvent.isValidExtensionName($0) }) { event.extensions = [:] }
        try publish(db, event)
        if let original = item.original {
            // A copy of outside input: cut to what AMQP carries where it must be (a content
            // type over 255 bytes, huge or deep headers), never refused.
            let kept = RejectedCopy.make(
                budgeted(original, submitter: item.submitter), code: rejection.reasonCode, reason: rejection.message,
                service: "intake")
            try Outbox.enqueue(
                db, message: kept, exchange: RejectionTarget.rejectedQueue.exchange,
                routingKey: RejectionTarget.rejectedQueue.routingKey, fitting: true)
        }
        logger.info(
            "report rejected",
            metadata: [
                "event_id": "\(original?.id ?? "")", "trace_id": "\(original.flatMap(Self.traceID) ?? "")",
                "reason_code": "\(rejection.reasonCode)", "reason": "\(rejection.message.prefix(500))",
            ])
    }

    static func bounded(_ text: String, _ max: Int) -> String? {
        text.isEmpty ? nil : String(text.prefix(max))
    }

    /// The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`).
    static func traceID(_ event: CloudEvent) -> String? {
        guard let traceparent = event.traceparent else { return nil }
        let parts = traceparent.split(separator: "-")
        return parts.count >= 3 ? String(parts[1]) : nil
    }

    // MARK: Metrics

    private func count(_ outcome: IntakeOutcome, channel: Channel?) {
        switch outcome {
        case .opened:
            metrics.ticketsOpened.increment()
            metrics.accepted(channel: channel?.rawValue ?? "unknown").increment()
        case .correlated, .cleared:
            if case .correlated = outcome { metrics.correlated.increment() }
            metrics.accepted(channel: Channel.monitoring.rawValue).increment()
        case .duplicate:
            metrics.duplicates.increment()
        case .indexed:
            break
        case .rejected(let rejection):
            metrics.rejected(reason: rejection.reasonCode).increment()
        }
    }
}
