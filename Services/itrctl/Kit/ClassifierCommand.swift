import ArgumentParser
import Foundation
import ITREvents
import TextClassifier

/// `itrctl classifier`: train, evaluate and try the service-type model.
struct ClassifierCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classifier",
        abstract: "Train and evaluate the service-type classifier.",
        discussion: """
            The router decides a ticket's service type by its explicit-signal rules
            (classification.yaml) and, where none matches, by the model file that
            classification.yaml names (deploy/config/models/service-type.itrm). The desk's
            `reclassify` actions are stored as labelled examples; `train` adds them to the
            shipped corpus. The router picks a new model file up without a restart.

              itrctl classifier train                     corpus + the router's corrections → model
              itrctl classifier eval deploy/classifier/corpus/eval
              itrctl classifier predict "风扇告警，设备温度过高"
              itrctl classifier corrections > corrections.jsonl
            """,
        subcommands: [Train.self, Eval.self, Predict.self, Corrections.self])

    static let labels = ServiceType.allCases.map(\.rawValue)

    /// The model file, or an error that names it and what is wrong.
    static func load(_ path: String) throws -> TextModel {
        do {
            return try ModelFile.read(path: path)
        } catch {
            throw ValidationError("\(path): \(error)")
        }
    }
    static let defaultModel = "deploy/config/models/service-type.itrm"
    static let defaultCorpus = "deploy/classifier/corpus/train"

    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a model from labelled JSONL files and the desk's stored corrections.",
            discussion: """
                Reads every *.jsonl of each --data directory (or the file), adds the corrections
                (from the router's GET /v1/classifier/corrections, or --corrections FILE; none with
                --no-corrections), trains and writes --out atomically (the router reloads it).
                The same data and options give the same file.
                """)
        @Option(name: .customLong("data"), help: "Labelled JSONL file or directory (repeatable; default \(ClassifierCommand.defaultCorpus)).")
        var data: [String] = []
        @Option(help: "Corrections as JSONL, instead of asking the router.") var corrections: String?
        @Flag(name: .customLong("no-corrections"), help: "Train on the --data files only.") var noCorrections = false
        @Option(help: "How many times each desk correction counts (default 2).") var correctionWeight: Int = 2
        @Option(help: "Where to write the model.") var out: String = ClassifierCommand.defaultModel
        @Option(help: "The model version recorded with each decision (default <name>-<date>-<checksum>).") var version: String?
        @Option(help: "Training passes.") var epochs: Int = TrainingOptions().epochs
        @Option(help: "Feature buckets (a power of two).") var buckets: Int = FeatureSettings().buckets
        @Option(help: "Seed of the example order.") var seed: UInt64 = TrainingOptions().seed
        @Option(help: "AdaGrad learning rate.") var learningRate: Double = TrainingOptions().learningRate
        @Option(help: "L2 penalty per update.") var l2: Double = TrainingOptions().l2
        @Option(help: "Character n-grams of Latin words: shortest.") var subwordMin: Int = FeatureSettings().subwordMin
        @Option(help: "Character n-grams of Latin words: longest.") var subwordMax: Int = FeatureSettings().subwordMax
        @Option(help: "Han character n-grams: longest.") var hanMax: Int = FeatureSettings().hanMax
        @Flag(help: "Leave out pairs of neighbouring words.") var noWordPairs = false
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            if noCorrections && corrections != nil { throw ValidationError("--corrections and --no-corrections exclude each other") }
            if correctionWeight < 1 { throw ValidationError("--correction-weight must be at least 1") }
        }

        func run() async throws {
            let labels = Set(ClassifierCommand.labels)
            let paths = data.isEmpty ? [ClassifierCommand.defaultCorpus] : data
            var examples = try ExampleFile.read(paths: paths, labels: labels)
            var sources = paths
            var desk: [LabelledExample] = []
            if let corrections {
                desk = try ExampleFile.read(path: corrections, labels: labels)
                sources.append(corrections)
            } else if !noCorrections {
                let url = connection.endpoints.router + "/v1/classifier/corrections"
                let response: HTTPFetcher.Response
                do {
                    response = try await HTTPFetcher(timeout: 30).get(url)
                } catch {
                    throw ValidationError("cannot read the desk's corrections (\(error)); pass --no-corrections or --corrections FILE")
                }
                guard response.status == 200 else {
                    throw ValidationError("\(url): HTTP \(response.status): \(response.text.prefix(300))")
                }
                desk = try ExampleFile.parse(response.text, file: url, labels: labels)
                sources.append(url)
            }
            for _ in 0..<correctionWeight { examples += desk }
            let features = FeatureSettings(
                buckets: buckets, subwordMin: subwordMin, subwordMax: subwordMax, hanMax: hanMax, wordPairs: !noWordPairs)
            let options = TrainingOptions(
                version: version, features: features, epochs: epochs, learningRate: learningRate, l2: l2, seed: seed)
            let started = Date()
            let model = try Trainer.train(examples, labels: ClassifierCommand.labels, options: options, sources: sources)
            try ModelFile.write(model, to: out)
            let seconds = Date().timeIntervalSince(started)
            let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            print("""
                wrote \(out): version \(model.version), \(examples.count - desk.count * correctionWeight) corpus examples \
                + \(desk.count) corrections (x\(correctionWeight)), \(String(format: "%.1f", seconds)) s, \(size / 1024) KiB; \
                training accuracy \(Evaluation.percent(model.header.training?.trainingAccuracy ?? 0))
                """)
        }
    }

    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accuracy and the confusion matrix of a model on labelled JSONL files.",
            discussion: "Exit status 0; 1 when a file cannot be read or the model is invalid.")
        @Argument(help: "Labelled JSONL files or directories.") var files: [String]
        @Option(help: "The model file.") var model: String = ClassifierCommand.defaultModel
        @Option(help: "Print this many misclassified reports.") var misses: Int = 0
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let model = try ClassifierCommand.load(self.model)
            let examples = try ExampleFile.read(paths: files, labels: Set(model.labels))
            let evaluation = Evaluation.of(model, on: examples)
            if output.json {
                Console.printJSON(EvalReport(evaluation, model: model))
            } else {
                print(evaluation.report(title: "model \(model.version) on \(examples.count) reports", showMisses: misses))
            }
        }
    }

    struct Predict: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the model's ranking for one text.")
        @Argument(help: "The report's text (title, or title and description).") var text: [String]
        @Option(help: "The model file.") var model: String = ClassifierCommand.defaultModel

        func run() async throws {
            let model = try ClassifierCommand.load(self.model)
            let prediction = model.predict(text.joined(separator: " "))
            for score in prediction.ranked {
                print("\(score.label.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(format: "%.3f", score.probability))")
            }
        }
    }

    struct Corrections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the desk's stored corrections as labelled JSONL (GET /v1/classifier/corrections).")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let url = connection.endpoints.router + "/v1/classifier/corrections"
            let response = try await HTTPFetcher(timeout: 30).get(url)
            guard response.status == 200 else { throw ValidationError("\(url): HTTP \(response.status): \(response.text.prefix(300))") }
            print(response.text, terminator: "")
        }
    }
}

/// `itrctl classifier eval --json`.
struct EvalReport: Encodable {
    struct Label: Encodable {
        var label: String
        var support: Int
        var recall: Double
        var precision: Double
    }

    var model: String
    var reports: Int
    var accuracy: Double
    var groups: [String: Double]
    var labels: [Label]
    var confusionLabels: [String]
    var confusion: [[Int]]

    init(_ evaluation: Evaluation, model: TextModel) {
        self.model = model.version
        reports = evaluation.total
        accuracy = evaluation.accuracy
        groups = evaluation.groups.mapValues(\.accuracy)
        labels = evaluation.labels.map {
            Label(label: $0, support: evaluation.support($0), recall: evaluation.recall($0), precision: evaluation.precision($0))
        }
        confusionLabels = evaluation.labels
        confusion = evaluation.confusion
    }
}
