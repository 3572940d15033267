import AMQPClient
import Foundation
import ITRCtlKit
import ITRTestSupport
import Logging
import ServiceKit
import Testing

/// `itrctl dlq ...` and `status` against a real broker, on a virtual host of their own.
@Suite(.serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct DeadLetterCommandTests {
    static var itrctl: String { TestEnvironment.packageRoot.appendingPathComponent(".build/debug/itrctl").path }

    func connect(_ url: String) async throws -> AMQPConnection {
        try await AMQPConnection.connect(try AMQPConfiguration(url: url), logger: Logger(label: "test"))
    }

    /// A message as ServiceKit's consumer dead-letters invalid input: original body, `x-itr-*` headers.
    func rejected(_ n: Int, text: String) -> AMQPMessage {
        var properties = AMQPProperties.persistent
        properties.contentType = "application/json"
        properties.messageID = "m-\(n)"
        properties.headers = [
            "ce-id": .string("evt-\(n)"), "ce-source": "//test", "ce-type": "itr.ticket.opened", "ce-specversion": "1.0",
            ITRNames.reasonCodeHeader: "invalid-data", ITRNames.reasonHeader: .string("ticketId missing (\(text))"),
            ITRNames.originalExchangeHeader: .string(ITRNames.eventsExchange),
            ITRNames.originalRoutingKeyHeader: "itr.ticket.opened", ITRNames.serviceHeader: "itr-router",
        ]
        return AMQPMessage(body: Data("{\"summary\":\"\(text)\"}".utf8), properties: properties)
    }

    func depth(_ connection: AMQPConnection, _ queue: String) async throws -> Int {
        Int(try await connection.inspectQueue(queue).messageCount)
    }

    func waitFor(_ expected: Int, _ connection: AMQPConnection, _ queue: String) async throws -> Int {
        var n = -1
        for _ in 0..<50 {
            n = try await depth(connection, queue)
            if n == expected { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return n
    }

    @Test func showReplayAndPurge() async throws {
        let url = try await TestEnvironment.makeVhost("itrctl-dlq")
        let connection = try await connect(url)
        try await connection.declare(ITRTopology.all)
        let dlq = "itr-router.inbox.dlq"
        for n in 1...3 {
            try await connection.publish(rejected(n, text: "故障 \(n)"), exchange: ITRNames.deadLetterExchange, routingKey: dlq)
        }
        // One dead-lettered by the broker (rejected without requeue): x-death names where it came from.
        var plain = AMQPProperties.persistent
        plain.headers = ["ce-id": "raw-1", "ce-source": "//test", "ce-type": "itr.report.submitted"]
        try await connection.publish(AMQPMessage(body: Data("{}".utf8), properties: plain), exchange: ITRNames.ingressExchange, routingKey: "report.phone")
        let consumer = try await connection.consume(queue: "intake.reports", prefetch: 1)
        for try await delivery in consumer {
            delivery.reject(requeue: false)
            break
        }
        consumer.cancel()
        #expect(try await waitFor(1, connection, "intake.reports.dlq") == 1)
        #expect(try await waitFor(3, connection, dlq) == 3)

        // show: reasons and destinations, messages stay.
        let browser = try await connect(url)
        let letters = try await DeadLetterQueues.browse(dlq, limit: 10, on: browser)
        await browser.close()
        #expect(letters.count == 3)
        #expect(letters.allSatisfy { $0.reasonCode == "invalid-data" && $0.service == "itr-router" })
        #expect(letters.contains { $0.reason?.contains("故障 2") == true && $0.body.contains("故障 2") })
        #expect(letters.allSatisfy { $0.replayExchange == "itr.events" && $0.replayRoutingKey == "itr.ticket.opened" })
        #expect(try await waitFor(3, connection, dlq) == 3, "show must leave the messages in the queue")

        let rawBrowser = try await connect(url)
        let raw = try await DeadLetterQueues.browse("intake.reports.dlq", limit: 10, on: rawBrowser)
        await rawBrowser.close()
        #expect(raw.first?.deathReason == "rejected")
        #expect(raw.first?.replayExchange == "itr.ingress" && raw.first?.replayRoutingKey == "report.phone")

        // replay through the CLI without --yes and no terminal: refuses, nothing moves.
        let refused = try await runCommand([Self.itrctl, "dlq", "replay", dlq], environment: ["AMQP_URL": url])
        #expect(refused.status != 0)
        #expect(refused.output.contains("Nothing replayed"))
        #expect(try await depth(connection, dlq) == 3)

        // replay 2 of 3: they go to itr.events / itr.ticket.opened (router and ltc inboxes), headers cleaned.
        let result = try await DeadLetterQueues.replay(dlq, limit: 2, on: connection)
        #expect(result.replayed == 2)
        #expect(result.destinations == ["itr.events itr.ticket.opened": 2])
        #expect(try await waitFor(1, connection, dlq) == 1)
        #expect(try await waitFor(2, connection, "itr-router.inbox") == 2)
        #expect(try await waitFor(2, connection, "ltc-extractor.inbox") == 2)
        let inbox = try await connection.consume(queue: "itr-router.inbox", prefetch: 1)
        for try await delivery in inbox {
            let headers = delivery.message.properties.headers
            #expect(headers[ITRNames.reasonCodeHeader] == nil && headers["x-death"] == nil)
            #expect(headers["x-itr-replayed-from"]?.stringValue == dlq)
            #expect(headers["ce-id"]?.stringValue?.hasPrefix("evt-") == true)
            delivery.ack()
            break
        }
        inbox.cancel()

        // the broker-dead-lettered one goes back to itr.ingress report.phone (intake.reports), via the CLI.
        let replayed = try await runCommand(
            [Self.itrctl, "dlq", "replay", "intake.reports.dlq", "--yes", "--json"], environment: ["AMQP_URL": url])
        #expect(replayed.status == 0, "\(replayed.output)")
        #expect(replayed.output.contains("\"replayed\" : 1"))
        #expect(try await waitFor(1, connection, "intake.reports") == 1)

        // list and purge through the CLI.
        let list = try await runCommand([Self.itrctl, "dlq", "list", "--json"], environment: ["AMQP_URL": url])
        #expect(list.status == 0)
        #expect(list.output.contains("\"name\" : \"itr-router.inbox.dlq\""))
        let purged = try await runCommand([Self.itrctl, "dlq", "purge", dlq, "--yes"], environment: ["AMQP_URL": url])
        #expect(purged.output.contains("Purged 1 message from itr-router.inbox.dlq"), "\(purged.output)")
        #expect(try await depth(connection, dlq) == 0)

        // an unknown queue is refused with the list of dead-letter queues.
        let unknown = try await runCommand([Self.itrctl, "dlq", "purge", "intake.reports", "--yes"], environment: ["AMQP_URL": url])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("is not a dead-letter queue"))

        // status: queue depths and dead letters; services are not running on these ports → exit 1.
        let status = try await runCommand(
            [Self.itrctl, "status", "--json", "--host", "127.0.0.9"], environment: ["AMQP_URL": url])
        #expect(status.status == 1)
        let report = try JSONDecoder().decode(StatusReport.self, from: Data(status.output.utf8))
        #expect(report.queues.first { $0.name == "itr-router.inbox" }?.messages == 1)
        #expect(report.queues.first { $0.name == "intake.reports" }?.messages == 1)
        #expect(report.deadLetters == 0)
        #expect(report.services.allSatisfy { !$0.ready })

        await connection.close()
        await TestEnvironment.deleteVhost(url: url)
    }

    @Test func configValidateAndTopologyExport() async throws {
        let config = TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path
        let valid = try await runCommand([Self.itrctl, "config", "validate", config])
        #expect(valid.status == 0, "\(valid.output)")
        #expect(valid.output.contains("valid"))

        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("itr-config-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: config, toPath: broken.path)
        defer { try? FileManager.default.removeItem(at: broken) }
        let problems = broken.appendingPathComponent("problems.yaml")
        let text = try String(contentsOf: problems, encoding: .utf8)
        try text.replacingOccurrences(of: "threshold: 3", with: "threshold: drei").write(to: problems, atomically: true, encoding: .utf8)
        let invalid = try await runCommand([Self.itrctl, "config", "validate", broken.path, "--json"])
        #expect(invalid.status == 1)
        #expect(invalid.output.contains("problems.yaml:"))
        #expect(invalid.output.contains("\"valid\" : false"))

        // the shared symptom synonyms (problems.yaml) are validated, located by line
        try text.replacingOccurrences(of: "  module: [模块]", with: "  module: [模块, 电源]")
            .write(to: problems, atomically: true, encoding: .utf8)
        let synonyms = try await runCommand([Self.itrctl, "config", "validate", broken.path])
        #expect(synonyms.status == 1)
        #expect(synonyms.output.contains("problems.yaml:") && synonyms.output.contains("synonyms.module[1]"), "\(synonyms.output)")
        #expect(synonyms.output.contains("already a synonym of \"power\""), "\(synonyms.output)")

        // the services' own sections are validated too (intake.yaml is intake's)
        try text.write(to: problems, atomically: true, encoding: .utf8)
        let intake = broken.appendingPathComponent("intake.yaml")
        try "stormWindow: soon\n".write(to: intake, atomically: true, encoding: .utf8)
        let serviceSection = try await runCommand([Self.itrctl, "config", "validate", broken.path])
        #expect(serviceSection.status == 1)
        #expect(serviceSection.output.contains("intake.yaml:1"), "\(serviceSection.output)")

        let export = try await runCommand([Self.itrctl, "topology", "export"])
        let shipped = try String(
            contentsOf: TestEnvironment.packageRoot.appendingPathComponent("deploy/rabbitmq/definitions.json"), encoding: .utf8)
        #expect(export.output == shipped)
    }
}
