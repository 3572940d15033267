import Foundation
import GRDB
import ITRConfig
import ServiceKit
import Testing
@testable import RouterApp

/// The desk's `reclassify`, and tickets the model sends to triage, on SQLite (no broker).
@Suite("Reclassify and triage")
struct ReclassifyTests {
    let store: ServiceStore
    let rules: RulesHolder
    let clock: ManualClock
    let handler: RouterHandler
    let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60)

    init() throws {
        store = try makeRouterStore()
        rules = RulesHolder(try shippedRules(), directory: configDirectory)
        clock = ManualClock(start)
        let scheduler = DueScheduler(store: .sqlite(store), rules: rules, clock: clock, relay: nil)
        handler = RouterHandler(store: .sqlite(store), rules: rules, clock: clock, scheduler: scheduler)
    }

    func ticket(_ id: String) async throws -> TicketView {
        let rules = self.rules.current
        let now = clock.now()
        return try #require(try await store.pool.read { try TicketView.load($0, id: id, rules: rules, now: now) })
    }

    func reclassify(_ id: String, to type: ServiceType?, reason: String? = "wrong type") async throws -> Disposition {
        var action = ITREvents.TicketAction(ticketId: id, action: .reclassify, actor: engineer, reason: reason, serviceType: type)
        action.serviceType = type
        return try await handler.handle([inbound(try actionEvent(action), routingKey: "ticket.reclassify")])[0]
    }

    @Test func reclassifyRegradesReplansReassignsAndIsAnnounced() async throws {
        // A how-to question: software-operation, impact 4 (requests) → P5, service desk L1.
        let opened = try openedEvent(ticketId: "R-1", summary: "如何配置VLAN，交换机上新建业务网段", openedAt: start)
        #expect(try await handler.handle([inbound(opened)]) == [.processed])
        let before = try await ticket("R-1")
        #expect(before.serviceType == .softwareOperation && before.classifiedBy == "model")
        #expect(before.priority == .p5)
        let beforeDue = try #require(before.clocks.resolution.dueAt)
        let eventsBefore = try await outboxEvents(store).count

        clock.advance(by: 300)
        #expect(try await reclassify("R-1", to: .softwareFault, reason: "it is a bug: VLAN config is lost after reload") == .processed)
        let after = try await ticket("R-1")
        #expect(after.serviceType == .softwareFault)
        #expect(after.classifiedBy == "desk" && after.modelVersion == nil && !after.needsTriage)
        // Re-graded: no longer a request (impact 3, urgency 3 → P4): a shorter resolution target.
        #expect(after.priority == .p4)
        let afterDue = try #require(after.clocks.resolution.dueAt)
        #expect(afterDue < beforeDue)
        // The history says who, why, from what to what, with the rule ids of the re-grading.
        let line = try #require(after.history.last { $0.kind == "classified" })
        #expect(line.ruleId == "action.reclassify")
        #expect(line.detail?.contains("software-operation → software-fault") == true)
        #expect(line.detail?.contains("VLAN config is lost") == true)
        #expect(line.detail?.contains("service-desk-tools") == true, "the desk identity of itr-desk (access.yaml), not the body's eng-7")
        #expect(after.history.contains { $0.kind == "impact" && $0.ruleId == "impact.default" && $0.at > start })

        // Announced: itr.ticket.classified by the desk, with the previous type and reason.
        let events = try await outboxEvents(store)
        let classified = try #require(events.ofType(.ticketClassified).last).decodeData(TicketClassified.self)
        #expect(classified.decidedBy == .desk && classified.previousServiceType == .softwareOperation)
        #expect(classified.serviceType == .softwareFault && classified.priority == .p4)
        #expect(classified.reason == "it is a bug: VLAN config is lost after reload" && classified.actor?.id == "service-desk-tools")
        #expect(classified.ruleId == "action.reclassify" && classified.model == nil)
        #expect(events.count > eventsBefore)

        // Kept as a labelled example.
        let corrections = try await store.pool.read { try TicketRepository.corrections($0) }
        #expect(corrections.count == 1)
        let correction = try #require(corrections.first)
        #expect(correction.ticketId == "R-1" && correction.fromType == .softwareOperation && correction.toType == .softwareFault)
        #expect(correction.decidedBy == .model && correction.modelVersion == rules.current.modelVersion)
        #expect(correction.title == "如何配置VLAN，交换机上新建业务网段" && correction.actor == "service-desk-tools")
        let example = correction.example
        #expect(example.label == "software-fault" && example.family == "desk-correction" && example.lang == "zh")
        #expect(correction.jsonLine.contains("\"serviceType\":\"software-fault\""))
    }

    @Test func reclassifyMovesTheTicketToTheNewTypesGroup() async throws {
        let opened = try openedEvent(ticketId: "R-2", summary: "How do I export the monthly alarm report?", openedAt: start)
        _ = try await handler.handle([inbound(opened)])
        #expect(try await ticket("R-2").group == "service-desk-cn")
        clock.advance(by: 60)
        #expect(try await reclassify("R-2", to: .complaint, reason: "the customer complains about the third unanswered request") == .processed)
        let after = try await ticket("R-2")
        #expect(after.group == "customer-relations" && after.tier == "L1")
        // A new OLA stint for the new group.
        #expect(after.clocks.ola.count == 2 && after.clocks.ola.last?.isCurrent == true)
        let assigned = try #require(try await outboxEvents(store).ofType(.ticketAssigned).last).decodeData(TicketAssigned.self)
        #expect(assigned.group == "customer-relations" && assigned.reason?.contains("after reclassification") == true)
    }

    @Test func refusals() async throws {
        _ = try await handler.handle([inbound(try openedEvent(ticketId: "R-3", summary: "如何配置 NTP", openedAt: start))])
        let current = try await ticket("R-3").serviceType
        // The same type (not waiting for triage): refused, nothing written.
        guard case .invalid(let same, _) = try await reclassify("R-3", to: current) else {
            Issue.record("reclassify to the same type must be refused")
            return
        }
        #expect(same == "same-service-type")
        // Invalid actions are refused by validation (the reason names the field).
        guard case .invalid(_, let noType) = try await reclassify("R-3", to: nil) else {
            Issue.record("reclassify without a type must be rejected")
            return
        }
        #expect(noType.contains("data.serviceType"))
        guard case .invalid(_, let noReason) = try await reclassify("R-3", to: .softwareFault, reason: "  ") else {
            Issue.record("reclassify without a reason must be rejected")
            return
        }
        #expect(noReason.contains("data.reason"))
        #expect(try await store.pool.read { try TicketRepository.corrections($0) }.isEmpty)
        // A closed ticket cannot be reclassified.
        var cancel = ITREvents.TicketAction(ticketId: "R-3", action: .cancel, actor: engineer, reason: "duplicate")
        cancel.reason = "duplicate"
        _ = try await handler.handle([inbound(try actionEvent(cancel))])
        guard case .invalid(let code, _) = try await reclassify("R-3", to: .softwareFault) else {
            Issue.record("a cancelled ticket must refuse reclassify")
            return
        }
        #expect(code == "ticket-cancelled")
    }

    @Test func unsureModelSendsToTriageAndTheDeskConfirms() async throws {
        // A threshold no prediction reaches: every model decision waits for triage.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("triage-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: configDirectory, toPath: directory.path)
        let path = directory.appendingPathComponent("classification.yaml")
        let text = try String(contentsOf: path, encoding: .utf8).replacingOccurrences(of: "minConfidence: 0.45", with: "minConfidence: 0.9999")
        try text.write(to: path, atomically: true, encoding: .utf8)
        let strict = RulesHolder(try RouterRules.load(directory: directory.path), directory: directory.path)
        let scheduler = DueScheduler(store: .sqlite(store), rules: strict, clock: clock, relay: nil)
        let handler = RouterHandler(store: .sqlite(store), rules: strict, clock: clock, scheduler: scheduler)

        _ = try await handler.handle([inbound(try openedEvent(ticketId: "R-4", summary: "设备有点问题", openedAt: start))])
        func load() async throws -> TicketView {
            let rules = strict.current
            let now = clock.now()
            let view = try await store.pool.read { db in try TicketView.load(db, id: "R-4", rules: rules, now: now) }
            return try #require(view)
        }
        let waiting = try await load()
        #expect(waiting.needsTriage && waiting.group == "service-desk-triage" && waiting.classifiedBy == "model")
        #expect(waiting.history.contains { $0.kind == "needs-triage" && $0.ruleId == "st.model" })
        let classified = try #require(try await outboxEvents(store).ofType(.ticketClassified).last).decodeData(TicketClassified.self)
        #expect(classified.needsTriage == true && classified.decidedBy == .model)
        let assigned = try #require(try await outboxEvents(store).ofType(.ticketAssigned).last).decodeData(TicketAssigned.self)
        #expect(assigned.group == "service-desk-triage")

        // Confirming the model's guess (same type) is accepted while waiting: it leaves triage.
        var confirm = ITREvents.TicketAction(
            ticketId: "R-4", action: .reclassify, actor: engineer, reason: "checked with the customer", serviceType: waiting.serviceType)
        confirm.serviceType = waiting.serviceType
        #expect(try await handler.handle([inbound(try actionEvent(confirm))]) == [.processed])
        let confirmed = try await load()
        #expect(!confirmed.needsTriage && confirmed.group != "service-desk-triage")
    }
}
