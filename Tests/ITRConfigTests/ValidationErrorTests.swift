import Foundation
import Testing
@testable import ITRConfig

/// Copies the shipped configuration to a temp directory, applies edits, loads it.
func loadBroken(_ edits: [String: (String) -> String], extraFiles: [String: String] = [:]) throws -> (String, ConfigErrors?) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("itr-config-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for name in try FileManager.default.contentsOfDirectory(atPath: shippedConfigDirectory) where name.hasSuffix(".yaml") {
        var text = try String(contentsOfFile: shippedConfigDirectory + "/" + name, encoding: .utf8)
        if let edit = edits[name] { text = edit(text) }
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }
    for (name, text) in extraFiles { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
    do {
        _ = try ConfigBundle.load(directory: directory)
        return (directory, nil)
    } catch {
        return (directory, error)
    }
}

/// The 1-based line of the first occurrence of `needle` in the shipped file after editing.
func line(of needle: String, in text: String) -> Int {
    text.components(separatedBy: "\n").firstIndex { $0.contains(needle) }! + 1
}

@Suite struct ValidationErrorTests {
    @Test func badDurationNamesFileLineColumnAndField() throws {
        let edit: (String) -> String = {
            $0.replacingOccurrences(of: "P2: { response: 30m, resolution: 8h }\n      P3: { response: 2h, resolution: 24h }\n      P4: { response: 4h, resolution: 72h }\n      P5: { response: 8h, resolution: 240h }\n\n  - id: gold-eu",
                                    with: "P2: { response: soon, resolution: 8h }\n      P3: { response: 2h, resolution: 24h }\n      P4: { response: 4h, resolution: 72h }\n      P5: { response: 8h, resolution: 240h }\n\n  - id: gold-eu")
        }
        let (directory, errors) = try loadBroken(["catalogue.yaml": edit])
        let error = try #require(errors?.errors.first)
        let edited = edit(try String(contentsOfFile: shippedConfigDirectory + "/catalogue.yaml", encoding: .utf8))
        let expectedLine = line(of: "response: soon", in: edited)
        #expect(errors?.errors.count == 1)
        #expect(error.description == "\(directory)/catalogue.yaml:\(expectedLine):23: packages[0].targets.P2.response: expected a duration like \"4h\", got \"soon\"")
    }

    @Test func allErrorsAcrossFilesAreReportedAtOnce() throws {
        let (directory, errors) = try loadBroken([
            // a contract naming an unknown package
            "contracts.yaml": { $0.replacingOccurrences(of: "package: bronze\n    validFrom: 2025-01-01", with: "package: platinum\n    validFrom: 2025-01-01") },
            // a package naming an unknown calendar
            "catalogue.yaml": { $0.replacingOccurrences(of: "calendar: de-business", with: "calendar: de-office") },
            // an escalation chain naming an unknown tier
            "assignment.yaml": { $0.replacingOccurrences(of: "functional: [L1, L2, L3]", with: "functional: [L1, L2, L4]") },
            // priority matrix incomplete
            "classification.yaml": { $0.replacingOccurrences(of: "  4: [P3, P4, P5, P5]", with: "  4: [P3, P4, P5]") },
            // an unknown field (typo) and a bad date
            "calendars.yaml": { $0.replacingOccurrences(of: "  - id: de-24x7", with: "  - id: de-24x7\n    holiday: []")
                .replacingOccurrences(of: "- 2026-12-26", with: "- 2026-12-32") },
        ])
        let all = try #require(errors).errors
        let text = all.map(\.description)
        func has(_ file: String, _ field: String, _ message: String) -> Bool {
            all.contains { $0.file == "\(directory)/\(file)" && $0.field == field && $0.message.contains(message) && $0.line > 0 }
        }
        #expect(has("contracts.yaml", "contracts[17].package", "unknown package \"platinum\""), "\(text)")
        #expect(has("catalogue.yaml", "packages[3].calendar", "unknown calendar \"de-office\""), "\(text)")
        #expect(has("assignment.yaml", "escalation.functional[2]", "unknown tier \"L4\""), "\(text)")
        #expect(has("classification.yaml", "priorityMatrix.4", "priority matrix incomplete"), "\(text)")
        #expect(has("calendars.yaml", "calendars[3].holiday", "unknown field"), "\(text)")
        #expect(has("calendars.yaml", "calendars[2].holidays[8]", "expected a date"), "\(text)")
        #expect(all == all.sorted())
    }

    @Test func escalationGroupsNameKnownHigherTiers() throws {
        let (directory, errors) = try loadBroken([
            "assignment.yaml": {
                $0.replacingOccurrences(of: "escalateTo: { L3: optical-rd }", with: "escalateTo: { L4: optical-rd }")
                    .replacingOccurrences(of: "escalateTo: { L3: storage-rd }", with: "escalateTo: { L2: storage-rd }")
            },
        ])
        let all = try #require(errors).errors
        let text = all.map(\.description)
        #expect(all.contains { $0.file == "\(directory)/assignment.yaml" && $0.message.contains("unknown tier \"L4\"") && $0.line > 0 }, "\(text)")
        #expect(all.contains { $0.file == "\(directory)/assignment.yaml" && $0.message.contains("escalateTo names higher tiers") }, "\(text)")
    }

    @Test func yamlSyntaxErrorsAndMissingFiles() throws {
        let (directory, errors) = try loadBroken(
            ["quality.yaml": { _ in "resolutionCodes:\n  - code: [unclosed\n" }],
            extraFiles: ["ltc.yaml": "signals: [a, b]\n"])
        let all = try #require(errors).errors
        #expect(all.count == 1)
        #expect(all[0].file == "\(directory)/quality.yaml")
        #expect(all[0].message.hasPrefix("invalid YAML"))
        #expect(all[0].line >= 2)

        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("itr-empty-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        do {
            _ = try ConfigBundle.load(directory: empty)
            Issue.record("an empty directory loaded")
        } catch {
            #expect(error.errors.count == ConfigBundle.coreFiles.count)
            #expect(error.errors.allSatisfy { $0.message == "missing required configuration file" })
        }
    }

    @Test func olaBudgetsMustFitTheSLAAndRulesMustEndWithACatchAll() throws {
        let (_, errors) = try loadBroken([
            "assignment.yaml": { $0.replacingOccurrences(of: "L3: { P1: 2h,", with: "L3: { P1: 5h,")
                .replacingOccurrences(of: "  - id: assign.default\n    group: service-desk-cn\n    tier: L1\n", with: "") },
        ])
        let all = try #require(errors).errors
        #expect(all.contains { $0.field == "ola" && $0.message.contains("OLA budgets for P1 add up to 6h15m") })
        #expect(all.contains { $0.field == "groups" && $0.message.contains("must match everything") })
    }

    struct LTCSignals: ConfigSection {
        static let fileName = "ltc.yaml"
        var signals: [String]
        static func decode(_ root: ConfigNode, core: ConfigBundle) -> LTCSignals? {
            root.checkKeys(["signals"])
            let signals = root.required("signals")?.stringList() ?? []
            for (index, signal) in signals.enumerated() where core.catalogue.price(sku: signal) == nil {
                root["signals"]?.list()?[index].error("unknown sku \"\(signal)\"")
            }
            return LTCSignals(signals: signals)
        }
    }

    @Test func otherModulesAddTheirOwnSections() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("itr-ext-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: shippedConfigDirectory) where name.hasSuffix(".yaml") {
            try FileManager.default.copyItem(atPath: shippedConfigDirectory + "/" + name, toPath: directory + "/" + name)
        }
        try "signals:\n  - RNW-GOLD\n  - RNW-PLATINUM\n".write(toFile: directory + "/ltc.yaml", atomically: true, encoding: .utf8)
        // Without declaring it, the core loads and ignores ltc.yaml (but hashes it).
        let bundle = try ConfigBundle.load(directory: directory)
        #expect(bundle.files["ltc.yaml"] != nil)
        // Declared, its errors are located like the core's.
        do {
            _ = try ConfigBundle.load(directory: directory, sections: [LTCSignals.self])
            Issue.record("unknown sku accepted")
        } catch {
            #expect(error.description == "\(directory)/ltc.yaml:3:5: signals[1]: unknown sku \"RNW-PLATINUM\"")
        }
        #expect(throws: ConfigErrors.self) { try bundle.section(LTCSignals.self) }
    }
}
