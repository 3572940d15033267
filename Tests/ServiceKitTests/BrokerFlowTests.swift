import AMQPClient
import Foundation
import GRDB
import ITRTestSupport
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import ServiceKit

struct BrokerFlowHandler: EventHandler {
    let store: ServiceStore
    let outputExchange: String

    func handle(_ batch: [InboundMessage]) async throws -> [Disposition] {
        try await store.pool.write { db in
            try batch.map { inbound in
                let id = inbound.message.properties.messageID ?? ""
                if String(decoding: inbound.message.body, as: UTF8.self).contains("invalid") {
                    return .invalid(reasonCode: "schema", message: "字段 product 缺失")
                }
                guard try Inbox.claim(db, source: "/broker-test", id: id) else { return .duplicate }
                try Outbox.enqueue(
                    db, message: event(id: "out-\(id)", body: "handled \(id)"), exchange: outputExchange,
                    routingKey: "out.\(id)")
                return .processed
            }
        }
    }
}

final class DeliveryCollector: Sendable {
    let deliveries = Mutex<[AMQPDelivery]>([])
    var count: Int { deliveries.withLock { $0.count } }
    func append(_ delivery: AMQPDelivery) { deliveries.withLock { $0.append(delivery) } }
}

/// Real broker: deliveries through EventConsumer + handler + outbox + OutboxRelay to an output
/// queue, and `.invalid` ending in the queue's DLQ with its reason headers.
/// Skipped when no broker answers on 127.0.0.1:5672 unless ITR_TEST_BROKER=1 (then it fails).
@Suite("ServiceKit against the shared broker", .enabled(if: TestEnvironment.brokerTestsEnabled, "no broker on 127.0.0.1:5672 and ITR_TEST_BROKER unset"))
struct BrokerFlowTests {
    @Test func eventsFlowThroughConsumerOutboxAndRelay() async throws {
        let logger = Logger(label: "broker-test")
        let connection = try await AMQPConnection.connect(AMQPConfiguration(url: TestEnvironment.amqpURL), logger: logger)
        let suffix = UInt32.random(in: 0...UInt32.max)
        let exchange = "sktest.events.\(suffix)"
        let inQueue = "sktest.in.\(suffix)"
        let outQueue = "sktest.out.\(suffix)"
        var topology = AMQPTopology(
            exchanges: [AMQPExchange(name: exchange, type: .topic), AMQPExchange(name: ITRNames.deadLetterExchange, type: .topic)],
            queues: [AMQPQueue.quorum(outQueue)],
            bindings: [AMQPBinding(queue: outQueue, exchange: exchange, routingKey: "out.#")])
        topology = topology.merging(ITRTopology.serviceQueue(name: inQueue, bindings: [(exchange, "in.#")]))
        try await connection.declare(topology)

        let store = try makeTemporaryStore()
        let metrics = ServiceMetrics(service: "broker-test", registry: .init())
        let health = HealthState()
        let relay = OutboxRelay(store: store, publisher: connection, metrics: metrics, logger: logger)
        let consumer = EventConsumer(
            service: "broker-test", configuration: .init(queue: inQueue), source: connection,
            handler: BrokerFlowHandler(store: store, outputExchange: exchange), store: .sqlite(store), relay: relay, health: health,
            metrics: metrics, logger: logger)

        let total = 50
        let invalidIDs: Set<String> = ["m-7", "m-31"]
        for index in 0..<total {
            let id = "m-\(index)"
            try await connection.publish(
                event(id: id, body: invalidIDs.contains(id) ? "invalid \(index)" : "ok \(index)"), exchange: exchange,
                routingKey: "in.\(index)")
        }
        // A duplicate of m-0: acked, no second output.
        try await connection.publish(event(id: "m-0", body: "ok again"), exchange: exchange, routingKey: "in.0")

        let group = ServiceGroup(configuration: .init(services: [relay, consumer], logger: logger))
        let outputs = DeliveryCollector()
        let dead = DeliveryCollector()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let outConsumer = try await connection.consume(queue: outQueue, prefetch: 100)
            let dlqConsumer = try await connection.consume(queue: inQueue + ".dlq", prefetch: 10)
            tasks.addTask {
                for try await delivery in outConsumer {
                    delivery.ack()
                    outputs.append(delivery)
                }
            }
            tasks.addTask {
                for try await delivery in dlqConsumer {
                    delivery.ack()
                    dead.append(delivery)
                }
            }
            let expected = total - invalidIDs.count
            let complete = await eventually(timeout: .seconds(30)) {
                outputs.count >= expected && dead.count >= invalidIDs.count
            }
            #expect(complete)
            #expect(health.isReady)
            try await Task.sleep(for: .milliseconds(300))  // would a duplicate output show up?
            await group.triggerGracefulShutdown()
            outConsumer.cancel()
            dlqConsumer.cancel()
            tasks.cancelAll()
        }

        let outputIDs = outputs.deliveries.withLock { $0.map { $0.message.properties.messageID ?? "" } }
        #expect(outputIDs.count == total - invalidIDs.count)
        #expect(Set(outputIDs) == Set((0..<total).map { "out-m-\($0)" }).subtracting(invalidIDs.map { "out-\($0)" }))
        let deadLetters = dead.deliveries.withLock { $0 }
        #expect(Set(deadLetters.map { $0.message.properties.messageID ?? "" }) == invalidIDs)
        for letter in deadLetters {
            let headers = letter.message.properties.headers
            #expect(headers["x-itr-reason-code"]?.stringValue == "schema")
            #expect(headers["x-itr-reason"]?.stringValue == "字段 product 缺失")
            #expect(headers["x-itr-original-exchange"]?.stringValue == exchange)
            #expect(headers["x-itr-original-routing-key"]?.stringValue?.hasPrefix("in.") == true)
            #expect(headers["x-itr-service"]?.stringValue == "broker-test")
            #expect(headers["ce-id"]?.stringValue == letter.message.properties.messageID)
            #expect(String(decoding: letter.message.body, as: UTF8.self).hasPrefix("invalid"))
        }
        #expect(try await store.pool.read { try Outbox.count($0) } == 0)
        #expect(metrics.render().contains(#"itr_events_duplicate_total{service="broker-test"} 1"#))

        for queue in [inQueue, inQueue + ".dlq", outQueue] { _ = try? await connection.deleteQueue(queue) }
        await connection.close()
    }
}
