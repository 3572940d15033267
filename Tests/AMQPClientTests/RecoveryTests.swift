import AMQPClient
import Foundation
import ITRTestSupport
import Testing

/// Broker outages, on a node of their own so that other tests keep their broker.
@Suite("AMQP client recovery", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct RecoveryTests {
    static let node = BrokerNode(name: "itr-chaos", port: 5690)

    /// Publishes continuously while `disrupt` runs, then until 500 more are confirmed on the
    /// recovered connection; every confirmed message must be consumed.
    func confirmedMessagesSurvive(_ disrupt: @Sendable () async throws -> Void) async throws {
        try? await Self.node.stop(purge: true)
        try await Self.node.start()
        let conn = try await AMQPTest.connect(Self.node.url, heartbeat: 2, name: "chaos")
        let queue = try await AMQPTest.freshQueue(conn, prefix: "test.chaos")
        // In production the queues exist long before a crash. RabbitMQ 3.10 records a new quorum
        // queue's Ra server in a DETS file that is flushed lazily, so a queue declared a moment
        // before `kill -9` can come back without a leader; a clean app restart flushes it.
        try await Self.node.ctl("stop_app")
        try await Self.node.ctl("start_app")
        try await Task.sleep(for: .seconds(1))
        let collector = Collector(try await conn.consume(queue: queue, prefetch: 128))
        let publisher = ContinuousPublisher(conn: conn, queue: queue)
        try await publisher.waitForConfirmed(500)
        do {
            try await disrupt()
        } catch {
            await conn.close() // fails the publishes still waiting, so the publisher ends
            throw error
        }
        let before = publisher.confirmedCount
        try await publisher.waitForConfirmed(before + 500, timeout: .seconds(90))
        let confirmed = try await publisher.stop()
        #expect(conn.statistics.connectionLosses.load(ordering: .relaxed) >= 1, "the disruption was seen")
        #expect(conn.statistics.connections.load(ordering: .relaxed) >= 2, "the connection was re-established")
        let missing = try await collector.waitFor(confirmed, timeout: .seconds(90))
        #expect(missing.isEmpty, "\(missing.count) of \(confirmed.count) confirmed messages never arrived")
        #expect(conn.isConnected)
        collector.task.cancel()
        try await conn.deleteQueue(queue)
        await conn.close()
    }

    @Test func stopAppAndStartAppMidStream() async throws {
        try await confirmedMessagesSurvive {
            try await Self.node.ctl("stop_app")
            try await Task.sleep(for: .seconds(2))
            try await Self.node.ctl("start_app")
        }
    }

    @Test func killMinusNineOfTheNodeAndRestart() async throws {
        try await confirmedMessagesSurvive {
            try await Self.node.kill()
            try await Task.sleep(for: .seconds(1))
            try await Self.node.start()
        }
        try await Self.node.stop(purge: true)
    }
}

@Suite("AMQP over TLS", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct TLSTests {
    @Test func tlsConnectionToABrokerWithATestCA() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("itr-test-ca"))
        let node = BrokerNode(name: "itr-tls", port: 5693)
        try? await node.stop(purge: true)
        try await node.script(["make-ca", dir.path])
        try await node.start(extra: ["--tls-port", "5694", "--tls-dir", dir.path])
        let ca = dir.appendingPathComponent("ca.pem").path

        // Server verified against the test CA, with a client certificate.
        var config = try AMQPConfiguration(url: "amqps://guest:guest@localhost:5694/%2f", environment: [
            "AMQP_TLS_CA": ca,
            "AMQP_TLS_CERT": dir.appendingPathComponent("client.pem").path,
            "AMQP_TLS_KEY": dir.appendingPathComponent("client.key").path,
        ])
        config.connectionName = "tls-test"
        let conn = try await AMQPConnection.connect(config, logger: AMQPTest.logger)
        let queue = try await AMQPTest.freshQueue(conn, prefix: "test.tls")
        try await conn.publish(AMQPTest.message(1, size: 200_000), exchange: "", routingKey: queue)
        var it = try await conn.consume(queue: queue).makeAsyncIterator()
        let d = try #require(try await it.next())
        d.ack()
        #expect(d.message.body.count == 200_000, "a multi-frame body crosses TLS intact")
        #expect(d.message.properties.messageID == "m-1")
        await conn.close()

        // Without the CA the broker's certificate is not trusted.
        let untrusted = try AMQPConfiguration(url: "amqps://guest:guest@localhost:5694/%2f", environment: [:])
        await #expect {
            _ = try await AMQPConnection.connect(untrusted, logger: AMQPTest.logger)
        } throws: { ($0 as? AMQPError)?.code == .connectionFailed }
        try await node.stop(purge: true)
    }
}
