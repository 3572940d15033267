import Foundation
import Testing
@testable import ITRConfig

/// The repository's deploy/config directory, found from this source file.
let shippedConfigDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("deploy/config").path
}()

@Suite struct ShippedConfigTests {
    @Test func shippedDirectoryLoadsClean() throws {
        let bundle: ConfigBundle
        do {
            bundle = try ConfigBundle.load(directory: shippedConfigDirectory)
        } catch {
            Issue.record("shipped config invalid:\n\(error)")
            return
        }
        #expect(bundle.rulesVersion.count == 16)
        #expect(bundle.contracts.contracts.count >= 20)
        #expect(bundle.catalogue.currency == "CNY")
        #expect(bundle.catalogue.package("gold")?.targets[.p1] == SLATargets(response: 15 * 60, resolution: 4 * 3600))
        #expect(bundle.calendars.calendar("cn-business")?.holidays.contains(LocalDate(year: 2026, month: 10, day: 1)) == true)
        #expect(bundle.assignment.functionalChain == ["L1", "L2", "L3"])
        // Escalation groups: a rule's escalateTo first, then the tier's group, else none.
        #expect(bundle.assignment.escalationGroup(toTier: "L3", startGroup: "optical-support") == "optical-rd")
        #expect(bundle.assignment.escalationGroup(toTier: "L2", startGroup: "service-desk-eu") == "product-support-eu")
        #expect(bundle.assignment.escalationGroup(toTier: "L3", startGroup: "service-desk-eu") == "rd-experts")
        #expect(bundle.assignment.escalationGroup(toTier: "L2", startGroup: "service-desk-cn") == "product-support")
        #expect(bundle.assignment.escalationGroup(toTier: "L1", startGroup: "service-desk-cn") == nil)
        #expect(bundle.assignment.hierarchicalSteps.map(\.at) == [0.5, 0.75, 0.9, 1.0])
        #expect(bundle.classification.priorityMatrix.priority(impact: 1, urgency: 1) == .p1)
        #expect(bundle.quality.resolutionCode("SW-DEFECT")?.responsibility == .productSoftware)
        #expect(bundle.lifecycle.pausingReasons == [.waitingCustomer])
        #expect(bundle.catalogue.sparePart(partNumber: "02310QKM")?.price == 8600)
        // Chinese names survive decoding.
        #expect(bundle.contracts.contracts.contains { $0.customerName == "上海浦东发展银行股份有限公司" })
        // An expired contract and a renewal on another package for one account.
        let tianjin = bundle.contracts.contract(account: "ACC-1012", on: LocalDate(year: 2026, month: 3, day: 1))
        #expect(tianjin?.package == "bronze")
        let yunnan = bundle.contracts.contract(account: "ACC-1019", on: LocalDate(year: 2026, month: 3, day: 1))
        #expect(yunnan?.isValid(on: LocalDate(year: 2026, month: 3, day: 1)) == false)
        // Every OLA chain fits every package.
        for priority in Priority.allCases {
            for package in bundle.catalogue.packages {
                #expect(bundle.assignment.olaTotal(for: priority) <= package.targets[priority]!.resolution)
            }
        }
    }

    @Test func rulesVersionIsStableAndContentSensitive() {
        let a = RulesVersion.hash(files: ["a.yaml": "x: 1", "b.yaml": "y: 2"])
        let b = RulesVersion.hash(files: ["b.yaml": "y: 2", "a.yaml": "x: 1"])
        let c = RulesVersion.hash(files: ["a.yaml": "x: 1", "b.yaml": "y: 3"])
        #expect(a == b)
        #expect(a != c)
        // FNV-1a 64 of the empty input is the offset basis.
        #expect(RulesVersion.hash(files: [:]) == "cbf29ce484222325")
    }
}
