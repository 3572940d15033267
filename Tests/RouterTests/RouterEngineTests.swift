import Foundation
import GRDB
import ITRConfig
import ServiceKit
import Testing
@testable import RouterApp

/// The IO layer without a broker: handler + store + outbox + scheduler on a temporary SQLite file.
@Suite("Router engine on SQLite")
struct RouterEngineTests {
    let store: ServiceStore
    let rules: RulesHolder
    let clock: ManualClock
    let handler: RouterHandler
    let scheduler: DueScheduler
    let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60)

    init() throws {
        store = try makeRouterStore()
        rules = RulesHolder(try shippedRules(), directory: configDirectory)
        clock = ManualClock(start)
        scheduler = DueScheduler(store: .sqlite(store), rules: rules, clock: clock, relay: nil)
        handler = RouterHandler(store: .sqlite(store), rules: rules, clock: clock, scheduler: scheduler)
    }

    func ticket(_ id: String) async throws -> TicketView {
        let rules = self.rules.current
        let now = clock.now()
        return try #require(try await store.pool.read { try TicketView.load($0, id: id, rules: rules, now: now) })
    }

    func act(_ ticketId: String, _ kind: TicketActionKind, configure: (inout ITREvents.TicketAction) -> Void = { _ in })
        async throws -> Disposition
    {
        var action = ITREvents.TicketAction(ticketId: ticketId, action: kind, actor: engineer)
        configure(&action)
        return try await handler.handle([inbound(try actionEvent(action), routingKey: "ticket.\(kind.rawValue)")])[0]
    }

    @Test func openedTicketIsClassifiedAssignedAndTraced() async throws {
        let event = try openedEvent(
            ticketId: "T-1", account: "ACC-1003", summary: "核心路由器宕机，全网业务中断", component: "LPU", severity: .critical, openedAt: start)
        let result = try await handler.handle([inbound(event)])
        #expect(result == [.processed])
        let events = try await outboxEvents(store)
        let classified = try #require(events.ofType(.ticketClassified).first)
        let data = try classified.decodeData(TicketClassified.self)
        #expect(data.priority == .p1)
        // No explicit signal: the model decides (an outage of a core router is an incident).
        #expect(data.serviceType == .softwareFault || data.serviceType == .hardwareFault)
        #expect(data.ruleId == "st.model" && data.decidedBy == .model)
        #expect(data.model?.version == rules.current.modelVersion && data.model?.runnerUp != nil)
        #expect(data.contractPackage == "gold")
        #expect(data.rulesVersion == rules.current.version)
        #expect(classified.causationID == event.id)
        #expect(classified.correlationID == "T-1")
        #expect(classified.traceparent == event.traceparent)
        let assigned = try #require(events.ofType(.ticketAssigned).first).decodeData(TicketAssigned.self)
        #expect(assigned.tier == .l1 && assigned.group == "service-desk-cn")
        #expect(assigned.olaDueAt == start.addingTimeInterval(15 * 60))
        // A P1 incident opens a problem on its own (major incident).
        #expect(events.ofType(.problemOpened).count == 1)

        let view = try await ticket("T-1")
        #expect(view.state == "assigned" && view.tier == "L1")
        #expect(view.clocks.response.target == 15 * 60 && view.clocks.resolution.target == 4 * 3_600)
        let rulesUsed = Set(view.history.compactMap(\.ruleId))
        #expect(rulesUsed.isSuperset(of: ["contract.C-2025-003", "impact.widespread", "urgency.outage", "st.model", "assign.default", "problem.major-incident"]))
        #expect(view.history.allSatisfy { $0.ruleId == nil || $0.rulesVersion != nil })
        #expect(view.due.contains { if case .responseBreach = $0.kind { true } else { false } })

        // The same event again: duplicate, no second effect.
        #expect(try await handler.handle([inbound(event, redelivered: true)]) == [.duplicate])
        #expect(try await outboxEvents(store).count == events.count)
    }

    @Test func wholeLifeThroughActions() async throws {
        _ = try await handler.handle([inbound(try openedEvent(ticketId: "T-2", summary: "如何配置 VLAN", openedAt: start))])
        #expect(try await act("T-2", .acknowledge) == .processed)
        #expect(try await act("T-2", .pause) { $0.pauseReason = .waitingCustomer } == .processed)
        clock.advance(by: 3_600)
        #expect(try await ticket("T-2").clocks.resolution.isPaused)
        #expect(try await act("T-2", .resume) == .processed)
        #expect(try await act("T-2", .resolve) {
            $0.resolution = .init(resolutionCode: "CUST-MISUSE", rootCause: "配置错误", workaround: "按手册重新配置")
        } == .processed)
        #expect(try await act("T-2", .confirm) { $0.actor = customer } == .processed)
        let view = try await ticket("T-2")
        #expect(view.state == "closed")
        // One hour waiting for the customer does not count.
        #expect(view.clocks.resolution.elapsed == 0)
        let events = try await outboxEvents(store)
        let resolved = try #require(events.ofType(.ticketResolved).first).decodeData(TicketResolved.self)
        #expect(resolved.qualityResponsibility == .customer)
        #expect(try #require(events.ofType(.ticketClosed).first).decodeData(TicketClosed.self).reason == .confirmed)
        #expect(view.history.contains { $0.kind == "quality-responsibility" && $0.ruleId == "CUST-MISUSE" })
    }

    @Test func aQualityResponsibilityTheResolverStatesIsHonouredAndItsRuleRecorded() async throws {
        for (id, stated) in [("Q-1", QualityResponsibility?.some(.productSoftware)), ("Q-2", nil)] {
            _ = try await handler.handle([inbound(try openedEvent(ticketId: id, summary: "如何配置 VLAN", openedAt: start))])
            #expect(try await act(id, .resolve) {
                $0.resolution = .init(
                    resolutionCode: "CUST-MISUSE", rootCause: "配置错误，但手册有误", qualityResponsibility: stated)
            } == .processed)
        }
        let events = try await outboxEvents(store).ofType(.ticketResolved)
        let byTicket = Dictionary(uniqueKeysWithValues: try events.map {
            let resolved = try $0.decodeData(TicketResolved.self)
            return (resolved.ticketId, resolved.qualityResponsibility)
        })
        #expect(byTicket == ["Q-1": .productSoftware, "Q-2": .customer])
        let stated = try await ticket("Q-1").history.first { $0.kind == "quality-responsibility" }
        #expect(stated?.ruleId == "action.resolve.quality-responsibility")
        #expect(stated?.detail?.contains("stated by the resolver") == true && stated?.detail?.contains("customer") == true)
        #expect(try await ticket("Q-2").history.first { $0.kind == "quality-responsibility" }?.ruleId == "CUST-MISUSE")
        let stored = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT quality_responsibility FROM tickets WHERE id IN ('Q-1', 'Q-2') ORDER BY id")
        }
        #expect(stored == ["product-software", "customer"])
    }

    @Test func reprioritiseRegradesRecordsAndReplansTheClocks() async throws {
        _ = try await handler.handle([inbound(try openedEvent(ticketId: "R-1", summary: "如何配置 VLAN", openedAt: start))])
        let before = try await ticket("R-1")
        let previousTarget = before.clocks.resolution.target
        #expect(try await act("R-1", .reprioritise) {
            $0.impact = .extensive
            $0.urgency = .critical
            $0.reason = "全网业务受影响，客户升级"
        } == .processed)
        let after = try await ticket("R-1")
        #expect(after.priority == .p1 && before.priority != .p1)
        #expect(after.clocks.resolution.target < previousTarget, "a P1 target is shorter: the clocks follow the new priority")
        let line = try #require(after.history.last { $0.kind == "classified" })
        #expect(line.ruleId == "action.reprioritise" && line.detail?.contains("全网业务受影响") == true)
        #expect(after.history.contains { $0.kind == "impact" && $0.ruleId == "action.reprioritise" && $0.detail == "impact 1" })
        let classified = try #require(try await outboxEvents(store).ofType(.ticketClassified).last).decodeData(TicketClassified.self)
        #expect(classified.priority == .p1 && classified.impact == .extensive && classified.urgency == .critical)
        #expect(classified.decidedBy == .desk && classified.ruleId == "action.reprioritise" && classified.actor?.id == "service-desk-tools")
        #expect(classified.previousServiceType == classified.serviceType && classified.validate().isEmpty)
        let stored = try await store.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT impact, urgency, priority FROM tickets WHERE id = 'R-1'")
        }
        #expect(stored?[0] == 1 && stored?[1] == 1 && stored?[2] == "P1")

        // The same grading again, no reason, nothing named: refused, each with its reason.
        #expect(try await act("R-1", .reprioritise) { $0.impact = .extensive; $0.reason = "again" }
            == .invalid(reasonCode: "same-grading", message: "the ticket already has impact extensive and urgency critical"))
        for (configure, field) in [
            ({ (a: inout ITREvents.TicketAction) in a.urgency = .low }, "data.reason"),
            ({ (a: inout ITREvents.TicketAction) in a.reason = "nothing named" }, "data.impact"),
        ] {
            let refused = try await act("R-1", .reprioritise, configure: configure)
            guard case .invalid("invalid-action", let message) = refused else {
                Issue.record("expected invalid-action, got \(refused)")
                continue
            }
            #expect(message.contains(field))
        }
        #expect(try await ticket("R-1").priority == .p1)
    }

    @Test func forbiddenActionIsRefusedWithReasonAndEvent() async throws {
        _ = try await handler.handle([inbound(try openedEvent(ticketId: "T-3", summary: "如何配置 VLAN", openedAt: start))])
        let refused = try await act("T-3", .confirm)
        #expect(refused == .invalid(reasonCode: "not-resolved", message: "only a resolved ticket can be confirmed"))
        let rejected = try #require(try await outboxEvents(store).ofType(.ticketActionRejected).first)
        let data = try rejected.decodeData(TicketActionRejected.self)
        #expect(data.reasonCode == "not-resolved" && data.action == "confirm")
        #expect(try await act("T-3", .resolve) { $0.resolution = .init(resolutionCode: "NO-SUCH-CODE") }
            == .invalid(reasonCode: "unknown-resolution-code", message: "resolution code \"NO-SUCH-CODE\" is not in quality.yaml"))
        #expect(try await act("T-404", .acknowledge, configure: { _ in }) == .retry)  // may race its opening
        #expect(try await ticket("T-3").state == "assigned")
    }

    @Test func chineseAndEnglishReportsOfOneFaultOpenOneProblem() async throws {
        let threshold = rules.current.detector.rules.recurrenceThreshold
        #expect(threshold == 3)  // problems.yaml: recurrence.threshold
        // 3 Chinese and 2 English reports of one power-module fault, interleaved: they share no
        // word, only the synonyms of problems.yaml make them one fingerprint.
        let summaries = [
            "电源模块故障", "Power supply module failure", "电源模块2故障！", "POWER SUPPLY MODULE FAILURE (2)",
            "电源模块故障了",
        ]
        var batch: [InboundMessage] = []
        for (index, summary) in summaries.enumerated() {
            batch.append(inbound(try openedEvent(
                ticketId: "PSU-\(index + 1)", account: "ACC-1007", summary: summary,
                line: "switches", model: "CE6881", version: "V200R022", component: "PSU",
                openedAt: start.addingTimeInterval(Double(index + 1) * 60))))
        }
        #expect(try await handler.handle(batch) == Array(repeating: .processed, count: 5))
        let opened = try await outboxEvents(store).ofType(.problemOpened)
        #expect(opened.count == 1)
        let problem = try #require(opened.first).decodeData(ProblemOpened.self)
        #expect(problem.trigger == .recurring)
        #expect(problem.ticketIds == ["PSU-1", "PSU-2", "PSU-3"])
        for index in 1...5 { #expect(try await ticket("PSU-\(index)").problem?.id == problem.problemId) }
        // Unrelated symptoms on the same product stay out of it.
        let fan = try openedEvent(
            ticketId: "FAN-1", account: "ACC-1007", summary: "风扇故障", line: "switches", model: "CE6881",
            version: "V200R022", component: "PSU", openedAt: start.addingTimeInterval(6 * 60 - 120))
        let fanResult = try await handler.handle([inbound(fan)])
        #expect(fanResult == [.processed], "\(fanResult)")
        #expect(try await ticket("FAN-1").problem == nil)
    }

    @Test func fiveMatchingIncidentsOpenOneProblemAndAFixClosesTheLoop() async throws {
        var batch: [InboundMessage] = []
        for index in 1...5 {
            batch.append(inbound(try openedEvent(
                ticketId: "I-\(index)", account: "ACC-1007", summary: "OS5000 控制器异常重启 after upgrade, core dump \(index)",
                line: "storage", model: "OS5000", version: "6.1.5", component: "controller",
                openedAt: start.addingTimeInterval(Double(index) * 60))))
        }
        #expect(try await handler.handle(batch) == Array(repeating: .processed, count: 5))
        var events = try await outboxEvents(store)
        let opened = events.ofType(.problemOpened)
        #expect(opened.count == 1)
        let problem = try #require(opened.first).decodeData(ProblemOpened.self)
        #expect(problem.ticketIds == ["I-1", "I-2", "I-3"])
        #expect(problem.trigger == .recurring)
        for index in 1...5 { #expect(try await ticket("I-\(index)").problem?.id == problem.problemId) }
        #expect(try await ticket("I-4").history.contains { $0.kind == "problem-linked" && $0.ruleId == "problem.join-open" })

        // Resolving one incident with root cause + workaround makes the problem a known error.
        _ = try await act("I-1", .resolve) {
            $0.resolution = .init(resolutionCode: "SW-DEFECT", rootCause: "控制器固件缺陷", workaround: "回退到 6.1.4")
        }
        events = try await outboxEvents(store)
        let known = try #require(events.ofType(.problemKnownError).first).decodeData(ProblemKnownError.self)
        #expect(known.problemId == problem.problemId && known.workaround == "回退到 6.1.4")

        // R&D ships the fix.
        let fix = DefectFixed(
            defectId: "DEF-9", fingerprint: "f", productLine: "storage", symptomSignature: "controller reboot",
            impact: DefectImpact(customers: 1, incidents: 5, highestPriority: .p3, slaBreaches: 0, packages: ["silver"],
                                 firstSeen: start, lastSeen: start, score: 1),
            problemIds: [problem.problemId], status: .fixReleased, fixVersion: "6.1.8")
        let fixEvent = try CloudEvent(source: "//itr/ipd-feedback", payload: fix)
        #expect(try await handler.handle([inbound(fixEvent)]) == [.processed])
        events = try await outboxEvents(store)
        let resolvedProblem = try #require(events.ofType(.problemResolved).first).decodeData(ProblemResolved.self)
        #expect(resolvedProblem.fixVersion == "6.1.8" && resolvedProblem.ticketIds.count == 5)
        #expect(events.ofType(.problemResolved).first?.correlationID == problem.problemId)
        for index in 2...5 { #expect(try await ticket("I-\(index)").state == "resolved") }
        #expect(events.ofType(.ticketResolved).count == 5)
        #expect(try await ticket("I-1").history.contains { $0.kind == "fix-released" && $0.detail?.contains("6.1.8") == true })
    }

    @Test func slaBreachAndEscalationsFireAtTheirMoments() async throws {
        _ = try await handler.handle([inbound(try openedEvent(
            ticketId: "T-9", summary: "核心路由器宕机，全网业务中断", severity: .critical, openedAt: start))])
        // 16 minutes: response target (15 m) and L1's OLA (15 m) missed → escalate to L2.
        clock.advance(by: 16 * 60)
        try await scheduler.fireDue(now: clock.now())
        var events = try await outboxEvents(store)
        let breach = try #require(events.ofType(.slaBreached).first).decodeData(SLABreached.self)
        #expect(breach.clock == .response && breach.dueAt == start.addingTimeInterval(15 * 60))
        #expect(events.ofType(.olaBreached).count == 1)
        let functional = try #require(events.ofType(.ticketEscalated).first).decodeData(TicketEscalated.self)
        #expect(functional.kind == .functional && functional.fromTier == .l1 && functional.toTier == .l2)
        #expect(try await ticket("T-9").tier == "L2")
        // 3 h 1 m: L2's OLA (1 h) → L3, hierarchical 50 and 75 %, the SLA warning (75 %).
        clock.set(start.addingTimeInterval(3 * 3_600 + 60))
        while try await scheduler.fireDue(now: clock.now()) > 0 {}
        #expect(try await outboxEvents(store).ofType(.slaWarning).count == 1)
        // 4 h 1 m: hierarchical 90 and 100 %, the resolution breach.
        clock.set(start.addingTimeInterval(4 * 3_600 + 60))
        while try await scheduler.fireDue(now: clock.now()) > 0 {}
        events = try await outboxEvents(store)
        let escalations = try events.ofType(.ticketEscalated).map { try $0.decodeData(TicketEscalated.self) }
        #expect(escalations.filter { $0.kind == .functional }.map(\.toTier) == [.l2, .l3])
        // Each tier has its own group (assignment.yaml tiers[].group): the desk's ticket moves on.
        #expect(escalations.filter { $0.kind == .functional }.map(\.group) == ["product-support", "rd-experts"])
        #expect(escalations.filter { $0.kind == .hierarchical }.map(\.step) == [1, 2, 3, 4])
        #expect(escalations.filter { $0.kind == .hierarchical }.last?.notifyRoles == ["customer-service-director", "account-manager"])
        #expect(events.ofType(.slaWarning).count == 1)
        let slaBreaches = try events.ofType(.slaBreached).map { try $0.decodeData(SLABreached.self) }
        #expect(slaBreaches.map(\.clock) == [.response, .resolution], "\(slaBreaches)")
        // Nothing fires twice.
        #expect(try await scheduler.fireDue(now: clock.now()) == 0)
        #expect(events.allSatisfy { $0.correlationID != nil && $0.causationID != nil })
    }

    @Test func scheduledSleepWakesOnTheInjectedClock() async throws {
        let task = Task { try await scheduler.run() }
        _ = try await handler.handle([inbound(try openedEvent(ticketId: "T-10", summary: "如何配置 VLAN", openedAt: start))])
        // Gold P5: response 8 h.
        for _ in 0..<200 where clock.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        clock.advance(by: 8 * 3_600 + 1)
        var found = false
        for _ in 0..<400 where !found {
            found = try await outboxEvents(store).ofType(.slaBreached).count == 1
            if !found { try await Task.sleep(for: .milliseconds(5)) }
        }
        task.cancel()
        #expect(found)
    }

    @Test func serviceLevelsAreComputedFromStoredTickets() async throws {
        _ = try await handler.handle([
            inbound(try openedEvent(ticketId: "S-1", summary: "如何配置 VLAN", openedAt: start)),
            inbound(try openedEvent(ticketId: "S-2", account: "ACC-1009", summary: "如何配置 VLAN", line: "storage", openedAt: start)),
        ])
        clock.advance(by: 600)
        _ = try await act("S-1", .acknowledge)
        _ = try await act("S-1", .resolve) { $0.resolution = .init(resolutionCode: "NFF") }
        let report = try await store.pool.read { try ServiceLevelReport.compute($0, groupBy: [.contractPackage]) }
        let gold = try #require(report.groups.first { $0.key["contractPackage"] == "gold" })
        #expect(gold.tickets == 1 && gold.backlog == 0 && gold.resolved == 1)
        #expect(gold.slaResponseAttainment == 1.0)
        #expect(gold.responseTimeSeconds.p50 == 600)
        #expect(gold.firstContactResolution == 1.0)
        #expect(gold.mttrSeconds == 600)
        let silver = try #require(report.groups.first { $0.key["contractPackage"] == "silver" })
        #expect(silver.backlog == 1 && silver.slaResponseAttainment == nil)
        #expect(report.ola.contains { $0.tier == "L1" && $0.onTime == 1 })
        let byPeriod = try await store.pool.read { try ServiceLevelReport.compute($0, groupBy: [.period, .priority], period: "day") }
        #expect(byPeriod.groups.reduce(0) { $0 + $1.tickets } == 2)
    }

    @Test func invalidReloadKeepsTheLastGoodRules() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("router-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ConfigBundle.coreFiles + ["models"] {
            try FileManager.default.copyItem(
                atPath: configDirectory + "/" + name, toPath: directory.appendingPathComponent(name).path)
        }
        let holder = RulesHolder(try RouterRules.load(directory: directory.path), directory: directory.path)
        let good = holder.current.version
        let goodModel = try #require(holder.current.modelVersion)

        // A damaged model is refused like a damaged rule file: the last good rules and model stay.
        let modelPath = directory.appendingPathComponent("models/service-type.itrm")
        let modelBytes = try Data(contentsOf: modelPath)
        try modelBytes.prefix(modelBytes.count / 2).write(to: modelPath)
        guard case .failure(let modelErrors) = holder.reload() else {
            Issue.record("a truncated model must fail the reload")
            return
        }
        #expect(modelErrors.description.contains("service-type.itrm"))
        #expect(modelErrors.description.contains("corrupt or truncated"))
        #expect(holder.current.modelVersion == goodModel)
        try modelBytes.write(to: modelPath)
        try "uncontractedPackage: platinum\n".write(
            to: directory.appendingPathComponent("lifecycle.yaml"), atomically: true, encoding: .utf8)
        guard case .failure(let errors) = holder.reload() else {
            Issue.record("an invalid reload must fail")
            return
        }
        #expect(errors.description.contains("lifecycle.yaml"))
        #expect(holder.current.version == good)
    }

    /// 4,000 incidents in batches of 250, each through classification and problem detection,
    /// are all stored and processed. (Whether the per-event cost stays flat as tickets
    /// accumulate is measured by the router-scale benchmark, `deploy/scripts/bench.sh`, not by a
    /// timed test.)
    @Test func manyBatchesOfIncidentsAreAllProcessed() async throws {
        for batchIndex in 0..<16 {
            let batch = try (0..<250).map { index in
                let n = batchIndex * 250 + index
                return inbound(try openedEvent(
                    ticketId: "P-\(n)", summary: "设备板卡故障 board failure", line: "routers",
                    model: "RX\(n)", component: "slot-\(n % 13)", openedAt: start))
            }
            let dispositions = try await handler.handle(batch)
            #expect(dispositions.count == 250)
            #expect(dispositions.allSatisfy { if case .processed = $0 { true } else { false } })
        }
        let stored = try await store.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM tickets WHERE id LIKE 'P-%'") ?? 0 }
        #expect(stored == 4000)
    }
}
