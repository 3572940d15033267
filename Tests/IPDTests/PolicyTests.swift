import Foundation
import ITREvents
import Testing
@testable import IPDApp

@Suite struct PolicyTests {
    let rules = shippedRules
    var policy: DefectPolicy { DefectPolicy(rules: rules) }

    func defect(customers: Int, incidents: Int? = nil, priority: Priority = .p3, breaches: Int = 0) -> Defect {
        var d = Defect(
            id: "DEF-1", fingerprint: DefectFingerprint(productLine: "p", model: nil, component: nil, code: "E1", symptomText: nil, recipe: rules.fingerprint),
            productLine: "p")
        for i in 0..<(incidents ?? customers) {
            d.absorb(Incident(
                ticketId: "T-\(i)", account: "A-\(i % max(customers, 1))", contractPackage: "gold", priority: priority,
                version: "V1", slaBreaches: i == 0 ? breaches : 0, at: t0))
        }
        return d
    }

    @Test func impactScoreFollowsTheDocumentedFormula() {
        let d = defect(customers: 2, incidents: 3, priority: .p2, breaches: 1)
        let s = d.snapshot(weights: rules.score)
        // 10×2 + 5×ln(4) + 20 (P2) + 5×1 + 10 (gold)
        let expected = ((20 + 5 * log(4.0) + 20 + 5 + 10) * 100).rounded() / 100
        #expect(s.score == expected)
        #expect(s.customers == 2 && s.incidents == 3 && s.slaBreaches == 1)
        let bigger = defect(customers: 3, incidents: 3, priority: .p2, breaches: 1).snapshot(weights: rules.score)
        #expect(bigger.score > s.score)
        let p1 = defect(customers: 2, incidents: 3, priority: .p1, breaches: 1).snapshot(weights: rules.score)
        #expect(p1.score > s.score)
    }

    @Test func reportedWhenAThresholdIsCrossed() {
        #expect(policy.afterChange(defect(customers: 1), now: t0) == .none)
        #expect(policy.afterChange(defect(customers: 2), now: t0) == .report)
        #expect(policy.afterChange(defect(customers: 1, priority: .p1), now: t0) == .report)
        #expect(policy.afterChange(defect(customers: 1, incidents: 5), now: t0) == .report)
        var rejected = defect(customers: 3)
        rejected.status = .rejected
        #expect(policy.afterChange(rejected, now: t0) == .none)
    }

    @Test func materialChangesAreDebounced() {
        var d = defect(customers: 2)
        d.reportedAt = t0
        d.lastEmittedAt = t0
        d.lastEmitted = d.snapshot(weights: rules.score)
        #expect(policy.afterChange(d, now: t0.addingTimeInterval(1)) == .none)  // nothing changed
        d.absorb(Incident(ticketId: "T-new", account: "A-new", priority: .p3, at: t0))  // a new customer
        #expect(policy.afterChange(d, now: t0.addingTimeInterval(10)) == .deferUpdate)
        #expect(policy.afterChange(d, now: t0.addingTimeInterval(rules.update.debounce)) == .update)
        d.pendingUpdate = true
        #expect(!policy.isFlushDue(d, now: t0.addingTimeInterval(10)))
        #expect(policy.isFlushDue(d, now: t0.addingTimeInterval(rules.update.debounce + 1)))
    }

    @Test func smallGrowthIsNotMaterial() {
        let before = ImpactSnapshot(customers: 5, incidents: 10, highestPriority: .p2, slaBreaches: 0, versions: 2, problems: 3, score: 100)
        var after = before
        after.incidents = 12
        after.score = 101
        #expect(!policy.isMaterial(from: before, to: after))
        after.incidents = 15
        #expect(policy.isMaterial(from: before, to: after))
        after = before
        after.highestPriority = .p1
        #expect(policy.isMaterial(from: before, to: after))
        after = before
        after.versions = 3
        #expect(policy.isMaterial(from: before, to: after))
    }
}
