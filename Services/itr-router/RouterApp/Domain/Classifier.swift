import ITRConfig
import ITREvents
import TextClassifier

/// Who decided a ticket's service type, and how sure it was.
public struct ServiceTypeDecision: Sendable, Hashable, Codable {
    public enum Decider: String, Sendable, Hashable, Codable {
        /// An explicit-signal rule of `classification.yaml` (category hint, alarm code, channel ...).
        case rule
        /// The trained model (what no rule decides).
        case model
        /// The service desk (`reclassify`).
        case desk
    }

    public var by: Decider
    /// The rule id, the model step's id (`st.model`) or `action.reclassify`.
    public var ruleId: String
    public var modelVersion: String?
    /// The model's probability of its best label (0...1).
    public var confidence: Double?
    public var runnerUp: ServiceType?
    public var runnerUpConfidence: Double?
    /// The model was less sure than `model.minConfidence`: the ticket waits for triage.
    public var needsTriage: Bool

    public init(
        by: Decider, ruleId: String, modelVersion: String? = nil, confidence: Double? = nil, runnerUp: ServiceType? = nil,
        runnerUpConfidence: Double? = nil, needsTriage: Bool = false
    ) {
        self.by = by
        self.ruleId = ruleId
        self.modelVersion = modelVersion
        self.confidence = confidence
        self.runnerUp = runnerUp
        self.runnerUpConfidence = runnerUpConfidence
        self.needsTriage = needsTriage
    }

    /// One line for the ticket's history.
    public var summary: String {
        switch by {
        case .rule: return "rule \(ruleId)"
        case .desk: return "the service desk"
        case .model:
            var text = "model \(modelVersion ?? "?")"
            if let confidence { text += String(format: " %.0f%%", confidence * 100) }
            if let runnerUp { text += ", runner-up \(runnerUp.rawValue)" + (runnerUpConfidence.map { String(format: " %.0f%%", $0 * 100) } ?? "") }
            if needsTriage { text += "; below the triage threshold: needs-triage" }
            return text
        }
    }
}

/// The outcome of classification and grading, with what decided it.
public struct Classification: Sendable, Hashable, Codable {
    public var serviceType: ServiceType
    public var serviceTypeRuleId: String
    public var decision: ServiceTypeDecision
    /// 1 extensive ... 4 minor
    public var impact: Int
    public var impactRuleId: String
    /// 1 critical ... 4 low
    public var urgency: Int
    public var urgencyRuleId: String
    public var priority: Priority
    public var rulesVersion: String
}

/// Classification (service type) and grading (impact x urgency → priority).
///
/// The service type: the ordered explicit-signal rules first (first match wins, deterministic);
/// where none matches, the trained model (`classification.yaml` `model`), whose best label
/// decides, flagged `needs-triage` when its probability is below `minConfidence`. Grading:
/// ordered rules, first match wins.
public struct Classifier: Sendable {
    public let rules: ClassificationSection
    public let rulesVersion: String
    public let model: TextModel?
    /// Each rule list's keywords, prepared once.
    private let serviceTypeKeywords: [KeywordSet]
    private let impactKeywords: [KeywordSet]
    private let urgencyKeywords: [KeywordSet]

    public init(rules: ClassificationSection, rulesVersion: String, model: TextModel? = nil) {
        self.rules = rules
        self.rulesVersion = rulesVersion
        self.model = model
        serviceTypeKeywords = rules.serviceTypeRules.map { KeywordSet($0.when.keywords) }
        impactKeywords = rules.impactRules.map { KeywordSet($0.when.keywords) }
        urgencyKeywords = rules.urgencyRules.map { KeywordSet($0.when.keywords) }
    }

    public init(_ bundle: ConfigBundle, model: TextModel? = nil) {
        self.init(rules: bundle.classification, rulesVersion: bundle.rulesVersion, model: model)
    }

    public func classify(_ facts: ReportFacts) -> Classification {
        classify(PreparedFacts(facts))
    }

    func classify(_ facts: PreparedFacts) -> Classification {
        let (type, decision) = serviceType(facts)
        return grade(facts, serviceType: type, decision: decision)
    }

    /// The service type and what decided it.
    func serviceType(_ facts: PreparedFacts) -> (ServiceType, ServiceTypeDecision) {
        if let (type, id) = Self.firstMatch(rules.serviceTypeRules, serviceTypeKeywords, facts, serviceType: nil) {
            return (type, ServiceTypeDecision(by: .rule, ruleId: id))
        }
        if let model, let reference = rules.model {
            let prediction = model.predict(title: facts.facts.title, description: facts.facts.description)
            // Labels are checked against the service types at load.
            let best = ServiceType(rawValue: prediction.best.label) ?? .softwareOperation
            let runnerUp = prediction.runnerUp
            return (
                best,
                ServiceTypeDecision(
                    by: .model, ruleId: reference.id, modelVersion: model.version, confidence: prediction.best.probability,
                    runnerUp: runnerUp.flatMap { ServiceType(rawValue: $0.label) }, runnerUpConfidence: runnerUp?.probability,
                    needsTriage: prediction.best.probability < reference.minConfidence)
            )
        }
        // Unreachable with a validated bundle: without a model the list ends with a catch-all.
        return (.softwareOperation, ServiceTypeDecision(by: .rule, ruleId: "builtin.default"))
    }

    /// Impact and urgency for a service type (decided here or by the desk), and the priority.
    func grade(_ facts: PreparedFacts, serviceType type: ServiceType, decision: ServiceTypeDecision) -> Classification {
        let impact = Self.firstMatch(rules.impactRules, impactKeywords, facts, serviceType: type) ?? (3, "builtin.default")
        let urgency = Self.firstMatch(rules.urgencyRules, urgencyKeywords, facts, serviceType: type) ?? (3, "builtin.default")
        return Classification(
            serviceType: type, serviceTypeRuleId: decision.ruleId, decision: decision, impact: impact.0,
            impactRuleId: impact.1, urgency: urgency.0, urgencyRuleId: urgency.1,
            priority: rules.priorityMatrix.priority(impact: impact.0, urgency: urgency.0), rulesVersion: rulesVersion)
    }

    static func firstMatch<Outcome>(
        _ list: [OrderedRule<Outcome>], _ keywords: [KeywordSet], _ facts: PreparedFacts, serviceType: ServiceType?
    ) -> (Outcome, String)? {
        for (index, rule) in list.enumerated()
        where RuleMatcher.matches(rule.when, keywords[index], facts, serviceType: serviceType) {
            return (rule.outcome, rule.id)
        }
        return nil
    }
}
