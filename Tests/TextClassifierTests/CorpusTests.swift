import Foundation
import Testing
import TextClassifier

/// The shipped corpus and model: what the issue asks of them, checked on the files themselves.
@Suite struct CorpusTests {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()
    static let labels = [
        "hardware-fault", "preventive-maintenance", "software-fault", "software-operation", "non-technical",
        "new-requirement", "complaint",
    ]
    static func corpus(_ split: String) throws -> [LabelledExample] {
        try ExampleFile.read(paths: [root.appendingPathComponent("deploy/classifier/corpus/\(split)").path], labels: Set(labels))
    }

    @Test func corpusIsLargeBilingualAndCoversEveryType() throws {
        let train = try Self.corpus("train")
        let eval = try Self.corpus("eval")
        #expect(train.count + eval.count >= 2_000)
        #expect(eval.count >= 400)
        for label in Self.labels {
            let all = (train + eval).filter { $0.label == label }
            #expect(all.count >= 250, "\(label): \(all.count)")
            for lang in ["zh", "en", "mixed"] {
                #expect(all.filter { $0.language == lang }.count >= 20, "\(label) \(lang)")
            }
            // Short one-liners and long reports both.
            #expect(all.filter { $0.description == nil }.count >= 50, "\(label): title-only")
            #expect(all.filter { ($0.description?.count ?? 0) >= 120 }.count >= 20, "\(label): long")
            #expect(Set(all.compactMap(\.family)).count >= 10, "\(label): families")
        }
        // Every example has a family, and no family spans two labels.
        #expect((train + eval).allSatisfy { $0.family?.isEmpty == false })
        var labelOfFamily: [String: String] = [:]
        for example in train + eval {
            let family = example.family!
            #expect(labelOfFamily[family, default: example.label] == example.label, "\(family)")
            labelOfFamily[family] = example.label
        }
    }

    @Test func evaluationSplitIsDisjointFromTraining() throws {
        func key(_ e: LabelledExample) -> String { e.text.lowercased().trimmingCharacters(in: .whitespacesAndNewlines) }
        let train = Set(try Self.corpus("train").map(key))
        let eval = try Self.corpus("eval").map(key)
        #expect(eval.filter(train.contains).isEmpty)
        #expect(Set(eval).count == eval.count)
    }

    @Test func shippedModelMeetsItsTargetsOnTheHeldOutSplit() throws {
        let model = try ModelFile.read(path: Self.root.appendingPathComponent("deploy/config/models/service-type.itrm").path)
        #expect(Set(model.labels) == Set(Self.labels))
        #expect(model.weightBytes < 10 * 1_048_576)
        // Trained on the training split only.
        #expect(model.header.training?.sources.allSatisfy { !$0.contains("/eval") } == true)
        let evaluation = Evaluation.of(model, on: try Self.corpus("eval"))
        let report = evaluation.report(title: "held-out", showMisses: 10)
        #expect(evaluation.accuracy >= 0.95, "\(report)")
        for label in Self.labels { #expect(evaluation.recall(label) >= 0.90, "\(label)\n\(report)") }
        for lang in ["zh", "en"] { #expect((evaluation.groups["lang=\(lang)"]?.accuracy ?? 0) >= 0.90, "\(lang)\n\(report)") }
    }
}
