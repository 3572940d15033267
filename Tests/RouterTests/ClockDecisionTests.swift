import Foundation
import GRDB
import ITRConfig
import ITRTestSupport
import ServiceKit
import Testing
@testable import RouterApp

/// A stopped clock's outcome (issue 13): breached when its elapsed time reaches its target,
/// decided once and read alike by the state machine, the store, the report and the counters.
@Suite struct StoppedClockOutcomeTests {
    @Test func aStintEndedByEscalationWhenItsBudgetRunsOutIsBreached() {
        let opened = at(2026, 3, 9, 9)
        let history = [
            TicketHistoryEntry(at: opened, fact: .opened),
            TicketHistoryEntry(at: opened, fact: .assigned(tier: "L1", group: "desk")),
            // The OLA breach moment escalates at the instant the 30 min budget runs out.
            TicketHistoryEntry(at: opened.addingTimeInterval(30 * 60), fact: .escalated(from: "L1", to: "L2", reason: .olaBreach)),
        ]
        let stints = OLAClock.compute(
            history: history, calendar: chinaBusiness, budgets: ["L1": 30 * 60, "L2": 2 * hour], now: at(2026, 3, 9, 10))
        #expect(stints[0].clock.isStopped)
        #expect(stints[0].clock.elapsed == stints[0].clock.target)
        #expect(stints[0].clock.isBreached)
        #expect(stints[0].clock.outcome == false)
        #expect(stints[0].clock.breachedAt == opened.addingTimeInterval(30 * 60))
        // A minute earlier it is on time.
        var early = history
        early[2].at = opened.addingTimeInterval(29 * 60)
        let onTime = OLAClock.compute(
            history: early, calendar: chinaBusiness, budgets: ["L1": 30 * 60, "L2": 2 * hour], now: at(2026, 3, 9, 10))
        #expect(!onTime[0].clock.isBreached && onTime[0].clock.outcome == true)
    }

    @Test func aResponseAcknowledgedExactlyAtItsTargetIsBreached() {
        let opened = at(2026, 3, 9, 9)
        let history = [
            TicketHistoryEntry(at: opened, fact: .opened),
            TicketHistoryEntry(at: opened.addingTimeInterval(hour), fact: .acknowledged),
        ]
        let status = SLAClock.compute(
            history: history, calendar: chinaBusiness, targets: SLATargets(response: hour, resolution: 8 * hour),
            now: at(2026, 3, 9, 12))
        #expect(status.response.isStopped && status.response.isBreached && status.response.outcome == false)
        #expect(status.resolution.outcome == nil)
    }

    @Test func aClockWithoutTargetIsNeverBreached() {
        #expect(!ClockStatus.isBreached(elapsed: 10, target: 0))
        #expect(ClockStatus.isBreached(elapsed: 10, target: 10))
        #expect(!ClockStatus.isBreached(elapsed: 9.9, target: 10))
    }

    @Test func theCountersCountWhatTheStoreDecides() {
        typealias Outcomes = TicketRepository.StoredOutcomes
        // L1 breached at the budget's end (escalation), L2 resolved on time, response met.
        let before = Outcomes(response: nil, resolution: nil, stints: [("L1", false), ("L2", nil)])
        let after = Outcomes(response: true, resolution: true, stints: [("L1", false), ("L2", true)])
        let counted = ServiceLevelMetrics.decisions(before: before, after: after)
        #expect(counted.map(\.description) == [
            "itr_router_sla_decided_total clock=response outcome=met",
            "itr_router_sla_decided_total clock=resolution outcome=met",
            "itr_router_ola_decided_total tier=L2 outcome=on-time",
        ])
        // The breach of L1 was counted when it was stored, once.
        let breach = ServiceLevelMetrics.decisions(
            before: Outcomes(response: true, resolution: nil, stints: [("L1", nil)]),
            after: Outcomes(response: true, resolution: nil, stints: [("L1", false), ("L2", nil)]))
        #expect(breach.map(\.description) == ["itr_router_ola_decided_total tier=L1 outcome=breached"])
    }
}

/// The same through the router: the OLA breach moment escalates at the budget's end; the stint
/// is stored, reported and counted as breached.
@Suite("Stopped clocks through the router")
struct StoppedClockRouterTests {
    let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60)
    let router: RouterHarness
    var store: ServiceStore { router.store }
    var rules: RulesHolder { router.rules }
    var clock: ManualClock { router.clock }
    var handler: RouterHandler { router.handler }

    init() throws { router = try RouterHarness(start: start) }

    @Test func aTierStintEscalatedAtItsBudgetsEndIsReportedAsBreached() async throws {
        // P1 on gold (24x7): L1 has 15 min.
        let event = try openedEvent(
            ticketId: "OLA-1", account: "ACC-1003", summary: "核心路由器宕机，全网业务中断", component: "LPU", severity: .critical,
            openedAt: start)
        #expect(try await handler.handle([inbound(event)]) == [.processed])
        clock.advance(by: 16 * 60)
        try await router.fireAllDue()
        let events = try await outboxEvents(store)
        let breach = try #require(events.ofType(.olaBreached).first).decodeData(OLABreached.self)
        #expect(breach.breachedAt == start.addingTimeInterval(15 * 60))
        #expect(events.ofType(.ticketEscalated).count == 1)

        let now = clock.now()
        let rules = self.rules.current
        let view = try #require(try await store.pool.read { try TicketView.load($0, id: "OLA-1", rules: rules, now: now) })
        let l1 = try #require(view.clocks.ola.first)
        #expect(l1.tier == "L1" && l1.stoppedAt == start.addingTimeInterval(15 * 60) && l1.isBreached)
        let stored = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT tier, met FROM ola_stints WHERE ticket_id = 'OLA-1' ORDER BY idx")
        }
        #expect(stored.map { $0["tier"] as String } == ["L1", "L2"])
        #expect(stored[0]["met"] as Bool? == false)
        #expect(stored[1]["met"] as Bool? == nil)
        let report = try await store.pool.read { try ServiceLevelReport.compute($0, groupBy: []) }
        let reportL1 = try #require(report.ola.first { $0.tier == "L1" })
        #expect(reportL1.decided == 1 && reportL1.onTime == 0 && reportL1.onTimeRate == 0)
    }
}

/// Rules changes re-plan the open tickets' due moments (issue 13).
@Suite("Due moments after a rules change")
struct RulesChangeReplanTests {
    let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60)
    let directory: URL
    let router: RouterHarness
    /// Batches of 2 tickets: three tickets take two batches.
    let replanner: RulesReplanner
    var store: ServiceStore { router.store }
    var rules: RulesHolder { router.rules }
    var clock: ManualClock { router.clock }
    var handler: RouterHandler { router.handler }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("router-rules-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: configDirectory), to: directory)
        router = try RouterHarness(start: start, directory: directory.path)
        replanner = RulesReplanner(
            store: .sqlite(router.store), rules: router.rules, clock: router.clock, scheduler: router.scheduler, batchSize: 2)
    }

    /// Gold P1 targets in catalogue.yaml, as a rules change would edit them.
    func setGoldP1(response: String, resolution: String) throws {
        let file = directory.appendingPathComponent("catalogue.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        let old = "P1: { response: 15m, resolution: 4h }"
        let range = try #require(text.range(of: old), "catalogue.yaml's gold P1 line")
        try text.replacingCharacters(in: range, with: "P1: { response: \(response), resolution: \(resolution) }")
            .write(to: file, atomically: true, encoding: .utf8)
        guard case .success = rules.reload() else { Issue.record("the edited rules do not load"); return }
    }

    /// Opens three P1 tickets on gold (24x7: business time is wall time) and acknowledges none.
    func openTickets() async throws {
        for index in 1...3 {
            let event = try openedEvent(
                ticketId: "RC-\(index)", account: "ACC-1003", summary: "核心路由器宕机，全网业务中断", component: "LPU",
                severity: .critical, openedAt: start)
            #expect(try await handler.handle([inbound(event)]) == [.processed])
        }
    }

    /// Advances the clock to `offset` after the start and fires what is due; returns the events emitted meanwhile.
    func run(to offset: TimeInterval, since seen: inout Int) async throws -> [CloudEvent] {
        clock.set(start.addingTimeInterval(offset))
        try await router.fireAllDue()
        let events = try await outboxEvents(store)
        defer { seen = events.count }
        return Array(events.dropFirst(seen))
    }

    func responseBreaches(_ events: [CloudEvent]) throws -> [SLABreached] {
        try events.ofType(.slaBreached).map { try $0.decodeData(SLABreached.self) }.filter { $0.clock == .response }
    }

    func warnings(_ events: [CloudEvent]) throws -> [SLAWarning] {
        try events.ofType(.slaWarning).map { try $0.decodeData(SLAWarning.self) }
    }

    @Test func aLengthenedTargetIsAnnouncedAtItsNewMoment() async throws {
        try await openTickets()
        var seen = try await outboxEvents(store).count
        clock.set(start.addingTimeInterval(5 * 60))
        try setGoldP1(response: "30m", resolution: "8h")
        #expect(try await replanner.replanAll() == 3)
        #expect(replanner.completedPasses == 1)

        // The old response moment (15 min) has gone; the new one (30 min) announces the breach.
        #expect(try responseBreaches(try await run(to: 16 * 60, since: &seen)).isEmpty)
        let breaches = try responseBreaches(try await run(to: 31 * 60, since: &seen))
        #expect(breaches.count == 3)
        #expect(breaches.allSatisfy { $0.dueAt == start.addingTimeInterval(30 * 60) && $0.targetMinutes == 30 })
        // The warning comes at 75 % of the new 8 h target (6 h), not of the old 4 h (3 h).
        #expect(try warnings(try await run(to: 3 * hour + 60, since: &seen)).isEmpty)
        let late = try warnings(try await run(to: 6 * hour + 60, since: &seen))
        #expect(late.count == 3)
        #expect(late.allSatisfy { $0.dueAt == start.addingTimeInterval(8 * hour) })
    }

    @Test func aLengthenedTargetIsAnnouncedEvenBeforeTheReplanReachesTheTicket() async throws {
        // The old moment fires first: it fails its check and plans the new one instead of vanishing.
        try await openTickets()
        var seen = try await outboxEvents(store).count
        try setGoldP1(response: "30m", resolution: "8h")
        #expect(try responseBreaches(try await run(to: 16 * 60, since: &seen)).isEmpty)
        let breaches = try responseBreaches(try await run(to: 31 * 60, since: &seen))
        #expect(breaches.count == 3)
        #expect(breaches.allSatisfy { $0.dueAt == start.addingTimeInterval(30 * 60) })
    }

    @Test func aShortenedTargetIsAnnouncedAtItsNewMoment() async throws {
        try await openTickets()
        var seen = try await outboxEvents(store).count
        clock.set(start.addingTimeInterval(5 * 60))
        try setGoldP1(response: "10m", resolution: "3h30m")
        #expect(try await replanner.replanAll() == 3)

        let breaches = try responseBreaches(try await run(to: 11 * 60, since: &seen))
        #expect(breaches.count == 3, "announced at 10 min, not at the old 15 min")
        #expect(breaches.allSatisfy { $0.dueAt == start.addingTimeInterval(10 * 60) && $0.targetMinutes == 10 })
        #expect(try responseBreaches(try await run(to: 16 * 60, since: &seen)).isEmpty, "and only once")
        // 75 % of 3 h 30 min = 2 h 37 min 30 s, before the old 3 h.
        let warned = try warnings(try await run(to: 2 * hour + 38 * 60, since: &seen))
        #expect(warned.count == 3)
        #expect(warned.allSatisfy { $0.dueAt == start.addingTimeInterval(3.5 * hour) })
    }

    @Test func aTargetShortenedIntoThePastIsAnnouncedAtOnce() async throws {
        try await openTickets()
        var seen = try await outboxEvents(store).count
        clock.set(start.addingTimeInterval(12 * 60))
        try setGoldP1(response: "10m", resolution: "4h")
        try await replanner.replanAll()
        let breaches = try responseBreaches(try await run(to: 12 * 60, since: &seen))
        #expect(breaches.count == 3)
        #expect(breaches.allSatisfy { $0.dueAt == start.addingTimeInterval(10 * 60) })
    }
}
