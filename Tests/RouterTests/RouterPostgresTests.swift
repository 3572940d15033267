import AMQPClient
import Foundation
import ITRConfig
import ITRTestSupport
import Logging
import ServiceKit
import Synchronization
import Testing
@testable import RouterApp

/// itr-router on PostgreSQL: the same decisions as on SQLite, due moments fired once by
/// several instances (and after the one that planned them is gone), and two processes on one
/// database and one queue applying every ticket's actions in order through the loss of either.
@Suite(
    "itr-router on PostgreSQL", .serialized,
    .enabled(if: TestStore.postgresAvailable || TestStore.postgresRequired))
struct RouterPostgresTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18, a Wednesday

    /// A day of a small desk: incidents of one fingerprint (a problem opens), service requests,
    /// Chinese text, actions with fixed ids and times, and the clock run on so SLA warnings,
    /// breaches and escalations fire. What it leaves, per engine.
    func runDay(_ database: SQLStore) async throws -> (views: [String: Data], reports: [Data], events: [String]) {
        let router = try RouterHarness(start: start, database: database)
        var ids: [String] = []
        for index in 0..<12 {
            let id = "T-PG-\(index)"
            ids.append(id)
            let incident = index % 3 == 0
            let event = try openedEvent(
                ticketId: id, account: index % 2 == 0 ? "ACC-1003" : "ACC-2001",
                summary: incident ? "核心路由器 LPU 板卡故障，业务中断 \(index)" : "如何配置 VLAN \(index)",
                component: incident ? "LPU" : nil, severity: incident ? .critical : nil,
                openedAt: start.addingTimeInterval(Double(index) * 600))
            router.clock.set(start.addingTimeInterval(Double(index) * 600))
            #expect(try await router.handler.handle([inbound(event)]) == [.processed])
        }
        func act(_ id: String, _ kind: TicketActionKind, at offset: TimeInterval, _ configure: (inout ITREvents.TicketAction) -> Void = { _ in }) async throws {
            router.clock.set(start.addingTimeInterval(offset))
            var action = ITREvents.TicketAction(ticketId: id, action: kind, actor: engineer)
            configure(&action)
            let event = try actionEvent(action, id: "act-\(id)-\(kind.rawValue)", time: start.addingTimeInterval(offset))
            #expect(try await router.handler.handle([inbound(event, routingKey: "ticket.\(kind.rawValue)")]) == [.processed])
        }
        try await act("T-PG-1", .acknowledge, at: 9_000)
        try await act("T-PG-1", .resolve, at: 12_000) {
            $0.resolution = .init(resolutionCode: "CUST-MISUSE", rootCause: "配置错误", workaround: "按手册重新配置")
        }
        try await act("T-PG-2", .acknowledge, at: 9_100)
        try await act("T-PG-2", .pause, at: 9_200) { $0.pauseReason = .waitingCustomer }
        try await act("T-PG-4", .acknowledge, at: 9_300)
        // Hours on: what is due fires, hour by hour.
        for hour in 1...72 {
            router.clock.set(start.addingTimeInterval(Double(hour) * 3_600))
            try await router.fireAllDue()
        }
        let now = router.clock.now()
        let rules = router.rules.current
        var views: [String: Data] = [:]
        for id in ids {
            let view = try await database.read { try TicketView.load($0, id: id, rules: rules, now: now) }
            views[id] = try EventCoding.encode(try #require(view))
        }
        var reports: [Data] = []
        for (groupBy, period) in [([ServiceLevelReport.Dimension](), "month"), ([.period, .priority], "week"), ([.serviceType, .period], "day"), ([.contractPackage], "month")] {
            let report = try await database.read { try ServiceLevelReport.compute($0, groupBy: groupBy, period: period) }
            reports.append(try EventCoding.encode(report))
        }
        let events = try await database.read { db in
            try Outbox.pending(db, limit: 100_000).map { row -> String in
                let event = try AMQPCloudEventCodec.decode(row.message)
                return "\(event.type) \(event.subject ?? "")"
            }
        }
        return (views, reports, events)
    }

    @Test(.timeLimit(.minutes(3)))
    func theSameInputsLeaveTheSameTicketsReportsAndEventsOnBothEngines() async throws {
        let sqlite = try await TestStore.open(.sqlite, migrations: RouterSchema.migrations)
        let postgres = try await TestStore.open(.postgres, migrations: RouterSchema.migrations)
        let a = try await runDay(sqlite.store)
        let b = try await runDay(postgres.store)
        #expect(a.views.count == 12)
        for (id, view) in a.views.sorted(by: { $0.key < $1.key }) {
            #expect(view == b.views[id], "ticket \(id) differs:\nSQLite     \(String(decoding: view, as: UTF8.self))\nPostgreSQL \(String(decoding: b.views[id] ?? Data(), as: UTF8.self))")
        }
        for (x, y) in zip(a.reports, b.reports) {
            #expect(x == y, "report differs:\nSQLite     \(String(decoding: x, as: UTF8.self))\nPostgreSQL \(String(decoding: y, as: UTF8.self))")
        }
        #expect(a.events == b.events)
        // The day did what it is for: a problem, breaches, a resolution, Chinese text kept.
        #expect(a.events.contains { $0.hasPrefix("itr.problem.opened") })
        #expect(a.events.contains { $0.hasPrefix("itr.sla.breached") })
        #expect(a.events.contains { $0.hasPrefix("itr.ticket.resolved T-PG-1") })
        #expect(String(decoding: b.views["T-PG-0"] ?? Data(), as: UTF8.self).contains("核心路由器"))
        await sqlite.drop()
        await postgres.drop()
    }

    /// Tickets planned by one instance, which then goes; two others fire what falls due, at once
    /// and over and over: every moment fires once, the events are the ones one instance alone
    /// emits for the same day.
    @Test(.timeLimit(.minutes(3)))
    func dueMomentsFireOnceAcrossInstancesAndAfterThePlannerIsGone() async throws {
        let schema = TestEnvironment.uniqueName("router-due")
        let planner = try await TestStore.openPostgres(schema: schema, instance: "router-a", migrations: RouterSchema.migrations)
        let alone = try await TestStore.open(.sqlite, migrations: RouterSchema.migrations)
        let count = 60
        for store in [planner.store, alone.store] {
            let router = try RouterHarness(start: start, database: store)
            for index in 0..<count {
                let event = try openedEvent(
                    ticketId: "T-DUE-\(index)", summary: index % 2 == 0 ? "核心路由器宕机 \(index)" : "如何配置 VLAN \(index)",
                    component: index % 2 == 0 ? "LPU" : nil, severity: index % 2 == 0 ? .critical : nil, openedAt: start)
                #expect(try await router.handler.handle([inbound(event)]) == [.processed])
            }
        }
        await planner.close()  // the instance that planned the moments is gone

        let b = try await TestStore.openPostgres(schema: schema, instance: "router-b", migrations: RouterSchema.migrations)
        let c = try await TestStore.openPostgres(schema: schema, instance: "router-c", migrations: RouterSchema.migrations)
        let routers = [try RouterHarness(start: start, database: b.store), try RouterHarness(start: start, database: c.store)]
        let single = try RouterHarness(start: start, database: alone.store)
        var fired = [0, 0]
        for hour in stride(from: 1, through: 48, by: 1) {
            let now = start.addingTimeInterval(Double(hour) * 3_600)
            single.clock.set(now)
            try await single.fireAllDue()
            for router in routers { router.clock.set(now) }
            let passes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for (index, router) in routers.enumerated() {
                    let scheduler = router.scheduler
                    group.addTask {
                        var taken = 0
                        while true {
                            let pass = try await scheduler.firePass(now: now)
                            taken += pass.taken
                            if pass.taken == 0 && pass.skipped == 0 { break }
                            if pass.taken == 0 { try await Task.sleep(for: .milliseconds(5)) }
                        }
                        return (index, taken)
                    }
                }
                return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
            }
            for (index, taken) in passes { fired[index] += taken }
        }
        func events(_ store: SQLStore) async throws -> [String] {
            try await store.read { db in
                try Outbox.pending(db, limit: 100_000).map { row -> String in
                    let event = try AMQPCloudEventCodec.decode(row.message)
                    return "\(event.type) \(event.subject ?? "")"
                }
            }.sorted()
        }
        let shared = try await events(b.store)
        let expected = try await events(alone.store)
        #expect(shared.count == expected.count)
        #expect(shared == expected, "events of two instances differ from one instance's")
        #expect(expected.contains { $0.hasPrefix("itr.sla.breached") })
        let remaining = try await b.store.read { try $0.fetchOne("SELECT COUNT(*) FROM due_moments WHERE due_at <= ?", [.real(start.addingTimeInterval(48 * 3_600).timeIntervalSince1970)])?[0].int64 }
        #expect(remaining == 0)
        print("due moments on PostgreSQL: \(fired) rows fired by the two instances, \(expected.count) events")
        await c.close()
        await b.drop()
        await alone.drop()
    }

    /// Two itr-router processes on one PostgreSQL database and one queue (single active
    /// consumer): tickets opened, then four actions each whose order matters (acknowledge,
    /// pause, resume, resolve), published as fast as the broker takes them; the active instance
    /// SIGKILLed mid-stream and restarted, then the other killed and left down. Every action is
    /// applied, none refused (an action applied out of order is refused), each ticket resolved
    /// once, and the history of each is in the order published.
    @Test(.timeLimit(.minutes(6)), .enabled(if: TestEnvironment.brokerTestsEnabled))
    func twoProcessesApplyEveryTicketsActionsInOrderThroughTheLossOfEither() async throws {
        let (url, userURL) = try await TestEnvironment.makeVhostWithUsers("router-pg")
        let database = try await TestStore.makeDatabase(for: "itr-router")
        let ports = [TestEnvironment.freePorts(), TestEnvironment.freePorts()]
        let token = "router-pg-desk-token"
        let tokens = "\(TokenAuthenticator.hash(token: token)) desk-test tickets:read tickets:act"
        let routerURL = try await userURL("itr-router")
        func environment(_ index: Int) -> [String: String] {
            [
                "AMQP_URL": routerURL, "DATABASE_URL": database.url, "ITR_INSTANCE": "router-\(index)",
                "DATA_DIR": FileManager.default.temporaryDirectory.appendingPathComponent("router-pg-\(UUID().uuidString)").path,
                "HTTP_PORT": "\(ports[index])", "METRICS_PORT": "0", "CONFIG_DIR": configDirectory, "LOG_LEVEL": "warning",
                "API_TOKENS": tokens, "ITR_OUTBOX_OWNER_TIMEOUT_SECONDS": "6",
            ]
        }
        var processes = [
            try await ServiceProcess.start(product: "itr-router", environment: environment(0)),
            try await ServiceProcess.start(product: "itr-router", environment: environment(1)),
        ]
        try await processes[0].waitReady(port: ports[0])
        try await processes[1].waitReady(port: ports[1])

        var logger = Logger(label: "router-pg-test")
        logger.logLevel = .warning
        let observer = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: logger)
        let seen = try await EventIdTally.start(observer, queue: "test.router-pg", routingKeys: ["itr.ticket.#"])
        func count(_ type: EventType) -> Int { seen.count(type) }

        let total = 300
        let opener = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: logger)
        let confirmed = Atomic<Int>(0)
        for index in 0..<total {
            let event = try openedEvent(ticketId: "T-HA-\(index)", summary: "如何配置 VLAN \(index)", openedAt: Date())
            opener.publish(AMQPCloudEventCodec.encode(event), exchange: "itr.events", routingKey: event.type) { error in
                if error == nil { confirmed.add(1, ordering: .relaxed) }
            }
        }
        #expect(await eventually(timeout: .seconds(60)) { confirmed.load(ordering: .relaxed) == total })

        let desk = try await AMQPConnection.connect(AMQPConfiguration(url: try await userURL("itr-desk")), logger: logger)
        let actions: [(TicketActionKind, (inout ITREvents.TicketAction) -> Void)] = [
            (.acknowledge, { _ in }), (.pause, { $0.pauseReason = .waitingCustomer }), (.resume, { _ in }),
            (.resolve, { $0.resolution = .init(resolutionCode: "CUST-MISUSE", rootCause: "配置错误", workaround: "按手册重新配置") }),
        ]
        let sent = Atomic<Int>(0)
        for index in 0..<total {
            for (kind, configure) in actions {
                var action = ITREvents.TicketAction(ticketId: "T-HA-\(index)", action: kind, actor: engineer)
                configure(&action)
                var message = AMQPCloudEventCodec.encode(try actionEvent(action, id: "ha-\(index)-\(kind.rawValue)"))
                message.properties.userID = "itr-desk"
                desk.publish(message, exchange: "itr.ingress", routingKey: "ticket.\(kind.rawValue)") { error in
                    if error == nil { sent.add(1, ordering: .relaxed) }
                }
            }
            if index == total / 3 {
                // The instance consuming now (the first to subscribe) goes; it comes back.
                #expect(await eventually(timeout: .seconds(60)) { count(.ticketResolved) >= total / 10 })
                await processes[0].kill9()
                processes[0] = try await ServiceProcess.start(product: "itr-router", environment: environment(0))
            }
            if index == 2 * total / 3 {
                #expect(await eventually(timeout: .seconds(60)) { count(.ticketResolved) >= total / 3 })
                await processes[1].kill9()  // and now the other, left down
            }
        }
        #expect(await eventually(timeout: .seconds(60)) { sent.load(ordering: .relaxed) == total * actions.count })
        let complete = await eventually(timeout: .seconds(180)) { count(.ticketResolved) == total }
        #expect(complete, "resolved \(count(.ticketResolved)) of \(total)")
        try await Task.sleep(for: .milliseconds(500))
        let snapshot = seen.snapshot
        #expect((snapshot[EventType.ticketActionRejected.rawValue] ?? [:]).isEmpty, "refused: \(snapshot[EventType.ticketActionRejected.rawValue] ?? [:])")
        for type in [EventType.ticketClassified, .ticketAssigned, .ticketResolved] {
            let perTicket = snapshot[type.rawValue] ?? [:]
            #expect(perTicket.count == total, "\(type): \(perTicket.count) tickets")
            #expect(perTicket.values.allSatisfy { $0.count == 1 }, "\(type): a ticket with two different event ids")
        }
        // The history of a sample, read from the survivor: in the order published.
        for index in stride(from: 0, to: total, by: 37) {
            let (status, body) = try await routerHTTP(port: ports[0], "GET", "/v1/tickets/T-HA-\(index)", token: token)
            #expect(status == 200)
            let view = try JSONDecoder().decode(HistoryKinds.self, from: Data(body.utf8))
            let kinds = view.history.map(\.kind).filter { ["acknowledged", "paused", "resumed", "resolved"].contains($0) }
            #expect(kinds == ["acknowledged", "paused", "resumed", "resolved"], "T-HA-\(index): \(kinds)")
            #expect(view.state == "resolved")
        }
        #expect(await processes[0].terminate() == 0)
        await desk.close()
        await opener.close()
        await observer.close()
        await TestEnvironment.deleteVhost(url: url)
        await TestStore.dropDatabase(database.name)
    }

    struct HistoryKinds: Decodable {
        struct Line: Decodable { var kind: String }
        var state: String
        var history: [Line]
    }
}
