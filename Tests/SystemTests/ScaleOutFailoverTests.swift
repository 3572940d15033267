import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import Logging
import Synchronization
import Testing

/// The scale-out deployment losing a host: PostgreSQL (one database, each service its role and
/// schema), a three-node RabbitMQ cluster of the test's own (`broker.sh cluster`), and two
/// instances of each of the four service executables, every node in their `AMQP_URL`. 20,000
/// reports are published while one instance of each service is SIGKILLed (and left down) and
/// then a broker node is stopped and started again. Every report opens one ticket, every ticket
/// is classified and assigned once (one event id each), and every service's queue drains with
/// nothing dead-lettered.
@Suite("scale-out: losing a host", .serialized, .enabled(if: TestEnvironment.serviceTestsEnabled && (TestStore.postgresAvailable || TestStore.postgresRequired)))
struct ScaleOutFailoverTests {
    static let prefix = "itr-test-s"
    static let port = Int(ProcessInfo.processInfo.environment["ITR_TEST_SCALE_PORT"] ?? "") ?? 5710
    static let reports = Int(ProcessInfo.processInfo.environment["ITR_TEST_SCALE_REPORTS"] ?? "") ?? 20_000

    static func node(_ index: Int) -> BrokerNode { BrokerNode(name: "\(prefix)-\(index)", port: port + index - 1) }

    @discardableResult
    static func cluster(_ args: String...) async throws -> String {
        try await node(1).script(["cluster"] + args + ["--prefix", prefix])
    }

    static func userVariable(_ user: String) -> String { "ITR_AMQP_URL_" + user.uppercased().replacingOccurrences(of: "-", with: "_") }

    @Test(.timeLimit(.minutes(30)))
    func twentyThousandReportsThroughTheLossOfOneInstanceOfEachServiceAndABrokerNode() async throws {
        try TestEnvironment.requireServiceBinaries()
        try? await Self.cluster("stop", "--purge")
        try await Self.cluster("start", "--nodes", "3", "--port", "\(Self.port)")
        let urls = TestEnvironment.exports(try await Self.cluster("env"))
        let database = try await TestStore.makeDatabase(forServices: TestEnvironment.serviceProducts)
        let dataRoot = FileManager.default.temporaryDirectory.appendingPathComponent("itr-scale-\(UUID().uuidString.prefix(8))")
        let config = TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path

        var instances: [(name: String, product: String, port: Int, process: ServiceProcess)] = []
        for product in TestEnvironment.serviceProducts {
            for index in 1...2 {
                let name = "\(product)-\(index)"
                let port = TestEnvironment.freePorts()
                let environment = [
                    "AMQP_URL": try #require(urls[Self.userVariable(product)], "cluster env: \(urls.keys.sorted())"),
                    "DATABASE_URL": try #require(database.urls[product]), "ITR_INSTANCE": name,
                    "DATA_DIR": dataRoot.appendingPathComponent(name).path, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": "\(port)",
                    "METRICS_PORT": "0", "CONFIG_DIR": config, "LOG_LEVEL": "warning", "ITR_OUTBOX_OWNER_TIMEOUT_SECONDS": "6",
                ]
                instances.append((name, product, port, try await ServiceProcess.start(product: product, environment: environment)))
            }
        }
        for instance in instances { try await instance.process.waitReady(port: instance.port, timeout: .seconds(120)) }
        // RabbitMQ 3.10 flushes a new quorum queue's membership lazily: a clean restart of each
        // node's app before one goes (as in production, where the queues exist long before).
        for index in 1...3 {
            try await Self.node(index).ctl("stop_app")
            try await Self.node(index).ctl("start_app")
            try await Self.node(index).ctl("await_startup")
        }

        var logger = Logger(label: "scale-out-test")
        logger.logLevel = .warning
        let guest = try #require(urls["AMQP_URL"])
        let observer = try await AMQPConnection.connect(AMQPConfiguration(url: guest), logger: logger)
        let watched = [EventType.ticketOpened, .ticketClassified, .ticketAssigned]
        let seen = try await EventIdTally.start(
            observer, queue: "test.scale-out", routingKeys: watched.map(\.rawValue), prefetch: 2_000)
        func count(_ type: EventType) -> Int { seen.count(type) }

        // The upstream: every report until the broker confirmed it (at least once; intake
        // de-duplicates by CloudEvent source + id).
        let upstream = try await AMQPConnection.connect(
            AMQPConfiguration(url: try #require(urls[Self.userVariable("itr-upstream")])), logger: logger)
        let total = Self.reports
        let events: [CloudEvent] = try (0..<total).map { index in
            let incident = index % 10 == 0
            let payload = ReportSubmitted(
                sourceSystem: "crm-portal", channel: .portal, upstreamId: "SCALE-\(index)",
                customer: Customer(account: ["ACC-1002", "ACC-1003", "ACC-2001", "ACC-2003"][index % 4], name: "中国联通北京分公司"),
                product: Product(line: "routers", model: "RX8000", version: "V8R12", component: incident ? "MPU" : nil),
                summary: incident ? "RX8000 主控板反复重启 \(index % 7) / MPU reboot loop" : "如何配置 VLAN \(index) / how to configure VLAN",
                occurredAt: Date().addingTimeInterval(-60), language: .zh)
            return try CloudEvent(source: "crm://cn-east/portal", payload: payload, id: "scale-\(index)")
        }
        let confirmed = Mutex<Set<Int>>([])
        func publish(_ indices: [Int]) {
            for index in indices {
                upstream.publish(AMQPCloudEventCodec.encode(events[index]), exchange: "itr.ingress", routingKey: "report.portal") { error in
                    if error == nil { confirmed.withLock { _ = $0.insert(index) } }
                }
            }
        }

        let started = ContinuousClock.now
        var killedAt = 0
        var nodeStoppedAt = 0
        publish(Array(0..<total / 2))
        // A third of the tickets through: one instance of each service goes, for good.
        #expect(await SystemProbe.eventually(timeout: .seconds(600)) { count(.ticketClassified) >= total / 6 })
        killedAt = count(.ticketClassified)
        for product in TestEnvironment.serviceProducts {
            await instances.first { $0.name == "\(product)-1" }!.process.kill9()
        }
        publish(Array(total / 2..<total))
        // Half through: a broker node stops and comes back.
        #expect(await SystemProbe.eventually(timeout: .seconds(600)) { count(.ticketClassified) >= total / 2 })
        nodeStoppedAt = count(.ticketClassified)
        try await Self.node(2).ctl("stop_app")
        try await Task.sleep(for: .seconds(10))
        try await Self.node(2).ctl("start_app")
        try await Self.node(2).ctl("await_startup")

        // What the broker did not confirm (in flight when a node or a connection went) again.
        var rounds = 0
        while confirmed.withLock({ $0.count }) < total, rounds < 20 {
            try await Task.sleep(for: .seconds(3))
            let missing = (0..<total).filter { index in !confirmed.withLock { $0.contains(index) } }
            if !missing.isEmpty { publish(missing) }
            rounds += 1
        }
        #expect(confirmed.withLock { $0.count } == total, "the broker confirmed \(confirmed.withLock { $0.count }) of \(total)")

        let complete = await SystemProbe.eventually(timeout: .seconds(1_200), every: .seconds(1)) {
            watched.allSatisfy { count($0) >= total }
        }
        let elapsed = ContinuousClock.now - started
        let survivors = instances.filter { $0.name.hasSuffix("-2") }
        let logs = survivors.map { "--- \($0.name) ---\n\($0.process.log.suffix(1500))" }.joined(separator: "\n")
        #expect(complete, "opened \(count(.ticketOpened)), classified \(count(.ticketClassified)), assigned \(count(.ticketAssigned)) of \(total)\n\(logs)")
        try await Task.sleep(for: .seconds(2))  // would a second effect show up?
        let snapshot = seen.snapshot
        for type in watched {
            let perTicket = snapshot[type.rawValue] ?? [:]
            #expect(perTicket.count == total, "\(type): \(perTicket.count) tickets of \(total)")
            #expect(perTicket.values.allSatisfy { $0.count == 1 }, "\(type): a ticket with two different event ids")
        }
        // Every service's queue drained, nothing dead-lettered.
        let drained = await SystemProbe.eventually(timeout: .seconds(300), every: .seconds(1)) {
            let depths = (try? await SystemProbe.queueDepths(node: Self.node(1), vhost: "/")) ?? [:]
            return TestEnvironment.serviceProducts.allSatisfy { product in
                let queue = product == "intake" ? "intake.reports" : "\(product).inbox"
                return depths[queue] == 0 && depths["\(queue).dlq"] == 0
            }
        }
        let depths = (try? await SystemProbe.queueDepths(node: Self.node(1), vhost: "/")) ?? [:]
        #expect(drained, "queues: \(depths.filter { $0.key.hasSuffix(".inbox") || $0.key.hasSuffix(".reports") || $0.key.hasSuffix(".dlq") })")
        print("scale-out: \(total) reports, 8 instances on PostgreSQL and 3 nodes; one instance of each SIGKILLed at \(killedAt) classified, node 2 stopped at \(nodeStoppedAt); all through in \(elapsed)")

        for instance in survivors { #expect(await instance.process.terminate(timeout: .seconds(30)) == 0, "\(instance.name)") }
        await upstream.close()
        await observer.close()
        try? await Self.cluster("stop", "--purge")
        await TestStore.dropDatabase(database.name)
        try? FileManager.default.removeItem(at: dataRoot)
    }
}
