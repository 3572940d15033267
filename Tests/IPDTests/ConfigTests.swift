import Foundation
import ITRConfig
import ITRTestSupport
import Testing
@testable import IPDApp

@Suite struct ConfigTests {
    let directory = TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path

    func files(withIPD text: String) throws -> [String: String] {
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".yaml") {
            files[name] = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }
        files["ipd.yaml"] = text
        return files
    }

    @Test func shippedRulesAreValid() {
        #expect(shippedRules.report.priorities == [.p1])
        #expect(shippedRules.report.customers == 2)
        #expect(shippedRules.update.debounce == 300)
        #expect(shippedRules.fingerprint.synonyms["宕机"] == "down")
        #expect(shippedRules.score.priority[.p1] == 40)
    }

    @Test func invalidRulesNameFileLineAndField() throws {
        let shipped = try String(contentsOfFile: directory + "/ipd.yaml", encoding: .utf8)
        let broken = shipped
            .replacingOccurrences(of: "fields: [productLine, model, component, code, symptom]", with: "fields: [model, colour]")
            .replacingOccurrences(of: "customers: 2 ", with: "customers: zero ")
            .replacingOccurrences(of: "gold-eu: 10", with: "platinum: 10")
            .replacingOccurrences(of: "debounce: 5m", with: "debounce: soon")
        let all = try files(withIPD: broken)
        var caught: ConfigErrors?
        do {
            _ = try ConfigBundle.decode(files: all, directory: "cfg", sections: [IPDRules.self])
        } catch {
            caught = error
        }
        let errors = try #require(caught).errors
        let text = errors.map(\.description).joined(separator: "\n")
        #expect(errors.allSatisfy { $0.file == "cfg/ipd.yaml" && $0.line > 0 })
        #expect(text.contains("colour"))
        #expect(text.contains("productLine"))
        #expect(errors.contains { $0.field == "report.customers" })
        #expect(errors.contains { $0.field.hasPrefix("score.packages") && $0.message.contains("platinum") })
        #expect(errors.contains { $0.field == "update.debounce" })
    }

    @Test func synonymsComeFromProblemsYAMLAndIPDYAMLStillAddsItsOwn() throws {
        // The shared table (problems.yaml) less the ignore words: 故障 is dropped, not mapped.
        #expect(shippedRules.fingerprint.synonyms["电源"] == "power")
        #expect(shippedRules.fingerprint.synonyms["故障"] == nil)
        let shipped = try String(contentsOfFile: directory + "/ipd.yaml", encoding: .utf8)
        let legacy = shipped.replacingOccurrences(
            of: "  ignoreWords:", with: "  synonyms:\n    断电: power\n    宕机: outage\n  ignoreWords:")
        let bundle = try ConfigBundle.decode(files: try files(withIPD: legacy), directory: "cfg", sections: [IPDRules.self])
        let rules = try bundle.section(IPDRules.self)
        #expect(rules.fingerprint.synonyms["断电"] == "power")
        #expect(rules.fingerprint.synonyms["宕机"] == "outage")  // ipd.yaml's own entry wins
        #expect(rules.fingerprint.synonyms["端口"] == "port")
    }

    @Test func missingFileIsReported() throws {
        var all = try files(withIPD: "")
        all["ipd.yaml"] = nil
        #expect(throws: ConfigErrors.self) {
            _ = try ConfigBundle.decode(files: all, directory: "cfg", sections: [IPDRules.self])
        }
    }
}
