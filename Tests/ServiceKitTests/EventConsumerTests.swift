import AMQPClient
import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import ServiceKit

/// A delivery that records how it was settled.
final class FakeDelivery: AcknowledgeableDelivery {
    enum Settlement: Equatable { case ack, nack(requeue: Bool) }

    let inbound: InboundMessage
    private let settlement = Mutex<[Settlement]>([])

    init(_ message: AMQPMessage, redelivered: Bool = false) {
        inbound = InboundMessage(message: message, exchange: "itr.events", routingKey: "itr.test.happened", redelivered: redelivered)
    }

    func ack() { settlement.withLock { $0.append(.ack) } }
    func nack(requeue: Bool) { settlement.withLock { $0.append(.nack(requeue: requeue)) } }
    var settlements: [Settlement] { settlement.withLock { $0 } }
}

/// A delivery source fed by the test.
final class FakeSource: DeliverySource {
    private let continuation: AsyncStream<FakeDelivery>.Continuation
    private let stream: AsyncStream<FakeDelivery>

    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    func send(_ deliveries: [FakeDelivery]) {
        for delivery in deliveries { continuation.yield(delivery) }
    }

    func consume(
        queue: String, prefetch: UInt16, consuming: @escaping @Sendable () -> Void,
        deliver: @escaping @Sendable (any AcknowledgeableDelivery) -> Void
    ) async throws {
        consuming()
        for await delivery in stream { deliver(delivery) }
    }
}

/// A handler that dedups through the inbox, writes an output event per processed delivery,
/// and reacts to markers in the body.
struct TestHandler: EventHandler {
    let store: ServiceStore
    let recorder = BatchRecorder()

    func handle(_ batch: [InboundMessage]) async throws -> [Disposition] {
        recorder.sizes.withLock { $0.append(batch.count) }
        if batch.count > 1, batch.contains(where: { String(decoding: $0.message.body, as: UTF8.self) == "poison" }) {
            throw POISON()
        }
        return try await store.pool.write { db in
            try batch.map { inbound -> Disposition in
                let body = String(decoding: inbound.message.body, as: UTF8.self)
                switch body {
                case "poison": throw POISON()
                case "invalid": return .invalid(reasonCode: "schema", message: "缺少字段 product")
                case "retry": return .retry
                default:
                    let id = inbound.message.properties.messageID ?? ""
                    guard try Inbox.claim(db, source: "/test", id: id) else { return .duplicate }
                    try Outbox.enqueue(db, message: event(id: "out-\(id)"), exchange: "itr.events", routingKey: "itr.out")
                    return .processed
                }
            }
        }
    }

    struct POISON: Error {}
}

final class BatchRecorder: Sendable {
    let sizes = Mutex<[Int]>([])
}

@Suite struct EventConsumerTests {
    @Test func dispositionsAreSettledAndRejectionsStored() async throws {
        let store = try makeTemporaryStore()
        let source = FakeSource()
        let handler = TestHandler(store: store)
        let health = HealthState()
        let metrics = ServiceMetrics(service: "consumer-test", registry: .init())
        let consumer = EventConsumer(
            service: "itr-router", configuration: .init(queue: "itr-router.inbox"), source: source, handler: handler,
            store: .sqlite(store), relay: nil, health: health, metrics: metrics)

        let ok = FakeDelivery(event(id: "a", body: "ok"))
        let dup = FakeDelivery(event(id: "a", body: "ok"))
        let invalid = FakeDelivery(event(id: "b", body: "invalid"))
        let retry = FakeDelivery(event(id: "c", body: "retry"))
        let poisonFresh = FakeDelivery(event(id: "d", body: "poison"))
        var poisonedMessage = event(id: "e", body: "poison")
        poisonedMessage.properties.headers["x-delivery-count"] = .int64(3)
        let poisonOld = FakeDelivery(poisonedMessage, redelivered: true)
        let other = FakeDelivery(event(id: "f", body: "ok"))

        let group = ServiceGroup(configuration: .init(services: [consumer], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await eventually { health.isReady })
            source.send([ok, dup])
            #expect(await eventually { dup.settlements.count == 1 })
            source.send([invalid, retry, poisonFresh, poisonOld, other])
            #expect(await eventually { other.settlements.count == 1 && poisonOld.settlements.count == 1 })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!health.isReady)
        #expect(ok.settlements == [.ack])
        #expect(dup.settlements == [.ack])
        #expect(invalid.settlements == [.ack])
        #expect(retry.settlements == [.nack(requeue: true)])
        #expect(poisonFresh.settlements == [.nack(requeue: true)])
        #expect(poisonOld.settlements == [.nack(requeue: false)])
        #expect(other.settlements == [.ack])

        let rows = try await store.pool.read { try Outbox.pending($0, limit: 100) }
        let outputs = rows.filter { $0.routingKey == "itr.out" }
        #expect(outputs.map(\.message.properties.messageID) == ["out-a", "out-f"])
        let rejected = try #require(rows.first { $0.exchange == "itr.dlx" })
        #expect(rejected.routingKey == "itr-router.inbox.dlq")
        #expect(rejected.message.body == invalid.inbound.message.body)
        let headers = rejected.message.properties.headers
        #expect(headers["x-itr-reason-code"] == .string("schema"))
        #expect(headers["x-itr-reason"] == .string("缺少字段 product"))
        #expect(headers["x-itr-original-exchange"] == .string("itr.events"))
        #expect(headers["x-itr-original-routing-key"] == .string("itr.test.happened"))
        #expect(headers["x-itr-service"] == .string("itr-router"))
        #expect(headers["ce-id"] == .string("b"))
        #expect(rejected.message.properties.messageID == "b")

        let text = metrics.render()
        #expect(text.contains(#"itr_events_rejected_total{service="consumer-test",reason="schema"} 1"#))
        #expect(text.contains(#"itr_events_duplicate_total{service="consumer-test"} 1"#))
        // Not a type of the contract: counted under "other" (labels are bounded).
        #expect(text.contains(#"itr_events_consumed_total{service="consumer-test",type="other"} 2"#))
        #expect(!text.contains("itr.test.happened"))
        #expect(text.contains(#"itr_deliveries_total{service="consumer-test",queue="itr-router.inbox",disposition="failed"} 2"#))
    }

    @Test func takesEverythingBufferedAsOneBatch() async throws {
        let store = try makeTemporaryStore()
        let source = FakeSource()
        let handler = TestHandler(store: store)
        var configuration = EventConsumer.Configuration(queue: "q", rejectionTarget: .rejectedQueue)
        configuration.maximumBatch = 50
        let consumer = EventConsumer(
            service: "intake", configuration: configuration, source: source, handler: handler, store: .sqlite(store), relay: nil)
        let deliveries = (0..<120).map { FakeDelivery(event(id: "m-\($0)", body: "ok")) }
        source.send(deliveries)
        let group = ServiceGroup(configuration: .init(services: [consumer], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await eventually { deliveries.allSatisfy { $0.settlements == [.ack] } })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // How the 120 split depends on how fast the source task feeds the buffer while the
        // consumer takes batches; the exact split of a full buffer is the next test's.
        let sizes = handler.recorder.sizes.withLock { $0 }
        #expect(sizes.reduce(0, +) == 120)
        #expect(sizes.allSatisfy { (1...50).contains($0) })
        #expect(try await store.pool.read { try Outbox.count($0) } == 120)
    }

    @Test func aBatchIsEverythingBufferedUpToTheMaximum() async {
        let buffer = DeliveryBuffer()
        let deliveries = (0..<120).map { FakeDelivery(event(id: "b-\($0)", body: "ok")) }
        for delivery in deliveries { buffer.append(delivery) }
        var sizes: [Int] = []
        for _ in 0..<3 { sizes.append(await buffer.nextBatch(maximum: 50).count) }
        #expect(sizes == [50, 50, 20])
        #expect(buffer.count == 0)
        buffer.append(FakeDelivery(event(id: "b-late", body: "ok")))
        #expect(await buffer.nextBatch(maximum: 50).count == 1, "a batch does not wait for more than the first")
    }

    @Test func invalidForIntakeGoesToTheRejectedQueue() async throws {
        let store = try makeTemporaryStore()
        let consumer = EventConsumer(
            service: "intake", configuration: .init(queue: "intake.reports", rejectionTarget: .rejectedQueue),
            source: FakeSource(), handler: TestHandler(store: store), store: .sqlite(store), relay: nil)
        let delivery = FakeDelivery(event(id: "x", body: "invalid"))
        await consumer.process([delivery])
        #expect(delivery.settlements == [.ack])
        let row = try #require(try await store.pool.read { try Outbox.pending($0, limit: 10) }.first)
        #expect(row.exchange == "")
        #expect(row.routingKey == "itr.rejected")
    }

    @Test func deliveryCountFromHeaderOrRedeliveredFlag() {
        var message = event(id: "1")
        #expect(InboundMessage(message: message, exchange: "", routingKey: "").deliveryCount == 0)
        #expect(InboundMessage(message: message, exchange: "", routingKey: "", redelivered: true).deliveryCount == 1)
        message.properties.headers["x-delivery-count"] = .int32(4)
        #expect(InboundMessage(message: message, exchange: "", routingKey: "").deliveryCount == 4)
        #expect(InboundMessage(message: message, exchange: "", routingKey: "").eventType == "itr.test.happened")
    }
}
