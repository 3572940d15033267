import Foundation
import ITREvents
import Testing
@testable import IPDApp

@Suite struct FingerprintTests {
    let recipe = shippedRules.fingerprint

    func fp(_ text: String, code: String? = nil, component: String? = "TN12LSX", model: String? = "OSN 8800 T32") -> DefectFingerprint {
        DefectFingerprint(productLine: "OptiX OSN 8800", model: model, component: component, code: code, symptomText: text, recipe: recipe)
    }

    @Test func sameSymptomInChineseAndEnglishIsOneDefect() {
        let en = fp("Port 3 down after upgrade to V100R012")
        let zh = fp("升级后端口3宕机了")
        let en2 = fp("UPGRADE: interface GE0/0/1 DOWN (#4711)")
        #expect(en.symptom == "down port upgrade")
        #expect(en.key == zh.key)
        #expect(en.key == en2.key)
        #expect(en.defectId == zh.defectId)
        #expect(en.defectId.hasPrefix("DEF-") && en.defectId.count == 16)
    }

    @Test func versionIsNeverPartOfTheFingerprint() {
        let a = fp("内存泄漏导致单板复位 V100R011")
        let b = fp("memory leak causes board reset in V100R012C10")
        #expect(a.key == b.key)
        #expect(!a.key.contains("v100"))
    }

    @Test func withACodeTheTextDoesNotMatter() {
        let a = fp("光功率过低", code: "OPT-0012")
        let b = fp("Optical power too low on line port, customer angry", code: "opt-0012 ")
        #expect(a.key == b.key)
        #expect(a.key.contains("code=opt-0012"))
        #expect(!a.key.contains("symptom="))
    }

    @Test func differentDefectsStayApart() {
        let base = fp("port down after upgrade")
        #expect(base.key != fp("port down after upgrade", component: "TN54NS4").key)
        #expect(base.key != fp("port down after upgrade", model: "OSN 9800").key)
        #expect(base.key != fp("fan failure alarm").key)
        #expect(fp("x", code: "OPT-0012").key != fp("x", code: "OPT-0013").key)
        #expect(base.digest != fp("fan failure alarm").digest)
    }

    @Test func symptomAlwaysIncludedWhenConfigured() {
        var always = recipe
        always.symptomUse = .always
        let a = DefectFingerprint(productLine: "p", model: nil, component: nil, code: "E1", symptomText: "fan fail", recipe: always)
        let b = DefectFingerprint(productLine: "p", model: nil, component: nil, code: "E1", symptomText: "port down", recipe: always)
        #expect(a.key != b.key)
    }

    @Test func versionsOrderNumerically() {
        #expect(["V2R10", "V2R5", "V1R9"].sorted(by: VersionOrder.less) == ["V1R9", "V2R5", "V2R10"])
    }
}
