import Foundation
import Testing
import ITRConfig
@testable import RouterApp

@Suite struct ProblemDetectorTests {
    let detector = ProblemDetector(
        rules: ProblemsSection(
            joinRuleId: "join", recurrenceRuleId: "recur", recurrenceThreshold: 3, recurrenceWindow: 7 * 86_400,
            majorIncidentRuleId: "major", majorIncidentPriorities: [.p1]),
        rulesVersion: "v1")

    func facts(_ title: String) -> ReportFacts {
        ReportFacts(title: title, productLine: "switches", model: "SX6800", version: "V2R5", component: "BGP")
    }

    @Test func symptomNormalizationChineseAndEnglish() {
        #expect(SymptomNormalizer.normalize("Port GE0/0/1 DOWN after upgrade to V2R5 (#4711)!") == "down port upgrade")
        #expect(SymptomNormalizer.normalize("upgrade: port down") == "down port upgrade")
        #expect(SymptomNormalizer.normalize("端口3宕机了！") == "宕机 端口")
        #expect(SymptomNormalizer.normalize("端口１２宕机") == "宕机 端口")
        #expect(SymptomNormalizer.normalize("BGP邻居的状态 flapping, peer 10.1.2.3") == "bgp flapping peer 状态 邻居")
    }

    @Test func fingerprintIgnoresIdsAndCase() {
        let a = IncidentFingerprint(facts("BGP peer 10.0.0.1 flapping 邻居震荡"))
        let b = IncidentFingerprint(ReportFacts(
            title: "邻居震荡, bgp PEER 192.168.1.1 flapping", productLine: "switches", model: "sx6800", version: "v2r5",
            component: "bgp"))
        #expect(a == b)
        #expect(a.key == "switches|sx6800|v2r5|bgp|bgp flapping peer 邻居震荡")
        let alarm = IncidentFingerprint(ReportFacts(title: "x", alarmCode: "OPT-0012"))
        #expect(alarm.component == "opt-0012")
    }

    @Test func thresholdWithinTheWindow() {
        let fp = IncidentFingerprint(facts("BGP flapping"))
        let now = at(2026, 3, 10, 10)
        func incident(_ id: String, daysAgo: Double, _ fingerprint: IncidentFingerprint = IncidentFingerprint(facts("BGP flapping"))) -> IncidentRecord {
            IncidentRecord(ticketId: id, fingerprint: fingerprint, priority: .p3, openedAt: now.addingTimeInterval(-daysAgo * 86_400))
        }
        let new = incident("T-3", daysAgo: 0)
        // One earlier: below the threshold of 3.
        #expect(detector.decide(incident: new, recent: [incident("T-1", daysAgo: 2)], openProblems: []).outcome == .nothing)
        // Two earlier within 7 days: open, oldest first.
        let open = detector.decide(incident: new, recent: [incident("T-2", daysAgo: 1), incident("T-1", daysAgo: 6)], openProblems: [])
        #expect(open.outcome == .openProblem(incidents: ["T-1", "T-2", "T-3"]))
        #expect(open.ruleId == "recur" && open.rulesVersion == "v1")
        // One of them outside the window, one with another fingerprint: nothing.
        let other = IncidentFingerprint(facts("OSPF down"))
        #expect(detector.decide(incident: new, recent: [incident("T-2", daysAgo: 1), incident("T-1", daysAgo: 8)], openProblems: []).outcome == .nothing)
        #expect(detector.decide(incident: new, recent: [incident("T-2", daysAgo: 1), incident("T-9", daysAgo: 1, other)], openProblems: []).outcome == .nothing)
        // An open problem with the fingerprint: join.
        let join = detector.decide(incident: new, recent: [], openProblems: [OpenProblem(id: "PRB-7", fingerprint: fp)])
        #expect(join.outcome == .joinProblem(id: "PRB-7") && join.ruleId == "join")
    }

    @Test func anyP1OpensAProblem() {
        let p1 = IncidentRecord(ticketId: "T-1", fingerprint: IncidentFingerprint(facts("全网宕机")), priority: .p1, openedAt: at(2026, 3, 10, 10))
        let decision = detector.decide(incident: p1, recent: [], openProblems: [])
        #expect(decision.outcome == .openProblem(incidents: ["T-1"]))
        #expect(decision.ruleId == "major")
    }
}
