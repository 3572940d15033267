import AMQPClient
import Foundation
import ITREvents

/// The benchmark's reports: a deterministic, realistic mix over the accounts and products of
/// deploy/config, in Chinese and English, in which a share also produces opportunities and
/// defects downstream:
///
/// | share | kind | what it leads to |
/// | --- | --- | --- |
/// | 50 % | hardware / software / how-to reports from contracted accounts | ticket only |
/// | 10 % | new requirements (新的需求) | ticket + `new-requirement` opportunity |
/// | 10 % | reports from accounts whose contract expired (ACC-1019, ACC-1012 routers) | ticket + renewal / parts opportunity |
/// | 15 % | the same product fault recurring (model, version, component, symptom) | ticket + problem (≥ 3 in 7 d) → defect |
/// | 10 % | monitoring alarms, one device each (no storm folding), some capacity alarms | ticket (+ expansion) |
/// | 5 % | complaints | ticket only |
///
/// Every report opens exactly one ticket, so `itr.ticket.assigned` count = reports published.
/// Event ids are `<run>-<index>`, so an output's causation chain leads back to its index.
struct ReportMix: Sendable {
    /// Distinguishes runs against the same intake database (dedup by source + id).
    var run: String
    var source = "//bench/upstream"

    static let faults: [(zh: String, en: String, component: String)] = [
        ("单板故障，业务中断", "Line card board failure, traffic down", "LPU"),
        ("电源模块告警，指示灯红色", "Power supply failure, red LED", "PSU"),
        ("光模块收光异常，链路闪断", "Optical module low receive power, link flapping", "OPTICS"),
        ("设备异常重启，日志显示进程崩溃", "Unexpected reboot, process crash in logs", "MAIN"),
        ("升级失败，已回退原版本", "Upgrade failed, rolled back", "SYSTEM"),
        ("硬盘故障，阵列降级", "Disk failure, array degraded", "DISK"),
        ("如何配置链路聚合", "How to configure link aggregation", "CONFIG"),
    ]
    /// (account, product line, model, version) that a valid contract covers.
    static let covered: [(String, String, String, String)] = [
        ("ACC-1001", "routers", "RX8000", "V8R12"), ("ACC-1002", "switches", "SX6800", "V2R5"),
        ("ACC-1003", "optical", "OX9600", "V100R021"), ("ACC-1005", "switches", "SX5700", "V5R1"),
        ("ACC-1006", "storage", "OS5000", "6.1.7"), ("ACC-1009", "routers", "RX600", "V6R5"),
        ("ACC-1010", "storage", "OS5000", "6.1.5"), ("ACC-1015", "switches", "SX6800", "V2R3"),
        ("ACC-2001", "routers", "RX8000", "V8R11"), ("ACC-1017", "switches", "SX5700", "V5R1"),
    ]

    /// The event id of report `index`.
    func eventID(_ index: Int) -> String { "\(run)-\(index)" }

    /// The index of a report from its event id (nil when it is not one of this run's).
    func index(ofEventID id: String) -> Int? {
        guard id.hasPrefix(run), id.utf8.count > run.utf8.count + 1 else { return nil }
        return Int(id.dropFirst(run.count + 1))
    }

    /// Report `index` as a CloudEvent (binary mode, as upstream systems publish it).
    func event(_ index: Int, now: Date = Date()) -> (event: CloudEvent, routingKey: String) {
        let report = self.report(index, now: now)
        let event = try! CloudEvent(
            id: eventID(index), source: source, type: EventType.reportSubmitted.rawValue, time: now,
            encoding: report,
            extensions: ["traceparent": "00-\(String(repeating: "0", count: 16))\(Self.hex16(index))-\(Self.hex16(index))-01"])
        return (event, EventRouting.ingressKey(for: report.channel))
    }

    func message(_ index: Int, now: Date = Date()) -> (message: AMQPMessage, routingKey: String) {
        let (event, key) = self.event(index, now: now)
        return (AMQPCloudEventCodec.encode(event, now: now), key)
    }

    /// How the service desk resolves the ticket of report `index` once assigned, when it does:
    /// the recurring product faults as a software defect (→ `ipd-feedback` defect), the expired
    /// contracts' power supplies with an out-of-warranty spare part (→ parts quote).
    func resolution(_ index: Int) -> TicketAction.Resolution? {
        switch index % 20 {
        case 4, 5, 6:
            return TicketAction.Resolution(
                resolutionCode: "SW-DEFECT", rootCause: "进程内存越界导致异常重启 (family \((index / 20) % 8))",
                workaround: "disable the statistics module", qualityResponsibility: .productSoftware)
        case 2, 3:
            return TicketAction.Resolution(
                resolutionCode: "HW-COMPONENT", rootCause: "PSU capacitor failure",
                spareParts: [SparePart(partNumber: "02130752", quantity: 1, inWarranty: false)],
                qualityResponsibility: .productHardware)
        default:
            return nil
        }
    }

    /// The `itr.ticket.action` resolving `ticketId` (report `index`), or nil.
    func resolveAction(ticketId: String, index: Int) -> AMQPMessage? {
        guard let resolution = resolution(index) else { return nil }
        let action = TicketAction(
            ticketId: ticketId, action: .resolve, actor: Actor(id: "bench-engineer-\(index % 5)"), resolution: resolution)
        guard let event = try? CloudEvent(
            id: "\(run)-a\(index)", source: "//bench/service-desk", type: EventType.ticketAction.rawValue, encoding: action)
        else { return nil }
        return AMQPCloudEventCodec.encode(event)
    }

    static func hex16(_ n: Int) -> String {
        let hex = String(UInt64(truncatingIfNeeded: n &+ 1), radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    }

    func report(_ index: Int, now: Date) -> ReportSubmitted {
        let zh = index % 3 != 0
        let channels: [Channel] = [.phone, .portal, .email, .api, .field]
        let channel = channels[index % channels.count]
        let occurredAt = now.addingTimeInterval(-60)
        let upstreamId = "UP-\(run)-\(index)"
        switch index % 20 {
        case 0, 1:  // new requirement → opportunity
            let (account, line, model, version) = Self.covered[index % Self.covered.count]
            return ReportSubmitted(
                sourceSystem: "crm-portal", channel: .portal, upstreamId: upstreamId,
                customer: Customer(account: account), product: Product(line: line, model: model, version: version),
                summary: zh ? "希望增加流量统计新功能" : "Feature request: per-port traffic statistics",
                description: zh ? "客户希望在下个版本中增加该功能，涉及约 \(index % 40 + 10) 台设备。" : "Wanted in the next release for about \(index % 40 + 10) devices.",
                occurredAt: occurredAt, language: zh ? .zh : .en)
        case 2, 3:  // expired contract → renewal / parts quote
            let expired: [(String, String, String, String)] = [
                ("ACC-1019", "optical", "OX9600", "V100R019"), ("ACC-1012", "routers", "RX8000", "V8R9"),
            ]
            let (account, line, model, version) = expired[index % 2]
            return ReportSubmitted(
                sourceSystem: "hotline", channel: .phone, upstreamId: upstreamId, customer: Customer(account: account),
                product: Product(line: line, model: model, version: version, site: "SITE-\(index % 7)", component: "PSU"),
                summary: zh ? "电源模块故障，需要更换备件" : "Power supply failure, spare part needed",
                severity: ReportedSeverity(reported: .major), occurredAt: occurredAt, language: zh ? .zh : .en,
                categoryHint: "hardware")
        case 4, 5, 6:  // a recurring product fault → problem → defect
            let family = (index / 20) % 8
            let (account, line, model, version) = Self.covered[(index / 20) % Self.covered.count]
            return ReportSubmitted(
                sourceSystem: "nms-portal", channel: .portal, upstreamId: upstreamId, customer: Customer(account: account),
                product: Product(line: line, model: model, version: version, site: "SITE-\(index % 11)", component: "MAIN\(family)"),
                summary: zh ? "设备异常重启，进程崩溃 core dump（批次 \(family)）" : "Unexpected reboot, process crash with core dump (family \(family))",
                severity: ReportedSeverity(reported: .major), occurredAt: occurredAt, language: zh ? .zh : .en,
                categoryHint: "software")
        case 7, 8:  // monitoring alarm, one device each
            let (account, line, model, version) = Self.covered[index % Self.covered.count]
            let capacity = index % 40 == 7
            let code = capacity ? "CAP-PORT-UTIL-90" : ["HW-BRD-FAIL", "PWR-INPUT-LOST", "SW-PROC-RESTART"][index % 3]
            return ReportSubmitted(
                sourceSystem: "nms-east", channel: .monitoring, upstreamId: upstreamId, customer: Customer(account: account),
                product: Product(line: line, model: model, version: version, site: "SITE-M\(index % 5)"),
                summary: capacity ? "端口利用率超过90%" : "告警：\(code)",
                severity: ReportedSeverity(alarm: capacity ? .warning : .major),
                alarm: Alarm(code: code, device: "DEV-\(run)-\(index)", state: .raised), occurredAt: occurredAt,
                language: .zh)
        case 9:  // complaint
            let (account, line, _, _) = Self.covered[index % Self.covered.count]
            return ReportSubmitted(
                sourceSystem: "crm-portal", channel: .email, upstreamId: upstreamId, customer: Customer(account: account),
                product: Product(line: line), summary: zh ? "投诉：工程师响应太慢，不满意" : "Complaint: dissatisfied with response time",
                occurredAt: occurredAt, language: zh ? .zh : .en, categoryHint: "complaint")
        default:  // ordinary faults and questions
            let (account, line, model, version) = Self.covered[index % Self.covered.count]
            let fault = Self.faults[index % Self.faults.count]
            return ReportSubmitted(
                sourceSystem: "crm-portal", channel: channel, upstreamId: upstreamId,
                customer: Customer(account: account, name: zh ? "客户\(index % 100)" : "Customer \(index % 100)"),
                product: Product(
                    line: line, model: model, version: version, serial: "SN\(100_000 + index)", site: "SITE-\(index % 13)",
                    component: fault.component),
                summary: zh ? fault.zh : fault.en,
                description: zh ? "现场工程师报告：\(fault.zh)。影响约 \(index % 300) 个用户。" : "Field report: \(fault.en). About \(index % 300) users affected.",
                severity: ReportedSeverity(reported: [.minor, .major, .critical][index % 3]), occurredAt: occurredAt,
                language: zh ? .zh : .en)
        }
    }
}
