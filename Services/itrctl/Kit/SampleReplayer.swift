import AMQPClient
import Foundation
import ITREvents
import Logging
import ServiceKit

/// Sends a sample day through the real entry points, as upstream systems and a service-desk
/// tool would: reports to `itr.ingress` (AMQP) and intake's `POST /v1/reports` (HTTP batches),
/// then service-desk actions to `itr.ingress` (`ticket.<action>`) once the tickets exist.
///
/// Like a real service-desk tool, it learns ticket ids from `itr.ticket.opened` (a temporary
/// queue bound to `itr.events`), matching `reportId` to the report events it sent.
public struct SampleReplayer: Sendable {
    public struct Options: Sendable {
        public var amqpURL: String
        /// The service desk's broker user (`itr-desk`), whose connection sends the actions with its
        /// `user_id` (itr-router accepts AMQP actions only from a broker user of `access.yaml`);
        /// nil: the actions go over `amqpURL`'s connection, as its user.
        public var deskAMQPURL: String?
        public var intakeURL: String
        /// Bearer token for intake's HTTP API (allowed for `SampleDay.httpSources`).
        public var token: String?
        /// Sample seconds per wall-clock second; 0 sends as fast as the broker confirms.
        public var speed: Double
        /// How long to wait for the tickets the actions need.
        public var ticketTimeout: Duration
        public var httpBatchSize: Int
        /// After the actions, keep counting events until the services' queues are empty (0: don't wait).
        public var drainTimeout: Duration = .zero
        /// The deployment's clock (the services' `ITR_CLOCK_*`): a service-desk action carries the
        /// instant it is sent on this clock as its CloudEvent `time`, which the router records.
        public var clock: any ServiceClock

        public init(
            amqpURL: String, intakeURL: String, token: String?, speed: Double = 0, ticketTimeout: Duration = .seconds(180),
            drainTimeout: Duration = .zero, httpBatchSize: Int = 50, clock: any ServiceClock = SystemClock(),
            deskAMQPURL: String? = nil
        ) {
            self.deskAMQPURL = deskAMQPURL
            self.drainTimeout = drainTimeout
            self.clock = clock
            self.amqpURL = amqpURL
            self.intakeURL = intakeURL
            self.token = token
            self.speed = speed
            self.ticketTimeout = ticketTimeout
            self.httpBatchSize = httpBatchSize
        }
    }

    /// Input of the day the services refused although it was meant to be accepted (the day's
    /// malformed reports are meant to be refused and are not counted here).
    public struct Refusal: Codable, Sendable, Hashable {
        /// `report` or `action`.
        public var kind: String
        /// `http` or `amqp`.
        public var route: String
        /// Why: the HTTP status and problem title, or the reason code of the rejection event.
        public var reason: String
        public var count: Int
        /// A few of the refused events' ids.
        public var examples: [String]
    }

    public struct Result: Codable, Sendable {
        public var amqpPublished = 0
        public var httpPosted = 0
        /// HTTP answers by status code (a batch counts once).
        public var httpStatuses: [String: Int] = [:]
        public var ticketsLearned = 0
        public var actionsPublished = 0
        /// Actions not sent because their ticket never appeared (rejected or folded report).
        public var actionsWithoutTicket = 0
        public var seconds = 0.0
        /// Every event the services emitted on `itr.events` while the replay listened, by type.
        public var observedEvents: [String: Int] = [:]
        public var drained: Bool?
        /// Reports and actions refused that the day meant to be accepted, by kind, route and reason.
        public var refusals: [Refusal] = []
        /// The day's malformed reports, refused as they should be.
        public var malformedRefused = 0
        /// HTTP refusals while sending, by reason (folded into `refusals` at the end).
        var httpRefusals: [String: Refusal] = [:]

        /// True when nothing meant to be accepted was refused and every action found its ticket.
        public var isHealthy: Bool { refusals.isEmpty && actionsWithoutTicket == 0 }

        /// What went wrong, one line each (empty when healthy).
        public var problems: [String] {
            refusals.map { refusal in
                "\(refusal.count) \(refusal.kind)\(refusal.count == 1 ? "" : "s") refused over \(refusal.route.uppercased()): \(refusal.reason)"
                    + (refusal.examples.isEmpty ? "" : " (e.g. \(refusal.examples.joined(separator: ", ")))")
            } + (actionsWithoutTicket > 0
                ? ["\(actionsWithoutTicket) service-desk actions not sent: their report never opened a ticket"] : [])
        }
    }

    public let options: Options
    public var progress: @Sendable (String) -> Void

    public init(options: Options, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.options = options
        self.progress = progress
    }

    public func replay(_ day: SampleDay) async throws -> Result {
        let started = ContinuousClock.now
        var configuration = try AMQPConfiguration(url: options.amqpURL)
        configuration.connectionName = "itrctl-sample"
        var logger = Logger(label: "itrctl.sample")
        logger.logLevel = .warning
        let connection = try await AMQPConnection.connect(configuration, logger: logger)
        var desk = connection
        do {
            if let deskURL = options.deskAMQPURL {
                var deskConfiguration = try AMQPConfiguration(url: deskURL)
                deskConfiguration.connectionName = "itrctl-sample-desk"
                desk = try await AMQPConnection.connect(deskConfiguration, logger: logger)
            }
            let result = try await replay(day, on: connection, desk: desk, started: started)
            if desk !== connection { await desk.close() }
            await connection.close()
            return result
        } catch {
            if desk !== connection { await desk.close() }
            await connection.close()
            throw error
        }
    }

    private func replay(
        _ day: SampleDay, on connection: AMQPConnection, desk: AMQPConnection, started: ContinuousClock.Instant
    ) async throws -> Result {
        var result = Result()

        // Learn ticket ids from itr.ticket.opened.
        let listenQueue = "itrctl.sample.\(UUID().uuidString.lowercased().prefix(8))"
        try await connection.declare(
            ITRTopology.shared.merging(
                AMQPTopology(
                    queues: [AMQPQueue(name: listenQueue, durable: false, exclusive: true, autoDelete: true)],
                    bindings: [AMQPBinding(queue: listenQueue, exchange: ITRNames.eventsExchange, routingKey: "itr.#")])))
        let tickets = TicketDirectory()
        let consumer = try await connection.consume(queue: listenQueue, prefetch: 500)
        let listener = Task {
            for try await delivery in consumer {
                await tickets.count(type: delivery.routingKey)
                switch delivery.routingKey {
                case EventType.ticketOpened.rawValue:
                    if let event = try? AMQPCloudEventCodec.decode(delivery.message),
                        let opened = try? event.decodeData(TicketOpened.self)
                    {
                        await tickets.record(report: opened.reportId, ticket: opened.ticketId)
                    }
                case EventType.reportRejected.rawValue:
                    if let event = try? AMQPCloudEventCodec.decode(delivery.message),
                        let rejected = try? event.decodeData(ReportRejected.self)
                    {
                        await tickets.rejected(report: rejected.originalId, reason: rejected.reasonCode)
                    }
                case EventType.ticketActionRejected.rawValue:
                    if let event = try? AMQPCloudEventCodec.decode(delivery.message),
                        let rejected = try? event.decodeData(TicketActionRejected.self)
                    {
                        await tickets.rejected(action: rejected.actionId, reason: "\(rejected.action): \(rejected.reasonCode)")
                    }
                default:
                    break
                }
                delivery.ack()
            }
        }
        defer {
            consumer.cancel()
            listener.cancel()
        }

        // 1. Reports, in time order.
        let http = HTTPFetcher(timeout: 30)
        var batch: [CloudEvent] = []
        let reports = day.items.filter { $0.role != .action }
        let clock = ContinuousClock.now
        for (index, item) in reports.enumerated() {
            if options.speed > 0 {
                let due = clock + .milliseconds(Int64(item.offset / options.speed * 1000))
                if due > .now {
                    if !batch.isEmpty { try await post(batch, via: http, into: &result); batch = [] }
                    try await Task.sleep(until: due)
                }
            }
            switch item.route {
            case .amqp:
                try await connection.publish(amqpMessage(item), exchange: ITRNames.ingressExchange, routingKey: item.routingKey)
                result.amqpPublished += 1
            case .http:
                if let event = item.event, item.rawBody == nil {
                    batch.append(event)
                    if batch.count >= options.httpBatchSize {
                        try await post(batch, via: http, into: &result)
                        batch = []
                    }
                } else if let body = item.rawBody {
                    var headers = item.rawHeaders
                    headers["Content-Type"] = item.rawContentType ?? "application/json"
                    try await send(headers: headers, body: body, ids: [], malformed: item.role == .malformed, via: http, into: &result)
                }
            }
            if (index + 1) % 500 == 0 { progress("reports: \(index + 1)/\(reports.count) sent") }
        }
        if !batch.isEmpty { try await post(batch, via: http, into: &result) }
        progress("reports: \(reports.count) sent (\(result.amqpPublished) over AMQP, \(result.httpPosted) over HTTP)")

        // 2. Wait for the tickets the actions act on.
        let actions = day.items.filter { $0.role == .action }
        let needed = Set(actions.compactMap(\.reportID))
        let deadline = ContinuousClock.now + options.ticketTimeout
        var lastKnown = -1
        var lastChange = ContinuousClock.now
        while ContinuousClock.now < deadline {
            let known = await tickets.count(of: needed)
            if known == needed.count { break }
            if known != lastKnown {
                lastKnown = known
                lastChange = .now
                progress("tickets: \(known)/\(needed.count) opened for the service-desk actions")
            } else if ContinuousClock.now - lastChange > .seconds(30) {
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        result.ticketsLearned = await tickets.count

        // 3. Service-desk actions, in time order, one ticket's back to back (a desk works one
        // ticket at a time): on an accelerated clock an automatic escalation between two actions
        // of a ticket could make the second one refused (a pause of a ticket no longer acknowledged).
        var firstAction: [String: Int] = [:]
        for (index, item) in actions.enumerated() {
            if let report = item.reportID, firstAction[report] == nil { firstAction[report] = index }
        }
        let ordered = actions.enumerated().map { (rank: firstAction[$0.element.reportID ?? ""] ?? $0.offset, index: $0.offset, item: $0.element) }
            .sorted { ($0.rank, $0.index) < ($1.rank, $1.index) }.map(\.item)
        for item in ordered {
            guard let report = item.reportID, let ticket = await tickets.ticket(for: report),
                var event = try item.actionEvent(ticketID: ticket, source: SampleDay.actionSource)
            else {
                result.actionsWithoutTicket += 1
                continue
            }
            // The action happens now, on the deployment's clock (the router records this instant).
            event.time = options.clock.now()
            try await desk.publish(
                AMQPCloudEventCodec.encode(event).sent(by: desk.configuration.user), exchange: ITRNames.ingressExchange,
                routingKey: item.routingKey)
            result.actionsPublished += 1
        }
        progress("actions: \(result.actionsPublished) sent, \(result.actionsWithoutTicket) without a ticket")
        if options.drainTimeout > .zero {
            result.drained = try await QueueDrain.wait(on: connection, timeout: options.drainTimeout, progress: progress)
            try await Task.sleep(for: .seconds(1))
        }
        result.observedEvents = await tickets.types
        // Rejections seen on itr.events: of the day's valid reports (malformed ones are meant to be refused).
        let malformed = Set(day.items.filter { $0.role == .malformed }.compactMap { $0.event?.id ?? $0.rawHeaders["ce-id"] })
        let valid = Set(reports.filter { $0.role != .malformed }.compactMap { $0.event?.id })
        for (reason, ids) in await tickets.rejectedReports.sorted(by: { $0.key < $1.key }) {
            let refused = ids.filter { id in id.map { valid.contains($0) || !malformed.contains($0) } ?? false }
            result.malformedRefused += ids.count - refused.count
            if !refused.isEmpty {
                result.refusals.append(Refusal(
                    kind: "report", route: "amqp", reason: reason, count: refused.count,
                    examples: Array(refused.compactMap { $0 }.sorted().prefix(3))))
            }
        }
        for (reason, ids) in await tickets.rejectedActions.sorted(by: { $0.key < $1.key }) {
            result.refusals.append(Refusal(
                kind: "action", route: "amqp", reason: reason, count: ids.count, examples: Array(ids.compactMap { $0 }.sorted().prefix(3))))
        }
        result.refusals.append(contentsOf: result.httpRefusals.values.sorted { $0.reason < $1.reason })
        result.seconds = (ContinuousClock.now - started).inSeconds
        return result
    }

    func amqpMessage(_ item: SampleItem) -> AMQPMessage {
        if let event = item.event { return AMQPCloudEventCodec.encode(event) }
        var properties = AMQPProperties.persistent
        properties.contentType = item.rawContentType
        properties.headers = item.rawHeaders.mapValues { AMQPFieldValue.string($0) }
        return AMQPMessage(body: item.rawBody ?? Data(), properties: properties)
    }

    private func post(_ events: [CloudEvent], via http: HTTPFetcher, into result: inout Result) async throws {
        let encoded = HTTPCloudEventCodec.encodeBatch(events)
        try await send(headers: encoded.headers, body: encoded.body, ids: events.map(\.id), malformed: false, via: http, into: &result)
    }

    /// POSTs one request of `ids.count` events (1 for a raw body); a refusal of a valid one is recorded.
    private func send(
        headers: [String: String], body: Data, ids: [String], malformed: Bool, via http: HTTPFetcher, into result: inout Result
    ) async throws {
        var headers = headers
        if let token = options.token { headers["Authorization"] = "Bearer \(token)" }
        let response = try await http.post("\(options.intakeURL)/v1/reports", headers: headers, body: body)
        let count = max(ids.count, 1)
        result.httpPosted += count
        result.httpStatuses["\(response.status)", default: 0] += 1
        // A malformed report is meant to be refused (intake says so on itr.events too, counted there).
        if malformed { return }
        guard !(200..<300).contains(response.status) else { return }
        let title = (try? JSONDecoder().decode([String: JSONValue].self, from: response.body))?["title"]?.string
        let reason = "HTTP \(response.status)" + (title.map { " \($0)" } ?? "")
        var refusal = result.httpRefusals[reason] ?? Refusal(kind: "report", route: "http", reason: reason, count: 0, examples: [])
        refusal.count += count
        refusal.examples = Array((refusal.examples + ids).prefix(3))
        result.httpRefusals[reason] = refusal
    }
}

/// Report event id → ticket id, as learnt from `itr.ticket.opened`.
actor TicketDirectory {
    private var tickets: [String: String] = [:]
    private(set) var types: [String: Int] = [:]
    /// Rejected reports' and actions' event ids, by reason.
    private(set) var rejectedReports: [String: [String?]] = [:]
    private(set) var rejectedActions: [String: [String?]] = [:]
    func rejected(report id: String?, reason: String) { rejectedReports[reason, default: []].append(id) }
    func rejected(action id: String?, reason: String) { rejectedActions[reason, default: []].append(id) }
    var count: Int { tickets.count }
    func count(type: String) { types[type, default: 0] += 1 }
    func record(report: String, ticket: String) { tickets[report] = ticket }
    func ticket(for report: String) -> String? { tickets[report] }
    func count(of reports: Set<String>) -> Int { reports.reduce(0) { $0 + (tickets[$1] == nil ? 0 : 1) } }
}
