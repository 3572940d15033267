import Foundation
import Testing
import ITRConfig
import ITRTestSupport
import TextClassifier
@testable import RouterApp

/// The shipped configuration (deploy/config), found from this source file.
let shippedBundle: ConfigBundle = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return try! ConfigBundle.load(directory: url.appendingPathComponent("deploy/config").path)
}()

@Suite struct ClassifierTests {
    static let rules = try! shippedRules()
    let classifier = ClassifierTests.rules.classifier

    struct Row: Sendable, CustomStringConvertible {
        var facts: ReportFacts
        var serviceType: ServiceType
        /// nil: the model decides.
        var ruleId: String?
        var description: String { facts.title }
    }

    /// Explicit signals: deterministic rules that win over the model.
    static let ruleRows: [Row] = [
        Row(facts: ReportFacts(title: "Board alarm", channel: "monitoring", alarmCode: "HW-1021"), serviceType: .hardwareFault, ruleId: "st.alarm.hardware"),
        Row(facts: ReportFacts(title: "进程异常", channel: "Monitoring", alarmCode: "proc-0007"), serviceType: .softwareFault, ruleId: "st.alarm.software"),
        Row(facts: ReportFacts(title: "季度巡检安排", categoryHint: "maintenance"), serviceType: .preventiveMaintenance, ruleId: "st.maintenance.hint"),
        // Precedence: the complaint hint wins over a text the model reads as hardware.
        Row(facts: ReportFacts(title: "fan failure", categoryHint: "complaint"), serviceType: .complaint, ruleId: "st.complaint.hint"),
        Row(facts: ReportFacts(title: "风扇故障", categoryHint: "投诉"), serviceType: .complaint, ruleId: "st.complaint.hint"),
        // The hardware alarm rule wins over a text about software.
        Row(facts: ReportFacts(title: "process crashed", channel: "monitoring", alarmCode: "PWR-001"), serviceType: .hardwareFault, ruleId: "st.alarm.hardware"),
        Row(facts: ReportFacts(title: "How do I configure NTP?", categoryHint: "billing"), serviceType: .nonTechnical, ruleId: "st.hint.non-technical"),
    ]

    /// What no rule decides: the model, on reports written apart from its corpus (the issue's
    /// examples among them), Chinese and English.
    static let modelRows: [Row] = [
        Row(facts: ReportFacts(title: "Fan module alarm and overheating"), serviceType: .hardwareFault),
        Row(facts: ReportFacts(title: "Management service crashes after upgrade"), serviceType: .softwareFault),
        Row(facts: ReportFacts(title: "打补丁后BGP邻居反复震荡"), serviceType: .softwareFault),
        Row(facts: ReportFacts(title: "报表导出文件乱码"), serviceType: .softwareFault),
        Row(facts: ReportFacts(title: "Request for product documentation"), serviceType: .nonTechnical),
        Row(facts: ReportFacts(title: "索取产品资料"), serviceType: .nonTechnical),
        Row(facts: ReportFacts(title: "Need support for IPv6 on the console"), serviceType: .newRequirement),
        Row(facts: ReportFacts(title: "Require 40 more ports at branch site"), serviceType: .newRequirement),
        Row(facts: ReportFacts(title: "Engineer arrived four hours late"), serviceType: .complaint),
        Row(facts: ReportFacts(title: "核心路由器宕机，我们要投诉", description: "第三次了，工程师一直没解决"), serviceType: .complaint),
        Row(facts: ReportFacts(title: "请开具2026年第一季度服务费发票"), serviceType: .nonTechnical),
        Row(facts: ReportFacts(title: "电源模块故障，指示灯红色"), serviceType: .hardwareFault),
        Row(facts: ReportFacts(title: "如何配置BGP路由策略"), serviceType: .softwareOperation),
        // An alarm code on a phone report is not a monitoring alarm: the text decides.
        Row(facts: ReportFacts(title: "Line card failed, board offline", channel: "phone", alarmCode: "SW-1021"), serviceType: .hardwareFault),
        Row(facts: ReportFacts(title: "请安排下季度例行巡检"), serviceType: .preventiveMaintenance),
    ]

    @Test(arguments: ruleRows)
    func explicitSignalsDecideByRule(_ row: Row) {
        let result = classifier.classify(row.facts)
        #expect(result.serviceType == row.serviceType)
        #expect(result.serviceTypeRuleId == row.ruleId)
        #expect(result.decision.by == .rule && result.decision.modelVersion == nil && !result.decision.needsTriage)
        #expect(result.rulesVersion == shippedBundle.rulesVersion)
    }

    @Test(arguments: modelRows)
    func theModelDecidesTheRest(_ row: Row) {
        let result = classifier.classify(row.facts)
        #expect(result.serviceType == row.serviceType)
        #expect(result.serviceTypeRuleId == "st.model")
        let decision = result.decision
        #expect(decision.by == .model)
        #expect(decision.modelVersion == Self.rules.modelVersion && decision.modelVersion != nil)
        let confidence = decision.confidence ?? -1
        #expect(confidence > 0 && confidence <= 1)
        #expect(decision.runnerUp != nil && decision.runnerUp != result.serviceType)
        #expect((decision.runnerUpConfidence ?? 2) <= confidence)
        // Deterministic: the same model and text, the same decision.
        #expect(classifier.classify(row.facts) == result)
    }

    @Test func rulesWinOverTheModel() {
        let text = ReportFacts(title: "Power supply failed, red LED on PSU 2")
        #expect(classifier.classify(text).serviceType == .hardwareFault)
        var hinted = text
        hinted.categoryHint = "complaint"
        let result = classifier.classify(hinted)
        #expect(result.serviceType == .complaint && result.decision.by == .rule)
    }

    @Test func belowTheThresholdTheTicketWaitsForTriage() throws {
        var section = shippedBundle.classification
        section.model?.minConfidence = 0.999
        let strict = Classifier(rules: section, rulesVersion: "t", model: classifier.model)
        let unsure = strict.classify(ReportFacts(title: "设备有问题，请尽快处理"))
        #expect(unsure.decision.needsTriage)
        #expect(unsure.decision.summary.contains("needs-triage"))
        // Its type is the model's best guess, not the catch-all; its group is the triage group.
        let assignment = Self.rules.assigner.assign(
            ReportFacts(title: "设备有问题，请尽快处理"), serviceType: unsure.serviceType, needsTriage: true)
        #expect(assignment.group == "service-desk-triage" && assignment.ruleId == Assigner.triageRuleId)
        // With the shipped threshold a clear report is decided without triage.
        #expect(!classifier.classify(ReportFacts(title: "Fan failure on chassis 2, red LED")).decision.needsTriage)
        // Rules are never sent to triage.
        #expect(!strict.classify(ReportFacts(title: "x", categoryHint: "complaint")).decision.needsTriage)
    }

    @Test func accuracyOnTheOutsideSet() throws {
        // 210 reports written by a separate writer who never saw the corpus.
        let path = TestEnvironment.packageRoot.appendingPathComponent("deploy/classifier/outside/outside.jsonl").path
        let examples = try ExampleFile.read(path: path, labels: Set(ServiceType.allCases.map(\.rawValue)))
        #expect(examples.count >= 200)
        let model = try #require(classifier.model)
        let evaluation = Evaluation.of(model, on: examples)
        #expect(evaluation.accuracy >= 0.95, "\(evaluation.report(title: "outside", showMisses: 20))")
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
