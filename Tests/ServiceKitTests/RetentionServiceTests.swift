import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Testing

@testable import ServiceKit

@Suite struct RetentionServiceTests {
    static let retention: TimeInterval = 30 * 86_400
    /// 2026-11-23T00:00:00Z.
    static let today = Date(timeIntervalSince1970: 1_795_392_000)

    func retentionService(
        _ store: ServiceStore, clock: any ServiceClock, steps: [RetentionStep]? = nil, batchSize: Int = 5_000,
        firstRunDelay: Duration = .seconds(3_600), pruneInterval: Duration = .seconds(3_600), metrics: ServiceMetrics? = nil
    ) -> RetentionService {
        var configuration = RetentionService.Configuration()
        configuration.batchSize = batchSize
        configuration.firstRunDelay = firstRunDelay
        configuration.pruneInterval = pruneInterval
        return RetentionService(
            store: .sqlite(store), steps: steps ?? [.inbox(retention: Self.retention)], clock: clock,
            configuration: configuration, metrics: metrics)
    }

    func inboxCount(_ store: ServiceStore) async throws -> Int {
        try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") ?? 0 }
    }

    @Test func prunesExactlyTheOldRowsInBoundedTransactions() async throws {
        let store = try makeTemporaryStore()
        let cutOff = Self.today.addingTimeInterval(-Self.retention)
        try await store.pool.write { db in
            for index in 0..<12_000 {
                // From 31 days ago up to one second before the cut-off.
                let at = cutOff.addingTimeInterval(-1 - Double(index % 86_400))
                _ = try Inbox.claim(db, source: "/crm/工单", id: "old-\(index)", at: at)
            }
            // Exactly at the cut-off is kept, and so is everything after it.
            _ = try Inbox.claim(db, source: "/crm/工单", id: "new-0", at: cutOff)
            for index in 1..<10 {
                _ = try Inbox.claim(db, source: "/crm/工单", id: "new-\(index)", at: Self.today.addingTimeInterval(-Double(index) * 3_600))
            }
        }
        let metrics = ServiceMetrics(service: "retention-test", registry: .init())
        let service = retentionService(store, clock: ManualClock(Self.today), metrics: metrics)

        let run = try await service.prune()
        #expect(run.pruned == ["inbox": 12_000])
        #expect(run.transactions == 3)
        #expect(run.completed)
        #expect(try await inboxCount(store) == 10)
        let left = try await store.pool.read { db in try String.fetchAll(db, sql: "SELECT id FROM inbox ORDER BY id") }
        #expect(left == (0..<10).map { "new-\($0)" })
        #expect(metrics.render().contains(#"itr_retention_pruned_rows_total{service="retention-test",table="inbox"} 12000"#))

        let again = try await service.prune()
        #expect(again.pruned.isEmpty)
        #expect(again.transactions == 1)
    }

    @Test func legacyDateTextEntriesArePrunedToo() async throws {
        let store = try makeTemporaryStore()
        try await store.pool.write { db in
            // As written before timestamps became Unix seconds.
            try db.execute(
                sql: "INSERT INTO inbox (source, id, processed_at) VALUES ('/crm', 'text-old', ?), ('/crm', 'text-new', ?)",
                arguments: [Self.today.addingTimeInterval(-40 * 86_400), Self.today.addingTimeInterval(-86_400)])
        }
        let run = try await retentionService(store, clock: ManualClock(Self.today)).prune()
        #expect(run.pruned == ["inbox": 1])
        #expect(try await store.pool.read { db in try Inbox.contains(db, source: "/crm", id: "text-new") })
    }

    @Test func serviceStepsRunAfterTheInboxInTheirOwnBatches() async throws {
        let store = try makeTemporaryStore { migrator in
            migrator.registerMigration("note-v1") { db in try db.execute(sql: "CREATE TABLE note (written_at DOUBLE NOT NULL)") }
        }
        try await store.pool.write { db in
            for day in 0..<7 {
                try db.execute(
                    sql: "INSERT INTO note (written_at) VALUES (?)",
                    arguments: [Self.today.addingTimeInterval(-Double(day) * 86_400).timeIntervalSince1970])
            }
        }
        let notes = RetentionStep(table: "note") { db, now, limit in
            try db.execute(
                "DELETE FROM note WHERE rowid IN (SELECT rowid FROM note WHERE written_at < ? LIMIT ?)",
                [.real(now.timeIntervalSince1970 - 2.5 * 86_400), .integer(Int64(limit))])
        }
        let service = retentionService(
            store, clock: ManualClock(Self.today), steps: [.inbox(retention: Self.retention), notes], batchSize: 2)
        let run = try await service.prune()
        // Days 3...6: batches of 2, 2, 0 after the inbox's single empty one.
        #expect(run.pruned == ["note": 4])
        #expect(run.transactions == 4)
        #expect(try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM note") } == 3)
    }

    @Test(.timeLimit(.minutes(1))) func stopsOnGracefulShutdownWhileIdle() async throws {
        let store = try makeTemporaryStore()
        try await store.pool.write { db in
            _ = try Inbox.claim(db, source: "/crm", id: "old", at: Self.today.addingTimeInterval(-90 * 86_400))
        }
        let service = retentionService(store, clock: ManualClock(Self.today), firstRunDelay: .seconds(3_600))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(50))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // Still waiting for its first run when told to stop: nothing was pruned.
        #expect(try await inboxCount(store) == 1)
    }

    @Test(.timeLimit(.minutes(1))) func runsOnScheduleWithTheDeploymentsClock() async throws {
        let store = try makeTemporaryStore()
        try await store.pool.write { db in
            _ = try Inbox.claim(db, source: "/crm", id: "old", at: Self.today.addingTimeInterval(-31 * 86_400))
            _ = try Inbox.claim(db, source: "/crm", id: "recent", at: Self.today.addingTimeInterval(-86_400))
        }
        let clock = ManualClock(Self.today)
        let service = retentionService(store, clock: clock, firstRunDelay: .zero, pruneInterval: .milliseconds(20))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await eventually { (try? await inboxCount(store)) == 1 })
            #expect(try await store.pool.read { db in try Inbox.contains(db, source: "/crm", id: "recent") })
            // Business time moves on (an accelerated clock): the recent entry ages out too.
            clock.advance(by: 30 * 86_400)
            #expect(await eventually { (try? await inboxCount(store)) == 0 })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
