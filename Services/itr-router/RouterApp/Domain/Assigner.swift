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
    public var rules: AssignmentSection
    public var rulesVersion: String

    public init(rules: AssignmentSection, rulesVersion: String) {
        self.rules = rules
        self.rulesVersion = rulesVersion
    }

    public init(_ bundle: ConfigBundle) {
        self.init(rules: bundle.assignment, rulesVersion: bundle.rulesVersion)
    }

    public func assign(_ facts: ReportFacts, serviceType: ServiceType) -> Assignment {
        for rule in rules.groupRules where RuleMatcher.matches(rule.when, facts, serviceType: serviceType) {
            return Assignment(group: rule.outcome.group, tier: rule.outcome.tier, ruleId: rule.id, rulesVersion: rulesVersion)
        }
        return Assignment(
            group: "service-desk", tier: rules.functionalChain.first ?? "L1", ruleId: "builtin.default",
            rulesVersion: rulesVersion)
    }
}
