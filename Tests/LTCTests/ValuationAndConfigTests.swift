import Foundation
import ITRConfig
import ITREvents
import LTCApp
import Testing

@Suite("Valuation with catalogue prices")
struct ValuationTests {
    @Test func centsAreExactAndLinesFoldAndAdd() throws {
        #expect(Valuation.cents(8600) == 860_000 && Valuation.cents(0.1 + 0.2) == 30)
        #expect(Valuation.cents("12800.5") == 1_280_050 && Valuation.cents("3") == 300 && Valuation.cents("1.234") == nil)
        #expect(Valuation.format(cents: 1_280_050) == "12800.50" && Valuation.format(cents: 7) == "0.07")
        let bundle = try ConfigBundle.load(directory: configDirectory, sections: [OpportunitySignals.self])
        let valuation = Valuation(catalogue: bundle.catalogue)
        let psu = try #require(valuation.sparePart(partNumber: "02310QKM", quantity: 2))
        #expect(psu.offering == "SP-RX-PSU-2200" && psu.unitPrice == Money(amount: "8600.00", currency: "CNY"))
        #expect(psu.description?.contains("电源模块") == true)
        let fan = try #require(valuation.line(sku: "SP-RX-FAN", quantity: 1))
        let folded = Valuation.fold([psu, fan, psu])
        #expect(folded.map(\.quantity) == [4, 1])
        #expect(Valuation.total(folded) == Money(amount: "38600.00", currency: "CNY"))
        #expect(Valuation.total([]) == nil && valuation.line(sku: "NOPE", quantity: 1) == nil)
        var euro = fan
        euro.unitPrice.currency = "EUR"
        #expect(Valuation.total([fan, euro]) == nil)
    }
}

@Suite("ltc.yaml validation")
struct ConfigValidationTests {
    @Test func shippedConfigurationLoads() throws {
        let rules = try LTCRules(directory: configDirectory)
        let signals = rules.detector.rules
        #expect(signals.mergeWindow == 30 * 86_400 && signals.expansionRecurrence.threshold == 3)
        #expect(signals.packageUpgradePaths["silver"] == "gold" && signals.isCapacityAlarm("cap-pool-usage"))
        #expect(!signals.isCapacityAlarm("HW-FAN"))
    }

    /// Decodes the shipped files with `ltc.yaml` replaced; returns the errors' descriptions.
    func errors(_ ltc: String) throws -> [ConfigError] {
        var files = try shippedFiles()
        files["ltc.yaml"] = ltc
        do {
            _ = try ConfigBundle.decode(files: files, directory: "deploy/config", sections: [OpportunitySignals.self])
            return []
        } catch {
            return error.errors.filter { $0.file.hasSuffix("ltc.yaml") }
        }
    }

    @Test func errorsNameFileLineAndField() throws {
        let shipped = try shippedFiles()["ltc.yaml"]!
        var broken = shipped.replacingOccurrences(of: "mergeWindow: 30d", with: "mergeWindow: soon")
        broken = broken.replacingOccurrences(of: "storage: SP-ST-SSD-3T84", with: "storage: SP-NOPE")
        broken = broken.replacingOccurrences(of: "silver: gold\n", with: "silver: platinum\n")
        broken = broken.replacingOccurrences(of: "  threshold: 5\n", with: "  threshold: many\n")
        broken = broken.replacingOccurrences(of: "  expiringWithinDays: 90\n", with: "  expiringWithinDays: 90\n  expiringWithinDayz: 3\n")
        let found = try errors(broken)
        func line(of text: String, in yaml: String) -> Int {
            (yaml.components(separatedBy: "\n").firstIndex { $0.contains(text) } ?? -2) + 1
        }
        func has(_ field: String, _ fragment: String, at text: String) -> Bool {
            found.contains {
                $0.field == field && $0.message.contains(fragment) && $0.line == line(of: text, in: broken)
                    && $0.file == "deploy/config/ltc.yaml"
            }
        }
        #expect(has("mergeWindow", "expected a duration", at: "mergeWindow: soon"), "\(found)")
        #expect(has("expansion.skus.storage", "unknown sku \"SP-NOPE\"", at: "storage: SP-NOPE"), "\(found)")
        #expect(has("packageUpgrade.paths.silver", "unknown package \"platinum\"", at: "silver: platinum"), "\(found)")
        #expect(has("packageUpgrade.threshold", "expected a whole number", at: "threshold: many"), "\(found)")
        #expect(has("renewal.expiringWithinDayz", "unknown field", at: "expiringWithinDayz"), "\(found)")
        #expect(found.count == 5, "\(found)")
        #expect(found.first?.description.hasPrefix("deploy/config/ltc.yaml:") == true)
    }

    @Test func missingSectionsAndBadValuesAreReported() throws {
        let found = try errors("mergeWindow: 30d\nmaximumConfidence: 150%\ntimeZone: Mars/Olympus\n")
        let fields = Set(found.map(\.field))
        for field in ["newRequirement", "partsQuote", "expansion", "renewal", "upgrade", "packageUpgrade", "maximumConfidence", "timeZone"] {
            #expect(fields.contains(field), "\(field) missing from \(found)")
        }
        #expect(throws: ConfigErrors.self) { try LTCRules(directory: "/nonexistent/ltc-config") }
    }
}
