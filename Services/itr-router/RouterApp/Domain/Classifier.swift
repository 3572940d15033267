import ITRConfig

/// The outcome of classification and grading, with the rules that decided it.
public struct Classification: Sendable, Hashable, Codable {
    public var serviceType: ServiceType
    public var serviceTypeRuleId: String
    /// 1 extensive ... 4 minor
    public var impact: Int
    public var impactRuleId: String
    /// 1 critical ... 4 low
    public var urgency: Int
    public var urgencyRuleId: String
    public var priority: Priority
    public var rulesVersion: String
}

/// Classification (service type) and grading (impact x urgency → priority): ordered rules, first match wins.
public struct Classifier: Sendable {
    public let rules: ClassificationSection
    public let rulesVersion: String
    /// Each rule list's keywords, prepared once.
    private let serviceTypeKeywords: [KeywordSet]
    private let impactKeywords: [KeywordSet]
    private let urgencyKeywords: [KeywordSet]

    public init(rules: ClassificationSection, rulesVersion: String) {
        self.rules = rules
        self.rulesVersion = rulesVersion
        serviceTypeKeywords = rules.serviceTypeRules.map { KeywordSet($0.when.keywords) }
        impactKeywords = rules.impactRules.map { KeywordSet($0.when.keywords) }
        urgencyKeywords = rules.urgencyRules.map { KeywordSet($0.when.keywords) }
    }

    public init(_ bundle: ConfigBundle) {
        self.init(rules: bundle.classification, rulesVersion: bundle.rulesVersion)
    }

    public func classify(_ facts: ReportFacts) -> Classification {
        classify(PreparedFacts(facts))
    }

    func classify(_ facts: PreparedFacts) -> Classification {
        let type = Self.firstMatch(rules.serviceTypeRules, serviceTypeKeywords, facts, serviceType: nil)
            ?? (.softwareOperation, "builtin.default")
        let impact = Self.firstMatch(rules.impactRules, impactKeywords, facts, serviceType: type.0) ?? (3, "builtin.default")
        let urgency = Self.firstMatch(rules.urgencyRules, urgencyKeywords, facts, serviceType: type.0) ?? (3, "builtin.default")
        return Classification(
            serviceType: type.0, serviceTypeRuleId: type.1, impact: impact.0, impactRuleId: impact.1,
            urgency: urgency.0, urgencyRuleId: urgency.1,
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
