import AMQPClient
import Foundation
import GRDB
import ITRTestSupport
import Logging
import ServiceKit
import Testing

/// The shared tables (inbox, outbox) behave the same on both engines: every test here runs on
/// SQLite and on PostgreSQL (the test command's, `ITR_TEST_DATABASE_URL`; each test in a schema
/// of its own). Without PostgreSQL the PostgreSQL cases fail when it is required
/// (`ITR_TEST_POSTGRES=1`) and are not run otherwise.
@Suite("SQL store: SQLite and PostgreSQL")
struct SQLStoreTests {
    static var engines: [SQLDialect] { TestStore.engines }

    @Test(arguments: engines)
    func inboxClaimsOnceReleasesAndPrunes(_ engine: SQLDialect) async throws {
        let store = try await TestStore.open(engine)
        defer { Task { await store.drop() } }
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let first = try await store.write { db in try Inbox.claim(db, source: "/upstream/呼叫中心", id: "R-1", at: t0) }
        let again = try await store.write { db in try Inbox.claim(db, source: "/upstream/呼叫中心", id: "R-1", at: t0) }
        let other = try await store.write { db in try Inbox.claim(db, source: "/upstream/portal", id: "R-1", at: t0.addingTimeInterval(7200)) }
        #expect(first && !again && other)
        #expect(try await store.write { db in try Inbox.contains(db, source: "/upstream/呼叫中心", id: "R-1") })
        try await store.write { db in try Inbox.release(db, source: "/upstream/呼叫中心", id: "R-1") }
        #expect(try await store.write { db in try !Inbox.contains(db, source: "/upstream/呼叫中心", id: "R-1") })
        _ = try await store.write { db in try Inbox.claim(db, source: "/a", id: "1", at: t0) }
        _ = try await store.write { db in try Inbox.claim(db, source: "/a", id: "2", at: t0) }
        let pruned = try await store.write { db in try Inbox.prune(db, processedBefore: t0.addingTimeInterval(3600), limit: 1) }
        let rest = try await store.write { db in try Inbox.prune(db, processedBefore: t0.addingTimeInterval(3600)) }
        #expect(pruned == 1 && rest == 1)
        #expect(try await store.write { db in try Inbox.contains(db, source: "/upstream/portal", id: "R-1") }, "newer entries stay")
    }

    @Test(arguments: engines)
    func outboxKeepsOrderParksAndUnparks(_ engine: SQLDialect) async throws {
        let store = try await TestStore.open(engine)
        defer { Task { await store.drop() } }
        let body = Data("{\"summary\":\"基站告警 ALM-1\"}".utf8) + Data([0, 255, 1])
        let seqs = try await store.write { db in
            try (0..<5).map { i in
                try Outbox.enqueue(
                    db, message: AMQPMessage(body: body, properties: AMQPProperties(messageID: "m-\(i)", type: "itr.ticket.opened")),
                    exchange: "itr.events", routingKey: "ticket.opened.\(i)")
            }
        }
        #expect(seqs == seqs.sorted() && Set(seqs).count == 5)
        let pending = try await store.write { db in try Outbox.pending(db, limit: 10) }
        #expect(pending.map(\.routingKey) == (0..<5).map { "ticket.opened.\($0)" })
        #expect(pending.allSatisfy { $0.message.body == body })
        try await store.write { db in
            try Outbox.park(db, seq: seqs[1], reason: "无法投递 unroutable")
            try Outbox.countAttempt(db, seqs: [seqs[2], seqs[2]])
            try Outbox.delete(db, seqs: [seqs[0]])
        }
        let after = try await store.write { db in try Outbox.nextRows(db, after: 0, limit: 10) }
        #expect(after.entries.map(\.seq) == [seqs[2], seqs[3], seqs[4]] && after.undecodable.isEmpty)
        #expect(try await store.write { db in (try Outbox.count(db), try Outbox.parkedCount(db)) } == (3, 1))
        let parked = try await store.write { db in try Outbox.parked(db) }
        #expect(parked.map(\.seq) == [seqs[1]] && parked.first?.reason == "无法投递 unroutable" && parked.first?.messageID == "m-1")
        #expect(try await store.write { db in try Outbox.unpark(db) } == 1)
        #expect(try await store.write { db in try Outbox.count(db) } == 4)
    }

    @Test(arguments: engines)
    func aFailedTransactionLeavesNothing(_ engine: SQLDialect) async throws {
        let store = try await TestStore.open(engine)
        defer { Task { await store.drop() } }
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await store.write { db in
                _ = try Inbox.claim(db, source: "/a", id: "x")
                throw Boom()
            }
        }
        #expect(try await store.write { db in try !Inbox.contains(db, source: "/a", id: "x") })
    }

    /// Two instances of a service, one schema: a report claimed by many transactions at once is
    /// claimed by exactly one of them, and instances that start together migrate once.
    @Test(.enabled(if: TestStore.postgresAvailable || TestStore.postgresRequired))
    func concurrentInstancesClaimOnceAndMigrateOnce() async throws {
        let schema = TestEnvironment.uniqueName("test-instances")
        async let a = TestStore.openPostgres(schema: schema)
        async let b = TestStore.openPostgres(schema: schema)
        let (one, two) = try await (a, b)
        defer { Task { await two.close(); await one.drop() } }
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<16 {
                let store = i.isMultiple(of: 2) ? one : two
                group.addTask { try await store.write { db in try Inbox.claim(db, source: "/upstream/itsm", id: "INC-42") } }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
        let migrations = try await one.write { db in try db.fetch("SELECT name FROM itr_migrations ORDER BY name", []).map { try $0.string(0) } }
        #expect(migrations == ServiceStore.sharedMigrations.map(\.name))
    }

    /// Several instances on one database: each relays the rows it wrote, in their order; the
    /// rows of an instance that died are adopted by a live one and published once; an instance
    /// that is alive but cannot publish for a while (its broker away) keeps its rows.
    @Test(.enabled(if: TestStore.postgresAvailable || TestStore.postgresRequired), .timeLimit(.minutes(3)))
    func eachInstanceRelaysItsOwnRowsAndADeadOnesAreAdopted() async throws {
        let schema = TestEnvironment.uniqueName("test-relays")
        let a = try await TestStore.openPostgres(schema: schema, instance: "router-a")
        let b = try await TestStore.openPostgres(schema: schema, instance: "router-b")
        let dead = try await TestStore.openPostgres(schema: schema, instance: "router-dead")
        defer { Task { await b.close(); await dead.close(); await a.drop() } }
        func enqueue(_ store: TestStore, _ prefix: String, _ range: Range<Int>) async throws {
            try await store.write { db in
                for i in range {
                    try Outbox.enqueue(db, message: event(id: "\(prefix)-\(i)"), exchange: "itr.events", routingKey: "\(prefix).\(i)")
                }
            }
        }
        try await enqueue(dead, "dead", 0..<30)  // its relay never runs
        let ownerTimeout = Duration.seconds(3)
        func relay(_ instance: String, _ store: TestStore, _ publisher: FakePublisher) -> OutboxRelay {
            var configuration = OutboxRelay.Configuration()
            configuration.instance = instance
            configuration.pollInterval = .milliseconds(50)
            // Backing off for longer than the owner timeout (5 s, the default, against 3 s) is
            // no sign of death: the heartbeat does not wait for the publishing.
            configuration.maximumBackoff = .seconds(5)
            configuration.heartbeatInterval = .milliseconds(200)
            configuration.ownerTimeout = ownerTimeout
            return OutboxRelay(store: store.store, publisher: publisher, configuration: configuration)
        }
        let publishedA = FakePublisher()
        let publishedB = FakePublisher()
        publishedB.failWhen { _ in true }  // b's broker is away: every publish fails
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay("router-a", a, publishedA).run() }
            group.addTask { try await relay("router-b", b, publishedB).run() }
            try await Task.sleep(for: .milliseconds(500))  // both relays have said they are alive
            let failingSince = ContinuousClock.now
            try await enqueue(a, "a", 0..<40)
            try await enqueue(b, "b", 0..<40)
            #expect(await eventually(timeout: .seconds(60)) { publishedA.published.filter { $0.routingKey.hasPrefix("a.") }.count == 40 })
            // b keeps failing for more than twice the owner timeout: it is alive, so a leaves its rows.
            let wait = ownerTimeout * 2 + .seconds(1) - (ContinuousClock.now - failingSince)
            if wait > .zero { try await Task.sleep(for: wait) }
            #expect(publishedB.attempts > 0, "b tried and failed")
            #expect(!publishedA.published.contains { $0.routingKey.hasPrefix("b.") }, "a did not take the rows of b, alive but failing")
            publishedB.failWhen(nil)
            #expect(await eventually(timeout: .seconds(60)) { publishedA.published.count + publishedB.published.count >= 110 })
            try await enqueue(a, "a", 40..<50)
            #expect(await eventually(timeout: .seconds(60)) { publishedA.published.count + publishedB.published.count >= 120 })
            #expect(try await eventually { try await a.write { db in try Outbox.count(db) } == 0 })
            group.cancelAll()
            try await group.waitForAll()
        }
        let keysA = publishedA.published.map(\.routingKey)
        let keysB = publishedB.published.map(\.routingKey)
        #expect(keysA.filter { $0.hasPrefix("a.") } == (0..<50).map { "a.\($0)" }, "a's rows, by a, in order")
        // (After failures b's order is best effort: a publish started as the broker came back may
        // overtake one that failed just before.)
        #expect(keysB.filter { $0.hasPrefix("b.") }.sorted() == (0..<40).map { "b.\($0)" }.sorted(), "b's rows, by b, once each")
        #expect(!keysA.contains { $0.hasPrefix("b.") } && !keysB.contains { $0.hasPrefix("a.") }, "no one relays a live instance's rows")
        let adopted = (keysA + keysB).filter { $0.hasPrefix("dead.") }
        #expect(adopted.sorted() == (0..<30).map { "dead.\($0)" }.sorted(), "every row of the dead instance published once")
        // (The dead instance's rows may be split between the two: each adopts those old enough when it looks.)
    }

    @Test func placeholdersAreNumberedOutsideQuotes() {
        #expect(PostgresTransaction.numbered("SELECT ? , '?' , \"a?\" FROM t WHERE a = ? AND b IN (?, ?)")
            == "SELECT $1 , '?' , \"a?\" FROM t WHERE a = $2 AND b IN ($3, $4)")
    }

    @Test func databaseURLsAreCheckedWithAReason() {
        for (url, reason) in [
            ("mysql://u@h/db", "postgres://"), ("postgres://h/db", "no user"), ("postgres://u@h", "no database"),
            ("postgres://u@h/db?sslmode=sometimes", "sslmode"), ("postgres://u@h/db?pool=3", "unknown parameter"),
        ] {
            #expect {
                _ = try PostgresStoreSettings(url: url, schema: "intake")
            } throws: { error in "\(error)".contains(reason) }
        }
        let s = try? PostgresStoreSettings(url: "postgres://itr-router:p%40ss@127.0.0.1:5442/itr?sslmode=require", schema: "itr-router")
        #expect(s?.user == "itr-router" && s?.password == "p@ss" && s?.port == 5442 && s?.database == "itr" && s?.requireTLS == true)
        #expect(s?.quotedSchema == "\"itr-router\"")
    }
}

