/// One ordered rule: the first rule whose condition matches decides, and its id is recorded.
public struct OrderedRule<Outcome: Sendable & Hashable>: Sendable, Hashable {
    public var id: String
    public var when: RuleCondition
    public var outcome: Outcome

    public init(id: String, when: RuleCondition, outcome: Outcome) {
        self.id = id
        self.when = when
        self.outcome = outcome
    }

    /// Decodes a list of `{id, when, <outcome fields>}`; checks unique ids, that the list
    /// ends with a catch-all (so every report gets an answer) and that no rule follows one.
    /// `fallback`: what decides when no rule matches (e.g. the service-type model); with one the
    /// list needs no catch-all, and a catch-all would hide it.
    static func decodeList(
        _ node: ConfigNode?, outcomeKeys: Set<String>, fallback: String? = nil, outcome: (ConfigNode) -> Outcome?
    ) -> [OrderedRule<Outcome>] {
        guard let node, let items = node.list() else { return [] }
        var rules: [OrderedRule<Outcome>] = []
        var catchAllSeen: String?
        for item in items {
            item.checkKeys(outcomeKeys.union(["id", "when"]))
            let id = item.required("id")?.identifier()
            let condition = RuleCondition.decode(item["when"])
            let result = outcome(item)
            if let previous = catchAllSeen {
                item.error("unreachable: rule \"\(previous)\" before it matches everything")
            }
            if condition.isCatchAll {
                catchAllSeen = id ?? "?"
                if let fallback {
                    item.error("rule \"\(id ?? "?")\" matches everything, so \(fallback) would never decide; give it a `when` or remove it")
                }
            }
            if let id, let result { rules.append(OrderedRule(id: id, when: condition, outcome: result)) }
        }
        checkUnique(rules.map(\.id), nodes: items, what: "rule id")
        if catchAllSeen == nil && fallback == nil {
            node.error("the last rule must match everything (a rule without `when`) so that every report is decided")
        }
        return rules
    }
}
