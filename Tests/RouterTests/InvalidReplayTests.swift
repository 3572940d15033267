import Foundation
import GRDB
import ITRConfig
import ServiceKit
import Testing
@testable import RouterApp

/// Item 6 of issue 12: an event refused as invalid leaves no inbox claim, so a valid event with
/// the same `source` + `id` (a corrected replay) is processed, not taken for a duplicate.
@Suite("Router: invalid events leave no inbox claim")
struct RouterInvalidReplayTests {
    let store: ServiceStore
    let handler: RouterHandler
    let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60)

    init() throws {
        store = try makeRouterStore()
        let rules = RulesHolder(try shippedRules(), directory: configDirectory)
        handler = RouterHandler(store: .sqlite(store), rules: rules, clock: ManualClock(start), scheduler: nil)
    }

    func claimed(_ event: CloudEvent) async throws -> Bool {
        try await store.pool.read { try Inbox.contains($0, source: event.source, id: event.id) }
    }

    func ticketExists(_ id: String) async throws -> Bool {
        try await store.pool.read { try Bool.fetchOne($0, sql: "SELECT EXISTS (SELECT 1 FROM tickets WHERE id = ?)", arguments: [id]) ?? false }
    }

    /// `event` with data that fails validation.
    func spoiled(_ event: CloudEvent, _ data: String) -> CloudEvent {
        var bad = event
        bad.data = Data(data.utf8)
        return bad
    }

    @Test func openedTicketWithInvalidDataThenItsValidReplay() async throws {
        let good = try openedEvent(ticketId: "T-R1", summary: "光模块温度过高，业务中断", openedAt: start)
        let bad = spoiled(good, #"{"ticketId":"T-R1","summary":"缺少其他字段"}"#)
        let first = try await handler.handle([inbound(bad)])
        guard case .invalid(let code, let message)? = first.first else {
            Issue.record("expected invalid, got \(first)")
            return
        }
        #expect(code == "invalid-data" && message.contains("data."))
        #expect(try await !claimed(good))
        #expect(try await handler.handle([inbound(good)]) == [.processed])
        #expect(try await ticketExists("T-R1"))
        #expect(try await handler.handle([inbound(good, redelivered: true)]) == [.duplicate])
    }

    @Test func openedTicketWithDuplicateKeyThenItsValidReplayInOneBatch() async throws {
        let good = try openedEvent(ticketId: "T-R2", summary: "电源模块故障", openedAt: start)
        // The same id twice in the data: one reader could see T-R2, another T-EVIL.
        let text = String(decoding: good.data!, as: UTF8.self)
        let bad = spoiled(good, "{\"ticketId\":\"T-EVIL\"," + text.dropFirst())
        let result = try await handler.handle([inbound(bad), inbound(good)])
        #expect(result.count == 2)
        guard case .invalid(_, let message)? = result.first else {
            Issue.record("expected invalid, got \(result)")
            return
        }
        #expect(message.contains("duplicate-key"))
        #expect(result.last == .processed)
        #expect(try await ticketExists("T-R2"))
        #expect(try await !ticketExists("T-EVIL"))
    }

    @Test func actionWithInvalidDataThenItsValidReplay() async throws {
        #expect(try await handler.handle([inbound(try openedEvent(ticketId: "T-R3", summary: "如何配置 VLAN", openedAt: start))])
            == [.processed])
        let good = try actionEvent(ITREvents.TicketAction(ticketId: "T-R3", action: .acknowledge, actor: engineer), id: "act-1")
        let bad = spoiled(good, #"{"ticketId":"T-R3","action":"levitate","actor":{"id":"eng-7"}}"#)
        let first = try await handler.handle([inbound(bad, routingKey: "ticket.acknowledge")])
        guard case .invalid("invalid-action", let message)? = first.first else {
            Issue.record("expected invalid-action, got \(first)")
            return
        }
        #expect(message.contains("data.action"))
        #expect(try await !claimed(good))
        #expect(try await handler.handle([inbound(good, routingKey: "ticket.acknowledge")]) == [.processed])
        #expect(try await claimed(good))
        // A refused action, by contrast, took effect (itr.ticket.action-rejected): it stays
        // claimed and its redelivery is refused again, with no second event.
        let confirm = try actionEvent(ITREvents.TicketAction(ticketId: "T-R3", action: .confirm, actor: customer), id: "act-2")
        #expect(try await handler.handle([inbound(confirm)]) == [.invalid(reasonCode: "not-resolved", message: "only a resolved ticket can be confirmed")])
        #expect(try await handler.handle([inbound(confirm, redelivered: true)]) == [.invalid(reasonCode: "not-resolved", message: "only a resolved ticket can be confirmed")])
        #expect(try await outboxEvents(store).ofType(.ticketActionRejected).count == 1)
    }

    @Test func correlationForUnknownTicketThenItsReplayOnceTheTicketExists() async throws {
        let correlated = TicketCorrelated(
            ticketId: "T-R4", reportId: "rep-2", upstreamId: "up-2", alarmCode: "OPT-LOS", count: 2, firstSeenAt: start,
            lastSeenAt: start, cleared: false)
        let event = try CloudEvent(source: "//itr/intake", payload: correlated, id: "corr-1", time: start)
        #expect(try await handler.handle([inbound(event)]) == [.retry])
        #expect(try await handler.handle([inbound(event, redelivered: true)])
            == [.invalid(reasonCode: "unknown-ticket", message: "no ticket T-R4")])
        #expect(try await !claimed(event))
        _ = try await handler.handle([inbound(try openedEvent(ticketId: "T-R4", summary: "光模块告警", openedAt: start))])
        #expect(try await handler.handle([inbound(event, redelivered: true)]) == [.processed])
    }

    @Test func defectFixedWithInvalidDataThenItsValidReplay() async throws {
        let fix = DefectFixed(
            defectId: "DEF-R5", fingerprint: "f", productLine: "storage", symptomSignature: "controller reboot",
            impact: DefectImpact(customers: 1, incidents: 1, highestPriority: .p3, slaBreaches: 0, packages: ["silver"],
                                 firstSeen: start, lastSeen: start, score: 1),
            problemIds: [], status: .fixReleased, fixVersion: "6.1.8")
        let good = try CloudEvent(source: "//itr/ipd-feedback", payload: fix, id: "fix-1")
        let bad = spoiled(good, #"{"defectId":"DEF-R5","status":"fix-released","fixVersion":"6.1.8","fixVersion":"9.9.9"}"#)
        guard case .invalid("invalid-data", _)? = try await handler.handle([inbound(bad)]).first else {
            Issue.record("expected invalid-data")
            return
        }
        #expect(try await !claimed(good))
        #expect(try await handler.handle([inbound(good)]) == [.processed])
        #expect(try await claimed(good))
    }

    @Test func unexpectedTypeThenAValidEventWithTheSameID() async throws {
        let good = try openedEvent(ticketId: "T-R6", summary: "光模块温度过高", openedAt: start)
        var stray = good
        stray.type = "com.example.unrelated"
        #expect(try await handler.handle([inbound(stray)])
            == [.invalid(reasonCode: "unexpected-type", message: "itr-router does not handle com.example.unrelated")])
        #expect(try await handler.handle([inbound(good)]) == [.processed])
    }
}
