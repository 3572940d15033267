import AMQPClient
import Foundation
import ITRConfig
import ITRTestSupport
import Logging
import ServiceKit
import Testing
import TextClassifier
@testable import RouterApp

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `reclassify` end to end against the broker (AMQP and HTTP), the corrections feed, and a new
/// model file picked up by the running router without a restart.
@Suite("reclassify against the broker", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct ReclassifyBrokerTests {
    static let token = "desk-token-reclassify"

    @Test func reclassifyOverAMQPAndHTTPAndAModelSwap() async throws {
        let (url, userURL) = try await TestEnvironment.makeVhostWithUsers("reclassify")
        let deskURL = try await userURL("itr-desk")
        let port = TestEnvironment.freePorts()
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("reclassify-\(UUID().uuidString)")
        let config = temporary.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: configDirectory, toPath: config.path)
        let rules = RulesHolder(try RouterRules.load(directory: config.path), directory: config.path)
        let router = try await RouterUnderTest(
            environment: [
                "AMQP_URL": url, "DATA_DIR": temporary.appendingPathComponent("data").path, "CONFIG_DIR": config.path,
                "HTTP_PORT": "\(port)", "ITR_CONFIG_WATCH_SECONDS": "0.2",
            ],
            rules: rules, token: Self.token, label: "reclassify-broker-test")
        let (group, logger) = (router.group, router.logger)
        let start = router.clock.now()

        let client = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: logger)
        try await client.declare(AMQPTopology(
            queues: [.quorum("test.events")],
            bindings: [AMQPBinding(queue: "test.events", exchange: "itr.events", routingKey: "#")]))
        let seen = EventLog()
        _ = try await client.consume(queue: "test.events", prefetch: 500, onDelivery: { seen.append($0.message); $0.ack() })
        func publish(_ event: CloudEvent, exchange: String, routingKey: String) async throws {
            try await client.publish(AMQPCloudEventCodec.encode(event), exchange: exchange, routingKey: routingKey)
        }
        func http(_ method: String, _ path: String, body: String? = nil) async throws -> (Int, String) {
            try await routerHTTP(port: port, method, path, body: body, token: Self.token)
        }
        func classified(_ ticket: String) -> [TicketClassified] {
            seen.of(.ticketClassified, ticket: ticket).compactMap { try? $0.decodeData(TicketClassified.self) }
        }

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await eventually { (try? await http("GET", "/readyz"))?.0 == 200 })

            // Opened and decided by the model.
            for (id, summary) in [("RC-1", "How do I configure port mirroring on SX6800?"), ("RC-2", "索取设备合格证和保修证书")] {
                try await publish(
                    try openedEvent(ticketId: id, summary: summary, openedAt: start), exchange: "itr.events",
                    routingKey: "itr.ticket.opened")
            }
            #expect(await eventually { classified("RC-1").count == 1 && classified("RC-2").count == 1 })
            let first = try #require(classified("RC-1").first)
            #expect(first.decidedBy == .model && first.serviceType == .softwareOperation)
            #expect(first.model?.version == rules.current.modelVersion)

            // Over AMQP: ticket.reclassify on itr.ingress.
            let action = ITREvents.TicketAction(
                ticketId: "RC-1", action: .reclassify, actor: engineer, reason: "mirroring is lost after every reboot: a bug",
                serviceType: .softwareFault)
            let desk = try await AMQPConnection.connect(AMQPConfiguration(url: deskURL), logger: logger)
            try await desk.publish(
                AMQPCloudEventCodec.encode(try actionEvent(action)).sent(by: "itr-desk"), exchange: "itr.ingress",
                routingKey: "ticket.reclassify")
            await desk.close()
            #expect(await eventually { classified("RC-1").count == 2 })
            let again = try #require(classified("RC-1").last)
            #expect(again.decidedBy == .desk && again.previousServiceType == .softwareOperation && again.serviceType == .softwareFault)
            #expect(again.priority != first.priority)

            // Over HTTP, with the body's validation on the same path.
            let missing = try await http("POST", "/v1/tickets/RC-2/actions", body: #"{"action":"reclassify","actor":{"id":"eng-9"},"reason":"x"}"#)
            #expect(missing.0 == 400 && missing.1.contains("data.serviceType"))
            let done = try await http(
                "POST", "/v1/tickets/RC-2/actions",
                body: #"{"action":"reclassify","serviceType":"new-requirement","reason":"客户要新增证书管理功能","actor":{"id":"eng-9"}}"#)
            #expect(done.0 == 200 && done.1.contains(#""serviceType":"new-requirement""#) && done.1.contains(#""classifiedBy":"desk""#))
            #expect(await eventually { classified("RC-2").count == 2 })

            // The corrections feed: both, as labelled JSONL.
            let feed = try await http("GET", "/v1/classifier/corrections")
            #expect(feed.0 == 200)
            let examples = try ExampleFile.parse(feed.1, file: "corrections", labels: Set(ServiceType.allCases.map(\.rawValue)))
            #expect(examples.map(\.label) == ["software-fault", "new-requirement"])
            #expect(examples[1].title == "索取设备合格证和保修证书" && examples[1].family == "desk-correction")
            let later = try await http("GET", "/v1/classifier/corrections?after=1")
            #expect(later.1.split(separator: "\n").count == 1)
            #expect(try await http("GET", "/v1/classifier/corrections?after=x").0 == 400)

            // A new model file (trained here on the corpus plus the corrections) replaces the old
            // one: the running router picks it up by itself.
            let before = try await http("GET", "/v1/classifier")
            #expect(before.0 == 200 && before.1.contains(rules.current.modelVersion ?? "?"))
            let corpus = try ExampleFile.read(
                paths: [TestEnvironment.packageRoot.appendingPathComponent("deploy/classifier/corpus/train").path])
            let model = try Trainer.train(
                corpus + examples, labels: ServiceType.allCases.map(\.rawValue),
                options: TrainingOptions(version: "service-type-test-swap", epochs: 5))
            try ModelFile.write(model, to: config.appendingPathComponent("models/service-type.itrm").path)
            #expect(await eventually { (try? await http("GET", "/v1/classifier"))?.1.contains("service-type-test-swap") == true })
            try await publish(
                try openedEvent(ticketId: "RC-3", summary: "Fan tray failed, chassis overheating", openedAt: start),
                exchange: "itr.events", routingKey: "itr.ticket.opened")
            #expect(await eventually { classified("RC-3").count == 1 })
            #expect(classified("RC-3").first?.model?.version == "service-type-test-swap")

            // The desk's CLI: itrctl ticket reclassify publishes the action on itr.ingress.
            let cli = try await runCommand(
                [TestEnvironment.packageRoot.appendingPathComponent(".build/debug/itrctl").path, "ticket", "reclassify", "RC-3",
                 "--to", "complaint", "--reason", "third fan tray this month, customer furious", "--actor", "desk-1"],
                environment: ["AMQP_URL": deskURL])
            #expect(cli.status == 0 && cli.output.contains("sent reclassify RC-3 → complaint"), "\(cli.output)")
            #expect(await eventually { classified("RC-3").count == 2 })
            // recorded as the desk identity access.yaml gives itr-desk, not the --actor it claimed
            #expect(classified("RC-3").last?.actor?.id == "service-desk-tools" && classified("RC-3").last?.serviceType == .complaint)
            let unknownType = try await runCommand(
                [TestEnvironment.packageRoot.appendingPathComponent(".build/debug/itrctl").path, "ticket", "reclassify", "RC-3",
                 "--to", "printer", "--reason", "x"], environment: ["AMQP_URL": deskURL])
            #expect(unknownType.status != 0 && unknownType.output.contains("unknown service type \"printer\""))

            // A broken model file is refused: the router keeps the one it has.
            try Data("not a model".utf8).write(to: config.appendingPathComponent("models/service-type.itrm"))
            try await Task.sleep(for: .seconds(1))
            #expect(rules.current.modelVersion == "service-type-test-swap")

            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await client.close()
        await TestEnvironment.deleteVhost(url: url)
        try? FileManager.default.removeItem(at: temporary)
    }
}
