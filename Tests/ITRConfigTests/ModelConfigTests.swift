import Foundation
import Testing
import TextClassifier
@testable import ITRConfig

/// `classification.yaml` `model:` and the model file it names: every mistake is reported with
/// the file (and line) it is in.
@Suite struct ModelConfigTests {
    @Test func shippedModelLoadsWithTheRules() throws {
        let bundle = try ConfigBundle.load(directory: shippedConfigDirectory)
        let reference = try #require(bundle.classification.model)
        #expect(reference.file == "models/service-type.itrm" && reference.id == "st.model")
        #expect(reference.minConfidence > 0 && reference.minConfidence < 1)
        let model = try #require(try bundle.serviceTypeModel())
        #expect(model.labels.count == 7)
        #expect(bundle.assignment.triageTarget.group == "service-desk-triage")
    }

    @Test func aCatchAllRuleWouldHideTheModel() throws {
        let (directory, errors) = try loadBroken([
            "classification.yaml": {
                $0.replacingOccurrences(
                    of: "    serviceType: new-requirement\n",
                    with: "    serviceType: new-requirement\n  - id: st.default\n    serviceType: software-operation\n")
            },
        ])
        let all = try #require(errors).errors
        #expect(all.contains {
            $0.file == "\(directory)/classification.yaml" && $0.line > 0 && $0.message.contains("the model would never decide")
        }, "\(all)")
    }

    @Test func withoutAModelTheRulesNeedACatchAll() throws {
        let (_, errors) = try loadBroken([
            "classification.yaml": {
                $0.replacingOccurrences(of: "model:\n  file: models/service-type.itrm\n  minConfidence: 0.45\n", with: "")
            },
        ])
        #expect(try #require(errors).errors.contains { $0.field == "serviceTypes" && $0.message.contains("must match everything") })
    }

    @Test func badModelSettings() throws {
        let (directory, errors) = try loadBroken([
            "classification.yaml": {
                $0.replacingOccurrences(of: "  file: models/service-type.itrm\n  minConfidence: 0.45", with: "  file: ../elsewhere.itrm\n  minConfidence: 1.5\n  threshold: 2")
            },
        ])
        let all = try #require(errors).errors
        let file = "\(directory)/classification.yaml"
        #expect(all.contains { $0.file == file && $0.field == "model.file" && $0.message.contains("relative to the configuration directory") }, "\(all)")
        #expect(all.contains { $0.file == file && $0.field == "model.minConfidence" && $0.message.contains("at most 100%") }, "\(all)")
        #expect(all.contains { $0.file == file && $0.field == "model.threshold" && $0.message.contains("unknown field") }, "\(all)")
    }

    @Test func theModelFileIsCheckedAtLoad() throws {
        let (directory, errors) = try loadBroken([:])
        #expect(errors == nil)
        let bundle = try ConfigBundle.load(directory: directory)
        func message() -> String {
            do {
                _ = try bundle.serviceTypeModel()
                return ""
            } catch {
                return error.description
            }
        }
        let path = "\(directory)/models/service-type.itrm"
        // Missing (loadBroken copies only the YAML files).
        #expect(message().contains("\(path): model file not found (the service-type model named by classification.yaml model.file)"))
        try FileManager.default.createDirectory(atPath: "\(directory)/models", withIntermediateDirectories: true)
        try Data("ITRTXTM1 but nothing else".utf8).write(to: URL(fileURLWithPath: path))
        #expect(message().contains("corrupt or truncated"))
        // A model of other labels than the service types.
        let other = try Trainer.train(
            [.init(title: "a", label: "x"), .init(title: "b", label: "hardware-fault")], labels: ["x", "hardware-fault"],
            options: TrainingOptions(features: FeatureSettings(buckets: 64), epochs: 1))
        try ModelFile.write(other, to: path)
        #expect(message().contains("the model's labels are not the service types: missing complaint"))
        #expect(message().contains("unknown x"))
    }
}
