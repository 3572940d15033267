import Foundation
import Testing
@testable import TextClassifier

/// A small bilingual fixture: three labels, enough for a model to separate them.
enum Fixture {
    static let labels = ["hardware-fault", "software-operation", "complaint"]
    static let examples: [LabelledExample] = [
        .init(title: "Fan failure on chassis", label: "hardware-fault", family: "fan"),
        .init(title: "fan tray broken, temperature rising", label: "hardware-fault", family: "fan"),
        .init(title: "风扇故障，设备温度过高", label: "hardware-fault", family: "fan"),
        .init(title: "风扇模块损坏", label: "hardware-fault", family: "fan"),
        .init(title: "Power supply dead, red LED", label: "hardware-fault", family: "psu"),
        .init(title: "电源模块故障", label: "hardware-fault", family: "psu"),
        .init(title: "PSU failed after power cut", label: "hardware-fault", family: "psu"),
        .init(title: "How do I configure a VLAN?", label: "software-operation", family: "vlan"),
        .init(title: "如何配置VLAN", label: "software-operation", family: "vlan"),
        .init(title: "怎么配置BGP邻居", label: "software-operation", family: "bgp"),
        .init(title: "How to configure BGP neighbours", label: "software-operation", family: "bgp"),
        .init(title: "which command shows the routing table", label: "software-operation", family: "cmd"),
        .init(title: "查看路由表用什么命令", label: "software-operation", family: "cmd"),
        .init(title: "Engineer was rude and late, we are unhappy", label: "complaint", family: "staff"),
        .init(title: "工程师态度很差，我们要投诉", label: "complaint", family: "staff"),
        .init(title: "投诉：响应太慢", label: "complaint", family: "slow"),
        .init(title: "Your support is far too slow, formal complaint", label: "complaint", family: "slow"),
        .init(title: "对服务非常不满意", label: "complaint", family: "staff"),
    ]

    static let options = TrainingOptions(
        features: FeatureSettings(buckets: 1 << 12), epochs: 30, trainedAt: Date(timeIntervalSince1970: 1_800_000_000))

    static func model() throws -> TextModel {
        try Trainer.train(examples, labels: labels, options: options)
    }
}

@Suite struct FeatureTests {
    let extractor = FeatureExtractor(FeatureSettings(buckets: 1 << 16))

    @Test func fullWidthAndCaseAreNormalised() {
        #expect(extractor.features("ＦＡＮ Ｆａｉｌｕｒｅ") == extractor.features("fan failure"))
        #expect(extractor.features("FAN FAILURE") == extractor.features("fan failure"))
    }

    @Test func digitsAreOneShape() {
        #expect(extractor.features("need 40 more ports") == extractor.features("need 48 more ports"))
        #expect(extractor.features("V200R019C10 crash") == extractor.features("V300R001C00 crash"))
        #expect(extractor.features("need 4 more ports") != extractor.features("need 40 more ports"))
    }

    @Test func hanRunsGiveCharacterNGrams() {
        // 4 characters: 4 unigrams + 3 bigrams + 2 trigrams.
        #expect(extractor.features("风扇故障").rows.count == 9)
        // Punctuation splits runs: 2 + 1 per two-character run.
        #expect(extractor.features("风扇，故障").rows.count == 6)
    }

    @Test func latinWordsGiveWordPairAndSubwords() {
        // "fan": word + "<fan>" n-grams of 3...5: <fa fan an> (3) <fan fan> (2) <fan> (1) = 1 + 6.
        #expect(extractor.features("fan").rows.count == 7)
        // Two words add one pair.
        let two = extractor.features("fan fan").rows.count
        #expect(two == 15)
        var settings = extractor.settings
        settings.wordPairs = false
        #expect(FeatureExtractor(settings).features("fan fan").rows.count == 14)
    }

    @Test func weightGivesUnitLength() {
        let vector = extractor.features("Switch reboots after the upgrade, 交换机升级后反复重启")
        #expect(abs(Float(vector.rows.count) * vector.weight * vector.weight - 1) < 1e-5)
        #expect(extractor.features("").isEmpty)
        #expect(extractor.features("!!! ...").isEmpty)
    }

    @Test func hashingIsFixed() {
        // The same on every platform and run (FNV-1a + SplitMix finaliser, no seeded Hasher): a
        // model file trained anywhere classifies alike everywhere.
        #expect(FeatureExtractor.hash([0x66, 0x61, 0x6E], seed: FeatureExtractor.wordSeed) == 0x84E1_515B_2DC3_6158)
        let first = extractor.features("硬盘故障 disk failure").rows
        for _ in 0..<3 { #expect(extractor.features("硬盘故障 disk failure").rows == first) }
    }

    @Test func settingsAreChecked() {
        #expect(!FeatureSettings(buckets: 1000).problems.isEmpty)
        #expect(!FeatureSettings(subwordMin: 4, subwordMax: 3).problems.isEmpty)
        #expect(!FeatureSettings(hanMax: 0).problems.isEmpty)
        #expect(FeatureSettings().problems.isEmpty)
    }
}

@Suite struct TrainingTests {
    @Test func trainingIsDeterministic() throws {
        let a = try ModelFile.encode(try Fixture.model())
        let b = try ModelFile.encode(try Fixture.model())
        #expect(a == b)
        var other = Fixture.options
        other.seed += 1
        let c = try ModelFile.encode(try Trainer.train(Fixture.examples, labels: Fixture.labels, options: other))
        #expect(c != a)
    }

    @Test func learnsTheFixtureAndGeneralisesToNearPhrasing() throws {
        let model = try Fixture.model()
        #expect(model.header.training?.trainingAccuracy == 1)
        #expect(model.predict("the fan is broken").best.label == "hardware-fault")
        #expect(model.predict("电源坏了").best.label == "hardware-fault")
        #expect(model.predict("how can I configure OSPF").best.label == "software-operation")
        #expect(model.predict("服务太差，投诉").best.label == "complaint")
    }

    @Test func predictionIsAProbabilityRanking() throws {
        let model = try Fixture.model()
        let prediction = model.predict("fan failure")
        #expect(prediction.ranked.count == 3)
        #expect(abs(prediction.ranked.map(\.probability).reduce(0, +) - 1) < 1e-5)
        #expect(prediction.ranked == prediction.ranked.sorted { $0.probability > $1.probability })
        #expect(prediction.runnerUp != nil && prediction.runnerUp!.label != prediction.best.label)
        // Same model, same text, same answer.
        #expect(model.predict("fan failure") == prediction)
        // No features: the bias decides, and the model is unsure.
        #expect(model.predict("...").best.probability < 0.6)
    }

    @Test func defaultVersionNamesDayAndChecksum() throws {
        let model = try Fixture.model()
        #expect(model.version.hasPrefix("service-type-20270115-"))
        #expect(model.version.count == "service-type-20270115-".count + 8)
        var named = Fixture.options
        named.version = "st-2026.12"
        #expect(try Trainer.train(Fixture.examples, labels: Fixture.labels, options: named).version == "st-2026.12")
    }

    @Test func refusesWhatCannotBeTrained() {
        #expect(throws: Trainer.Failure.self) { try Trainer.train([], labels: Fixture.labels) }
        #expect(throws: Trainer.Failure.self) { try Trainer.train(Fixture.examples, labels: ["hardware-fault"]) }
        #expect(throws: Trainer.Failure.self) {
            try Trainer.train([.init(title: "x", label: "nope")], labels: Fixture.labels)
        }
    }
}

@Suite struct ModelFileTests {
    @Test func roundTripKeepsEveryWeight() throws {
        let model = try Fixture.model()
        let data = try ModelFile.encode(model)
        let read = try ModelFile.decode(data)
        #expect(read.header == model.header)
        #expect(read.weights == model.weights && read.bias == model.bias)
        for example in Fixture.examples { #expect(read.predict(example.text) == model.predict(example.text)) }
    }

    @Test func writeReplacesAtomically() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("itrm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("m.itrm").path
        let model = try Fixture.model()
        try ModelFile.write(model, to: path)
        try ModelFile.write(model, to: path)  // over an existing file
        #expect(try ModelFile.read(path: path).version == model.version)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(leftovers == ["m.itrm"])
    }

    func expectError(_ data: Data, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ModelFile.decode(data)
            Issue.record("decoded a bad file", sourceLocation: sourceLocation)
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyDamageIsNamed() throws {
        let good = try ModelFile.encode(try Fixture.model())
        expectError(Data("not a model at all".utf8), "does not start with")
        expectError(Data(), "does not start with")
        var otherFormat = good
        otherFormat[7] = UInt8(ascii: "2")
        expectError(otherFormat, "format 2 is not supported")
        expectError(good.prefix(good.count - 100), "checksum")
        var flipped = good
        flipped[good.count / 2] ^= 0x40
        expectError(flipped, "corrupt")
        expectError(good + Data([0]), "checksum")
    }

    @Test func structuralProblemsBehindAValidChecksum() throws {
        // Rebuild files with a correct checksum but a bad body: each check stands on its own.
        func sealed(_ body: [UInt8]) -> Data {
            var bytes = body
            ModelFile.append(&bytes, ModelFile.checksum(bytes))
            return Data(bytes)
        }
        func header(_ json: String) -> [UInt8] {
            var bytes = ModelFile.magic
            ModelFile.append(&bytes, UInt32(json.utf8.count))
            bytes += Array(json.utf8)
            return bytes
        }
        let features = #"{"buckets":16,"subwordMin":3,"subwordMax":5,"hanMax":3,"wordPairs":true}"#
        expectError(sealed(header("{}")), "header is not valid")
        expectError(
            sealed(header(#"{"name":"x","version":"v","labels":["a"],"features":\#(features)}"#)), "at least two labels")
        expectError(
            sealed(header(#"{"name":"x","version":"v","labels":["a","a"],"features":\#(features)}"#)), "labels repeat")
        let bad = #"{"buckets":17,"subwordMin":3,"subwordMax":5,"hanMax":3,"wordPairs":true}"#
        expectError(sealed(header(#"{"name":"x","version":"v","labels":["a","b"],"features":\#(bad)}"#)), "power of two")
        var truncated = header(#"{"name":"x","version":"v","labels":["a","b"],"features":\#(features)}"#)
        ModelFile.append(&truncated, Float(0).bitPattern)
        expectError(sealed(truncated), "truncated in the bias")
        var outOfRange = truncated
        ModelFile.append(&outOfRange, Float(0).bitPattern)
        ModelFile.append(&outOfRange, UInt32(1))
        ModelFile.append(&outOfRange, UInt32(99))
        ModelFile.append(&outOfRange, Float(1).bitPattern)
        ModelFile.append(&outOfRange, Float(1).bitPattern)
        expectError(sealed(outOfRange), "out of order or beyond 16")
        var notFinite = truncated
        ModelFile.append(&notFinite, Float(0).bitPattern)
        ModelFile.append(&notFinite, UInt32(1))
        ModelFile.append(&notFinite, UInt32(3))
        ModelFile.append(&notFinite, Float.nan.bitPattern)
        ModelFile.append(&notFinite, Float(1).bitPattern)
        expectError(sealed(notFinite), "not a finite number")
    }
}

@Suite struct ExampleFileTests {
    @Test func readsBothLabelSpellingsAndSkipsComments() throws {
        let text = """
            # a comment
            {"title": "fan failure", "serviceType": "hardware-fault", "lang": "en", "family": "fan"}

            {"title": "如何配置", "description": "VLAN", "label": "software-operation", "ticketId": "T-1"}
            """
        let examples = try ExampleFile.parse(text, file: "x.jsonl", labels: Set(Fixture.labels))
        #expect(examples.count == 2)
        #expect(examples[1].label == "software-operation" && examples[1].text == "如何配置\nVLAN")
        #expect(examples[1].language == "zh")
    }

    @Test func problemsNameTheLine() {
        func message(_ text: String) -> String {
            do {
                _ = try ExampleFile.parse(text, file: "c.jsonl", labels: Set(Fixture.labels))
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(message("{\"title\": \"a\", \"serviceType\": \"complaint\"}\n{\"title\": \"b\"}").hasPrefix("c.jsonl:2:"))
        #expect(message("{\"title\": \"a\", \"serviceType\": \"nope\"}").contains("unknown label \"nope\""))
        #expect(message("{\"title\": \" \", \"serviceType\": \"complaint\"}").contains("title is empty"))
        #expect(message("not json").hasPrefix("c.jsonl:1:"))
    }

    @Test func languageGuess() {
        #expect(LabelledExample.guessLanguage("Fan failure") == "en")
        #expect(LabelledExample.guessLanguage("风扇故障") == "zh")
        #expect(LabelledExample.guessLanguage("升级后BGP neighbor一直flapping and never recovers") == "mixed")
    }

    @Test func encodeReadsBack() throws {
        let text = ExampleFile.encode(Fixture.examples)
        #expect(try ExampleFile.parse(text, file: "x") == Fixture.examples)
    }
}

@Suite struct EvaluationTests {
    @Test func confusionRecallPrecision() {
        var evaluation = Evaluation(labels: ["a", "b"])
        evaluation.record(truth: "a", predicted: "a", groups: ["lang=en"])
        evaluation.record(truth: "a", predicted: "b", groups: ["lang=zh"])
        evaluation.record(truth: "b", predicted: "b", groups: ["lang=zh"])
        evaluation.record(truth: "b", predicted: "b", groups: ["lang=en"])
        #expect(evaluation.accuracy == 0.75)
        #expect(evaluation.confusion == [[1, 1], [0, 2]])
        #expect(evaluation.recall("a") == 0.5 && evaluation.recall("b") == 1)
        #expect(abs(evaluation.precision("b") - 2.0 / 3) < 1e-9)
        #expect(evaluation.groups["lang=zh"]?.accuracy == 0.5)
        let report = evaluation.report(title: "t", showMisses: 5)
        #expect(report.contains("accuracy 75.0% (3/4)"))
        #expect(report.contains("a → b"))
    }

    @Test func familyHeldOutNeverTrainsOnTheFamilyItPredicts() throws {
        // Each family's examples carry a unique marker word; a model that saw the family would
        // learn the marker. Held out, every prediction comes from a model without that family.
        let evaluation = try Evaluation.familyHeldOut(
            Fixture.examples, labels: Fixture.labels, folds: 3, options: Fixture.options)
        #expect(evaluation.total == Fixture.examples.count)
        var foldOfFamily: [String: Int] = [:]
        for example in Fixture.examples {
            let fold = Evaluation.fold(of: example, folds: 3)
            #expect(foldOfFamily[example.family!, default: fold] == fold)
            foldOfFamily[example.family!] = fold
        }
        #expect(Set(foldOfFamily.values).count > 1)
    }
}
