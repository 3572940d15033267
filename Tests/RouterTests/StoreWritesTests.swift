import Foundation
import GRDB
import ITRConfig
import ServiceKit
import Testing
@testable import RouterApp

/// The router's narrower reads and writes (problem lookups on the partial index of unlinked
/// incidents, ticket rows updated rather than replaced, facts read back without the decoder) give
/// what the broader ones gave.
@Suite("Router store reads and writes")
struct StoreWritesTests {
    let store: ServiceStore
    let rules: RulesHolder
    let clock: ManualClock
    let handler: RouterHandler
    let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60)

    init() throws {
        store = try makeRouterStore()
        rules = RulesHolder(try shippedRules(), directory: configDirectory)
        clock = ManualClock(start)
        handler = RouterHandler(store: .sqlite(store), rules: rules, clock: clock, scheduler: nil)
    }

    func incident(_ id: String, minute: Int) throws -> InboundMessage {
        inbound(try openedEvent(
            ticketId: id, account: "ACC-1007", summary: "OS5000 控制器异常重启 after upgrade, core dump \(minute)",
            line: "storage", model: "OS5000", version: "6.1.5", component: "controller",
            openedAt: start.addingTimeInterval(Double(minute - 10) * 60)))
    }

    func problemId(_ ticketId: String) async throws -> String? {
        try await store.pool.read { try String.fetchOne($0, sql: "SELECT problem_id FROM tickets WHERE id = ?", arguments: [ticketId]) }
    }

    @Test func detectorHelperSkipsTheRecentIncidentsOnlyWhenDecideIgnoresThem() {
        let detector = rules.current.detector
        let fingerprint = IncidentFingerprint(ReportFacts(title: "BGP flapping", productLine: "switches", component: "BGP"))
        let other = IncidentFingerprint(ReportFacts(title: "OSPF down", productLine: "switches", component: "BGP"))
        let p3 = IncidentRecord(ticketId: "T-1", fingerprint: fingerprint, priority: .p3, openedAt: start)
        #expect(detector.needsRecentIncidents(p3, openProblems: []))
        #expect(detector.needsRecentIncidents(p3, openProblems: [OpenProblem(id: "PRB-1", fingerprint: other)]))
        #expect(!detector.needsRecentIncidents(p3, openProblems: [OpenProblem(id: "PRB-1", fingerprint: fingerprint)]))
        #expect(!detector.rules.majorIncidentPriorities.isEmpty)
        if let major = detector.rules.majorIncidentPriorities.first {
            var p1 = p3
            p1.priority = major
            #expect(!detector.needsRecentIncidents(p1, openProblems: []))
        }
        // Whenever the helper says no, `decide` gives the same outcome with or without recent incidents.
        let recent = [
            IncidentRecord(ticketId: "T-0", fingerprint: fingerprint, priority: .p3, openedAt: start.addingTimeInterval(-60)),
            IncidentRecord(ticketId: "T-00", fingerprint: fingerprint, priority: .p3, openedAt: start.addingTimeInterval(-120)),
        ]
        let joined = [OpenProblem(id: "PRB-1", fingerprint: fingerprint)]
        #expect(detector.decide(incident: p3, recent: recent, openProblems: joined) == detector.decide(incident: p3, recent: [], openProblems: joined))
    }

    @Test func migrationReplacesTheFingerprintIndexWithTheUnlinkedIncidents() async throws {
        let (indexes, plan) = try await store.pool.read { db in
            let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets'")
            let plan = try Row.fetchAll(
                db,
                sql: """
                    EXPLAIN QUERY PLAN SELECT id, priority, opened_at FROM tickets
                    WHERE fingerprint = ? AND problem_id IS NULL AND opened_at >= ? AND opened_at <= ? AND id != ?
                    ORDER BY opened_at DESC LIMIT ?
                    """, arguments: ["f", 0, 1, "x", 6]
            ).map { $0["detail"] as String }.joined(separator: "; ")
            return (indexes, plan)
        }
        #expect(indexes.contains("tickets_unlinked_incidents"))
        #expect(!indexes.contains("tickets_fingerprint"))
        #expect(plan.contains("tickets_unlinked_incidents"), "plan: \(plan)")
    }

    /// Linked incidents leave the detector's index; once their problem is resolved, new incidents
    /// with the same fingerprint count only among themselves, as the full query counted them.
    @Test func linkedIncidentsAreNotCountedAgain() async throws {
        #expect(try await handler.handle((1...4).map { try incident("I-\($0)", minute: $0) }) == Array(repeating: .processed, count: 4))
        let problem = try #require(try await problemId("I-1"))
        for index in 2...4 { #expect(try await problemId("I-\(index)") == problem) }
        let fingerprint = try await store.pool.read { db in
            try #require(try String.fetchOne(db, sql: "SELECT fingerprint FROM tickets WHERE id = 'I-1'"))
        }
        let unlinked = try await store.pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM tickets INDEXED BY tickets_unlinked_incidents WHERE fingerprint = ? AND problem_id IS NULL",
                arguments: [fingerprint])
        }
        #expect(unlinked == 0)

        // The problem is resolved: the next two incidents are below the threshold, the third opens a new problem of three.
        try await store.pool.write { db in
            try db.execute(sql: "UPDATE problems SET state = 'resolved' WHERE id = ?", arguments: [problem])
        }
        #expect(try await handler.handle([try incident("I-5", minute: 5), try incident("I-6", minute: 6)]) == [.processed, .processed])
        #expect(try await problemId("I-5") == nil)
        #expect(try await problemId("I-6") == nil)
        #expect(try await handler.handle([try incident("I-7", minute: 7)]) == [.processed])
        let second = try #require(try await problemId("I-7"))
        #expect(second != problem)
        #expect(try await problemId("I-5") == second)
        #expect(try await problemId("I-6") == second)
        let events = try await outboxEvents(store).ofType(.problemOpened)
        #expect(try events.last.map { try $0.decodeData(ProblemOpened.self).ticketIds } == ["I-5", "I-6", "I-7"])
    }

    /// A ticket row updated after actions equals the row a fresh insert of the same record writes.
    @Test func updatedRowEqualsAFreshInsert() async throws {
        #expect(try await handler.handle([try incident("U-1", minute: 1)]) == [.processed])
        for kind in [TicketActionKind.acknowledge, .resolve] {
            var action = ITREvents.TicketAction(ticketId: "U-1", action: kind, actor: engineer)
            if kind == .resolve {
                action.resolution = .init(resolutionCode: "SW-DEFECT", rootCause: "控制器固件缺陷", workaround: "回退到 6.1.4")
            }
            clock.advance(by: 600)
            #expect(try await handler.handle([inbound(try actionEvent(action))]) == [.processed])
        }
        let current = rules.current
        let now = clock.now()
        let (updated, record) = try store.pool.read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT * FROM tickets WHERE id = 'U-1'"))
            let record = try #require(try TicketRepository.load(db, id: "U-1", policy: current.policy))
            return (row, record)
        }
        #expect(updated["state"] as String == "resolved")
        #expect(updated["resolution_code"] as String? == "SW-DEFECT")
        #expect(updated["acknowledged_at"] as Double? != nil)

        let fresh = try makeRouterStore()
        let inserted = try fresh.pool.write { db in
            var copy = record
            copy.isStored = false
            copy.storedLogCount = 0
            // Written at opening only (not loaded with the ticket): what classification read and decided.
            (copy.reportFacts, copy.decision) = try store.pool.read { try TicketRepository.classificationInputs($0, id: "U-1") }
            try TicketRepository.save(db, &copy, rules: current, now: now, causeId: nil, traceparent: nil)
            return try #require(try Row.fetchOne(db, sql: "SELECT * FROM tickets WHERE id = 'U-1'"))
        }
        let stored = try store.pool.write { db in
            var again = record
            try TicketRepository.save(db, &again, rules: current, now: now, causeId: nil, traceparent: nil)
            return try #require(try Row.fetchOne(db, sql: "SELECT * FROM tickets WHERE id = 'U-1'"))
        }
        #expect(stored == inserted)
        // The history read back (facts decoded by hand) replays to the same lifecycle.
        let reloaded = try await fresh.pool.read { try TicketRepository.load($0, id: "U-1", policy: current.policy) }
        #expect(reloaded?.lifecycle == record.lifecycle)
        #expect(reloaded?.log == record.log)
    }

    /// Opened events are claimed before they are applied: a repeat in the same batch or a later
    /// one is a duplicate with no effect, and a batch that fails claims nothing.
    @Test func openedEventsAreClaimedOnce() async throws {
        let event = try incident("D-1", minute: 1)
        #expect(try await handler.handle([event, event]) == [.processed, .duplicate])
        #expect(try await handler.handle([event]) == [.duplicate])
        let events = try await outboxEvents(store)
        #expect(events.ofType(.ticketClassified).count == 1)
        #expect(events.ofType(.ticketAssigned).count == 1)
        let claims = try await store.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM inbox") }
        #expect(claims == 1)
    }
}
