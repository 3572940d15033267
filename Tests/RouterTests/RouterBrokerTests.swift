import AMQPClient
import Foundation
import ITRConfig
import ITRTestSupport
import Logging
import ServiceKit
import Synchronization
import Testing
@testable import RouterApp

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Everything a test consumer saw on a queue.
final class EventLog: Sendable {
    private let state = Mutex<[AMQPMessage]>([])
    func append(_ message: AMQPMessage) { state.withLock { $0.append(message) } }
    var messages: [AMQPMessage] { state.withLock { $0 } }
    var events: [CloudEvent] { messages.compactMap { try? AMQPCloudEventCodec.decode($0) } }
    func of(_ type: EventType, ticket: String? = nil) -> [CloudEvent] {
        events.filter { $0.type == type.rawValue && (ticket == nil || $0.correlationID == ticket) }
    }
}

/// itr-router in process against the real broker (a vhost of its own), with a manual clock.
@Suite("itr-router against the broker", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct RouterBrokerTests {
    static let token = "desk-token-测试"

    @Test func closedLoopOverAMQPAndHTTP() async throws {
        let (url, userURL) = try await TestEnvironment.makeVhostWithUsers("router")
        let port = TestEnvironment.freePorts()
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("router-broker-\(UUID().uuidString)").path
        let rules = RulesHolder(try shippedRules(), directory: configDirectory)
        let router = try await RouterUnderTest(
            environment: ["AMQP_URL": url, "DATA_DIR": dataDir, "CONFIG_DIR": configDirectory, "HTTP_PORT": "\(port)"],
            rules: rules, token: Self.token, label: "router-broker-test")
        let (group, clock, logger) = (router.group, router.clock, router.logger)
        let start = clock.now()

        let client = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: logger)
        try await client.declare(AMQPTopology(
            queues: [.quorum("test.events")],
            bindings: [AMQPBinding(queue: "test.events", exchange: "itr.events", routingKey: "#")]))
        let seen = EventLog()
        let dead = EventLog()
        _ = try await client.consume(queue: "test.events", prefetch: 500, onDelivery: { seen.append($0.message); $0.ack() })
        _ = try await client.consume(queue: "itr-router.inbox.dlq", prefetch: 50, onDelivery: { dead.append($0.message); $0.ack() })

        func publish(_ event: CloudEvent, exchange: String = "itr.events", routingKey: String? = nil) async throws {
            try await client.publish(AMQPCloudEventCodec.encode(event), exchange: exchange, routingKey: routingKey ?? event.type)
        }
        // The desk's tools: their own broker user, whose actions access.yaml accepts.
        let desk = try await AMQPConnection.connect(AMQPConfiguration(url: try await userURL("itr-desk")), logger: logger)
        func act(_ ticketId: String, _ kind: TicketActionKind, actor: Actor = engineer, configure: (inout ITREvents.TicketAction) -> Void = { _ in }) async throws {
            var action = ITREvents.TicketAction(ticketId: ticketId, action: kind, actor: actor)
            configure(&action)
            try await desk.publish(
                AMQPCloudEventCodec.encode(try actionEvent(action)).sent(by: "itr-desk"), exchange: "itr.ingress",
                routingKey: "ticket.\(kind.rawValue)")
        }
        func http(_ method: String, _ path: String, body: String? = nil, token: String? = Self.token) async throws -> (Int, String) {
            try await routerHTTP(port: port, method, path, body: body, token: token)
        }
        func waitForSchedulerSleep() async { _ = await eventually { clock.sleeperCount > 0 } }

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await eventually { (try? await http("GET", "/readyz", token: nil))?.0 == 200 })

            // 1. A P1 incident for a Gold customer: classified and assigned.
            let opened = try openedEvent(ticketId: "TCK-A", summary: "核心路由器宕机，全网业务中断", severity: .critical, openedAt: start)
            try await publish(opened)
            #expect(await eventually { seen.of(.ticketAssigned, ticket: "TCK-A").count == 1 })
            let classified = try #require(seen.of(.ticketClassified, ticket: "TCK-A").first)
            #expect(try classified.decodeData(TicketClassified.self).priority == .p1)
            #expect(classified.causationID == opened.id && classified.traceparent == opened.traceparent)

            // 2. SLA breach and escalations with the injected clock: 16 minutes later.
            await waitForSchedulerSleep()
            clock.advance(by: 16 * 60)
            #expect(await eventually {
                seen.of(.slaBreached, ticket: "TCK-A").count == 1 && seen.of(.olaBreached, ticket: "TCK-A").count == 1
                    && seen.of(.ticketEscalated, ticket: "TCK-A").count == 1
            })
            let escalated = try #require(seen.of(.ticketEscalated, ticket: "TCK-A").first).decodeData(TicketEscalated.self)
            #expect(escalated.kind == .functional && escalated.toTier == .l2)
            await waitForSchedulerSleep()
            clock.advance(by: 2 * 3_600)  // 2 h 16 m: 50 % of 4 h → hierarchical step 1; L2's 1 h OLA → L3
            #expect(await eventually {
                (try? seen.of(.ticketEscalated, ticket: "TCK-A").map { try $0.decodeData(TicketEscalated.self) })?
                    .contains { $0.kind == .hierarchical && $0.notifyRoles == ["duty-manager"] } == true
            })

            // 3. A forbidden action: AMQP → action-rejected + DLQ; HTTP → 409 problem+json.
            try await act("TCK-A", .confirm, actor: customer)
            #expect(await eventually { seen.of(.ticketActionRejected, ticket: "TCK-A").count == 1 && dead.messages.count == 1 })
            #expect(try seen.of(.ticketActionRejected).first?.decodeData(TicketActionRejected.self).reasonCode == "not-resolved")
            #expect(dead.messages.first?.properties.headers["x-itr-reason-code"]?.stringValue == "not-resolved")
            let refused = try await http("POST", "/v1/tickets/TCK-A/actions", body: #"{"action":"confirm","actor":{"id":"cust-1"}}"#)
            #expect(refused.0 == 409)
            #expect(refused.1.contains("not-resolved"))
            #expect(try await http("POST", "/v1/tickets/TCK-A/actions", body: #"{"action":"acknowledge","actor":{"id":"x"}}"#, token: "wrong").0 == 401)

            // 4. The whole life: acknowledge (AMQP), pause/resume and resolve (HTTP), confirm (AMQP) → closed.
            try await act("TCK-A", .acknowledge)
            #expect(await eventually { seen.of(.ticketUpdated, ticket: "TCK-A").count == 1 })
            #expect(try await http("POST", "/v1/tickets/TCK-A/actions", body: #"{"action":"pause","pauseReason":"waiting-customer","actor":{"id":"eng-7"}}"#).0 == 200)
            #expect(try await http("POST", "/v1/tickets/TCK-A/actions", body: #"{"action":"resume","actor":{"id":"eng-7"}}"#).0 == 200)
            let resolve = try await http(
                "POST", "/v1/tickets/TCK-A/actions",
                body: #"{"action":"resolve","actor":{"id":"eng-7"},"resolution":{"resolutionCode":"HW-COMPONENT","rootCause":"电源模块失效","spareParts":[{"partNumber":"02310QKM","quantity":1}]}}"#)
            #expect(resolve.0 == 200 && resolve.1.contains(#""state":"resolved""#))
            try await act("TCK-A", .confirm, actor: customer)
            #expect(await eventually { seen.of(.ticketClosed, ticket: "TCK-A").count == 1 })
            #expect(try seen.of(.ticketClosed, ticket: "TCK-A").first?.decodeData(TicketClosed.self).reason == .confirmed)
            let resolved = try #require(seen.of(.ticketResolved, ticket: "TCK-A").first).decodeData(TicketResolved.self)
            #expect(resolved.qualityResponsibility == .productHardware && resolved.spareParts.first?.partNumber == "02310QKM")
            let view = try await http("GET", "/v1/tickets/TCK-A")
            #expect(view.0 == 200)
            for rule in ["st.model", "assign.default", "hier.50", "assignment.escalation.functional", "HW-COMPONENT"] {
                #expect(view.1.contains(#""ruleId":"\#(rule)""#))
            }
            #expect(view.1.contains(#""state":"closed""#))

            // 5. Five matching incidents open one problem.
            for index in 1...5 {
                try await publish(try openedEvent(
                    ticketId: "TCK-S\(index)", account: "ACC-1009", summary: "OS5000 控制器异常重启 after upgrade, node \(index)",
                    line: "storage", model: "OS5000", version: "6.1.5", component: "controller",
                    openedAt: start.addingTimeInterval(2 * 3_600 + Double(index))))
            }
            #expect(await eventually { seen.of(.ticketAssigned).filter { $0.correlationID?.hasPrefix("TCK-S") == true }.count == 5 })
            let problems = try seen.of(.problemOpened).map { try $0.decodeData(ProblemOpened.self) }.filter { $0.productLine == "storage" }
            #expect(problems.count == 1)
            let problem = try #require(problems.first)
            #expect(problem.ticketIds == ["TCK-S1", "TCK-S2", "TCK-S3"])
            #expect(try await http("GET", "/v1/tickets/TCK-S5").1.contains(problem.problemId))

            // 6. R&D's fix resolves the problem and moves its incidents forward.
            let fix = DefectFixed(
                defectId: "DEF-42", fingerprint: "fp", productLine: "storage", symptomSignature: "controller reboot",
                impact: DefectImpact(customers: 1, incidents: 5, highestPriority: .p4, slaBreaches: 0, packages: ["silver"],
                                     firstSeen: start, lastSeen: start, score: 2),
                problemIds: [problem.problemId], status: .fixReleased, fixVersion: "6.1.8")
            try await publish(try CloudEvent(source: "//itr/ipd-feedback", payload: fix))
            #expect(await eventually { seen.of(.problemResolved, ticket: problem.problemId).count == 1 })
            #expect(await eventually { seen.of(.ticketResolved).filter { $0.correlationID?.hasPrefix("TCK-S") == true }.count == 5 })
            #expect(try seen.of(.problemResolved).first?.decodeData(ProblemResolved.self).fixVersion == "6.1.8")

            // 7. Nobody confirms: 72 h later the resolved incidents close themselves.
            await waitForSchedulerSleep()
            clock.advance(by: 73 * 3_600)
            #expect(await eventually {
                seen.of(.ticketClosed).filter { $0.correlationID?.hasPrefix("TCK-S") == true }.count == 5
            })
            #expect(try seen.of(.ticketClosed, ticket: "TCK-S1").first?.decodeData(TicketClosed.self).reason == .timeout)

            // 8. Service levels.
            let levels = try await http("GET", "/v1/service-levels?groupBy=contractPackage,priority")
            #expect(levels.0 == 200 && levels.1.contains(#""contractPackage":"silver""#))
            #expect(try await http("GET", "/v1/service-levels?groupBy=nonsense").0 == 400)

            // Every event: causation and correlation.
            let emitted = seen.events.filter { $0.source == RouterEngine.source }
            #expect(emitted.count > 30)
            #expect(emitted.allSatisfy { $0.causationID != nil && $0.correlationID != nil })
            #expect(seen.events.filter { $0.correlationID == "TCK-A" && $0.causationID == opened.id }.allSatisfy {
                $0.traceparent == opened.traceparent
            })

            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await desk.close()
        await client.close()
        await TestEnvironment.deleteVhost(url: url)
    }
}
