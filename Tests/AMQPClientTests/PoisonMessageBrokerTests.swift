import AMQPClient
import Foundation
import ITRTestSupport
import Testing

/// One message the wire cannot carry fails alone; the connection and everything else go on.
@Suite("AMQP client: poison messages against the broker", .enabled(if: TestEnvironment.brokerTestsEnabled))
struct PoisonMessageBrokerTests {
    static let long = String(repeating: "x", count: 300)

    /// Publishes that librabbitmq cannot encode or the broker would refuse, one per kind.
    static func poison() -> [(String, AMQPMessage, exchange: String, routingKey: String)] {
        func with(_ change: (inout AMQPProperties) -> Void) -> AMQPMessage {
            var m = AMQPTest.message(0)
            change(&m.properties)
            return m
        }
        var deep: AMQPFieldValue = "leaf"
        for _ in 0..<40 { deep = .table(["n": deep]) }
        return [
            ("content_type", with { $0.contentType = long }, "", "q"),
            ("message_id", with { $0.messageID = long }, "", "q"),
            ("type", with { $0.type = long }, "", "q"),
            ("app_id", with { $0.appID = long }, "", "q"),
            ("correlation_id", with { $0.correlationID = long }, "", "q"),
            ("header name", with { $0.headers[long] = "v" }, "", "q"),
            ("header table over the frame", with { $0.headers["big"] = .string(String(repeating: "y", count: 200_000)) }, "", "q"),
            ("deep headers", with { $0.headers["deep"] = deep }, "", "q"),
            ("exchange name", AMQPTest.message(0), long, "q"),
            ("routing key", AMQPTest.message(0), "", long),
            ("body over max_message_size", AMQPMessage(body: Data(count: (16 << 20) + 1)), "", "q"),
        ]
    }

    @Test func unencodablePublishesFailAloneAndTheConnectionKeepsWorking() async throws {
        let conn = try await AMQPTest.connect()
        defer { Task { await conn.close() } }
        let queue = try await AMQPTest.freshQueue(conn)
        let collector = Collector(try await conn.consume(queue: queue, prefetch: 64))
        let losses = conn.statistics.connectionLosses.load(ordering: .relaxed)
        // Interleaved: a good message after every poisoned one, all in flight at once.
        let poison = Self.poison()
        let outcomes = await withTaskGroup(of: (String, AMQPError?).self) { group in
            for (i, (name, message, exchange, routingKey)) in poison.enumerated() {
                group.addTask {
                    do {
                        try await conn.publish(message, exchange: exchange, routingKey: routingKey == "q" ? queue : routingKey)
                        return (name, nil)
                    } catch {
                        return (name, error as? AMQPError)
                    }
                }
                group.addTask {
                    do {
                        try await conn.publish(AMQPTest.message(i + 1), exchange: "", routingKey: queue)
                        return ("good-\(i + 1)", nil)
                    } catch {
                        return ("good-\(i + 1)", error as? AMQPError)
                    }
                }
            }
            var all: [String: AMQPError?] = [:]
            for await (name, error) in group { all[name] = error }
            return all
        }
        for (name, _, _, _) in poison {
            #expect(outcomes[name]??.code == .unencodable, "\(name): \(String(describing: outcomes[name]))")
        }
        let good = Set((1...poison.count).map { "m-\($0)" })
        for i in 1...poison.count { #expect(outcomes["good-\(i)"]! == nil, "good-\(i) confirmed") }
        let missing = try await collector.waitFor(good)
        #expect(missing.isEmpty)
        #expect(conn.statistics.connectionLosses.load(ordering: .relaxed) == losses, "no reconnect")
        #expect(conn.statistics.unencodable.load(ordering: .relaxed) >= poison.count)
        #expect(conn.isConnected)
        collector.task.cancel()
        try await conn.deleteQueue(queue)
    }

    @Test func anOversizedDeliveryArrivesAsAPrefixWithItsDefectAndNothingElseSuffers() async throws {
        let publisher = try await AMQPTest.connect()
        defer { Task { await publisher.close() } }
        var config = try AMQPConfiguration(url: TestEnvironment.amqpURL)
        config.connectionName = "amqp-test-small"
        config.maximumMessageSize = 100_000
        let consumer = try await AMQPConnection.connect(config, logger: AMQPTest.logger)
        defer { Task { await consumer.close() } }
        let queue = try await AMQPTest.freshQueue(publisher)
        try await publisher.publish(AMQPTest.message(1, size: 1 << 20), exchange: "", routingKey: queue)
        try await publisher.publish(AMQPTest.message(2, size: 1000), exchange: "", routingKey: queue)
        let deliveries = try await consumer.consume(queue: queue, prefetch: 10)
        var iterator = deliveries.makeAsyncIterator()
        let big = try #require(try await iterator.next())
        let small = try #require(try await iterator.next())
        big.ack()
        small.ack()
        #expect(big.defect == .bodyTooLarge(announced: UInt64(1 << 20), limit: 100_000, kept: AMQPConfiguration.keptPrefixOfOversized))
        #expect(big.message.body.count == AMQPConfiguration.keptPrefixOfOversized)
        #expect(big.message.properties.messageID == "m-1")
        #expect(small.defect == nil && small.message.body.count == 1000 && small.message.properties.messageID == "m-2")
        #expect(consumer.statistics.oversizedDeliveries.load(ordering: .relaxed) == 1)
        try await publisher.deleteQueue(queue)
    }

    @Test func unsettledBytesBoundWhatAConnectionTakesIn() async throws {
        let publisher = try await AMQPTest.connect()
        defer { Task { await publisher.close() } }
        var config = try AMQPConfiguration(url: TestEnvironment.amqpURL)
        config.connectionName = "amqp-test-budget"
        config.maximumUnsettledBytes = 256 << 10
        let consumer = try await AMQPConnection.connect(config, logger: AMQPTest.logger)
        defer { Task { await consumer.close() } }
        let queue = try await AMQPTest.freshQueue(publisher)
        let size = 64 << 10
        for i in 0..<40 { try await publisher.publish(AMQPTest.message(i, size: size), exchange: "", routingKey: queue) }
        let deliveries = try await consumer.consume(queue: queue, prefetch: 40)
        var iterator = deliveries.makeAsyncIterator()
        var held: [AMQPDelivery] = []
        // Unsettled, the connection takes in the budget plus at most what one read turn brings.
        for _ in 0..<4 { held.append(try #require(try await iterator.next())) }
        try await Task.sleep(for: .milliseconds(500))
        let deliveredWhileHeld = consumer.statistics.delivered.load(ordering: .relaxed)
        // 256 KiB / 64 KiB = 4 held, the one that crosses the budget, and one being read.
        #expect(deliveredWhileHeld <= 6, "reading paused with \(deliveredWhileHeld) of 40 delivered")
        #expect(consumer.statistics.readPauses.load(ordering: .relaxed) >= 1)
        for d in held { d.ack() }
        var received = held.count
        while received < 40 {
            let d = try #require(try await iterator.next())
            d.ack()
            received += 1
        }
        #expect(received == 40)
        try await publisher.deleteQueue(queue)
    }
}

/// Headers nested thousands of levels deep used to overflow the connection thread's stack in
/// librabbitmq's recursive decoder (SIGSEGV at ~15,000 levels with the 1 MiB thread stack):
/// the guard caps them in the bytes read, before librabbitmq decodes.
@Suite("AMQP client: header nesting cap", .enabled(if: TestEnvironment.brokerTestsEnabled))
struct HeaderNestingBrokerTests {
    @Test func deeplyNestedHeadersArriveCappedWithTheirDefectAndTheConnectionLives() async throws {
        let conn = try await AMQPTest.connect()
        defer { Task { await conn.close() } }
        let queue = try await AMQPTest.freshQueue(conn, prefix: "test.deep")
        let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/interop/deep_headers_publish.py").path
        let (status, output) = try await TestEnvironment.runPython([
            script, "--url", TestEnvironment.amqpURL, "--queue", queue, "--depth", "18000", "--depth", "3", "--depth", "17",
        ])
        try #require(status == 0, "\(output)")
        let consumer = try await conn.consume(queue: queue, prefetch: 10)
        var iterator = consumer.makeAsyncIterator()
        var got: [String: AMQPDelivery] = [:]
        for _ in 0..<3 {
            let d = try #require(try await iterator.next())
            d.ack()
            got[d.message.properties.messageID ?? ""] = d
        }
        #expect(got["deep-0"]?.defect == .headersTooDeep(limit: 16))
        #expect(got["deep-1"]?.defect == nil)
        #expect(got["deep-1"]?.message.properties.headers["i"]?.intValue == 1)
        #expect(got["deep-2"]?.defect == .headersTooDeep(limit: 16))
        // The connection is fine: a plain round trip still works.
        try await conn.publish(AMQPTest.message(9), exchange: "", routingKey: queue)
        let after = try #require(try await iterator.next())
        after.ack()
        #expect(after.message.properties.messageID == "m-9" && after.defect == nil)
        #expect(conn.statistics.connectionLosses.load(ordering: .relaxed) == 0)
        try await conn.deleteQueue(queue)
    }
}
