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
    public var rules: ClassificationSection
    public var rulesVersion: String

    public init(rules: ClassificationSection, rulesVersion: String) {
        self.rules = rules
        self.rulesVersion = rulesVersion
    }

    public init(_ bundle: ConfigBundle) {
        self.init(rules: bundle.classification, rulesVersion: bundle.rulesVersion)
    }

    public func classify(_ facts: ReportFacts) -> Classification {
        let type = Self.firstMatch(rules.serviceTypeRules, facts, serviceType: nil) ?? (.softwareOperation, "builtin.default")
        let impact = Self.firstMatch(rules.impactRules, facts, serviceType: type.0) ?? (3, "builtin.default")
        let urgency = Self.firstMatch(rules.urgencyRules, facts, serviceType: type.0) ?? (3, "builtin.default")
        return Classification(
            serviceType: type.0, serviceTypeRuleId: type.1, impact: impact.0, impactRuleId: impact.1,
            urgency: urgency.0, urgencyRuleId: urgency.1,
            priority: rules.priorityMatrix.priority(impact: impact.0, urgency: urgency.0), rulesVersion: rulesVersion)
    }

    static func firstMatch<Outcome>(
        _ list: [OrderedRule<Outcome>], _ facts: ReportFacts, serviceType: ServiceType?
    ) -> (Outcome, String)? {
        for rule in list where RuleMatcher.matches(rule.when, facts, serviceType: serviceType) {
            return (rule.outcome, rule.id)
        }
        return nil
    }
}
