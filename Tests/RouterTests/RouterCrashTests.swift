import AMQPClient
import Foundation
import ITRConfig
import ITRTestSupport
import Logging
import ServiceKit
import Synchronization
import Testing
@testable import RouterApp

/// The built `itr-router` killed with SIGKILL in the middle of 5,000 tickets and restarted:
/// every ticket gets exactly one `itr.ticket.classified` and one `itr.ticket.assigned` in effect.
///
/// Exactly once in effect = one distinct event id per ticket and type. The outbox relay may
/// publish a row again after a crash (between the broker's confirm and the row's deletion), so
/// the same event id may arrive twice: consumers de-duplicate by CloudEvent source + id, and so
/// does this test.
@Suite("itr-router crash recovery", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct RouterCrashTests {
    @Test func sigkillMidStreamLosesNothingAndDuplicatesNothing() async throws {
        let url = try await TestEnvironment.makeVhost("router-crash")
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("router-crash-\(UUID().uuidString)").path
        let port = TestEnvironment.freePorts()
        let environment = [
            "AMQP_URL": url, "DATA_DIR": dataDir, "HTTP_PORT": "\(port)", "CONFIG_DIR": configDirectory, "LOG_LEVEL": "warning",
        ]
        var router = try await ServiceProcess.start(product: "itr-router", environment: environment)
        try await router.waitReady(port: port)

        var logger = Logger(label: "router-crash-test")
        logger.logLevel = .warning
        let client = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: logger)
        let seen = try await EventIdTally.start(
            client, queue: "test.routed", routingKeys: ["itr.ticket.classified", "itr.ticket.assigned"])
        func count(_ type: EventType) -> Int { seen.count(type) }

        let total = 5_000
        let start = Date()
        let confirmed = Atomic<Int>(0)
        for index in 0..<total {
            let event = try openedEvent(
                ticketId: "TCK-\(index)", summary: "如何配置 VLAN \(index) / how to configure VLAN", openedAt: start)
            client.publish(AMQPCloudEventCodec.encode(event), exchange: "itr.events", routingKey: event.type) { error in
                if error == nil { confirmed.add(1, ordering: .relaxed) }
            }
        }
        #expect(await eventually(timeout: .seconds(60)) { confirmed.load(ordering: .relaxed) == total })

        // Mid-stream: some tickets routed, not all.
        #expect(await eventually(timeout: .seconds(60)) { count(.ticketClassified) >= 300 })
        await router.kill9()
        let atKill = count(.ticketClassified)
        let killedStatus: Int32? = router.status
        #expect(killedStatus == Int32(128 + 9))

        let restarted = ContinuousClock.now
        router = try await ServiceProcess.start(product: "itr-router", environment: environment)
        try await router.waitReady(port: port)
        let complete = await eventually(timeout: .seconds(240)) {
            count(.ticketClassified) == total && count(.ticketAssigned) == total
        }
        let elapsed = ContinuousClock.now - restarted
        #expect(complete, "classified \(count(.ticketClassified)), assigned \(count(.ticketAssigned)) of \(total)")
        try await Task.sleep(for: .milliseconds(500))  // would a second effect show up?
        let snapshot = seen.snapshot
        for type in [EventType.ticketClassified, .ticketAssigned] {
            let perTicket = snapshot[type.rawValue] ?? [:]
            #expect(perTicket.count == total)
            #expect(perTicket.values.allSatisfy { $0.count == 1 }, "\(type): a ticket with two different event ids")
        }
        let redelivered = seen.deliveries - 2 * total
        print("router crash test: killed at \(atKill) classified; after restart \(total - atKill) tickets in \(elapsed); "
            + "\(redelivered) same-id duplicate deliveries")
        #expect(await router.terminate() == 0)
        await client.close()
        await TestEnvironment.deleteVhost(url: url)
    }
}
