import Foundation

/// How to train (defaults measured on the shipped corpus: see `itr-bench classifier`).
public struct TrainingOptions: Sendable, Hashable {
    public var name: String
    /// nil: `<name>-<yyyyMMdd>-<checksum>`.
    public var version: String?
    public var features: FeatureSettings
    public var epochs: Int
    public var learningRate: Double
    public var l2: Double
    public var seed: UInt64
    /// Stamped into the header (and the default version); fixed in tests for identical files.
    public var trainedAt: Date

    public init(
        name: String = "service-type", version: String? = nil, features: FeatureSettings = FeatureSettings(),
        epochs: Int = 20, learningRate: Double = 0.2, l2: Double = 1e-4, seed: UInt64 = 20_261_202,
        trainedAt: Date = Date()
    ) {
        self.name = name
        self.version = version
        self.features = features
        self.epochs = epochs
        self.learningRate = learningRate
        self.l2 = l2
        self.seed = seed
        self.trainedAt = trainedAt
    }
}

/// Multinomial logistic regression by AdaGrad over the examples in a seeded order: the same
/// examples and options give the same model, bit for bit.
public enum Trainer {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// `labels`: the model's labels in order (every example's label must be one of them).
    public static func train(
        _ examples: [LabelledExample], labels: [String], options: TrainingOptions = TrainingOptions(),
        sources: [String] = []
    ) throws(Failure) -> TextModel {
        let problems = options.features.problems
        guard problems.isEmpty else { throw Failure(description: problems.joined(separator: "; ")) }
        guard labels.count >= 2, Set(labels).count == labels.count else {
            throw Failure(description: "at least two distinct labels are needed")
        }
        guard !examples.isEmpty else { throw Failure(description: "no examples to train on") }
        guard options.epochs >= 1, options.learningRate > 0, options.l2 >= 0 else {
            throw Failure(description: "epochs must be >= 1, the learning rate > 0 and l2 >= 0")
        }
        var index: [String: Int] = [:]
        for (k, label) in labels.enumerated() { index[label] = k }
        var perLabel: [String: Int] = [:]
        var targets: [Int] = []
        for example in examples {
            guard let k = index[example.label] else {
                throw Failure(description: "example \"\(example.title.prefix(60))\" has the unknown label \(example.label)")
            }
            targets.append(k)
            perLabel[example.label, default: 0] += 1
        }
        let extractor = FeatureExtractor(options.features)
        let vectors = examples.map { extractor.features($0.text) }
        let count = labels.count
        let buckets = options.features.buckets
        var weights = [Float](repeating: 0, count: buckets * count)
        var squares = [Float](repeating: 0, count: buckets * count)
        var bias = [Float](repeating: 0, count: count)
        var biasSquares = [Float](repeating: 0, count: count)
        let rate = Float(options.learningRate)
        let l2 = Float(options.l2)
        var random = SeededRandom(seed: options.seed)
        var order = Array(examples.indices)

        for _ in 0..<options.epochs {
            order.shuffle(using: &random)
            for i in order {
                let vector = vectors[i]
                let probabilities = TextModel.probabilities(vector, weights: weights, bias: bias)
                for k in 0..<count {
                    let g = probabilities[k] - (k == targets[i] ? 1 : 0)
                    biasSquares[k] += g * g
                    bias[k] -= rate * g / (biasSquares[k].squareRoot() + 1e-6)
                }
                guard !vector.isEmpty else { continue }
                weights.withUnsafeMutableBufferPointer { w in
                    squares.withUnsafeMutableBufferPointer { s in
                        for row in vector.rows {
                            let base = Int(row) * count
                            for k in 0..<count {
                                let g = (probabilities[k] - (k == targets[i] ? 1 : 0)) * vector.weight + l2 * w[base + k]
                                s[base + k] += g * g
                                w[base + k] -= rate * g / (s[base + k].squareRoot() + 1e-6)
                            }
                        }
                    }
                }
            }
        }

        let checksumSeed = ModelFile.checksum(weights.withUnsafeBytes { Array($0) } + bias.withUnsafeBytes { Array($0) })
        let day = Self.day(options.trainedAt)
        let version = options.version ?? "\(options.name)-\(day)-\(ModelFile.hex(checksumSeed).prefix(8))"
        var model = TextModel(
            header: ModelHeader(
                name: options.name, version: version, labels: labels, features: options.features,
                trainedAt: ISO8601DateFormatter().string(from: options.trainedAt),
                training: TrainingSummary(
                    examples: examples.count, examplesPerLabel: perLabel, sources: sources, epochs: options.epochs,
                    learningRate: options.learningRate, l2: options.l2, seed: options.seed)),
            weights: weights, bias: bias)
        let correct = zip(vectors, targets).filter { vector, target in
            let p = model.probabilities(vector)
            return p.indices.max(by: { p[$0] < p[$1] }) == target
        }.count
        var header = model.header
        header.training?.trainingAccuracy = Double(correct) / Double(examples.count)
        model = TextModel(header: header, weights: weights, bias: bias)
        return model
    }

    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}

/// SplitMix64: a small seeded generator, the same sequence on every platform.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return FeatureExtractor.finalise(state)
    }
}
