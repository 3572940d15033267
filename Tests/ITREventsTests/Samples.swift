import Foundation
import ITREvents

/// One realistic sample of every payload type (Chinese text included), shared by the tests.
enum Samples {
    static let t0 = RFC3339.parse("2025-03-01T08:30:00.125+08:00")!
    static let t1 = t0.addingTimeInterval(3600)
    static let product = Product(
        line: "OptiX OSN 8800", model: "T64", version: "V100R012C10", serial: "21023574", site: "上海浦东机房",
        component: "光模块")
    static let customer = Customer(
        account: "CN-SH-0001", name: "上海电信",
        contact: Contact(name: "张伟", phone: "+86 21 5555 0101", email: "zhang.wei@example.cn"))

    static let report = ReportSubmitted(
        sourceSystem: "nms-east", channel: .monitoring, upstreamId: "ALM-20250301-0001", customer: customer,
        product: product, summary: "光模块温度过高，业务中断", description: "机架3槽位5的光模块温度达到85°C，链路 \"down\"。",
        severity: ReportedSeverity(reported: .critical, alarm: .major),
        alarm: Alarm(code: "OPT_TEMP_HIGH", device: "NE-0042", state: .raised), occurredAt: t0, language: .zh,
        categoryHint: "硬件", attachments: [Attachment(uri: "https://files.example.cn/a/日志.zip", name: "日志.zip", mediaType: "application/zip", size: 2048)])

    static let impact = DefectImpact(
        customers: 3, incidents: 7, highestPriority: .p2, slaBreaches: 1, packages: ["gold-24x7", "silver"],
        firstSeen: t0, lastSeen: t1, score: 42.5)
    static let actor = Actor(id: "eng-007", name: "李娜", role: "engineer")

    /// (type, encoded JSON data) for every type of `EventType.allCases`.
    static func all() throws -> [(EventType, any EventPayload)] {
        let items: [any EventPayload] = [
            report,
            TicketAction(ticketId: "T-1", action: .pause, actor: actor, note: "等待客户提供日志", pauseReason: .waitingCustomer),
            DefectStatus(defectId: "D-1", status: .fixReleased, fixVersion: "V100R012C10SPC200", note: "已修复"),
            OpportunityStatus(opportunityId: "O-1", status: .won, value: Money(amount: "128000.00", currency: "CNY")),
            TicketOpened(
                ticketId: "T-1", report: report,
                event: CloudEvent(id: "r-1", source: "//nms-east", type: "itr.report.submitted"), accountKnown: true,
                openedAt: t1, knownError: KnownErrorMatch(problemId: "P-1", title: "光模块过热", workaround: "清洁风扇滤网")),
            TicketClassified(
                ticketId: "T-1", serviceType: .hardwareFault, impact: .significant, urgency: .high, priority: .p2,
                contractPackage: "gold-24x7", account: "CN-SH-0001", ruleId: "hw-alarm", rulesVersion: "2025.03.1"),
            TicketAssigned(ticketId: "T-1", group: "L2-传输", tier: .l2, priority: .p2, olaDueAt: t1, olaBudgetMinutes: 120),
            TicketEscalated(
                ticketId: "T-1", kind: .functional, fromTier: .l2, toTier: .l3, step: 2, notifyRoles: ["duty-manager"],
                reason: "ola-expired", slaShare: 0.8),
            TicketResolved(
                ticketId: "T-1", resolutionCode: "replaced-part", rootCause: "风扇故障", workaround: nil,
                spareParts: [SparePart(partNumber: "FAN-88", quantity: 1, inWarranty: false)],
                qualityResponsibility: .productHardware, product: product, priority: .p2, serviceType: .hardwareFault,
                account: "CN-SH-0001", resolvedBy: actor, resolvedAt: t1),
            TicketClosed(ticketId: "T-1", reason: .confirmed, closedAt: t1, note: "客户已确认"),
            TicketReopened(ticketId: "T-1", reason: "问题复现", reopenCount: 1, actor: actor, reopenedAt: t1),
            SLAWarning(ticketId: "T-1", clock: .resolution, priority: .p2, targetMinutes: 480, dueAt: t1, share: 0.75),
            SLABreached(ticketId: "T-1", clock: .response, priority: .p1, targetMinutes: 15, dueAt: t1, share: 1.2),
            OLABreached(ticketId: "T-1", tier: .l2, group: "L2-传输", budgetMinutes: 120, dueAt: t0, breachedAt: t1),
            ProblemOpened(
                problemId: "P-1", title: "光模块过热", fingerprint: "fp-abc", productLine: "OptiX OSN 8800",
                model: "T64", component: "光模块", code: "OPT_TEMP_HIGH", symptom: "温度过高", trigger: .recurring,
                ticketIds: ["T-1", "T-2"]),
            ProblemKnownError(
                problemId: "P-1", title: "光模块过热", fingerprint: "fp-abc", rootCause: "风扇固件缺陷", workaround: "清洁风扇滤网",
                ticketIds: ["T-1"]),
            ProblemResolved(problemId: "P-1", fingerprint: "fp-abc", fixVersion: "V100R012C10SPC200", defectId: "D-1", ticketIds: ["T-1"]),
            OpportunityIdentified(
                opportunityId: "O-1", account: "CN-SH-0001", kind: .partsQuote, product: product, quantity: 2,
                estimatedValue: Money(amount: "2400.00", currency: "CNY"),
                priceLines: [PriceLine(offering: "FAN-88", description: "风扇模块", quantity: 2, unitPrice: Money(amount: "1200.00", currency: "CNY"))],
                confidence: 0.7, reasons: ["保修期外维修"], ticketIds: ["T-1"], signals: ["out-of-warranty-repair"]),
            OpportunityUpdated(
                opportunityId: "O-1", account: "CN-SH-0001", kind: .partsQuote, confidence: 0.9, ticketIds: ["T-1", "T-3"],
                status: .accepted),
            DefectReported(
                defectId: "D-1", fingerprint: "fp-abc", productLine: "OptiX OSN 8800", model: "T64",
                affectedVersions: ["V100R012C10"], component: "光模块", code: "OPT_TEMP_HIGH", symptomSignature: "温度过高",
                impact: impact, problemIds: ["P-1"], ticketIds: ["T-1"], status: .reported),
            DefectUpdated(
                defectId: "D-1", fingerprint: "fp-abc", productLine: "OptiX OSN 8800", symptomSignature: "温度过高",
                impact: impact, status: .accepted),
            DefectFixed(
                defectId: "D-1", fingerprint: "fp-abc", productLine: "OptiX OSN 8800", symptomSignature: "温度过高",
                impact: impact, status: .fixReleased, fixVersion: "V100R012C10SPC200"),
            ReportRejected(
                reasonCode: "validation-failed", message: "报告无效",
                problems: [ValidationProblem(path: "data.summary", code: .missing, message: "required")],
                originalId: "r-9", originalSource: "//portal", originalType: "itr.report.submitted", channel: .portal),
            TicketCorrelated(
                ticketId: "T-1", reportId: "r-2", upstreamId: "ALM-2", alarmCode: "OPT_TEMP_HIGH", device: "NE-0042",
                count: 5, firstSeenAt: t0, lastSeenAt: t1, cleared: true),
            TicketActionRejected(ticketId: "T-1", action: "resume", reasonCode: "invalid-transition", message: "工单未暂停"),
            TicketUpdated(ticketId: "T-1", action: .note, state: "in-progress", note: "已联系客户", actor: actor, at: t1),
        ]
        return items.map { (type(of: $0).eventType, $0) }
    }
}
