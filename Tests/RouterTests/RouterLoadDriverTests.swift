import AMQPClient
import Foundation
import ITREvents
import ServiceKit
import Testing
@testable import RouterApp

/// A load driver for profiling, not a timing test: feeds `ITR_ROUTER_DRIVER_EVENTS` (default 120)
/// `itr.ticket.opened` events of a realistic mix (zh/en, faults recurring by fingerprint, alarms,
/// how-to questions, several accounts and packages) through `RouterHandler` in consumer-sized
/// batches on a temporary store, and checks every one is classified and assigned.
///
/// Profile it with `perf record -g <RouterTests binary> --testing-library swift-testing --filter
/// RouterLoadDriver` on a build with `-c release -Xswiftc -enable-testing` (valgrind 3.19 cannot
/// read Swift 6.3's DWARF 5).
@Suite("Router load driver")
struct RouterLoadDriverTests {
    static let faults: [(zh: String, en: String, component: String)] = [
        ("单板故障，业务中断", "Line card board failure, traffic down", "LPU"),
        ("电源模块告警，指示灯红色", "Power supply failure, red LED", "PSU"),
        ("光模块收光异常，链路闪断", "Optical module low receive power, link flapping", "OPTICS"),
        ("设备异常重启，日志显示进程崩溃", "Unexpected reboot, process crash in logs", "MAIN"),
        ("升级失败，已回退原版本", "Upgrade failed, rolled back", "SYSTEM"),
        ("硬盘故障，阵列降级", "Disk failure, array degraded", "DISK"),
        ("如何配置链路聚合", "How to configure link aggregation", "CONFIG"),
        ("希望增加流量统计新功能", "Feature request: per-port traffic statistics", "MAIN"),
    ]
    static let covered: [(String, String, String, String)] = [
        ("ACC-1001", "routers", "RX8000", "V8R12"), ("ACC-1002", "switches", "SX6800", "V2R5"),
        ("ACC-1003", "optical", "OX9600", "V100R021"), ("ACC-1005", "switches", "SX5700", "V5R1"),
        ("ACC-1006", "storage", "OS5000", "6.1.7"), ("ACC-1009", "routers", "RX600", "V6R5"),
        ("ACC-1019", "optical", "OX9600", "V100R019"), ("ACC-2001", "routers", "RX8000", "V8R11"),
    ]

    static func event(_ index: Int, at now: Date) throws -> CloudEvent {
        let fault = faults[index % faults.count]
        let (account, line, model, version) = covered[(index / 3) % covered.count]
        let zh = index % 3 != 0
        let alarm = index % 10 == 9 ? Alarm(code: "ALM-\(1000 + index % 7)", device: "dev-\(index)", state: .raised) : nil
        return try openedEvent(
            ticketId: "L-\(index)", account: account, summary: zh ? fault.zh : fault.en,
            description: zh ? "客户反馈：\(fault.zh)，影响约 \(index % 40 + 10) 台设备。" : "Customer says: \(fault.en).",
            channel: index % 10 == 9 ? .monitoring : .portal, line: line, model: model, version: version,
            component: fault.component, alarm: alarm, severity: index % 17 == 0 ? .major : nil,
            openedAt: now.addingTimeInterval(-Double(index % 50)))
    }

    @Test func openedEventsAreAllClassifiedAndAssigned() async throws {
        let count = ProcessInfo.processInfo.environment["ITR_ROUTER_DRIVER_EVENTS"].flatMap(Int.init) ?? 120
        let store = try makeRouterStore()
        let rules = RulesHolder(try shippedRules(), directory: configDirectory)
        let now = Date()
        let clock = ManualClock(now)
        let handler = RouterHandler(store: .sqlite(store), rules: rules, clock: clock, scheduler: nil)
        let messages = try (0..<count).map { inbound(try Self.event($0, at: now)) }
        var processed = 0
        for start in stride(from: 0, to: count, by: 64) {
            let batch = Array(messages[start..<min(start + 64, count)])
            processed += try await handler.handle(batch).filter { $0 == .processed }.count
        }
        #expect(processed == count)
        let events = try await outboxEvents(store)
        #expect(events.ofType(.ticketAssigned).count == count)
        #expect(events.ofType(.ticketClassified).count == count)
        let stored = try await store.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM tickets") }
        #expect(stored == count)
    }
}
