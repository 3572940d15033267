import Foundation
import GRDB
import ITRConfig
import ITREvents
import ServiceKit
import Testing
@testable import RouterApp

/// Item 2 of issue 15 in the router's handler: an AMQP ticket action is applied only when its
/// `user_id` (checked by RabbitMQ against the connection's user) is a broker user access.yaml
/// maps to a desk identity; the actor recorded is that identity; anything else is refused with
/// its reason (kept in the dlq by the consumer), announced, and refused again on redelivery.
@Suite("Router: AMQP actions need a mapped broker user")
struct BrokerActorTests {
    let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60)

    /// A handler with the shipped rules, `access` replacing access.yaml when given.
    func harness(access: String? = nil) throws -> (ServiceStore, RouterHandler) {
        var directory = configDirectory
        if let access {
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("router-access-\(UUID().uuidString)")
            try FileManager.default.copyItem(atPath: configDirectory, toPath: copy.path)
            try access.write(to: copy.appendingPathComponent("access.yaml"), atomically: true, encoding: .utf8)
            directory = copy.path
        }
        let store = try makeRouterStore()
        let rules = RulesHolder(try loadRules(directory: directory), directory: directory)
        return (store, RouterHandler(store: .sqlite(store), rules: rules, clock: ManualClock(start), scheduler: nil))
    }

    func note(_ ticket: String, id: String, actor: Actor = engineer) throws -> CloudEvent {
        try actionEvent(ITREvents.TicketAction(ticketId: ticket, action: .note, actor: actor, note: "备注"), id: id)
    }

    @Test func withoutAMappedUserTheActionIsRefusedWithItsReasonAndAgainOnRedelivery() async throws {
        let (store, handler) = try harness()
        #expect(try await handler.handle([inbound(try openedEvent(ticketId: "T-BA1", summary: "光模块告警", openedAt: start))]) == [.processed])
        for (user, expected) in [(nil, "needs the user_id"), ("guest", "broker user guest is not a desk actor"), ("ltc-extractor", "ltc-extractor")] as [(String?, String)] {
            let event = try note("T-BA1", id: "ba-\(user ?? "none")")
            let first = try await handler.handle([inbound(event, userID: user)])
            guard case .invalid("unauthorized-actor", let message)? = first.first else {
                Issue.record("expected unauthorized-actor for \(user ?? "no user_id"), got \(first)")
                continue
            }
            #expect(message.contains(expected), "\(message)")
            // Redelivered: the same refusal, no second announcement.
            #expect(try await handler.handle([inbound(event, redelivered: true, userID: user)]) == first)
        }
        let events = try await outboxEvents(store)
        #expect(events.ofType(.ticketActionRejected).count == 3)
        #expect(events.ofType(.ticketUpdated).isEmpty, "a refused action changed the ticket")
    }

    @Test func theMappedIdentityIsTheActorNeverTheBodys() async throws {
        let (store, handler) = try harness()
        #expect(try await handler.handle([inbound(try openedEvent(ticketId: "T-BA2", summary: "电源故障", openedAt: start))]) == [.processed])
        let claimed = Actor(id: "someone-else", name: "冒名", role: "manager")
        #expect(try await handler.handle([inbound(try note("T-BA2", id: "ba-desk", actor: claimed))]) == [.processed])
        let history = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT COALESCE(fact, '') || ' ' || COALESCE(detail, '') FROM ticket_history WHERE ticket_id = ?", arguments: ["T-BA2"]).joined(separator: "\n")
        }
        #expect(history.contains("service-desk-tools"), "\(history)")
        #expect(!history.contains("someone-else") && !history.contains("冒名"), "\(history)")
    }

    @Test func anEntryMayAllowSomeActionKindsOnly() async throws {
        let (_, handler) = try harness(access: "brokerActors:\n  - user: itr-portal\n    actor: customer-portal\n    actions: [confirm, reopen]\n")
        #expect(try await handler.handle([inbound(try openedEvent(ticketId: "T-BA3", summary: "链路中断", openedAt: start))]) == [.processed])
        let refused = try await handler.handle([inbound(try note("T-BA3", id: "ba-portal-note"), userID: "itr-portal")])
        guard case .invalid("action-not-allowed", let message)? = refused.first else {
            Issue.record("expected action-not-allowed, got \(refused)")
            return
        }
        #expect(message.contains("itr-portal") && message.contains("note"))
        // itr-desk is not in this access.yaml: refused too.
        guard case .invalid("unauthorized-actor", _)? = try await handler.handle([inbound(try note("T-BA3", id: "ba-desk-2"))]).first else {
            Issue.record("itr-desk accepted without an entry")
            return
        }
    }
}
