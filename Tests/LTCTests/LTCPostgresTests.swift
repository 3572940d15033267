import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import Logging
import ServiceKit
import Testing

@testable import LTCApp

/// The extractor's store on PostgreSQL: its migrations, and the same events giving the same
/// opportunities, lists, counts, price lines and events on both engines (Chinese text included).
/// Runs where the test command started PostgreSQL, and must then pass (`ITR_TEST_POSTGRES=1`
/// without `ITR_TEST_DATABASE_URL` fails, it does not skip).
@Suite("ltc-extractor's store on PostgreSQL", .serialized, .enabled(if: TestStore.postgresAvailable))
struct LTCPostgresStoreTests {
    @Test func migrationsApplyOnceAndAnotherInstanceFindsThemApplied() async throws {
        let schema = TestEnvironment.uniqueName("ltc-migrations")
        let first = try await Harness.postgres(schema: schema)
        let second = try await Harness.postgres(schema: schema)  // another instance starting: nothing to do
        let names = try await second.database.read { db in
            try db.fetch("SELECT name FROM itr_migrations ORDER BY name", []).map { try $0.string(0) }
        }
        #expect(names.filter { $0.hasPrefix("ltc-") } == ["ltc-v1", "ltc-v2"])
        let columns = try await first.database.read { db in
            try db.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'ltc_opportunity'",
                []
            ).map { try $0.string(0) }
        }
        #expect(columns.contains("pending_since") && columns.contains("ticket_count") && !columns.contains("ticket_ids"))
        await second.close()
        await first.drop()
    }

    @Test func theSameEventsGiveTheSameOpportunitiesOnBothEngines() async throws {
        // Whole seconds: SQLite keeps moments to the millisecond, PostgreSQL finer.
        let start = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let sqlite = try await Harness.on(.sqlite, updateInterval: 30, clock: TestClock(start))
        let postgres = try await Harness.on(.postgres, updateInterval: 30, clock: TestClock(start))
        let engines = [sqlite, postgres]

        let yizhuang = Product(line: "routers", model: "RX8000", version: "V8R12", site: "北京亦庄机房")
        let caohejing = Product(line: "routers", model: "RX8000", version: "V8R12", site: "上海漕河泾数据中心")
        let switchProduct = Product(line: "switches", model: "SX6800")
        var batches: [[CloudEvent]] = [
            [
                opened("T-1", account: "ACC-1001", product: yizhuang, at: t("2026-03-01T02:00:00Z")),
                classified("T-1", account: "ACC-1001", type: .newRequirement, at: t("2026-03-01T02:01:00Z")),
            ],
            // Renewal of ACC-1004's gold contract: six tickets, one opportunity.
            (2...7).map { classified("T-\($0)", account: "ACC-1004", type: .softwareFault, package: "gold", at: t("2026-01-15T03:0\($0):00Z")) },
            [
                resolved("T-8", account: "ACC-1016", product: switchProduct, parts: [SparePart(partNumber: "02130752", quantity: 2)],
                    at: t("2026-03-02T08:00:00Z")),
                resolved("T-9", account: "ACC-1016", product: switchProduct, parts: [SparePart(partNumber: "02130752", quantity: 1)],
                    at: t("2026-03-02T09:00:00Z")),
            ],
        ]
        // Capacity alarms on one site: the expansion's ticket list grows past the short path.
        batches.append((10...16).map {
            opened("T-\($0)", account: "ACC-1001", product: caohejing, at: t("2026-03-03T0\($0 - 10):00:00Z"),
                alarm: Alarm(code: "CAP-PORT-\($0)", device: "NE-漕河泾-1", state: .raised))
        })
        for batch in batches {
            for h in engines { try await h.deliver(batch) }
        }
        for h in engines {
            #expect(try await h.database.read { db in try LTCStore.pendingCount(db) } > 0)
            #expect(try await h.processor.flushPendingUpdates(force: true) > 0)
        }
        let renewal = try #require(try await sqlite.list(OpportunityQuery(kind: .renewal)).items.first)
        let reports = [
            statusReport(renewal.id, .accepted, at: start),
            statusReport(renewal.id, .won, value: Money(amount: "360000.00", currency: "CNY"), at: start.addingTimeInterval(1)),
        ]
        for h in engines { #expect(try await h.deliver(reports) == [.processed, .processed]) }

        let (onSQLite, onPostgres) = (try await sqlite.list(OpportunityQuery(limit: 100)), try await postgres.list(OpportunityQuery(limit: 100)))
        #expect(onSQLite.total == onPostgres.total)
        #expect(onSQLite.items == onPostgres.items)
        #expect(Set(onPostgres.items.map(\.kind)).isSuperset(of: [.newRequirement, .renewal, .partsQuote, .expansion]))
        let won = try #require(onPostgres.items.first { $0.kind == .renewal })
        #expect(won.status == .won && won.statusNote == "销售反馈" && won.wonValue?.amount == "360000.00")
        #expect(won.ticketCount == 6 && won.ticketIds == (2...7).map { "T-\($0)" } && won.revision == 8)
        let parts = try #require(onPostgres.items.first { $0.kind == .partsQuote })
        #expect(parts.quantity == 3 && parts.priceLines.map(\.quantity) == [3] && parts.ticketIds == ["T-8", "T-9"])
        let expansion = try #require(onPostgres.items.first { $0.kind == .expansion })
        #expect(expansion.ticketCount == 7 && expansion.reasons.contains { $0.contains("上海漕河泾数据中心") })
        // The ticket facts (the site is not part of an opportunity's product) and observations.
        for h in engines {
            let (ticket, units) = try await h.database.read { db in
                (
                    try LTCStore.ticket(db, id: "T-1"),
                    try db.fetch("SELECT DISTINCT unit FROM ltc_observation", []).map { try $0.string(0) }
                )
            }
            #expect(ticket?.product == yizhuang && ticket?.openedAt == t("2026-03-01T02:00:00Z") && ticket?.serviceType == .newRequirement)
            #expect(units == ["上海漕河泾数据中心"])
        }
        #expect(try await postgres.list(OpportunityQuery(account: "ACC-1004", status: .won)).total == 1)
        #expect(try await postgres.list(OpportunityQuery(from: t("2026-03-01T00:00:00Z"))).total == onPostgres.total - 1)

        // The events: the same types, subjects, causes and data, in the same order.
        func summary(_ h: Harness) async throws -> [String] {
            try await h.emitted().map { event in
                "\(event.type) \(event.subject ?? "") \(event.causationID ?? "") \(event.correlationID ?? "") "
                    + String(decoding: event.data ?? Data(), as: UTF8.self)
            }
        }
        let (sqliteEvents, postgresEvents) = (try await summary(sqlite), try await summary(postgres))
        #expect(sqliteEvents.count > 5 && sqliteEvents == postgresEvents)
        #expect(postgresEvents.contains { $0.contains("上海漕河泾数据中心") })
        await sqlite.drop()
        await postgres.drop()
    }

    /// Two processors on one schema (two instances sharing a database, in one process), each
    /// given batches of the same few accounts at the same time, some deliveries given to both.
    @Test(.timeLimit(.minutes(3)))
    func twoInstancesMergingTheSameAccountsAtOnceCreateEachOpportunityOnceAndLoseNoUpdate() async throws {
        let schema = TestEnvironment.uniqueName("ltc-two")
        let ids = IDCounter()
        let instances = [
            try await Harness.postgres(schema: schema, instance: "ltc-a", ids: ids),
            try await Harness.postgres(schema: schema, instance: "ltc-b", ids: ids),
        ]
        let plan = TwoInstancePlan(tickets: 240, accounts: 4, prefix: "T-IN")
        let began = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, h) in instances.enumerated() {
                let batches = plan.batches(forInstance: index, of: instances.count, size: 24)
                group.addTask { for batch in batches { try await h.deliver(batch) } }
            }
            try await group.waitForAll()
        }
        print("ltc two instances in one process: \(plan.events.count) events in \(ContinuousClock.now - began)")

        let listed = try await instances[1].list(OpportunityQuery(limit: 100))
        plan.check(listed.items.map(OpportunityView.init))
        let rows = try await instances[0].database.read { db in
            try db.fetch(
                """
                SELECT o.id, o.ticket_count, (SELECT COUNT(*) FROM ltc_opportunity_ticket t WHERE t.opportunity_id = o.id)
                FROM ltc_opportunity o
                """, []
            ).map { (try $0.string(0), try $0.int(1), try $0.int(2)) }
        }
        #expect(rows.count == plan.expected.count && rows.allSatisfy { $0.1 == $0.2 }, "ticket count = linked rows: \(rows)")
        let events = try await instances[0].emitted()
        let identified = events.filter { $0.type == EventType.opportunityIdentified.rawValue }
        #expect(identified.count == plan.expected.count && Set(identified.compactMap(\.subject)).count == plan.expected.count)
        // Every merge emitted at once (interval 0): per event, one identified or one updated.
        #expect(events.count == plan.events.count)
        await instances[1].close()
        await instances[0].drop()
    }
}

/// Two ltc-extractor processes on one PostgreSQL database (of the test's own) consuming one
/// queue: tickets of a few accounts, whose signals merge into the same opportunities, delivered
/// to both at once (some twice). Exactly one opportunity per account, kind and product, its
/// ticket count the number of distinct tickets, its revision one per ticket, each announced once.
@Suite(
    "ltc-extractor: two instances on PostgreSQL", .serialized,
    .enabled(if: TestEnvironment.brokerTestsEnabled && (TestStore.postgresAvailable || TestStore.postgresRequired)))
struct LTCPostgresInstancesTests {
    @Test(.timeLimit(.minutes(5)))
    func twoProcessesOnOneQueueCreateEachOpportunityOnceWithEveryTicket() async throws {
        let url = try await TestEnvironment.makeVhost("ltc-pg")
        let database = try await TestStore.makeDatabase(for: LTCApp.product)
        let ports = [TestEnvironment.freePorts(), TestEnvironment.freePorts()]
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("ltc-pg-\(UUID().uuidString)").path
        let publisher = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: Logger(label: "publisher"))
        try await publisher.declare(ITRTopology.topology(for: LTCApp.product))

        var processes: [ServiceProcess] = []
        for (index, port) in ports.enumerated() {
            processes.append(try await ServiceProcess.start(product: LTCApp.product, environment: [
                "AMQP_URL": url, "DATABASE_URL": database.url, "ITR_INSTANCE": "ltc-\(index)", "DATA_DIR": "\(dataDir)-\(index)",
                "HTTP_PORT": "\(port)", "CONFIG_DIR": configDirectory, "LOG_LEVEL": "warning",
            ]))
        }
        for (process, port) in zip(processes, ports) { try await process.waitReady(port: port) }

        let plan = TwoInstancePlan(tickets: 300, accounts: 3, prefix: "T-PG")
        let began = ContinuousClock.now
        for (index, event) in plan.events.enumerated() {
            try await publish(publisher, event)
            if index % 10 == 0 { try await publish(publisher, event) }  // a redelivery, maybe to the other instance
        }
        var page = OpportunityPage(items: [], total: 0, limit: 0, offset: 0, nextOffset: nil)
        let inbox = ITRTopology.queueName(of: LTCApp.product) ?? "ltc-extractor.inbox"
        let done = await eventually(timeout: .seconds(120)) {
            page = try EventCoding.decoder.decode(OpportunityPage.self, from: try await httpGet(port: ports[1], "/v1/opportunities?limit=100").body)
            let left = try await publisher.inspectQueue(inbox).messageCount
            return left == 0 && page.total == plan.expected.count
                && page.items.reduce(0) { $0 + ($1.ticketCount ?? 0) } == plan.expected.values.reduce(0, +)
        }
        print("ltc two processes: \(plan.events.count) events (+\(plan.events.count / 10 + 1) repeats) in \(ContinuousClock.now - began)")
        #expect(done, "both instances took the queue: \(page.total) opportunities")
        plan.check(page.items)

        // The feed: each opportunity identified once (updates are debounced, 30 s: maybe none yet).
        try await Task.sleep(for: .seconds(2))
        let feed = ITRNames.opportunityFeedQueue
        let count = Int(try await publisher.inspectQueue(feed).messageCount)
        var identified: [String: Int] = [:]
        if count > 0 {
            let consumer = try await publisher.consume(queue: feed, prefetch: 100)
            var read = 0
            for try await delivery in consumer {
                let event = try AMQPCloudEventCodec.decode(delivery.message)
                if event.type == EventType.opportunityIdentified.rawValue { identified[event.subject ?? "", default: 0] += 1 }
                delivery.ack()
                read += 1
                if read == count { break }
            }
            consumer.cancel()
        }
        #expect(identified.count == plan.expected.count && identified.values.allSatisfy { $0 == 1 }, "\(identified)")
        #expect(Set(identified.keys) == Set(page.items.map(\.opportunityId)))

        for process in processes { #expect(await process.terminate() == 0) }
        await publisher.close()
        await TestEnvironment.deleteVhost(url: url)
        await TestStore.dropDatabase(database.name)
        for index in ports.indices { try? FileManager.default.removeItem(atPath: "\(dataDir)-\(index)") }
    }
}

/// Tickets of a few accounts, each classified as a new requirement (one opportunity per account)
/// and resolved with spare parts (one parts quote per account and product): what two instances
/// are given at once, and what they must have made of it.
struct TwoInstancePlan {
    let events: [CloudEvent]
    /// Distinct tickets per account and kind.
    let expected: [String: Int]

    init(tickets: Int, accounts: Int, prefix: String) {
        let product = Product(line: "switches", model: "SX6800", site: "深圳坂田")
        var events: [CloudEvent] = []
        var expected: [String: Int] = [:]
        for i in 0..<tickets {
            let account = "ACC-MI-\(i % accounts)"
            let ticket = "\(prefix)-\(i)"
            let at = t("2026-03-01T00:00:00Z").addingTimeInterval(Double(i * 60))
            events.append(classified(ticket, account: account, type: .newRequirement, at: at))
            events.append(resolved(ticket, account: account, product: product, parts: [SparePart(partNumber: "02130752", quantity: 2)], at: at))
            expected[Self.key(account, .newRequirement), default: 0] += 1
            expected[Self.key(account, .partsQuote), default: 0] += 1
        }
        self.events = events
        self.expected = expected
    }

    static func key(_ account: String, _ kind: OpportunityKind) -> String { "\(account) \(kind.rawValue)" }

    /// Instance `index`'s share of the events in batches of `size`, interleaved with the others'
    /// (every account in every batch), plus every fifth event of the others' share (a delivery
    /// both get).
    func batches(forInstance index: Int, of count: Int, size: Int) -> [[CloudEvent]] {
        let mine = events.indices.filter { ($0 / size) % count == index || $0 % 5 == 0 }.map { events[$0] }
        return stride(from: 0, to: mine.count, by: size).map { Array(mine[$0..<min($0 + size, mine.count)]) }
    }

    /// One opportunity per account and kind, with every ticket, one revision per ticket and the
    /// quantity of its units.
    func check(_ items: [OpportunityView]) {
        #expect(items.count == expected.count)
        #expect(Set(items.map { Self.key($0.account, $0.kind) }) == Set(expected.keys), "one opportunity per account and kind")
        for item in items {
            let tickets = expected[Self.key(item.account, item.kind)] ?? -1
            #expect(item.ticketCount == tickets, "\(item.account) \(item.kind): every ticket linked")
            #expect(item.revision == tickets, "\(item.account) \(item.kind): one revision per ticket (no lost update)")
            #expect(item.quantity == (item.kind == .partsQuote ? 2 * tickets : tickets))
        }
    }
}
