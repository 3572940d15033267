import Foundation

/// Accuracy and the confusion matrix of predictions against labels, overall and per group
/// (e.g. per language).
public struct Evaluation: Sendable {
    public let labels: [String]
    /// `confusion[truth][predicted]`, indices into `labels`.
    public private(set) var confusion: [[Int]]
    public private(set) var groups: [String: Tally] = [:]
    public private(set) var misses: [Miss] = []

    public struct Tally: Sendable, Hashable {
        public var correct = 0
        public var total = 0
        public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
    }

    public struct Miss: Sendable, Hashable {
        public var text: String
        public var truth: String
        public var predicted: String
        public var probability: Double
    }

    public init(labels: [String]) {
        self.labels = labels
        confusion = Array(repeating: Array(repeating: 0, count: labels.count), count: labels.count)
    }

    /// Records one prediction; a label outside `labels` counts as a miss in an "other" column
    /// that the matrix does not show.
    public mutating func record(truth: String, predicted: String, probability: Double = 1, text: String = "", groups: [String] = []) {
        let correct = truth == predicted
        if let t = labels.firstIndex(of: truth), let p = labels.firstIndex(of: predicted) {
            confusion[t][p] += 1
        }
        for group in groups {
            self.groups[group, default: Tally()].total += 1
            if correct { self.groups[group, default: Tally()].correct += 1 }
        }
        overallTally.total += 1
        if correct {
            overallTally.correct += 1
        } else {
            misses.append(Miss(text: text, truth: truth, predicted: predicted, probability: probability))
        }
    }

    private var overallTally = Tally()
    public var total: Int { overallTally.total }
    public var accuracy: Double { overallTally.accuracy }

    /// Share of a label's reports that were given that label.
    public func recall(_ label: String) -> Double {
        guard let t = labels.firstIndex(of: label) else { return 0 }
        let row = confusion[t].reduce(0, +)
        return row == 0 ? 0 : Double(confusion[t][t]) / Double(row)
    }

    /// Share of the reports given a label that had it.
    public func precision(_ label: String) -> Double {
        guard let p = labels.firstIndex(of: label) else { return 0 }
        let column = confusion.reduce(0) { $0 + $1[p] }
        return column == 0 ? 0 : Double(confusion[p][p]) / Double(column)
    }

    public func support(_ label: String) -> Int {
        guard let t = labels.firstIndex(of: label) else { return 0 }
        return confusion[t].reduce(0, +)
    }

    public mutating func merge(_ other: Evaluation) {
        precondition(other.labels == labels)
        for t in labels.indices { for p in labels.indices { confusion[t][p] += other.confusion[t][p] } }
        for (name, tally) in other.groups {
            groups[name, default: Tally()].correct += tally.correct
            groups[name, default: Tally()].total += tally.total
        }
        overallTally.correct += other.overallTally.correct
        overallTally.total += other.overallTally.total
        misses += other.misses
    }

    /// A plain-text report: accuracy, groups, per-label precision/recall and the confusion matrix.
    public func report(title: String, showMisses: Int = 0) -> String {
        var lines: [String] = []
        lines.append("\(title): accuracy \(Self.percent(accuracy)) (\(overallTally.correct)/\(total))")
        for name in groups.keys.sorted() {
            let tally = groups[name]!
            lines.append("  \(name): \(Self.percent(tally.accuracy)) (\(tally.correct)/\(tally.total))")
        }
        let width = max(24, (labels.map(\.count).max() ?? 0) + 2)
        lines.append("  " + "label".padding(toLength: width, withPad: " ", startingAt: 0) + "support  recall  precision")
        for label in labels {
            lines.append(
                "  " + label.padding(toLength: width, withPad: " ", startingAt: 0)
                    + Self.left(String(support(label)), 7) + "  " + Self.left(Self.percent(recall(label)), 6) + "  "
                    + Self.left(Self.percent(precision(label)), 9))
        }
        let short = labels.map { String($0.prefix(6)) }
        lines.append("  confusion (rows: truth, columns: predicted)")
        lines.append("  " + "".padding(toLength: width, withPad: " ", startingAt: 0) + short.map { $0.padding(toLength: 7, withPad: " ", startingAt: 0) }.joined())
        for (t, label) in labels.enumerated() {
            lines.append(
                "  " + label.padding(toLength: width, withPad: " ", startingAt: 0)
                    + confusion[t].map { String($0).padding(toLength: 7, withPad: " ", startingAt: 0) }.joined())
        }
        if showMisses > 0, !misses.isEmpty {
            lines.append("  misses (first \(min(showMisses, misses.count)) of \(misses.count)):")
            for miss in misses.prefix(showMisses) {
                let text = miss.text.replacingOccurrences(of: "\n", with: " ⏎ ").prefix(100)
                lines.append("    \(miss.truth) → \(miss.predicted) (\(Self.percent(miss.probability))): \(text)")
            }
        }
        return lines.joined(separator: "\n")
    }

    public static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

    /// Right-aligned in `width` columns.
    static func left(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}

extension Evaluation {
    /// Evaluates `model` on `examples`, grouped by language.
    public static func of(_ model: TextModel, on examples: [LabelledExample]) -> Evaluation {
        var evaluation = Evaluation(labels: model.labels)
        for example in examples {
            let prediction = model.predict(example.text)
            evaluation.record(
                truth: example.label, predicted: prediction.best.label, probability: prediction.best.probability,
                text: example.text, groups: ["lang=\(example.language)"])
        }
        return evaluation
    }

    /// The fold of an example's family (of its title when it has none), stable across runs.
    public static func fold(of example: LabelledExample, folds: Int) -> Int {
        let key = example.family ?? example.title
        return Int(FeatureExtractor.hash(key.unicodeScalars.map(\.value), seed: 0x77) % UInt64(folds))
    }

    /// Holds whole families out: families are dealt into `folds` folds (by a stable hash of their
    /// name), each fold is predicted by a model trained on the others. Estimates accuracy on
    /// phrasing no training example shares. Examples without a family form their own fold slot.
    public static func familyHeldOut(
        _ examples: [LabelledExample], labels: [String], folds: Int = 5, options: TrainingOptions
    ) throws(Trainer.Failure) -> Evaluation {
        var total = Evaluation(labels: labels)
        let assigned = examples.map { fold(of: $0, folds: folds) }
        for f in 0..<folds {
            let training = zip(examples, assigned).filter { $0.1 != f }.map(\.0)
            let held = zip(examples, assigned).filter { $0.1 == f }.map(\.0)
            guard !held.isEmpty, !training.isEmpty else { continue }
            let model = try Trainer.train(training, labels: labels, options: options)
            total.merge(of(model, on: held))
        }
        return total
    }
}
