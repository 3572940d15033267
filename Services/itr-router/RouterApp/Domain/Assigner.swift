import ITRConfig

/// The starting group and tier of a ticket, with the rule that decided it.
public struct Assignment: Sendable, Hashable, Codable {
    public var group: String
    public var tier: String
    public var ruleId: String
    public var rulesVersion: String
}

/// Assignment by service type, product line and region: ordered rules, first match wins.
public struct Assigner: Sendable {
    public let rules: AssignmentSection
    public let rulesVersion: String
    /// Each group rule's keywords, prepared once.
    private let keywords: [KeywordSet]

    public init(rules: AssignmentSection, rulesVersion: String) {
        self.rules = rules
        self.rulesVersion = rulesVersion
        keywords = rules.groupRules.map { KeywordSet($0.when.keywords) }
    }

    public init(_ bundle: ConfigBundle) {
        self.init(rules: bundle.assignment, rulesVersion: bundle.rulesVersion)
    }

    public func assign(_ facts: ReportFacts, serviceType: ServiceType) -> Assignment {
        assign(PreparedFacts(facts), serviceType: serviceType)
    }

    func assign(_ facts: PreparedFacts, serviceType: ServiceType) -> Assignment {
        for (index, rule) in rules.groupRules.enumerated()
        where RuleMatcher.matches(rule.when, keywords[index], facts, serviceType: serviceType) {
            return Assignment(group: rule.outcome.group, tier: rule.outcome.tier, ruleId: rule.id, rulesVersion: rulesVersion)
        }
        return Assignment(
            group: "service-desk", tier: rules.functionalChain.first ?? "L1", ruleId: "builtin.default",
            rulesVersion: rulesVersion)
    }
}
