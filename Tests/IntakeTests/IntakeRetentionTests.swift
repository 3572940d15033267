import Foundation
import GRDB
import ServiceKit
import Testing

@testable import IntakeApp

@Suite struct IntakeRetentionTests {
    static let retention: TimeInterval = 30 * 86_400
    static let stormWindow: TimeInterval = 15 * 60
    /// 2026-11-23T00:00:00Z.
    static let today = Date(timeIntervalSince1970: 1_795_392_000)

    func makeStore() throws -> ServiceStore {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-retention-\(UUID().uuidString)")
        return try ServiceStore(path: directory.appendingPathComponent("intake.sqlite").path) { migrator in
            ReportIntake.registerMigrations(&migrator)
        }
    }

    func service(_ store: ServiceStore, batchSize: Int = 5_000) -> RetentionService {
        var configuration = RetentionService.Configuration()
        configuration.batchSize = batchSize
        return RetentionService(
            store: .sqlite(store),
            steps: ReportIntake.retentionSteps(retention: Self.retention, stormWindow: { Self.stormWindow }),
            clock: ManualClock(Self.today), configuration: configuration)
    }

    @Test func idempotencyRecordsOlderThanTheRetentionGo() async throws {
        let store = try makeStore()
        let cutOff = Self.today.addingTimeInterval(-Self.retention)
        try await store.pool.write { db in
            let insert = "INSERT INTO intake_report (source, id, ticket_id, outcome, received_at) VALUES (?, ?, ?, ?, ?)"
            for index in 0..<7 {
                try db.execute(
                    sql: insert,
                    arguments: ["/crm/华东", "old-\(index)", "T-20261001-00000\(index)", "opened", cutOff.addingTimeInterval(-1 - Double(index) * 86_400)])
            }
            try db.execute(sql: insert, arguments: ["/crm/华东", "at-cut-off", "T-20261024-000001", "opened", cutOff])
            try db.execute(sql: insert, arguments: ["/crm/华东", "recent", nil, "cleared", Self.today.addingTimeInterval(-60)])
        }
        let run = try await service(store, batchSize: 3).prune()
        #expect(run.pruned == ["intake_report": 7])
        // intake_report: 3 + 3 + 1; alarm_storm: one empty batch.
        #expect(run.transactions == 4)
        let left = try await store.pool.read { db in try String.fetchAll(db, sql: "SELECT id FROM intake_report ORDER BY id") }
        #expect(left == ["at-cut-off", "recent"])
    }

    @Test func onlyLongFinishedAlarmStormsGo() async throws {
        let store = try makeStore()
        let now = Self.today.timeIntervalSince1970
        let day: TimeInterval = 86_400
        // (device, last seen seconds ago, cleared)
        let storms: [(String, TimeInterval, Bool)] = [
            ("cleared-two-days-ago", 2 * day, true),  // past window + a day: goes
            ("cleared-an-hour-ago", 3_600, true),  // within the margin: stays
            ("cleared-just-inside", Self.stormWindow + day - 1, true),  // stays
            ("open-two-days-ago", 2 * day, false),  // a late clear may still come: stays
            ("open-29-days-ago", 29 * day, false),  // stays
            ("open-31-days-ago", 31 * day, false),  // past the retention: goes
            ("open-now", 0, false),  // stays
        ]
        try await store.pool.write { db in
            for (device, age, cleared) in storms {
                try db.execute(
                    sql: """
                        INSERT INTO alarm_storm (site, device, code, ticket_id, count, first_seen, last_seen, cleared)
                        VALUES ('深圳-01', ?, 'OPT-LOS', 'T-1', 3, ?, ?, ?)
                        """,
                    arguments: [device, now - age - 600, now - age, cleared])
            }
        }
        let run = try await service(store).prune()
        #expect(run.pruned == ["alarm_storm": 2])
        let left = try await store.pool.read { db in try String.fetchAll(db, sql: "SELECT device FROM alarm_storm ORDER BY device") }
        #expect(left == ["cleared-an-hour-ago", "cleared-just-inside", "open-29-days-ago", "open-now", "open-two-days-ago"])
    }
}
