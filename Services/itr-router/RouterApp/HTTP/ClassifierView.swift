import Foundation
import TextClassifier

/// `GET /v1/classifier`: how the router decides service types now.
public struct ClassifierView: Codable, Sendable {
    public struct Model: Codable, Sendable {
        public var version: String
        public var file: String
        public var labels: [String]
        public var trainedAt: String?
        public var examples: Int?
        public var minConfidence: Double
        public var ruleId: String
    }

    public var rulesVersion: String
    /// The explicit-signal rules, in order (they win over the model).
    public var serviceTypeRules: [String]
    /// nil: rules only.
    public var model: Model?

    public init(_ rules: RouterRules) {
        rulesVersion = rules.version
        let section = rules.bundle.classification
        serviceTypeRules = section.serviceTypeRules.map(\.id)
        if let reference = section.model, let model = rules.classifier.model {
            self.model = Model(
                version: model.version, file: reference.file, labels: model.labels, trainedAt: model.header.trainedAt,
                examples: model.header.training?.examples, minConfidence: reference.minConfidence, ruleId: reference.id)
        }
    }
}
