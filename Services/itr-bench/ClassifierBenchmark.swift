import Foundation
import Histogram
import ITRConfig
import RouterApp
import TextClassifier

/// The service-type classifier, in this process (no broker):
///
/// 1. the shipped model file on the corpus's held-out eval split (never trained on) and 2. on the
///    outside set (reports by a separate writer): accuracy overall, per language, per type
///    (recall) and the confusion matrix;
/// 3. families held out: `Evaluation.familyHeldOut` over train + eval (5 folds, default
///    training options), an estimate of the accuracy on phrasing never seen in training;
/// 4. before → after on the eval split and the outside set: the previous release's keyword rules
///    alone (`Baseline/`, put in place of the shipped `serviceTypes` list, run by the router's
///    `Classifier` without a model) against the shipped rules + model (`RouterRules.load`);
/// 5. loading the model file (median of 5), its weights, this process's VmRSS before and after
///    loading it, and the time per report of `TextModel.predict` and of the router's whole
///    `Classifier.classify` (rules + model), each over the eval texts for `seconds` after a
///    warm-up round (HdrHistogram of nanoseconds).
struct ClassifierBenchmark {
    var configDirectory: String
    /// The repository, where `Baseline/` is looked for when it is not beside --config's parent.
    var root: String
    var seconds = 2.0
    var folds = 5

    static let baseline = "Services/itr-bench/Baseline/classification-keyword-rules.yaml"

    /// The targets printed beside the figures.
    enum Target {
        static let accuracy = 0.95
        static let typeRecall = 0.90
        static let microsPerReport = 50.0
        static let loadSeconds = 1.0
        static let residentMiB = 10.0
    }

    struct Measured {
        var modelVersion: String
        var heldOut: Evaluation
        /// Eval reports whose family some training report shares (the split holds reports out,
        /// not families).
        var heldOutFamiliesInTraining: Int
        var outside: Evaluation
        var families: Evaluation
        var folds: Int
        var familySeconds: Double
        var before: RulesRun
        var after: RulesRun
        var speed: Speed
    }

    /// The router's `Classifier` over the eval split and the outside set.
    struct RulesRun {
        var eval: Evaluation
        var outside: Evaluation
        /// How many reports each rule id decided (the model's decisions under its id, `st.model`).
        var decidedBy: [String: Int]
        var byModel: Int
        var needsTriage: Int
    }

    struct Speed: Codable, Sendable {
        var loadMillis: [Double]
        var loadMillisMedian: Double
        var weightMiB: Double
        var rssBeforeLoadMiB: Double?
        var rssAfterLoadMiB: Double?
        var predict: Latency
        var classify: Latency

        var residentMiB: Double? { rssAfterLoadMiB.flatMap { after in rssBeforeLoadMiB.map { after - $0 } } }
    }

    struct Latency: Codable, Sendable {
        var reports: UInt64
        var meanMicros: Double
        var p50Micros: Double
        var p99Micros: Double
        var maxMicros: Double

        init(_ nanos: Histogram<UInt64>) {
            reports = nanos.totalCount
            meanMicros = nanos.mean / 1000
            p50Micros = Double(nanos.valueAtPercentile(50)) / 1000
            p99Micros = Double(nanos.valueAtPercentile(99)) / 1000
            maxMicros = Double(nanos.max) / 1000
        }

        var line: String {
            String(format: "mean %.1f µs, p50 %.1f µs, p99 %.1f µs, max %.0f µs", meanMicros, p50Micros, p99Micros, maxMicros) + " (\(reports) reports)"
        }
    }

    // MARK: Measuring

    func run() throws -> Measured {
        let deploy = URL(fileURLWithPath: configDirectory).deletingLastPathComponent()
        let corpus = deploy.appendingPathComponent("classifier").path
        let shipped = try ConfigBundle.load(directory: configDirectory)
        guard let reference = shipped.classification.model else {
            throw BenchError("\(configDirectory)/\(ClassificationSection.fileName) names no model")
        }
        let speedOfLoading = try load((configDirectory as NSString).appendingPathComponent(reference.file))
        let model = speedOfLoading.model

        let labels = Set(model.labels)
        let train = try ExampleFile.read(paths: ["\(corpus)/corpus/train"], labels: labels)
        let eval = try ExampleFile.read(paths: ["\(corpus)/corpus/eval"], labels: labels)
        let outside = try ExampleFile.read(paths: ["\(corpus)/outside/outside.jsonl"], labels: labels)

        let started = PipelineObserver.now()
        let families = try Evaluation.familyHeldOut(train + eval, labels: model.labels, folds: folds, options: TrainingOptions())
        let familySeconds = BenchEnvironment.seconds(PipelineObserver.now() - started)

        let after = try RouterRules.load(directory: configDirectory).classifier
        let before = Classifier(try keywordRules(shipped, deploy: deploy))
        let trainingFamilies = Set(train.compactMap(\.family))
        let facts = eval.map(Self.facts)
        let texts = eval.map(\.text)
        let speed = Speed(
            loadMillis: speedOfLoading.millis, loadMillisMedian: speedOfLoading.millis.sorted()[speedOfLoading.millis.count / 2],
            weightMiB: Double(model.weightBytes) / 1_048_576, rssBeforeLoadMiB: speedOfLoading.rssBefore,
            rssAfterLoadMiB: speedOfLoading.rssAfter,
            predict: Self.latency(count: texts.count, seconds: seconds) { model.predict(texts[$0]).best.probability },
            classify: Self.latency(count: facts.count, seconds: seconds) { Double(after.classify(facts[$0]).impact) })
        return Measured(
            modelVersion: model.version, heldOut: .of(model, on: eval),
            heldOutFamiliesInTraining: eval.count { $0.family.map(trainingFamilies.contains) ?? false },
            outside: .of(model, on: outside), families: families,
            folds: folds, familySeconds: familySeconds, before: Self.run(before, eval: eval, outside: outside, labels: model.labels),
            after: Self.run(after, eval: eval, outside: outside, labels: model.labels), speed: speed)
    }

    /// Reads the model file 5 times; VmRSS before the first read and after it (that model kept).
    private func load(_ path: String) throws -> (model: TextModel, millis: [Double], rssBefore: Double?, rssAfter: Double?) {
        func rss() -> Double? { ChildProcess.memory(process: "self").map { Double($0.rss) / 1_048_576 } }
        func timedRead() throws -> (TextModel, Double) {
            let started = PipelineObserver.now()
            let model = try ModelFile.read(path: path)
            return (model, Double(PipelineObserver.now() - started) / 1e6)
        }
        let rssBefore = rss()
        let (model, first) = try timedRead()
        let rssAfter = rss()
        let millis = try [first] + (1..<5).map { _ in try timedRead().1 }
        return (model, millis, rssBefore, rssAfter)
    }

    /// The shipped configuration with the previous release's keyword rules in place of its
    /// `serviceTypes` list, and no model.
    private func keywordRules(_ shipped: ConfigBundle, deploy: URL) throws -> ConfigBundle {
        let candidates = [deploy.deletingLastPathComponent().path, root].map { ($0 as NSString).appendingPathComponent(Self.baseline) }
        guard let path = candidates.first(where: FileManager.default.fileExists(atPath:)) else {
            throw BenchError("the keyword-rules baseline is missing (looked for \(candidates.joined(separator: ", ")))")
        }
        var files = shipped.files
        files[ClassificationSection.fileName] = Self.replacingServiceTypes(
            in: files[ClassificationSection.fileName] ?? "", with: try String(contentsOfFile: path, encoding: .utf8))
        return try ConfigBundle.decode(files: files, directory: shipped.directory)
    }

    /// `classification` without its top-level `serviceTypes` and `model` keys, followed by
    /// `serviceTypes` (a document holding that key alone).
    static func replacingServiceTypes(in classification: String, with serviceTypes: String) -> String {
        var kept: [Substring] = []
        var dropping = false
        for line in classification.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, first != " ", first != "#" {
                dropping = line.hasPrefix("serviceTypes:") || line.hasPrefix("model:")
            }
            if !dropping { kept.append(line) }
        }
        return kept.joined(separator: "\n") + "\n" + serviceTypes
    }

    static func facts(_ example: LabelledExample) -> ReportFacts {
        ReportFacts(title: example.title, description: example.description ?? "")
    }

    static func run(_ classifier: Classifier, eval: [LabelledExample], outside: [LabelledExample], labels: [String]) -> RulesRun {
        let (evalEvaluation, evalDecisions) = evaluate(classifier, on: eval, labels: labels)
        let (outsideEvaluation, outsideDecisions) = evaluate(classifier, on: outside, labels: labels)
        let decisions = evalDecisions + outsideDecisions
        return RulesRun(
            eval: evalEvaluation, outside: outsideEvaluation, decidedBy: Dictionary(grouping: decisions, by: \.ruleId).mapValues(\.count),
            byModel: decisions.count { $0.by == .model }, needsTriage: decisions.count(where: \.needsTriage))
    }

    /// The router's classifier on `examples` (title and description), grouped by language as
    /// `Evaluation.of` groups a model's; with its decisions.
    static func evaluate(_ classifier: Classifier, on examples: [LabelledExample], labels: [String]) -> (Evaluation, [ServiceTypeDecision]) {
        var evaluation = Evaluation(labels: labels)
        var decisions: [ServiceTypeDecision] = []
        for example in examples {
            let classification = classifier.classify(facts(example))
            evaluation.record(
                truth: example.label, predicted: classification.serviceType.rawValue,
                probability: classification.decision.confidence ?? 1, text: example.text, groups: ["lang=\(example.language)"])
            decisions.append(classification.decision)
        }
        return (evaluation, decisions)
    }

    /// Times `body(i)` for every i of `0..<count`, round after round for `seconds`, after one
    /// untimed round. `body` returns a figure of its work, summed so that the work is kept.
    static func latency(count: Int, seconds: Double, _ body: (Int) -> Double) -> Latency {
        var sum = 0.0
        for i in 0..<count { sum += body(i) }
        var nanos = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        let end = PipelineObserver.now() + UInt64(seconds * 1e9)
        repeat {
            for i in 0..<count {
                let started = PipelineObserver.now()
                sum += body(i)
                nanos.record(PipelineObserver.now() - started)
            }
        } while PipelineObserver.now() < end
        if sum.isNaN { print("(a NaN in the timed work)") }
        return Latency(nanos)
    }
}

// MARK: Reporting

extension ClassifierBenchmark.Measured {
    typealias Target = ClassifierBenchmark.Target

    static func verdict(_ met: Bool) -> String { met ? "met" : "MISSED" }

    /// The lowest recall of any type, with the type.
    static func lowest(_ evaluation: Evaluation) -> (label: String, recall: Double) {
        evaluation.labels.map { ($0, evaluation.recall($0)) }.min { $0.1 < $1.1 } ?? ("-", 0)
    }

    static func accuracyVerdict(_ evaluation: Evaluation) -> String {
        let low = Self.lowest(evaluation)
        return "target ≥ \(Evaluation.percent(Target.accuracy)): \(Self.verdict(evaluation.accuracy >= Target.accuracy)); "
            + "lowest type \(low.label) \(Evaluation.percent(low.recall)), target no type under \(Evaluation.percent(Target.typeRecall)): "
            + Self.verdict(low.recall >= Target.typeRecall)
    }

    var report: String {
        var lines: [String] = []
        lines.append("model \(modelVersion)")
        lines.append("")
        lines.append(heldOut.report(title: "1. held-out eval split (never trained on)"))
        lines.append("  \(heldOutFamiliesInTraining) of \(heldOut.total) of these reports belong to a family that training has (see 3.)")
        lines.append("  " + Self.accuracyVerdict(heldOut))
        lines.append("")
        lines.append(outside.report(title: "2. outside set (a separate writer)"))
        lines.append("  " + Self.accuracyVerdict(outside))
        lines.append("")
        lines.append(families.report(title: "3. families held out (\(families.total) reports of train + eval, \(folds) folds, default training options)"))
        lines.append("  estimates the accuracy on phrasing never seen in training (whole symptom families left out of each model)")
        lines.append(String(format: "  (%.1f s to train and predict the folds)", familySeconds))
        lines.append("  no target of its own (the issue's targets are on the held-out split); printed beside it as the estimate for reports of kinds the corpus lacks")
        lines.append("")
        lines.append(contentsOf: comparison)
        lines.append("")
        lines.append(contentsOf: speedLines)
        return lines.joined(separator: "\n")
    }

    /// Before → after side by side: overall, per language, per type (recall).
    private var comparison: [String] {
        let columns = [before.eval, after.eval, before.outside, after.outside]
        let languages = Set(columns.flatMap(\.groups.keys)).sorted()
        let width = max(24, (heldOut.labels.map(\.count).max() ?? 0) + 11)
        func row(_ name: String, _ value: (Evaluation) -> Double) -> String {
            "  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                + columns.map { Evaluation.percent(value($0)).padding(toLength: 9, withPad: " ", startingAt: 0) }.joined()
        }
        var lines = [
            "4. before → after: the previous release's keyword rules alone (764c423) → the shipped rules + model",
            "  " + "".padding(toLength: width, withPad: " ", startingAt: 0)
                + "eval split (\(after.eval.total))".padding(toLength: 18, withPad: " ", startingAt: 0) + "outside set (\(after.outside.total))",
            "  " + "".padding(toLength: width, withPad: " ", startingAt: 0) + "before   after    before   after",
            row("overall", \.accuracy),
        ]
        for language in languages { lines.append(row(language) { $0.groups[language]?.accuracy ?? 0 }) }
        for label in heldOut.labels { lines.append(row("\(label) (recall)") { $0.recall(label) }) }
        let reports = after.eval.total + after.outside.total
        lines.append("  before: \(before.decidedBy["st.default"] ?? 0) of \(reports) reports matched no keyword (st.default)")
        lines.append(
            "  after: \(after.byModel) of \(reports) decided by the model, \(reports - after.byModel) by an explicit-signal rule "
                + "(only title and description are given: no category hint, channel or alarm code); \(after.needsTriage) below minConfidence (needs-triage)")
        return lines
    }

    private var speedLines: [String] {
        var lines = ["5. speed and memory"]
        let load = speed.loadMillisMedian
        lines.append(
            String(format: "  model load (ModelFile.read): median %.1f ms of 5", load)
                + " (\(speed.loadMillis.map { String(format: "%.1f", $0) }.joined(separator: ", ")))"
                + "; target < \(Int(Target.loadSeconds)) s: \(Self.verdict(load / 1000 < Target.loadSeconds))")
        lines.append(String(format: "  model weights: %.2f MiB", speed.weightMiB))
        if let before = speed.rssBeforeLoadMiB, let after = speed.rssAfterLoadMiB, let resident = speed.residentMiB {
            lines.append(
                String(format: "  VmRSS: %.1f MiB before loading, %.1f MiB after: %.1f MiB for the model", before, after, resident)
                    + "; target < \(Int(Target.residentMiB)) MiB: \(Self.verdict(resident < Target.residentMiB))")
        } else {
            lines.append("  VmRSS: not available (no /proc/self/status)")
        }
        for (name, latency) in [("model.predict", speed.predict), ("Classifier.classify (rules + model)", speed.classify)] {
            lines.append(
                "  \(name): \(latency.line); target ≤ \(Int(Target.microsPerReport)) µs per report: mean \(Self.verdict(latency.meanMicros <= Target.microsPerReport)), "
                    + "p99 \(Self.verdict(latency.p99Micros <= Target.microsPerReport))")
        }
        return lines
    }

    // MARK: JSON

    struct Figures: Codable, Sendable {
        var reports: Int
        var accuracy: Double
        var languages: [String: Double]
        var recall: [String: Double]
        var lowestRecall: Double
        var labels: [String]
        /// Rows: truth, columns: predicted, in `labels` order.
        var confusion: [[Int]]

        init(_ evaluation: Evaluation) {
            reports = evaluation.total
            accuracy = evaluation.accuracy
            languages = Dictionary(uniqueKeysWithValues: evaluation.groups.map { (String($0.key.dropFirst("lang=".count)), $0.value.accuracy) })
            recall = Dictionary(uniqueKeysWithValues: evaluation.labels.map { ($0, evaluation.recall($0)) })
            lowestRecall = recall.values.min() ?? 0
            labels = evaluation.labels
            confusion = evaluation.confusion
        }
    }

    struct Sides: Codable, Sendable {
        var eval: Figures
        var outside: Figures
        var decidedBy: [String: Int]
        var byModel: Int
        var needsTriage: Int
    }

    struct Result: Codable, Sendable {
        var benchmark = "classifier"
        var modelVersion: String
        var heldOut: Figures
        var heldOutFamiliesInTraining: Int
        var outside: Figures
        var familyHeldOut: Figures
        var keywordRules: Sides
        var rulesAndModel: Sides
        var speed: ClassifierBenchmark.Speed
    }

    var result: Result {
        func sides(_ run: ClassifierBenchmark.RulesRun) -> Sides {
            Sides(eval: Figures(run.eval), outside: Figures(run.outside), decidedBy: run.decidedBy, byModel: run.byModel, needsTriage: run.needsTriage)
        }
        return Result(
            modelVersion: modelVersion, heldOut: Figures(heldOut), heldOutFamiliesInTraining: heldOutFamiliesInTraining, outside: Figures(outside), familyHeldOut: Figures(families),
            keywordRules: sides(before), rulesAndModel: sides(after), speed: speed)
    }
}
