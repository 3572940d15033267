import Foundation

/// A support tier (L1 service desk, L2 product support, L3 R&D experts).
public struct SupportTier: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The group a ticket escalated to this tier goes to when its assignment rule names none.
    public var group: String?
    public init(id: String, name: String, group: String? = nil) { self.id = id; self.name = name; self.group = group }
}

/// Where a ticket starts: the group and tier, and the group per higher tier on escalation.
public struct AssignmentTarget: Sendable, Hashable {
    public var group: String
    public var tier: String
    /// `escalateTo`: tier id → group for a ticket of this rule escalated to that tier.
    public var escalationGroups: [String: String]
    public init(group: String, tier: String, escalationGroups: [String: String] = [:]) {
        self.group = group
        self.tier = tier
        self.escalationGroups = escalationGroups
    }
}

/// A hierarchical escalation step: notify roles when the SLA's share is consumed.
public struct HierarchicalStep: Sendable, Hashable {
    public var id: String
    /// Share of the resolution target, e.g. 0.5 for 50 %.
    public var at: Double
    public var notify: [String]
    public init(id: String, at: Double, notify: [String]) { self.id = id; self.at = at; self.notify = notify }
}

/// `assignment.yaml`: tiers, groups, OLA budgets and escalation chains.
public struct AssignmentSection: Sendable, Hashable {
    public static let fileName = "assignment.yaml"
    /// Ordered lowest first; functional escalation goes to the next tier in this order.
    public var tiers: [SupportTier]
    public var groupRules: [OrderedRule<AssignmentTarget>]
    /// OLA budget per tier and priority (business time in the contract's calendar).
    public var olaBudgets: [String: [Priority: TimeInterval]]
    /// Functional chain (tier ids in escalation order).
    public var functionalChain: [String]
    /// Hierarchical steps, sorted by share.
    public var hierarchicalSteps: [HierarchicalStep]
    /// The SLA warning share (e.g. 0.75).
    public var slaWarningAt: Double
    /// Where a ticket goes whose service type the model is not sure of (`needs-triage`):
    /// `triage: { group, tier }`, default the group `service-desk-triage` at the first tier.
    public var triage: AssignmentTarget?

    /// The triage target in force (the configured one, else the default).
    public var triageTarget: AssignmentTarget {
        triage ?? AssignmentTarget(group: "service-desk-triage", tier: functionalChain.first ?? tiers.first?.id ?? "L1", escalationGroups: [:])
    }

    public var tierIds: [String] { tiers.map(\.id) }

    /// The tier after `tier` in the functional chain, or nil at the end.
    public func nextTier(after tier: String) -> String? {
        guard let index = functionalChain.firstIndex(of: tier), index + 1 < functionalChain.count else { return nil }
        return functionalChain[index + 1]
    }

    /// The group a ticket first assigned to `startGroup` goes to when escalated to `tier`: the
    /// `escalateTo` of the first group rule with that group, else the tier's own `group`, else
    /// nil (the ticket keeps its group).
    public func escalationGroup(toTier tier: String, startGroup: String?) -> String? {
        if let startGroup,
           let mapped = groupRules.first(where: { $0.outcome.group == startGroup && $0.outcome.escalationGroups[tier] != nil })?
            .outcome.escalationGroups[tier]
        {
            return mapped
        }
        return tiers.first { $0.id == tier }?.group
    }

    /// Sum of the OLA budgets of all tiers in the chain for `priority`.
    public func olaTotal(for priority: Priority) -> TimeInterval {
        functionalChain.reduce(0) { $0 + (olaBudgets[$1]?[priority] ?? 0) }
    }

    static func decode(_ root: ConfigNode) -> AssignmentSection {
        root.checkKeys(["tiers", "groups", "ola", "escalation", "triage"])
        let tierNodes = root.required("tiers")?.list() ?? []
        let tiers: [SupportTier] = tierNodes.compactMap { node in
            node.checkKeys(["id", "name", "group"])
            guard let id = node.required("id")?.identifier() else { return nil }
            return SupportTier(id: id, name: node["name"]?.string() ?? id, group: node["group"]?.identifier())
        }
        checkUnique(tiers.map(\.id), nodes: tierNodes, what: "tier id")
        let tierIds = Set(tiers.map(\.id))
        func checkTier(_ node: ConfigNode?) -> String? {
            guard let node, let id = node.identifier() else { return nil }
            if !tierIds.contains(id) {
                node.error("unknown tier \"\(id)\" (tiers: \(tiers.map(\.id).joined(separator: ", ")))")
                return nil
            }
            return id
        }

        let groups = OrderedRule<AssignmentTarget>.decodeList(
            root.required("groups"), outcomeKeys: ["group", "tier", "escalateTo"]
        ) {
            let group = $0.required("group")?.identifier()
            let tier = checkTier($0.required("tier"))
            var escalation: [String: String] = [:]
            if let node = $0["escalateTo"], let entries = node.entries() {
                for (target, value) in entries {
                    guard tierIds.contains(target) else {
                        value.error("unknown tier \"\(target)\" (tiers: \(tiers.map(\.id).joined(separator: ", ")))")
                        continue
                    }
                    if target == tier { value.error("the rule starts at tier \(target); escalateTo names higher tiers") }
                    if let id = value.identifier() { escalation[target] = id }
                }
            }
            guard let group, let tier else { return nil }
            return AssignmentTarget(group: group, tier: tier, escalationGroups: escalation)
        }

        var budgets: [String: [Priority: TimeInterval]] = [:]
        if let olaNode = root.required("ola"), let entries = olaNode.entries() {
            for (tier, value) in entries {
                if !tierIds.contains(tier) {
                    value.error("unknown tier \"\(tier)\" (tiers: \(tiers.map(\.id).joined(separator: ", ")))")
                    continue
                }
                value.checkKeys(Set(Priority.allCases.map(\.rawValue)))
                var perPriority: [Priority: TimeInterval] = [:]
                for priority in Priority.allCases {
                    if let budget = value.required(priority.rawValue)?.duration() { perPriority[priority] = budget }
                }
                budgets[tier] = perPriority
            }
        }

        var chain: [String] = []
        var steps: [HierarchicalStep] = []
        var warning = 0.75
        if let escalation = root.required("escalation") {
            escalation.checkKeys(["functional", "hierarchical", "slaWarningAt"])
            if let list = escalation.required("functional")?.list() {
                for item in list {
                    guard let tier = checkTier(item) else { continue }
                    if chain.contains(tier) { item.error("tier \"\(tier)\" appears twice in the functional chain") }
                    chain.append(tier)
                }
                for tier in chain where budgets[tier] == nil {
                    root["ola"]?.error(field: tier, "missing OLA budgets for tier \"\(tier)\" of the functional chain")
                }
            }
            let stepNodes = escalation.required("hierarchical")?.list() ?? []
            for node in stepNodes {
                node.checkKeys(["id", "at", "notify"])
                let id = node.required("id")?.identifier()
                let share = node.required("at")?.share()
                let roles = node.required("notify")?.stringList() ?? []
                if roles.isEmpty { node.error(field: "notify", "expected at least one role to notify") }
                if let id, let share { steps.append(HierarchicalStep(id: id, at: share, notify: roles)) }
            }
            checkUnique(steps.map(\.id), nodes: stepNodes, what: "step id")
            if let node = escalation["slaWarningAt"], let share = node.share() { warning = share }
        }
        var triage: AssignmentTarget?
        if let node = root["triage"] {
            node.checkKeys(["group", "tier"])
            let group = node.required("group")?.identifier()
            let tier = checkTier(node.required("tier"))
            if let group, let tier { triage = AssignmentTarget(group: group, tier: tier, escalationGroups: [:]) }
        }
        var section = AssignmentSection(
            tiers: tiers, groupRules: groups, olaBudgets: budgets, functionalChain: chain,
            hierarchicalSteps: steps.sorted { $0.at < $1.at }, slaWarningAt: warning)
        section.triage = triage
        return section
    }
}
