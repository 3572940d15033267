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
    public static let triageRuleId = "assign.triage"
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

    public func assign(_ facts: ReportFacts, serviceType: ServiceType, needsTriage: Bool = false) -> Assignment {
        assign(PreparedFacts(facts), serviceType: serviceType, needsTriage: needsTriage)
    }

    /// A ticket waiting for triage goes to the triage group (`assignment.yaml` `triage`), not to
    /// the group of a service type nobody is sure of.
    func assign(_ facts: PreparedFacts, serviceType: ServiceType, needsTriage: Bool = false) -> Assignment {
        if needsTriage {
            let target = rules.triageTarget
            return Assignment(group: target.group, tier: target.tier, ruleId: Self.triageRuleId, rulesVersion: rulesVersion)
        }
        for (index, rule) in rules.groupRules.enumerated()
        where RuleMatcher.matches(rule.when, keywords[index], facts, serviceType: serviceType) {
            return Assignment(group: rule.outcome.group, tier: rule.outcome.tier, ruleId: rule.id, rulesVersion: rulesVersion)
        }
        return Assignment(
            group: "service-desk", tier: rules.functionalChain.first ?? "L1", ruleId: "builtin.default",
            rulesVersion: rulesVersion)
    }
}
