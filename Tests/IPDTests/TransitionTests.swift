import Foundation
import ITREvents
import Testing
@testable import IPDApp

@Suite struct TransitionTests {
    func reported(_ status: DefectState = .reported) -> Defect {
        var d = Defect(
            id: "DEF-A", fingerprint: DefectFingerprint(productLine: "p", model: nil, component: nil, code: "E1", symptomText: nil, recipe: shippedRules.fingerprint),
            productLine: "p")
        d.reportedAt = t0
        d.status = status
        if status == .duplicate { d.duplicateOf = "DEF-B" }
        if status == .fixReleased { d.fixVersion = "V2" }
        return d
    }

    func apply(_ from: DefectState, _ decision: DefectStatus) -> (DefectTransition.Outcome, Defect) {
        var d = reported(from)
        let outcome = DefectTransition.apply(decision, to: &d)
        return (outcome, d)
    }

    @Test func acceptedRejectedAndFixed() {
        #expect(apply(.reported, DefectStatus(defectId: "DEF-A", status: .accepted)).0 == .changed(event: .defectUpdated))
        #expect(apply(.accepted, DefectStatus(defectId: "DEF-A", status: .accepted)).0 == .unchanged)
        #expect(apply(.rejected, DefectStatus(defectId: "DEF-A", status: .accepted)).1.status == .accepted)
        let (fixed, d) = apply(.accepted, DefectStatus(defectId: "DEF-A", status: .fixReleased, fixVersion: "V100R013"))
        #expect(fixed == .changed(event: .defectFixed))
        #expect(d.status == .fixReleased && d.fixVersion == "V100R013")
        #expect(apply(.fixReleased, DefectStatus(defectId: "DEF-A", status: .fixReleased, fixVersion: "V2")).0 == .unchanged)
        #expect(apply(.fixReleased, DefectStatus(defectId: "DEF-A", status: .fixReleased, fixVersion: "V3")).0 == .changed(event: .defectFixed))
    }

    @Test func refusedTransitions() {
        func isRefused(_ o: DefectTransition.Outcome) -> Bool { if case .refused = o { true } else { false } }
        #expect(isRefused(apply(.fixReleased, DefectStatus(defectId: "DEF-A", status: .rejected)).0))
        #expect(isRefused(apply(.rejected, DefectStatus(defectId: "DEF-A", status: .fixReleased, fixVersion: "V3")).0))
        #expect(isRefused(apply(.duplicate, DefectStatus(defectId: "DEF-A", status: .accepted)).0))
        #expect(isRefused(apply(.reported, DefectStatus(defectId: "DEF-A", status: .duplicate, duplicateOf: "DEF-A")).0))
        #expect(isRefused(apply(.duplicate, DefectStatus(defectId: "DEF-A", status: .duplicate, duplicateOf: "DEF-C")).0))
        var unreported = reported()
        unreported.reportedAt = nil
        #expect(isRefused(DefectTransition.apply(DefectStatus(defectId: "DEF-A", status: .accepted), to: &unreported)))
    }

    @Test func duplicateNamesItsTarget() {
        let (outcome, d) = apply(.accepted, DefectStatus(defectId: "DEF-A", status: .duplicate, duplicateOf: "DEF-B"))
        #expect(outcome == .changed(event: .defectUpdated))
        #expect(d.status == .duplicate && d.duplicateOf == "DEF-B")
        #expect(apply(.duplicate, DefectStatus(defectId: "DEF-A", status: .duplicate, duplicateOf: "DEF-B")).0 == .unchanged)
        let payload = d.payload(DefectUpdatedKind.self, weights: shippedRules.score, now: t0)
        #expect(payload.duplicateOf == "DEF-B")
    }
}
