import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import LTCApp
import Logging
import ServiceKit
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Reads `count` messages from `queue` with pika and the CloudEvents Python SDK
/// (Tests/interop/ce_consume.py); returns the parsed JSON lines and the exit status.
func pythonConsume(url: String, queue: String, count: Int, timeout: Int = 30) async throws -> (events: [[String: Any]], status: Int32) {
    let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/interop/ce_consume.py").path
    let python = TestEnvironment.python.split(separator: " ").map(String.init)
    let (status, output) = try await runCommand(
        python + [script, "--url", url, "--queue", queue, "--count", "\(count)", "--timeout", "\(timeout)"])
    let events = output.split(separator: "\n").compactMap {
        (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
    return (events, status)
}

func httpGet(port: Int, _ path: String, authorization: String? = TestTokens.opsAuthorization) async throws -> (status: Int, body: Data) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
}

func publish(_ connection: AMQPConnection, _ event: CloudEvent, exchange: String = ITRNames.eventsExchange, key: String? = nil) async throws {
    try await connection.publish(AMQPCloudEventCodec.encode(event), exchange: exchange, routingKey: key ?? event.type)
}

func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return (try? await condition()) == true
}

@Suite("ltc-extractor against the broker", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct BrokerTests {
    @Test func ticketEventsInOpportunitiesOutOnTheFeed() async throws {
        let url = try await TestEnvironment.makeVhost("ltc")
        let port = TestEnvironment.freePorts()
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("ltc-broker-\(UUID().uuidString)").path
        let settings = try ServiceSettings(
            product: LTCApp.product,
            environment: ["AMQP_URL": url, "DATA_DIR": dataDir, "HTTP_PORT": "\(port)", "CONFIG_DIR": configDirectory],
            arguments: [LTCApp.product])
        let rules = try LTCRules(directory: configDirectory)
        let host = LTCApp.host(settings: settings)
        let runtime = try await host.prepare(
            logger: Logger(label: "ltc-broker-test"), metrics: ServiceMetrics(service: LTCApp.product, registry: .init()),
            authenticator: try TokenAuthenticator(parsing: TestTokens.opsEntry, origin: "test"))
        let group = host.makeServiceGroup(runtime: runtime, components: LTCApp.components(runtime: runtime, rules: rules))
        let publisher = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: Logger(label: "publisher"))

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await eventually { try await httpGet(port: port, "/readyz").status == 200 })

            // The router's output, published as it would be.
            let router = Product(line: "routers", model: "RX8000", version: "V8R12", site: "北京亦庄机房")
            var requirement = classified("T-100", account: "ACC-1001", type: .newRequirement, at: t("2026-03-01T02:01:00Z"))
            requirement.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            try await publish(publisher, opened("T-100", account: "ACC-1001", product: router, at: t("2026-03-01T02:00:00Z")))
            try await publish(publisher, requirement)
            try await publish(publisher, requirement)  // a duplicate delivery
            try await publish(publisher, classified("T-101", account: "ACC-1004", type: .complaint, at: t("2026-02-10T01:00:00Z")))
            try await publish(publisher, resolved(
                "T-102", account: "ACC-1016", product: Product(line: "switches", model: "SX6800"),
                parts: [SparePart(partNumber: "02130752", quantity: 2)], at: t("2026-03-02T08:00:00Z")))
            var malformed = classified("T-103", account: "ACC-1001", type: .newRequirement, at: t("2026-03-01T00:00:00Z"))
            malformed.data = Data(#"{"ticketId": 7}"#.utf8)
            try await publish(publisher, malformed)

            #expect(await eventually {
                let page = try EventCoding.decoder.decode(OpportunityPage.self, from: try await httpGet(port: port, "/v1/opportunities").body)
                return page.total == 2
            })
            let (status, body) = try await httpGet(port: port, "/v1/opportunities?kind=new-requirement&account=ACC-1001")
            #expect(status == 200)
            let page = try EventCoding.decoder.decode(OpportunityPage.self, from: body)
            let opportunity = try #require(page.items.first)
            #expect(page.total == 1 && opportunity.ticketIds == ["T-100"] && opportunity.suggestedOwner == "cn-north")
            #expect(try await httpGet(port: port, "/v1/opportunities?limit=0").status == 400)

            // Sales accepts it through itr.ingress.
            try await publish(
                publisher, statusReport(opportunity.opportunityId, .accepted), exchange: ITRNames.ingressExchange,
                key: EventRouting.ingressKey(for: OpportunityState.accepted))
            #expect(await eventually {
                let page = try EventCoding.decoder.decode(
                    OpportunityPage.self, from: try await httpGet(port: port, "/v1/opportunities?status=accepted").body)
                return page.total == 1
            })

            // The feed, read with pika and the CloudEvents SDK: exactly three events.
            let (events, exit) = try await pythonConsume(url: url, queue: ITRNames.opportunityFeedQueue, count: 3)
            #expect(exit == 0 && events.count == 3)
            let attributes = events.compactMap { $0["attributes"] as? [String: String] }
            let data = events.compactMap { $0["data"] as? [String: Any] }
            #expect(attributes.map { $0["type"] ?? "" }.sorted()
                == ["itr.opportunity.identified", "itr.opportunity.identified", "itr.opportunity.updated"])
            let identified = try #require(attributes.first { $0["correlationid"] == "T-100" })
            #expect(identified["source"] == OpportunityProcessor.source && identified["causationid"] == requirement.id)
            #expect(identified["traceparent"] == requirement.traceparent)
            #expect(identified["subject"] == opportunity.opportunityId)
            let parts = try #require(data.first { ($0["kind"] as? String) == "parts-quote" })
            #expect((parts["estimatedValue"] as? [String: Any])?["amount"] as? String == "6200.00")
            #expect(data.contains { ($0["status"] as? String) == "accepted" && ($0["opportunityId"] as? String) == opportunity.opportunityId })
            for event in events {
                let amqp = event["amqp"] as? [String: Any]
                #expect(amqp?["delivery_mode"] as? Int == 2)
                #expect(amqp?["message_id"] as? String == (event["attributes"] as? [String: String])?["id"])
            }
            let more = try await pythonConsume(url: url, queue: ITRNames.opportunityFeedQueue, count: 1, timeout: 2)
            #expect(more.events.isEmpty && more.status == 2)

            // The malformed event is in the dead-letter queue, with the reason.
            let dlq = "ltc-extractor.inbox.dlq"
            #expect(await eventually { try await publisher.inspectQueue(dlq).messageCount == 1 })
            let consumer = try await publisher.consume(queue: dlq, prefetch: 1)
            for try await delivery in consumer {
                let headers = delivery.message.properties.headers
                #expect(headers[ITRNames.reasonCodeHeader]?.stringValue == "invalid-data")
                #expect(headers[ITRNames.reasonHeader]?.stringValue?.contains("data.ticketId") == true)
                #expect(delivery.message.properties.messageID == malformed.id)
                delivery.ack()
                break
            }
            consumer.cancel()

            let metrics = String(decoding: try await httpGet(port: port, "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("ltc_opportunities_total"))
            #expect(metrics.contains("itr_events_duplicate_total"))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await publisher.close()
        await TestEnvironment.deleteVhost(url: url)
    }

    @Test func sigkillMidStreamAndRestartLosesAndDoublesNothing() async throws {
        let url = try await TestEnvironment.makeVhost("ltc-crash")
        let port = TestEnvironment.freePorts()
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("ltc-crash-\(UUID().uuidString)").path
        let environment = ["AMQP_URL": url, "DATA_DIR": dataDir, "HTTP_PORT": "\(port)", "CONFIG_DIR": configDirectory, "LOG_LEVEL": "warning"]
        let publisher = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: Logger(label: "publisher"))
        try await publisher.declare(ITRTopology.topology(for: LTCApp.product))

        // N accounts with one new requirement each (each one opportunity), every tenth delivered twice.
        let total = 1500
        var events: [CloudEvent] = []
        for i in 0..<total {
            let event = classified("T-\(i)", account: "ACC-K\(i)", type: .newRequirement, at: t("2026-03-01T00:00:00Z"))
            events.append(event)
            if i % 10 == 0 { events.append(event) }
        }
        for event in events { try await publish(publisher, event) }

        var service = try await ServiceProcess.start(product: LTCApp.product, environment: environment)
        try await service.waitReady(port: port)
        let feed = ITRNames.opportunityFeedQueue
        #expect(await eventually(timeout: .seconds(60)) { try await publisher.inspectQueue(feed).messageCount >= 100 })
        await service.kill9()
        let atKill = try await publisher.inspectQueue(feed).messageCount
        let inboxLeft = try await publisher.inspectQueue("ltc-extractor.inbox").messageCount
        print("ltc crash test: killed with \(atKill) events on the feed, \(inboxLeft) deliveries left in the inbox")
        let killedStatus: Int32? = service.status
        #expect(killedStatus == 137)  // 128 + SIGKILL

        service = try await ServiceProcess.start(product: LTCApp.product, environment: environment)
        try await service.waitReady(port: port)
        #expect(await eventually(timeout: .seconds(120)) {
            let onFeed = try await publisher.inspectQueue(feed).messageCount
            let pending = try await publisher.inspectQueue("ltc-extractor.inbox").messageCount
            return onFeed >= UInt32(total) && pending == 0
        })
        try await Task.sleep(for: .seconds(1))  // let a republished tail arrive
        let page = try EventCoding.decoder.decode(OpportunityPage.self, from: try await httpGet(port: port, "/v1/opportunities?limit=1").body)
        #expect(page.total == total)
        #expect(await service.terminate() == 0)

        let onFeed = Int(try await publisher.inspectQueue(feed).messageCount)
        let (read, _) = try await pythonConsume(url: url, queue: feed, count: onFeed, timeout: 120)
        #expect(read.count == onFeed)
        var eventIDs: [String: Set<String>] = [:]  // account → distinct event ids
        var opportunityIDs: [String: Set<String>] = [:]
        for event in read {
            let attributes = event["attributes"] as? [String: String] ?? [:]
            let data = event["data"] as? [String: Any] ?? [:]
            #expect(attributes["type"] == "itr.opportunity.identified")
            let account = data["account"] as? String ?? "?"
            eventIDs[account, default: []].insert(attributes["id"] ?? "")
            opportunityIDs[account, default: []].insert(data["opportunityId"] as? String ?? "")
        }
        #expect(eventIDs.count == total)  // nothing lost
        #expect(eventIDs.values.allSatisfy { $0.count == 1 })  // nothing doubled (a re-sent event keeps its id)
        #expect(opportunityIDs.values.allSatisfy { $0.count == 1 })
        print("ltc crash test: \(read.count) messages read for \(total) opportunities (\(read.count - total) re-sent with the same id)")
        await publisher.close()
        await TestEnvironment.deleteVhost(url: url)
    }
}
