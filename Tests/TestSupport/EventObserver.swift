import AMQPClient
import Foundation
import ITREvents
import Logging
import Synchronization

/// Everything the outside world sees of the services: a queue of its own bound to `itr.events`
/// with `#`, and the two ready-made feeds (`feed.defects`, `feed.opportunities`), each message
/// decoded as a CloudEvent and kept in arrival order.
public final class EventObserver: Sendable {
    /// The observer's own queue on `itr.events`.
    public static let eventsQueue = "system-test.events"

    public struct Seen: Sendable {
        public let queue: String
        public let routingKey: String
        public let event: CloudEvent
    }

    private let seen = Mutex<[Seen]>([])
    private let undecodable = Mutex<[String]>([])
    public let connection: AMQPConnection

    private init(connection: AMQPConnection) {
        self.connection = connection
    }

    /// Connects, binds the observer queue and starts consuming it and both feeds. `durable`:
    /// the observer queue is a quorum queue, for tests that kill the broker.
    public static func start(url: String, durable: Bool = false) async throws -> EventObserver {
        var logger = Logger(label: "system-test.observer")
        logger.logLevel = .warning
        let connection = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: logger)
        try await connection.declare(AMQPTopology(
            queues: [durable ? .quorum(eventsQueue) : AMQPQueue(name: eventsQueue, durable: false, exclusive: false, autoDelete: false)],
            bindings: [AMQPBinding(queue: eventsQueue, exchange: EventRouting.eventsExchange, routingKey: "#")]))
        let observer = EventObserver(connection: connection)
        for queue in [eventsQueue, EventRouting.defectFeedQueue, EventRouting.opportunityFeedQueue] {
            try await connection.consume(queue: queue, prefetch: 200) { [observer] delivery in
                observer.record(queue: queue, delivery.message, routingKey: delivery.routingKey)
                delivery.ack()
            }
        }
        return observer
    }

    private func record(queue: String, _ message: AMQPMessage, routingKey: String) {
        do {
            let event = try AMQPCloudEventCodec.decode(message)
            seen.withLock { $0.append(Seen(queue: queue, routingKey: routingKey, event: event)) }
        } catch {
            undecodable.withLock { $0.append("\(queue) \(routingKey): \(error)") }
        }
    }

    /// Messages that were not CloudEvents (there should be none).
    public var errors: [String] { undecodable.withLock { $0 } }

    /// Everything seen on `itr.events`.
    public var events: [CloudEvent] { seen.withLock { $0.filter { $0.queue == Self.eventsQueue }.map(\.event) } }

    /// Everything seen on `queue`, with its routing key.
    public func messages(on queue: String) -> [Seen] { seen.withLock { $0.filter { $0.queue == queue } } }

    /// The events of `type` on `itr.events` (optionally of one correlation id), decoded.
    public func payloads<P: EventPayload>(_ type: P.Type, correlation: String? = nil) -> [(CloudEvent, P)] {
        events.filter { $0.type == P.eventType.rawValue && (correlation == nil || $0.correlationID == correlation) }
            .compactMap { event in (try? event.decodeData(P.self)).map { (event, $0) } }
    }

    /// Polls `probe` until it returns a value, or throws after `timeout` naming what was awaited.
    public func await<T>(
        _ what: String, timeout: Duration = .seconds(60), _ probe: () throws -> T?
    ) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let value = try probe() { return value }
            guard ContinuousClock.now < deadline else {
                let types = events.map(\.type).reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
                throw ObservationTimeout(what: what, timeout: timeout, seen: types)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    public func close() async { await connection.close() }
}

public struct ObservationTimeout: Error, CustomStringConvertible {
    public let what: String
    public let timeout: Duration
    public let seen: [String: Int]
    public var description: String {
        "timed out after \(timeout) waiting for \(what); seen on itr.events: \(seen.sorted { $0.key < $1.key })"
    }
}

/// The distinct event ids the services published on `itr.events`, per type and ticket (the
/// event's correlation id), as a quorum queue of the test's own receives them: a type with two
/// ids for one ticket is an effect applied twice; the same id twice is a redelivery.
public final class EventIdTally: Sendable {
    private let seen = Mutex<[String: [String: Set<String>]]>([:])
    private let received = Atomic<Int>(0)

    /// Declares `queue` bound to `routingKeys` on `itr.events` and starts counting what arrives.
    public static func start(
        _ connection: AMQPConnection, queue: String, routingKeys: [String], prefetch: UInt16 = 1000
    ) async throws -> EventIdTally {
        let tally = EventIdTally()
        try await connection.declare(AMQPTopology(
            queues: [.quorum(queue)],
            bindings: routingKeys.map { AMQPBinding(queue: queue, exchange: EventRouting.eventsExchange, routingKey: $0) }))
        _ = try await connection.consume(queue: queue, prefetch: prefetch, onDelivery: { [tally] delivery in
            if let event = try? AMQPCloudEventCodec.decode(delivery.message), let ticket = event.correlationID {
                tally.seen.withLock { _ = $0[event.type, default: [:]][ticket, default: []].insert(event.id) }
            }
            tally.received.add(1, ordering: .relaxed)
            delivery.ack()
        })
        return tally
    }

    /// Tickets with at least one event of `type`.
    public func count(_ type: EventType) -> Int { seen.withLock { $0[type.rawValue]?.count ?? 0 } }

    /// type → ticket → event ids.
    public var snapshot: [String: [String: Set<String>]] { seen.withLock { $0 } }

    /// Messages received, redeliveries included.
    public var deliveries: Int { received.load(ordering: .relaxed) }
}
