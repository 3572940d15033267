import AMQPClient
import Foundation
import GRDB
import ITRConfig
import ITREvents
import LTCApp
import ServiceKit
import Synchronization
import Testing

/// Counts the SQL statements a connection runs.
final class StatementCounter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    func reset() { count.withLock { $0 = 0 } }
    var value: Int { count.withLock { $0 } }
}

@Suite("Debounced updates and row-based links")
struct DebounceAndLinksTests {
    /// Renewal signals of ACC-1004 (gold contract expiring 2026-02-28): every ticket matches one opportunity.
    func renewalTicket(_ i: Int, minute: Int = 0) -> CloudEvent {
        classified("T-\(i)", account: "ACC-1004", type: .softwareFault, package: "gold", at: t("2026-01-15T03:\(String(format: "%02d", minute % 60)):00Z"))
    }

    @Test func severalMatchingTicketsWithinTheIntervalGiveOneUpdateWithTheFinalState() async throws {
        let h = try Harness(updateInterval: 60)
        try await h.deliver(renewalTicket(1))
        h.clock.advance(1)
        try await h.deliver(renewalTicket(2))
        h.clock.advance(1)
        let last = renewalTicket(3)
        try await h.deliver(last)
        #expect(try await h.opportunities().map(\.type) == ["itr.opportunity.identified"])
        // Not due yet: the first unsent change is 2 s old.
        #expect(try await h.processor.flushPendingUpdates() == 0)
        h.clock.advance(59)
        #expect(try await h.processor.flushPendingUpdates() == 1)
        let events = try await h.emitted()
        #expect(events.map(\.type) == ["itr.opportunity.identified", "itr.opportunity.updated"])
        let update = try EventCoding.decoder.decode(OpportunityUpdated.self, from: events[1].data ?? Data())
        #expect(update.ticketIds == ["T-1", "T-2", "T-3"] && abs(update.confidence - 0.8) < 1e-9)
        #expect(update.quantity == 1 && update.estimatedValue?.amount == "380000.00")
        #expect(events[1].causationID == last.id && events[1].correlationID == "T-3" && events[1].subject == update.opportunityId)
        #expect(update.validate(limits: ReportLimits(), now: Date()).isEmpty)
        // Nothing left: another pass emits nothing.
        h.clock.advance(600)
        #expect(try await h.processor.flushPendingUpdates() == 0)

        // A sales status change goes out at once and carries (so clears) a pending change.
        try await h.deliver(renewalTicket(4))
        try await h.deliver(statusReport(update.opportunityId, .accepted))
        h.clock.advance(600)
        #expect(try await h.processor.flushPendingUpdates() == 0)
        let all = try await h.opportunities()
        #expect(all.count == 3 && all[2].data.status == .accepted && all[2].data.ticketIds.last == "T-4")
    }

    @Test func aChangeNotYetFlushedWhenTheProcessStopsIsEmittedAfterTheRestart() async throws {
        let clock = TestClock()
        let ids = IDCounter()
        var first: Harness? = try Harness(updateInterval: 30, clock: clock, ids: ids)
        let path = try #require(first?.path)
        try await first?.deliver(renewalTicket(1), renewalTicket(2))
        try await first?.deliver(renewalTicket(3))
        #expect(try await first?.emitted().map(\.type) == ["itr.opportunity.identified"])
        first = nil  // "crash": the store is closed with the change committed and nothing flushed

        let second = try Harness(updateInterval: 30, path: path, clock: clock, ids: ids)
        let pending = try await second.store.pool.read { db in try LTCStore.pendingCount(db) }
        #expect(pending == 1)
        clock.advance(30)
        #expect(try await second.processor.flushPendingUpdates() == 1)
        let found = try await second.opportunities()
        #expect(found.map(\.type) == ["itr.opportunity.identified", "itr.opportunity.updated"])
        #expect(found[1].data.ticketIds == ["T-1", "T-2", "T-3"])
        #expect(try await second.store.pool.read { db in try LTCStore.pendingCount(db) } == 0)
    }

    @Test func aLongLivedOpportunityMergesInBoundedWork() async throws {
        let h = try Harness(updateInterval: 60)
        let statements = StatementCounter()
        try await h.store.pool.writeWithoutTransaction { db in
            db.trace { _ in statements.add() }
        }
        let total = 5_000
        func measured(_ i: Int) async throws -> Int {
            statements.reset()
            try await h.deliver(renewalTicket(i, minute: i))
            return statements.value
        }
        try await h.deliver((1...10).map { renewalTicket($0, minute: $0) })
        let early = try await measured(11)
        for start in stride(from: 12, to: total, by: 250) {
            try await h.deliver((start..<min(start + 250, total)).map { renewalTicket($0, minute: $0) })
        }
        let late = try await measured(total)
        // The 5,000th ticket costs the same statements as the 11th: nothing is read or rewritten per linked ticket.
        #expect(early > 0 && early == late)
        let (count, links, pending) = try await h.store.pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT ticket_count FROM ltc_opportunity") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM ltc_opportunity_ticket") ?? 0,
                try LTCStore.pendingCount(db)
            )
        }
        #expect(count == total && links == total && pending == 1)
        #expect(try await h.opportunities().count == 1)  // identified only: every later ticket debounced
        h.clock.advance(60)
        #expect(try await h.processor.flushPendingUpdates() == 1)
        let update = try #require(try await h.opportunities().last)
        #expect(update.type == "itr.opportunity.updated")
        #expect(update.data.ticketIds.count == Opportunity.listLimit && update.data.ticketIds.last == "T-\(total)")
        #expect(update.data.ticketIds.first == "T-\(total - Opportunity.listLimit + 1)")
        #expect(update.data.reasons.count <= Opportunity.listLimit && update.data.confidence <= 0.95)
        #expect(update.data.validate(limits: ReportLimits(), now: Date()).isEmpty)
        let listed = try #require(try await h.list().items.first)
        #expect(listed.ticketCount == total && listed.ticketIds.count == Opportunity.listLimit)
    }

    @Test func version2MovesTheJSONListsOfAnExistingDatabaseIntoRows() throws {
        let queue = try DatabaseQueue()
        var migrator = DatabaseMigrator()
        LTCStore.registerMigrations(&migrator)
        try migrator.migrate(queue, upTo: "ltc-v1")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO ltc_opportunity (id, account, kind, product_key, product, units, confidence, reasons, ticket_ids,
                        signals, suggested_owner, status, identified_at, updated_at, revision)
                    VALUES ('OPP-1', 'ACC-1', 'parts-quote', 'routers/R1', '{"line":"routers","model":"R1"}', ?, 0.8,
                        '["r1","r2"]', '["T-1","T-2","T-3"]', '["out-of-warranty-repair"]', 'cn-east', 'open', ?, ?, 2)
                    """,
                arguments: [
                    #"[{"key":"part:T-1:P1","quantity":2,"priceLine":{"offering":"SP-1","description":"fan","quantity":2,"unitPrice":{"amount":"10.50","currency":"CNY"}}},{"key":"part:T-2:P1","quantity":1,"priceLine":{"offering":"SP-1","description":"fan","quantity":1,"unitPrice":{"amount":"10.50","currency":"CNY"}}},{"key":"part:T-3:X","quantity":1}]"#,
                    t("2026-03-01T00:00:00Z"), t("2026-03-02T00:00:00Z"),
                ])
        }
        try migrator.migrate(queue)
        let o = try #require(try queue.read { db in try LTCStore.opportunity(db, id: "OPP-1") })
        #expect(o.ticketIds == ["T-1", "T-2", "T-3"] && o.ticketCount == 3 && o.reasons == ["r1", "r2"] && o.reasonCount == 2)
        #expect(o.quantity == 4 && o.priceLines.map(\.quantity) == [3] && o.estimatedValue?.amount == "31.50")
        #expect(o.signals == ["out-of-warranty-repair"] && o.revision == 2 && o.product?.model == "R1")
        let columns = try queue.read { db in try db.columns(in: "ltc_opportunity").map(\.name) }
        #expect(!columns.contains("ticket_ids") && columns.contains("pending_since"))
    }

    @Test func updateIntervalIsReadFromLtcYaml() throws {
        let rules = try LTCRules(directory: configDirectory)
        #expect(rules.detector.rules.updateInterval == 30)
    }
}

@Suite("Calendar arithmetic of the detector")
struct DetectorCalendarTests {
    @Test func dayOfAnInstantMatchesFoundationsCalendar() throws {
        let detector = try LTCRules(directory: configDirectory).detector
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = detector.rules.timeZone
        // Every 7 h 13 min over ten years, across month, year and leap-day boundaries.
        var instant = t("2020-01-01T00:00:00Z")
        var checked = 0
        while instant < t("2030-01-01T00:00:00Z") {
            let parts = calendar.dateComponents([.year, .month, .day], from: instant)
            let expected = LocalDate(year: parts.year!, month: parts.month!, day: parts.day!)
            #expect(detector.day(instant) == expected)
            instant = instant.addingTimeInterval(7 * 3600 + 13 * 60)
            checked += 1
        }
        #expect(checked > 12_000)
    }
}
