import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import Logging
import Testing

/// Issue 12's fault windows, against the real broker and the real service executables: a
/// service killed between commit and ack and between confirm and outbox delete (the
/// `ITR_TEST_PAUSE` test hook of ServiceKit holds it there), the broker killed while reports
/// flow, a disk alarm, a full kept-input queue, an unroutable publish. Each ends with nothing
/// lost and nothing doubled: one ticket per report, one classification and one assignment per
/// ticket (repeats of the same event id are allowed, a second effect is not).
@Suite("Fault windows against the real broker", .serialized, .enabled(if: TestEnvironment.serviceTestsEnabled))
struct FaultWindowTests {
    /// A node of its own for the tests that kill the broker or raise an alarm on it (the other
    /// suites keep theirs): `<test node>-faults` on the test node's port + 1, or
    /// `ITR_TEST_FAULT_AMQP_PORT`.
    static let faultNode: BrokerNode = {
        let main = TestEnvironment.brokerNode
        let port = Int(ProcessInfo.processInfo.environment["ITR_TEST_FAULT_AMQP_PORT"] ?? "") ?? main.port + 1
        return BrokerNode(name: "\(main.name)-faults", port: port)
    }()

    static let pausedLine = "test hook: paused"

    // MARK: a. kill -9 between commit and ack, between confirm and delete

    @Test(.timeLimit(.minutes(5)))
    func killedBetweenCommitAndAck() async throws {
        try await killedWhilePaused(at: "after-commit")
    }

    @Test(.timeLimit(.minutes(5)))
    func killedBetweenConfirmAndOutboxDelete() async throws {
        try await killedWhilePaused(at: "after-confirm")
    }

    /// intake and itr-router both paused at `point`; reports go in; each is killed -9 while
    /// paused and started again without the hook.
    func killedWhilePaused(at point: String) async throws {
        try TestEnvironment.requireServiceBinaries()
        let url = try await TestEnvironment.makeVhost("fault-\(point)")
        let pause = ["ITR_TEST_PAUSE": point, "ITR_TEST_PAUSE_SECONDS": "120"]
        var fleet = try await SystemFleet.start(url: url, perProduct: ["intake": pause, "itr-router": pause])
        var observer: EventObserver?
        do {
            let watch = try await EventObserver.start(url: url)
            observer = watch
            let upstream = Upstream(connection: watch.connection)
            let reports = try await Self.sendReports(upstream, count: 6, prefix: "PAUSE-\(point)")

            // intake pauses first (after committing the reports / after the confirms of their
            // ticket.opened); the router gets ticket.opened from intake's relay and pauses too.
            try await Self.waitForLog(fleet.service("intake").process, Self.pausedLine, what: "intake paused \(point)")
            try await Self.waitForLog(fleet.service("itr-router").process, Self.pausedLine, what: "itr-router paused \(point)")
            await fleet.service("intake").process.kill9()
            await fleet.service("itr-router").process.kill9()
            fleet = try await fleet.restart("intake", environment: ["ITR_TEST_PAUSE": ""])
            fleet = try await fleet.restart("itr-router", environment: ["ITR_TEST_PAUSE": ""])

            try await Self.checkExactlyOnce(watch, reports: reports)
            if point == "after-commit" {
                // The unacked deliveries came again and were recognised as repeats.
                for product in ["intake", "itr-router"] {
                    let repeats = try await SystemProbe.metric(port: fleet.service(product).port, "itr_events_duplicate")
                    #expect(repeats >= 1, "\(product) saw no redelivered repeat after the kill: the window was not hit")
                }
            } else {
                // Confirmed rows not deleted were published again: the same ticket.opened ids twice.
                let opened = watch.events.filter { $0.type == EventType.ticketOpened.rawValue }
                let repeated = Dictionary(grouping: opened, by: \.id).values.filter { $0.count > 1 }
                #expect(!repeated.isEmpty, "no ticket.opened was published twice: the window was not hit")
                let repeats = try await SystemProbe.metric(port: fleet.service("itr-router").port, "itr_events_duplicate")
                #expect(repeats >= 1, "itr-router did not recognise the republished ticket.opened as repeats")
            }
            try await Self.checkHealthy(fleet)
        } catch {
            Issue.record("\(point): \(error)\n\(fleet.logTails)")
        }
        await observer?.close()
        _ = await fleet.stop()
        fleet.removeData()
        await TestEnvironment.deleteVhost(url: url)
    }

    // MARK: b. the broker killed while reports flow

    @Test(.timeLimit(.minutes(8)))
    func brokerKilledWhileReportsFlow() async throws {
        try TestEnvironment.requireServiceBinaries()
        let node = Self.faultNode
        let url = try await Self.freshNode(node, vhost: "kill")
        var fleet: SystemFleet?
        var observer: EventObserver?
        var publisher: AMQPConnection?
        do {
            let services = try await SystemFleet.start(url: url, environment: ["AMQP_HEARTBEAT": "5"])
            fleet = services
            let watch = try await EventObserver.start(url: url, durable: true)
            observer = watch
            // RabbitMQ 3.10 flushes a new quorum queue's metadata lazily: a clean app restart
            // first, so that the queues come back after kill -9 (see RecoveryTests).
            try await node.ctl("stop_app")
            try await node.ctl("start_app")
            try await Self.waitAllReady(services)
            let connection = try await Self.connect(url)
            publisher = connection
            let upstream = Upstream(connection: connection)

            let flow = Task { try await Self.sendReports(upstream, count: 60, prefix: "KILL", spacing: .milliseconds(100)) }
            try await Task.sleep(for: .seconds(2))
            try await node.kill()
            try await Task.sleep(for: .seconds(2))
            try await node.start()
            let reports = try await flow.value
            try await Self.waitAllReady(services, timeout: .seconds(120))
            try await Self.checkExactlyOnce(watch, reports: reports, timeout: .seconds(180))
            try await Self.checkHealthy(services, node: node, url: url)
        } catch {
            Issue.record("broker kill: \(error)\n\(fleet?.logTails ?? "")")
        }
        await publisher?.close()
        await observer?.close()
        _ = await fleet?.stop()
        fleet?.removeData()
        try? await node.stop(purge: true)
    }

    // MARK: c. a disk alarm raised and cleared

    @Test(.timeLimit(.minutes(8)))
    func diskAlarmBlocksPublishingOnly() async throws {
        try TestEnvironment.requireServiceBinaries()
        let node = Self.faultNode
        let url = try await Self.freshNode(node, vhost: "alarm")
        var fleet: SystemFleet?
        var observer: EventObserver?
        var alarmRaised = false
        do {
            let services = try await SystemFleet.start(url: url, environment: ["AMQP_HEARTBEAT": "2"])
            fleet = services
            let watch = try await EventObserver.start(url: url)
            observer = watch
            // Reports published before the alarm that reach intake.reports during it: held in a
            // queue whose TTL dead-letters them to itr.ingress (the broker's own routing is not
            // blocked by an alarm; publishers are).
            let hold = "test.hold"
            let ttl = 30  // room for a slow rabbitmqctl on a loaded machine
            try await watch.connection.declare(AMQPTopology(queues: [
                AMQPQueue(name: hold, arguments: [
                    "x-message-ttl": .int64(Int64(ttl * 1000)), "x-dead-letter-exchange": .string(EventRouting.ingressExchange),
                    "x-dead-letter-routing-key": .string(EventRouting.ingressKey(for: Channel.portal)),
                ]),
            ]))
            let reports = try await Self.makeReports(count: 20, prefix: "ALARM")
            let publisher = try await Self.connect(url)
            for report in reports {
                try await publisher.publish(AMQPCloudEventCodec.encode(report), exchange: "", routingKey: hold)
            }
            await publisher.close()
            let heldAt = ContinuousClock.now
            let logsBefore = services.services.map { ($0.product, $0.process.log.components(separatedBy: "amqp connection lost").count) }

            try await node.ctl("set_disk_free_limit", "100GB")
            alarmRaised = true
            try #require(ContinuousClock.now - heldAt < .seconds(ttl - 2), "the alarm was raised after the held reports were released")

            // intake consumes what reaches its queue while its publisher is blocked.
            let vhost = SystemProbe.vhost(of: url)
            var depths: [String: Int] = [:]
            let consumed = try await SystemProbe.eventually(timeout: .seconds(90), every: .seconds(1)) {
                depths = try await SystemProbe.queueDepths(node: node, vhost: vhost)
                return depths[hold] == 0 && depths["intake.reports"] == 0
            }
            #expect(consumed, "intake did not consume during the alarm: \(depths)")
            try await Self.waitForLog(services.service("intake").process, "amqp connection blocked", what: "intake's publisher blocked")
            let states = try await node.ctl("list_connections", "-p", vhost, "client_properties", "state", "--no-table-headers", "--quiet")
            var publishingSeen = 0
            for line in states.split(separator: "\n") where line.contains("intake") {
                if line.contains("intake-publish") {
                    publishingSeen += 1
                    #expect(line.hasSuffix("blocked"), "intake's publishing connection is not blocked: \(line)")
                } else {
                    #expect(!line.hasSuffix("blocked"), "intake's consuming connection is blocked: \(line)")
                }
            }
            #expect(publishingSeen == 1, "intake's publishing connection not found in list_connections: \(states.prefix(2000))")
            // Nothing left intake: the ticket.opened rows wait in its outbox.
            let openedDuringAlarm = watch.payloads(TicketOpened.self).filter { opened in reports.contains { $0.id == opened.1.reportId } }
            #expect(openedDuringAlarm.isEmpty, "\(openedDuringAlarm.count) ticket(s) opened while publishing was blocked")
            let pending = try await SystemProbe.metric(port: services.service("intake").port, "itr_outbox_pending")
            #expect(pending >= 1, "intake's outbox holds nothing during the alarm")
            // Heartbeats go on: several intervals later every service is still connected and ready.
            try await Task.sleep(for: .seconds(8))
            for service in services.services {
                #expect(await SystemProbe.ready(port: service.port), "\(service.product) not ready during the alarm")
            }

            try await node.ctl("set_disk_free_limit", "50MB")
            alarmRaised = false
            try await Self.checkExactlyOnce(watch, reports: reports, timeout: .seconds(120))
            for (product, lost) in logsBefore {
                let now = services.service(product).process.log.components(separatedBy: "amqp connection lost").count
                #expect(now == lost, "\(product) lost its broker connection during the alarm")
            }
            try await Self.checkHealthy(services, node: node, url: url)
        } catch {
            Issue.record("disk alarm: \(error)\n\(fleet?.logTails ?? "")")
        }
        if alarmRaised { _ = try? await node.ctl("set_disk_free_limit", "50MB") }
        await observer?.close()
        _ = await fleet?.stop()
        fleet?.removeData()
        try? await node.stop(purge: true)
    }

    // MARK: d. a full kept-input queue

    @Test(.timeLimit(.minutes(4)))
    func fullKeptQueueParksTheRowAndConsumingGoesOn() async throws {
        try TestEnvironment.requireServiceBinaries()
        let url = try await TestEnvironment.makeVhost("fault-full")
        let (intake, port, dataDir) = try await Self.startIntake(url: url)
        var observer: EventObserver?
        do {
            let watch = try await EventObserver.start(url: url)
            observer = watch
            let vhost = SystemProbe.vhost(of: url)
            // A policy overrides (the smaller bound wins over the declared 100000).
            try await TestEnvironment.brokerNode.ctl(
                "set_policy", "-p", vhost, "--apply-to", "queues", "kept-full", "^itr\\.rejected$",
                "{\"max-length\":2,\"overflow\":\"reject-publish\"}")
            try await Task.sleep(for: .seconds(1))  // applied to the queue asynchronously
            let upstream = Upstream(connection: watch.connection)
            func bad(_ tag: String) async throws {
                var message = AMQPMessage(body: Data("{broken".utf8), properties: AMQPProperties(
                    contentType: "application/json",
                    headers: ["ce-specversion": .string("1.0"), "ce-id": .string(tag), "ce-source": .string("crm://full"),
                        "ce-type": .string(EventType.reportSubmitted.rawValue)],
                    deliveryMode: 2, messageID: tag))
                message.properties.headers["x-hostile"] = .string(tag)
                try await watch.connection.publish(message, exchange: EventRouting.ingressExchange, routingKey: "report.portal")
            }
            // Bad reports one at a time, each kept, until the broker refuses one (a quorum
            // queue's reject-publish lets the length reach the bound + 1, then nacks).
            var sent: [String] = []
            var parked: (count: Int, rows: [[String: Any]]) = (0, [])
            var keptCount: UInt32 = 0
            for k in 1...6 where parked.count == 0 {
                let tag = "full-\(k)"
                try await bad(tag)
                sent.append(tag)
                let settled = try await SystemProbe.eventually(timeout: .seconds(60), every: .milliseconds(300)) {
                    let now = try await SystemProbe.ready(watch.connection, queue: EventRouting.rejectedQueue)
                    if now > keptCount {
                        keptCount = now
                        return true
                    }
                    parked = try await SystemProbe.parked(port: port)
                    return parked.count > 0
                }
                #expect(settled, "\(tag) was neither kept nor parked")
            }
            #expect(parked.count == 1, "the refused rejection was not parked: \(parked), \(keptCount) kept")
            #expect(keptCount >= 2 && keptCount <= 3, "itr.rejected holds \(keptCount) with a bound of 2")
            if let row = parked.rows.first {
                #expect(row["routingKey"] as? String == EventRouting.rejectedQueue, "\(row)")
                #expect((row["reason"] as? String ?? "").contains("refused"), "\(row)")
                #expect(row["messageID"] as? String == sent.last, "\(row)")
            }
            // intake goes on: good reports open tickets, nothing innocent is dead-lettered.
            let reports = try await Self.sendReports(upstream, count: 5, prefix: "FULL")
            for report in reports {
                _ = try await watch.await("ticket for \(report.id) while itr.rejected is full", timeout: .seconds(60)) {
                    watch.payloads(TicketOpened.self).first { $0.1.reportId == report.id }
                }
            }
            #expect(try await SystemProbe.ready(watch.connection, queue: "intake.reports.dlq") == 0)
            #expect(try await SystemProbe.ready(watch.connection, queue: "intake.reports") == 0)
            #expect(try await SystemProbe.ready(watch.connection, queue: EventRouting.rejectedQueue) == keptCount)
            #expect(await SystemProbe.ready(port: port))
            #expect(try await SystemProbe.parked(port: port).count == 1, "more than the one row parked")
        } catch {
            Issue.record("full kept queue: \(error)\n\(intake.log.suffix(3000))")
        }
        await observer?.close()
        await intake.terminate()
        try? FileManager.default.removeItem(atPath: dataDir)
        await TestEnvironment.deleteVhost(url: url)
    }

    // MARK: e. an unroutable publish

    @Test(.timeLimit(.minutes(3)))
    func unroutablePublishEndsInTheUnroutedStream() async throws {
        try TestEnvironment.requireServiceBinaries()
        let url = try await TestEnvironment.makeVhost("fault-unrouted")
        let (intake, _, dataDir) = try await Self.startIntake(url: url)
        var connection: AMQPConnection?
        do {
            let conn = try await Self.connect(url)
            connection = conn
            let tag = "unrouted-\(UUID().uuidString.prefix(8))"
            let sent: [(exchange: String, key: String, id: String)] = [
                (EventRouting.ingressExchange, "nobody.listens.\(tag)", "\(tag)-ingress"),
                (EventRouting.eventsExchange, "itr.nothing.\(tag)", "\(tag)-events"),
                (ITRDeadLetter.exchange, "no.such.dlq.\(tag)", "\(tag)-dlx"),
            ]
            for (index, target) in sent.enumerated() {
                let message = AMQPMessage(body: Data("{\"无人\": \(index)}".utf8), properties: AMQPProperties(
                    contentType: "application/json", headers: ["x-hostile": .string(target.id)], deliveryMode: 2, messageID: target.id))
                // mandatory: the alternate exchange's stream takes it, so it is not returned
                try await conn.publish(message, exchange: target.exchange, routingKey: target.key, mandatory: true)
            }
            let streamed = try await HostileInputTests.readUnrouted(url: url)
            for target in sent {
                let found = streamed.first { $0["message_id"] as? String == target.id }
                #expect(found != nil, "\(target.id) (\(target.exchange) \(target.key)) is not in itr.unrouted")
                if let found {
                    #expect(found["routing_key"] as? String == target.key, "\(found)")
                    #expect(found["exchange"] as? String == target.exchange, "\(found)")
                }
            }
        } catch {
            Issue.record("unroutable: \(error)\n\(intake.log.suffix(3000))")
        }
        await connection?.close()
        await intake.terminate()
        try? FileManager.default.removeItem(atPath: dataDir)
        await TestEnvironment.deleteVhost(url: url)
    }

    // MARK: Helpers

    static func connect(_ url: String) async throws -> AMQPConnection {
        var logger = Logger(label: "fault-test")
        logger.logLevel = .warning
        return try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: logger)
    }

    /// Starts intake alone on `url`: the process, its HTTP port, its data directory.
    static func startIntake(url: String) async throws -> (ServiceProcess, Int, String) {
        let port = try SystemFleet.freePort()
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-fault-\(UUID().uuidString.prefix(8))").path
        let process = try await ServiceProcess.start(
            product: "intake", environment: SystemFleet.serviceEnvironment(url: url, port: port, dataDir: dataDir))
        try await process.waitReady(port: port)
        return (process, port, dataDir)
    }

    /// A fresh (purged) fault node with a vhost of its own; its AMQP URL.
    static func freshNode(_ node: BrokerNode, vhost: String) async throws -> String {
        try? await node.stop(purge: true)
        try await node.start()
        try await node.ctl("add_vhost", vhost)
        try await node.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        return "amqp://guest:guest@127.0.0.1:\(node.port)/\(vhost)"
    }

    static func makeReports(count: Int, prefix: String) async throws -> [CloudEvent] {
        try (0..<count).map { index in
            let payload = ReportSubmitted(
                sourceSystem: "crm-portal", channel: .portal, upstreamId: "\(prefix)-\(index)-\(UUID().uuidString.prefix(6))",
                customer: Customer(account: "ACC-1001", name: "中国联通北京分公司"),
                product: Product(line: "optical", model: "OSN 8800", version: "V100R012"),
                summary: "光模块告警 optical module alarm \(index)", occurredAt: Date().addingTimeInterval(-60), language: .zh)
            return try CloudEvent(source: Upstream.crmSource, payload: payload)
        }
    }

    /// Publishes `count` reports (retrying one whose publish failed, with the same event: the
    /// upstream's at-least-once); returns them all.
    static func sendReports(
        _ upstream: Upstream, count: Int, prefix: String, spacing: Duration? = nil
    ) async throws -> [CloudEvent] {
        let reports = try await makeReports(count: count, prefix: prefix)
        for report in reports {
            var attempts = 0
            while true {
                do {
                    try await upstream.connection.publish(
                        AMQPCloudEventCodec.encode(report), exchange: EventRouting.ingressExchange,
                        routingKey: EventRouting.ingressKey(for: Channel.portal))
                    break
                } catch {
                    attempts += 1
                    if attempts > 120 { throw error }
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            if let spacing { try await Task.sleep(for: spacing) }
        }
        return reports
    }

    /// Every report opened exactly one ticket (one ticket.opened event id, one ticket id), and
    /// every ticket was classified and assigned exactly once (one event id each).
    static func checkExactlyOnce(_ watch: EventObserver, reports: [CloudEvent], timeout: Duration = .seconds(90)) async throws {
        var tickets: [String] = []
        for report in reports {
            let opened = try await watch.await("itr.ticket.opened for \(report.id)", timeout: timeout) {
                watch.payloads(TicketOpened.self).first { $0.1.reportId == report.id }?.1
            }
            tickets.append(opened.ticketId)
        }
        for ticket in tickets {
            _ = try await watch.await("itr.ticket.assigned for \(ticket)", timeout: timeout) {
                watch.payloads(TicketAssigned.self, correlation: ticket).first
            }
        }
        try await Task.sleep(for: .seconds(3))  // a doubled effect would arrive by now
        for report in reports {
            let opened = watch.payloads(TicketOpened.self).filter { $0.1.reportId == report.id }
            #expect(Set(opened.map(\.0.id)).count == 1, "report \(report.id) opened \(Set(opened.map(\.0.id)).count) ticket events")
            #expect(Set(opened.map(\.1.ticketId)).count == 1, "report \(report.id) opened tickets \(Set(opened.map(\.1.ticketId)))")
        }
        #expect(Set(tickets).count == reports.count, "\(reports.count) reports, \(Set(tickets).count) tickets")
        for ticket in tickets {
            let classified = Set(watch.payloads(TicketClassified.self, correlation: ticket).map(\.0.id))
            let assigned = Set(watch.payloads(TicketAssigned.self, correlation: ticket).map(\.0.id))
            #expect(classified.count == 1, "\(ticket) classified \(classified.count) times")
            #expect(assigned.count == 1, "\(ticket) assigned \(assigned.count) times")
        }
        #expect(watch.errors.isEmpty, "\(watch.errors.prefix(5))")
    }

    /// Every service running and ready, nothing parked, and (with `node`) the services' queues
    /// and dead-letter queues empty.
    static func checkHealthy(_ fleet: SystemFleet, node: BrokerNode? = nil, url: String? = nil) async throws {
        for service in fleet.services {
            #expect(service.process.isRunning, "\(service.product) exited \(String(describing: service.process.status))")
            #expect(await SystemProbe.ready(port: service.port), "\(service.product) not ready")
            let parked = try await SystemProbe.parked(port: service.port)
            #expect(parked.count == 0, "\(service.product) parked \(parked.count): \(parked.rows.prefix(3))")
        }
        let node = node ?? TestEnvironment.brokerNode
        let vhost = SystemProbe.vhost(of: url ?? fleet.url)
        let queues = HostileInputTests.serviceQueues
        var depths: [String: Int] = [:]
        let drained = try await SystemProbe.eventually(timeout: .seconds(60), every: .seconds(1)) {
            depths = try await SystemProbe.queueDepths(node: node, vhost: vhost)
            return queues.allSatisfy { depths[$0] == 0 }
        }
        #expect(drained, "service queues hold work: \(depths)")
        for queue in queues.map({ "\($0).dlq" }) + [EventRouting.rejectedQueue] {
            #expect(depths[queue] == 0, "\(depths[queue] ?? -1) message(s) in \(queue)")
        }
    }

    static func waitAllReady(_ fleet: SystemFleet, timeout: Duration = .seconds(60)) async throws {
        for service in fleet.services { try await service.process.waitReady(port: service.port, timeout: timeout) }
    }

    static func waitForLog(_ process: ServiceProcess, _ text: String, what: String, timeout: Duration = .seconds(60)) async throws {
        let seen = await SystemProbe.eventually(timeout: timeout) { process.log.contains(text) }
        guard seen else {
            throw CommandFailed(command: [process.product], status: -1, output: "never saw \(what) (\"\(text)\"): \(process.log.suffix(3000))")
        }
    }
}

/// `itr.dlx`, spelled as the contract does.
enum ITRDeadLetter {
    static let exchange = "itr.dlx"
}
