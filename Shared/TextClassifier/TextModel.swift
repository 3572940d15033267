import Foundation

/// What a model file says about itself (the JSON header of ``ModelFile``).
public struct ModelHeader: Codable, Sendable, Hashable {
    /// What the model decides, e.g. `service-type`.
    public var name: String
    /// Recorded with every decision: `<name>-<yyyyMMdd>-<8 hex digits of the weights' checksum>`
    /// unless training was given one.
    public var version: String
    public var labels: [String]
    public var features: FeatureSettings
    public var trainedAt: String?
    public var training: TrainingSummary?

    public init(
        name: String, version: String, labels: [String], features: FeatureSettings, trainedAt: String? = nil,
        training: TrainingSummary? = nil
    ) {
        self.name = name
        self.version = version
        self.labels = labels
        self.features = features
        self.trainedAt = trainedAt
        self.training = training
    }
}

/// How a model was trained (kept in its header, printed by `itrctl classifier eval`).
public struct TrainingSummary: Codable, Sendable, Hashable {
    public var examples: Int
    public var examplesPerLabel: [String: Int]
    public var sources: [String]
    public var epochs: Int
    public var learningRate: Double
    public var l2: Double
    public var seed: UInt64
    /// Accuracy on the training data itself (not an estimate of anything; a sanity figure).
    public var trainingAccuracy: Double?

    public init(
        examples: Int, examplesPerLabel: [String: Int], sources: [String], epochs: Int, learningRate: Double, l2: Double,
        seed: UInt64, trainingAccuracy: Double? = nil
    ) {
        self.examples = examples
        self.examplesPerLabel = examplesPerLabel
        self.sources = sources
        self.epochs = epochs
        self.learningRate = learningRate
        self.l2 = l2
        self.seed = seed
        self.trainingAccuracy = trainingAccuracy
    }
}

/// One label's score.
public struct LabelScore: Sendable, Hashable, Codable {
    public var label: String
    public var probability: Double
}

/// A model's answer: every label with its probability, best first (ties: label order of the model).
public struct TextPrediction: Sendable, Hashable {
    public var ranked: [LabelScore]

    public var best: LabelScore { ranked[0] }
    public var runnerUp: LabelScore? { ranked.count > 1 ? ranked[1] : nil }
}

/// A multinomial logistic regression over hashed text features (``FeatureExtractor``): one row of
/// weights per feature bucket, one column per label. Immutable and `Sendable`: one instance
/// serves every thread. Deterministic: the same model and text give the same answer.
public struct TextModel: Sendable {
    public let header: ModelHeader
    public let extractor: FeatureExtractor
    /// `buckets × labels`, row-major.
    let weights: [Float]
    let bias: [Float]

    public var labels: [String] { header.labels }
    public var version: String { header.version }
    /// Bytes the weights occupy in memory.
    public var weightBytes: Int { (weights.count + bias.count) * MemoryLayout<Float>.size }

    init(header: ModelHeader, weights: [Float], bias: [Float]) {
        precondition(weights.count == header.features.buckets * header.labels.count && bias.count == header.labels.count)
        self.header = header
        extractor = FeatureExtractor(header.features)
        self.weights = weights
        self.bias = bias
    }

    public func predict(title: String, description: String? = nil) -> TextPrediction {
        predict(FeatureExtractor.text(title: title, description: description))
    }

    public func predict(_ text: String) -> TextPrediction {
        predict(features: extractor.features(text))
    }

    public func predict(features: FeatureVector) -> TextPrediction {
        let probabilities = self.probabilities(features)
        let ranked = probabilities.indices
            .sorted { probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1 }
            .map { LabelScore(label: header.labels[$0], probability: Double(probabilities[$0])) }
        return TextPrediction(ranked: ranked)
    }

    /// Softmax of the scores, in label order.
    func probabilities(_ features: FeatureVector) -> [Float] {
        Self.probabilities(features, weights: weights, bias: bias)
    }

    /// Softmax of `weights · features + bias` (training calls it on weights being learnt).
    static func probabilities(_ features: FeatureVector, weights: [Float], bias: [Float]) -> [Float] {
        let count = bias.count
        var scores = [Float](repeating: 0, count: count)
        weights.withUnsafeBufferPointer { w in
            scores.withUnsafeMutableBufferPointer { s in
                for row in features.rows {
                    let base = Int(row) * count
                    for k in 0..<count { s[k] += w[base + k] }
                }
                for k in 0..<count { s[k] = s[k] * features.weight + bias[k] }
            }
        }
        return softmax(scores)
    }

    static func softmax(_ scores: [Float]) -> [Float] {
        let top = scores.max() ?? 0
        var exps = scores.map { Float(exp(Double($0 - top))) }
        let sum = exps.reduce(0, +)
        for k in exps.indices { exps[k] /= sum }
        return exps
    }
}
