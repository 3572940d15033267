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

        public init(
            amqpURL: String, intakeURL: String, token: String?, speed: Double = 0, ticketTimeout: Duration = .seconds(180),
            drainTimeout: Duration = .zero, httpBatchSize: Int = 50
        ) {
            self.drainTimeout = drainTimeout
            self.amqpURL = amqpURL
            self.intakeURL = intakeURL
            self.token = token
            self.speed = speed
            self.ticketTimeout = ticketTimeout
            self.httpBatchSize = httpBatchSize
        }
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
        do {
            let result = try await replay(day, on: connection, started: started)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    private func replay(_ day: SampleDay, on connection: AMQPConnection, started: ContinuousClock.Instant) async throws -> Result {
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
                if delivery.routingKey == EventType.ticketOpened.rawValue,
                    let event = try? AMQPCloudEventCodec.decode(delivery.message),
                    let opened = try? event.decodeData(TicketOpened.self)
                {
                    await tickets.record(report: opened.reportId, ticket: opened.ticketId)
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
                    try await send(headers: headers, body: body, count: 1, via: http, into: &result)
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

        // 3. Service-desk actions, in time order.
        for item in actions {
            guard let report = item.reportID, let ticket = await tickets.ticket(for: report),
                let event = try item.actionEvent(ticketID: ticket, source: SampleDay.actionSource)
            else {
                result.actionsWithoutTicket += 1
                continue
            }
            try await connection.publish(AMQPCloudEventCodec.encode(event), exchange: ITRNames.ingressExchange, routingKey: item.routingKey)
            result.actionsPublished += 1
        }
        progress("actions: \(result.actionsPublished) sent, \(result.actionsWithoutTicket) without a ticket")
        if options.drainTimeout > .zero {
            result.drained = try await QueueDrain.wait(on: connection, timeout: options.drainTimeout, progress: progress)
            try await Task.sleep(for: .seconds(1))
        }
        result.observedEvents = await tickets.types
        result.seconds = Double((ContinuousClock.now - started).components.seconds)
            + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
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
        try await send(headers: encoded.headers, body: encoded.body, count: events.count, via: http, into: &result)
    }

    private func send(headers: [String: String], body: Data, count: Int, via http: HTTPFetcher, into result: inout Result) async throws {
        var headers = headers
        if let token = options.token { headers["Authorization"] = "Bearer \(token)" }
        let response = try await http.post("\(options.intakeURL)/v1/reports", headers: headers, body: body)
        result.httpPosted += count
        result.httpStatuses["\(response.status)", default: 0] += 1
    }
}

/// Report event id → ticket id, as learnt from `itr.ticket.opened`.
actor TicketDirectory {
    private var tickets: [String: String] = [:]
    private(set) var types: [String: Int] = [:]
    var count: Int { tickets.count }
    func count(type: String) { types[type, default: 0] += 1 }
    func record(report: String, ticket: String) { tickets[report] = ticket }
    func ticket(for report: String) -> String? { tickets[report] }
    func count(of reports: Set<String>) -> Int { reports.reduce(0) { $0 + (tickets[$1] == nil ? 0 : 1) } }
}
