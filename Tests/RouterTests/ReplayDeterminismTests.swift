import Foundation
import ITRConfig
import ServiceKit
import Testing
@testable import RouterApp

/// The clocks are a function of a ticket's events and the rules (issue 13): a recorded day of
/// router input replayed twice into fresh stores, once as it happened and once days later
/// (every event processed long after its own time), gives the same tickets, byte for byte:
/// state, history with every instant, SLA and OLA clocks, problems and due moments.
@Suite("Replaying a recorded day")
struct ReplayDeterminismTests {
    /// One input of the router as it was recorded: the event and its routing key.
    struct Input {
        var time: Date
        var event: CloudEvent
        var routingKey: String
    }

    struct Report {
        var summary: String
        var account: String
        var line: String
        var model: String?
        var version: String?
        var component: String?
        var severity: Severity?
    }

    static let reports = [
        Report(summary: "核心路由器宕机，全网业务中断", account: "ACC-1003", line: "routers", model: "RX8000", version: "V8R11", component: "LPU", severity: .critical),
        Report(summary: "电源模块故障", account: "ACC-1007", line: "switches", model: "CE6881", version: "V200R022", component: "PSU"),
        Report(summary: "Power supply module failure", account: "ACC-1007", line: "switches", model: "CE6881", version: "V200R022", component: "PSU"),
        Report(summary: "如何配置 VLAN", account: "ACC-1003", line: "routers", model: "RX8000", version: "V8R11"),
        Report(summary: "BGP session keeps flapping after upgrade", account: "ACC-2002", line: "routers", model: "RX8000", version: "V8R11", component: "BGP"),
        Report(summary: "发票抬头开错了，请重开", account: "ACC-1008", line: "switches"),
        Report(summary: "希望增加 400G 端口支持", account: "ACC-1001", line: "routers", model: "RX8000", version: "V8R11"),
        Report(summary: "风扇告警，温度过高", account: "ACC-2001", line: "switches", model: "CE6881", version: "V200R022", component: "FAN", severity: .major),
    ]

    /// A day of tickets and the service desk's actions on them, in time order.
    static func recordedDay(start: Date, tickets: Int, seed: UInt64) throws -> [Input] {
        var random = SeededRandom(seed: seed)
        var inputs: [Input] = []
        var sequence = 0
        func action(_ ticketId: String, _ kind: TicketActionKind, at time: Date, actor: Actor = engineer,
                    configure: (inout ITREvents.TicketAction) -> Void = { _ in }) throws {
            var action = ITREvents.TicketAction(ticketId: ticketId, action: kind, actor: actor)
            configure(&action)
            sequence += 1
            inputs.append(Input(
                time: time, event: try actionEvent(action, id: "replay-action-\(sequence)", time: time),
                routingKey: "ticket.\(kind.rawValue)"))
        }
        for index in 0..<tickets {
            let report = random.pick(reports)
            let opened = start.addingTimeInterval(TimeInterval(random.int(0...(20 * 3_600))))
            let id = "RP-\(index)"
            let event = try openedEvent(
                ticketId: id, account: report.account, summary: report.summary, line: report.line, model: report.model,
                version: report.version, component: report.component, severity: report.severity, openedAt: opened)
            inputs.append(Input(time: opened, event: event, routingKey: event.type))
            guard random.chance(0.9) else { continue }
            // Some acknowledgements come after the response target, some after the L1 OLA.
            var t = opened.addingTimeInterval(TimeInterval(random.int(60...(3 * 3_600))))
            try action(id, .acknowledge, at: t)
            if random.chance(0.15) {
                t += TimeInterval(random.int(300...3_600))
                try action(id, .pause, at: t) { $0.pauseReason = .waitingCustomer }
                t += TimeInterval(random.int(600...(5 * 3_600)))
                try action(id, .resume, at: t)
            }
            if random.chance(0.15) {
                t += TimeInterval(random.int(300...3_600))
                try action(id, .escalate, at: t) { $0.escalation = .init(kind: .functional, toTier: nil, reason: "needs L2") }
            }
            if random.chance(0.1) {
                t += TimeInterval(random.int(60...600))
                try action(id, .note, at: t) { $0.note = "已联系客户 / customer called" }
            }
            guard random.chance(0.75) else { continue }
            t += TimeInterval(random.int(1_200...(20 * 3_600)))
            let code = random.pick(["NFF", "SW-DEFECT", "CUST-MISUSE", "HW-COMPONENT", "INSTALL-CONFIG"])
            try action(id, .resolve, at: t) {
                $0.resolution = .init(resolutionCode: code, rootCause: "根因 \(code)", workaround: code == "SW-DEFECT" ? "重启进程 / restart" : nil)
            }
            t += TimeInterval(random.int(600...(10 * 3_600)))
            if random.chance(0.1) {
                try action(id, .reopen, at: t) { $0.reason = "问题复现 / it came back" }
            } else if random.chance(0.7) {
                try action(id, .confirm, at: t, actor: customer)
            }
        }
        return inputs.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
    }

    /// Replays `inputs` into a fresh store, each processed `lag` after its own time, the due
    /// moments fired in the order of the events' own times; returns every ticket as JSON at `end`.
    static func replay(_ inputs: [Input], lag: TimeInterval, end: Date) async throws -> [String: String] {
        let router = try RouterHarness(start: inputs[0].time.addingTimeInterval(lag))
        let clock = router.clock
        for input in inputs {
            clock.set(max(clock.now(), input.time.addingTimeInterval(lag)))
            try await router.fireAllDue(dueBy: input.time)
            _ = try await router.handler.handle([inbound(input.event, routingKey: input.routingKey)])
        }
        clock.set(end.addingTimeInterval(lag))
        try await router.fireAllDue(dueBy: end)

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .secondsSince1970
        let current = router.rules.current
        return try await router.store.pool.read { db in
            var tickets: [String: String] = [:]
            for id in try String.fetchAll(db, sql: "SELECT id FROM tickets ORDER BY id") {
                let view = try #require(try TicketView.load(db, id: id, rules: current, now: end))
                tickets[id] = String(decoding: try encoder.encode(view), as: UTF8.self)
            }
            return tickets
        }
    }

    @Test func aReplayDaysLaterGivesTheSameClocks() async throws {
        let start = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18, a Wednesday
        let inputs = try Self.recordedDay(start: start, tickets: 120, seed: 13)
        let end = start.addingTimeInterval(3 * 86_400)
        let asItHappened = try await Self.replay(inputs, lag: 0, end: end)
        let daysLater = try await Self.replay(inputs, lag: 2 * 86_400 + 1_234.5, end: end)

        #expect(asItHappened.count == 120)
        #expect(asItHappened.keys.sorted() == daysLater.keys.sorted())
        let different = asItHappened.keys.sorted().filter { asItHappened[$0] != daysLater[$0] }
        #expect(different.isEmpty, "tickets that differ: \(different.prefix(10))")
        if let first = different.first, let dump = ProcessInfo.processInfo.environment["ITR_REPLAY_DUMP"] {
            try? asItHappened[first]!.write(toFile: dump + ".a.json", atomically: true, encoding: .utf8)
            try? daysLater[first]!.write(toFile: dump + ".b.json", atomically: true, encoding: .utf8)
        }
        if let first = different.first {
            let a = asItHappened[first]!.split(separator: "\n"), b = daysLater[first]!.split(separator: "\n")
            let line = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
            Issue.record("\(first) first differs at line \(line): \(a[safe: line] ?? "-") vs \(b[safe: line] ?? "-")")
        }
        // The day is not trivial: clocks ran out, tiers escalated, problems opened.
        let all = asItHappened.values.joined()
        #expect(all.contains("\"sla-breached\""))
        #expect(all.contains("\"ola-breached\""))
        #expect(all.contains("\"problem-linked\""))
        #expect(all.contains("\"escalated\""))
    }
}
