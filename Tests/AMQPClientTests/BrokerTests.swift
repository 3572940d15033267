import AMQPClient
import Foundation
import ITRTestSupport
import Testing

@Suite("AMQP client against the shared broker", .enabled(if: TestEnvironment.brokerTestsEnabled))
struct BrokerTests {
    @Test func roundTripKeepsBodyPropertiesAndEveryHeaderKind() async throws {
        let conn = try await AMQPTest.connect()
        defer { Task { await conn.close() } }
        let queue = try await AMQPTest.freshQueue(conn)
        let headers: AMQPTable = [
            "ce-id": "e-1", "ce-source": "/callcenter/上海", "flag": .bool(true), "i8": .int8(-8), "i16": .int16(-16),
            "i32": .int32(-32), "i64": .int64(1 << 40), "u8": .uint8(8), "u16": .uint16(16), "u32": .uint32(32),
            "f": .float(1.5), "d": .double(2.25), "dec": .decimal(scale: 2, value: 12345), "bin": .bytes([0, 1, 255]),
            "ts": .timestamp(1_790_000_000), "nested": .table(["k": "值"]), "list": .array(["a", .int64(2), .void]), "nothing": .void,
        ]
        let body = Data("{\"summary\":\"核心交换机宕机 core switch down\"}".utf8)
        let props = AMQPProperties(
            contentType: "application/json", contentEncoding: "utf-8", headers: headers, deliveryMode: 2, priority: 3,
            correlationID: "T-1", replyTo: "r", expiration: "60000", messageID: "e-1", timestamp: 1_790_000_001,
            type: "itr.report.submitted", userID: "guest", appID: "test")
        try await conn.publish(AMQPMessage(body: body, properties: props), exchange: "", routingKey: queue)
        let consumer = try await conn.consume(queue: queue, prefetch: 10)
        var iterator = consumer.makeAsyncIterator()
        let d = try #require(try await iterator.next())
        d.ack()
        #expect(d.message.body == body)
        #expect(d.routingKey == queue && d.exchange == "" && !d.redelivered)
        var got = d.message.properties
        got.headers["x-delivery-count"] = nil
        #expect(got == props)
        try await conn.deleteQueue(queue)
    }

    @Test func tenThousandConfirmedMessagesAreAllConsumed() async throws {
        let conn = try await AMQPTest.connect()
        defer { Task { await conn.close() } }
        let queue = try await AMQPTest.freshQueue(conn)
        let collector = Collector(try await conn.consume(queue: queue, prefetch: 256))
        let confirmed = try await AMQPTest.publishAll(conn, queue: queue, range: 0..<10_000)
        #expect(confirmed.count == 10_000)
        let missing = try await collector.waitFor(confirmed)
        #expect(missing.isEmpty, "missing \(missing.count) messages")
        #expect(conn.statistics.confirmed.load(ordering: .relaxed) >= 10_000)
        collector.task.cancel()
        try await conn.deleteQueue(queue)
    }

    @Test func mandatoryUnroutablePublishFails() async throws {
        let conn = try await AMQPTest.connect()
        defer { Task { await conn.close() } }
        let exchange = TestEnvironment.uniqueName("test.unroutable")
        try await conn.declare(AMQPTopology(exchanges: [AMQPExchange(name: exchange, type: .topic, durable: false, autoDelete: true)]))
        await #expect {
            try await conn.publish(AMQPTest.message(1), exchange: exchange, routingKey: "nowhere", mandatory: true)
        } throws: { ($0 as? AMQPError)?.code == .unroutable && ($0 as? AMQPError)?.replyCode == 312 }
        // Without mandatory the same publish is confirmed (and dropped by the broker).
        try await conn.publish(AMQPTest.message(2), exchange: exchange, routingKey: "nowhere")
    }

    @Test func publishingToAMissingExchangeFailsAndTheConnectionStaysUsable() async throws {
        let conn = try await AMQPTest.connect()
        defer { Task { await conn.close() } }
        await #expect {
            try await conn.publish(AMQPTest.message(1), exchange: TestEnvironment.uniqueName("no.such.exchange"), routingKey: "x")
        } throws: { ($0 as? AMQPError)?.code == .channelClosed && ($0 as? AMQPError)?.replyCode == 404 }
        let queue = try await AMQPTest.freshQueue(conn)
        try await conn.publish(AMQPTest.message(2), exchange: "", routingKey: queue)
        #expect(try await conn.inspectQueue(queue).messageCount == 1)
        try await conn.deleteQueue(queue)
    }

    @Test func declaringAQueueWithDifferentArgumentsFailsWithTheBrokersReason() async throws {
        let conn = try await AMQPTest.connect()
        defer { Task { await conn.close() } }
        let queue = try await AMQPTest.freshQueue(conn)
        await #expect {
            try await conn.declare(AMQPTopology(queues: [AMQPQueue(name: queue)]))
        } throws: { ($0 as? AMQPError)?.replyCode == 406 && (($0 as? AMQPError)?.replyText ?? "").contains("PRECONDITION_FAILED") }
        // Idempotent re-declaration with the same arguments succeeds on the recovered control channel.
        try await conn.declare(AMQPTopology(queues: [.quorum(queue)]))
        try await conn.deleteQueue(queue)
    }

    @Test func deletingAConsumedQueueEndsTheConsumerWithAnError() async throws {
        let conn = try await AMQPTest.connect()
        defer { Task { await conn.close() } }
        let other = try await AMQPTest.connect(name: "amqp-test-admin")
        defer { Task { await other.close() } }
        let queue = try await AMQPTest.freshQueue(conn)
        let consumer = try await conn.consume(queue: queue)
        let ending = Task { () -> AMQPError? in
            do {
                for try await d in consumer { d.ack() }
                return nil
            } catch {
                return error as? AMQPError
            }
        }
        try await other.deleteQueue(queue)
        let error = await ending.value
        #expect(error?.code == .consumerCancelled)
    }

    @Test func anIdleConnectionSurvivesThreeHeartbeatIntervals() async throws {
        let conn = try await AMQPTest.connect(heartbeat: 1)
        defer { Task { await conn.close() } }
        let queue = try await AMQPTest.freshQueue(conn)
        let consumer = try await conn.consume(queue: queue)
        try await Task.sleep(for: .milliseconds(3500))
        #expect(conn.isConnected)
        #expect(conn.statistics.connectionLosses.load(ordering: .relaxed) == 0)
        try await conn.publish(AMQPTest.message(7), exchange: "", routingKey: queue)
        var it = consumer.makeAsyncIterator()
        let d = try #require(try await it.next())
        d.ack()
        #expect(d.message.properties.messageID == "m-7")
        try await conn.deleteQueue(queue)
    }

    @Test func nackWithoutRequeueDeadLettersAndCancelEndsTheSequence() async throws {
        let conn = try await AMQPTest.connect()
        defer { Task { await conn.close() } }
        let dlx = TestEnvironment.uniqueName("test.dlx")
        let queue = TestEnvironment.uniqueName("test.work")
        try await conn.declare(AMQPTopology(
            exchanges: [AMQPExchange(name: dlx, type: .topic, durable: false, autoDelete: true)],
            queues: [.quorum(queue, deliveryLimit: 2, deadLetterExchange: dlx, deadLetterRoutingKey: "\(queue).dlq"), .quorum("\(queue).dlq")],
            bindings: [AMQPBinding(queue: "\(queue).dlq", exchange: dlx, routingKey: "\(queue).dlq")]))
        try await conn.publish(AMQPTest.message(1), exchange: "", routingKey: queue)
        let consumer = try await conn.consume(queue: queue)
        var it = consumer.makeAsyncIterator()
        let d = try #require(try await it.next())
        d.nack(requeue: false)
        let dlq = try await conn.consume(queue: "\(queue).dlq")
        var dit = dlq.makeAsyncIterator()
        let dead = try #require(try await dit.next())
        dead.ack()
        #expect(dead.message.properties.messageID == "m-1")
        consumer.cancel()
        #expect(try await it.next() == nil, "the sequence ends after cancel")
        try await conn.deleteQueue(queue)
        try await conn.deleteQueue("\(queue).dlq")
    }
}
