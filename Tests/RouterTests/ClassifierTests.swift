import Foundation
import Testing
import ITRConfig
@testable import RouterApp

/// The shipped configuration (deploy/config), found from this source file.
let shippedBundle: ConfigBundle = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return try! ConfigBundle.load(directory: url.appendingPathComponent("deploy/config").path)
}()

@Suite struct ClassifierTests {
    let classifier = Classifier(shippedBundle)

    struct Row: Sendable, CustomStringConvertible {
        var facts: ReportFacts
        var serviceType: ServiceType
        var ruleId: String
        var description: String { facts.title }
    }

    static let rows: [Row] = [
        Row(facts: ReportFacts(title: "核心路由器宕机，我们要投诉", description: "第三次了"), serviceType: .complaint, ruleId: "st.complaint.keywords"),
        Row(facts: ReportFacts(title: "Formal complaint: router down again"), serviceType: .complaint, ruleId: "st.complaint.keywords"),
        Row(facts: ReportFacts(title: "Board alarm", channel: "monitoring", alarmCode: "HW-1021"), serviceType: .hardwareFault, ruleId: "st.alarm.hardware"),
        Row(facts: ReportFacts(title: "进程异常", channel: "Monitoring", alarmCode: "proc-0007"), serviceType: .softwareFault, ruleId: "st.alarm.software"),
        Row(facts: ReportFacts(title: "HW alarm by phone", channel: "phone", alarmCode: "HW-1021"), serviceType: .softwareOperation, ruleId: "st.default"),
        Row(facts: ReportFacts(title: "请开具2026年第一季度服务费发票"), serviceType: .nonTechnical, ruleId: "st.non-technical.keywords"),
        Row(facts: ReportFacts(title: "Invoice for Q1 missing"), serviceType: .nonTechnical, ruleId: "st.non-technical.keywords"),
        Row(facts: ReportFacts(title: "希望增加SRv6功能的需求"), serviceType: .newRequirement, ruleId: "st.requirement.keywords"),
        Row(facts: ReportFacts(title: "Feature request: per-VRF telemetry"), serviceType: .newRequirement, ruleId: "st.requirement.keywords"),
        Row(facts: ReportFacts(title: "电源模块故障，指示灯红色"), serviceType: .hardwareFault, ruleId: "st.hardware.keywords"),
        Row(facts: ReportFacts(title: "Switch down after upgrade", description: "core dump found"), serviceType: .softwareFault, ruleId: "st.software.keywords"),
        Row(facts: ReportFacts(title: "设备宕机"), serviceType: .softwareFault, ruleId: "st.software.keywords"),
        Row(facts: ReportFacts(title: "如何配置BGP路由策略"), serviceType: .softwareOperation, ruleId: "st.operation.keywords"),
        // Whole-word matching: "change" must not match "hang", "debug" not "bug".
        Row(facts: ReportFacts(title: "Please change the debug level"), serviceType: .softwareOperation, ruleId: "st.default"),
        Row(facts: ReportFacts(title: "季度巡检安排", categoryHint: "maintenance"), serviceType: .preventiveMaintenance, ruleId: "st.maintenance.hint"),
        // Precedence: the complaint hint wins over hardware keywords.
        Row(facts: ReportFacts(title: "fan failure", categoryHint: "complaint"), serviceType: .complaint, ruleId: "st.complaint.hint"),
        // Precedence: the hardware alarm rule comes before the software keywords.
        Row(facts: ReportFacts(title: "device down", channel: "monitoring", alarmCode: "PWR-001"), serviceType: .hardwareFault, ruleId: "st.alarm.hardware"),
    ]

    @Test(arguments: rows)
    func serviceTypePrecedence(_ row: Row) {
        let result = classifier.classify(row.facts)
        #expect(result.serviceType == row.serviceType)
        #expect(result.serviceTypeRuleId == row.ruleId)
        #expect(result.rulesVersion == shippedBundle.rulesVersion)
    }

    @Test func gradingFromUsersSitesSeverityAndKeywords() {
        let outage = classifier.classify(ReportFacts(title: "全网业务中断", affectedUsers: 20_000))
        #expect(outage.impact == 1 && outage.impactRuleId == "impact.users-1000")
        #expect(outage.urgency == 1 && outage.urgencyRuleId == "urgency.outage")
        #expect(outage.priority == .p1)

        let degraded = classifier.classify(ReportFacts(title: "Packet loss on uplink", affectedUsers: 150))
        #expect(degraded.impact == 2 && degraded.urgency == 2)
        #expect(degraded.priority == .p2)

        let howTo = classifier.classify(ReportFacts(title: "How to configure NTP?"))
        #expect(howTo.impact == 4 && howTo.impactRuleId == "impact.requests")
        #expect(howTo.priority == .p5)

        let alarm = classifier.classify(ReportFacts(title: "fan alarm", channel: "monitoring", alarmCode: "FAN-2", severity: .major))
        #expect(alarm.impact == 3 && alarm.urgency == 2 && alarm.priority == .p3)
    }

    @Test func priorityMatrixIsTheShippedTable() {
        let matrix = shippedBundle.classification.priorityMatrix
        let expected: [[Priority]] = [[.p1, .p1, .p2, .p3], [.p1, .p2, .p3, .p4], [.p2, .p3, .p4, .p5], [.p3, .p4, .p5, .p5]]
        for impact in 1...4 {
            for urgency in 1...4 {
                #expect(matrix.priority(impact: impact, urgency: urgency) == expected[impact - 1][urgency - 1])
            }
        }
    }

    @Test func assignmentByTypeProductAndRegion() {
        let assigner = Assigner(shippedBundle)
        let optical = assigner.assign(ReportFacts(title: "x", productLine: "optical", region: "cn-south"), serviceType: .hardwareFault)
        #expect(optical.group == "optical-support" && optical.tier == "L2" && optical.ruleId == "assign.optical")
        let eu = assigner.assign(ReportFacts(title: "x", productLine: "optical", region: "eu"), serviceType: .hardwareFault)
        #expect(eu.ruleId == "assign.eu" && eu.tier == "L1")
        let other = assigner.assign(ReportFacts(title: "x", productLine: "routers"), serviceType: .softwareFault)
        #expect(other.ruleId == "assign.default" && other.group == "service-desk-cn")
    }

    @Test func qualityResponsibility() {
        let judge = QualityJudge(shippedBundle)
        #expect(judge.judge(resolutionCode: "SW-DEFECT")?.responsibility == .productSoftware)
        #expect(judge.judge(resolutionCode: "SW-DEFECT")?.feedsIPD == true)
        #expect(judge.judge(resolutionCode: "CUST-MISUSE")?.feedsIPD == false)
        #expect(judge.judge(resolutionCode: "SUPPLIER-OPTICS")?.responsibility == .supplier)
        #expect(judge.judge(resolutionCode: "NOPE") == nil)
    }
}
