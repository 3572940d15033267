import Foundation
import Testing
@testable import ITRConfig

@Suite struct SymptomSynonymsTests {
    static let shipped: SymptomSynonyms = {
        (try? ConfigBundle.load(directory: shippedConfigDirectory))?.problems.synonyms ?? .none
    }()

    func fingerprint(_ title: String, description: String = "", synonyms: SymptomSynonyms = shipped) -> IncidentFingerprint {
        IncidentFingerprint(
            productLine: "CloudEngine", model: "CE6881", version: "V200R022", component: "PSU", alarmCode: nil,
            title: title, description: description, synonyms: synonyms)
    }

    @Test func shippedTableIsLoaded() {
        #expect(Self.shipped["宕机"] == "down")
        #expect(Self.shipped["Power Supply"] == "power")
        #expect(Self.shipped["PACKET   LOSS"] == "packetloss")
        #expect(Self.shipped.terms.count > 40)
    }

    @Test func chineseAndEnglishReportsOfOneFaultShareTheDigest() {
        let zh = fingerprint("电源模块故障", description: "电源模块2故障！")
        let en = fingerprint("Power Module FAILURE", description: "power module 2 failure")
        #expect(zh.symptom == "fail module power")
        #expect(zh.digest == en.digest)
        #expect(zh.key == en.key)
        // Without the table the two reports share no word.
        #expect(fingerprint("电源模块故障", synonyms: .none).digest != fingerprint("power module failure", synonyms: .none).digest)
    }

    @Test func unrelatedSymptomsStayApart() {
        let power = fingerprint("电源模块故障")
        #expect(power.digest != fingerprint("fan failure").digest)
        #expect(power.digest != fingerprint("风扇故障").digest)
        #expect(power.digest != fingerprint("端口宕机").digest)
        #expect(fingerprint("端口宕机").digest == fingerprint("interface down").digest)
    }

    @Test func englishTermsMatchWholeWordsChineseTermsAsSubstrings() {
        let table = Self.shipped
        // `down` inside `download`, `reset` inside `resetting`: no match.
        #expect(SymptomNormalizer.normalize("download stalls", synonyms: table) == "download stalls")
        #expect(SymptomNormalizer.normalize("resetting counters", synonyms: table) == "counters resetting")
        // Case-insensitive, multi-word terms across any whitespace, punctuation as boundaries.
        #expect(SymptomNormalizer.normalize("Packet\n Loss on uplink; RESET needed", synonyms: table) == "needed packetloss reboot uplink")
        #expect(SymptomNormalizer.normalize("port-down", synonyms: table) == "down port")
        // A run the normalizer drops as an id stays dropped.
        #expect(SymptomNormalizer.normalize("ge0/0/1-down", synonyms: table) == "")
        // Chinese as substrings, longest term first.
        #expect(SymptomNormalizer.normalize("板卡内存泄漏后复位", synonyms: table) == "board memoryleak reboot 后")
        #expect(SymptomNormalizer.normalize("BGP邻居震荡", synonyms: table) == "bgp flapping neighbor")
    }

    @Test func invalidEntriesAreLocated() throws {
        let broken: (String) -> String = {
            $0.replacingOccurrences(of: "  power: [电源, power supply]\n", with: "  power: [电源, \"\", \"1234\"]\n  two words: [双字]\n")
                .replacingOccurrences(of: "  module: [模块]\n", with: "  module: [模块]\n  unit: [模块]\n")
        }
        let (directory, caught) = try loadBroken(["problems.yaml": broken])
        let errors = try #require(caught).errors
        let edited = broken(try String(contentsOfFile: shippedConfigDirectory + "/problems.yaml", encoding: .utf8))
        let file = "\(directory)/problems.yaml"
        #expect(errors.allSatisfy { $0.file == file && $0.line > 0 && $0.column > 0 })
        let powerLine = line(of: "  power: [电源,", in: edited)
        #expect(errors.contains { $0.line == powerLine && $0.field == "synonyms.power[1]" && $0.message == "empty synonym term" })
        #expect(errors.contains { $0.line == powerLine && $0.field == "synonyms.power[2]" && $0.message.contains("\"1234\"") })
        #expect(errors.contains {
            $0.line == line(of: "two words:", in: edited) && $0.field == "synonyms.two words" && $0.message.contains("one word")
        })
        #expect(errors.contains {
            $0.line == line(of: "unit:", in: edited) && $0.field == "synonyms.unit[0]"
                && $0.message.contains("already a synonym of \"module\"")
        })
        #expect(errors.count == 4)
    }

    @Test func tableIsOptional() throws {
        let (_, caught) = try loadBroken(["problems.yaml": { String($0[..<$0.range(of: "synonyms:\n")!.lowerBound]) }])
        #expect(caught == nil)
    }
}
