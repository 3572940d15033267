import Foundation
import ITRConfig

/// One line of a ticket's history: a lifecycle fact (replayed into `TicketLifecycle` and the
/// clocks) or a router decision (classification details, problem link, SLA events ...), with
/// the rule and rules version behind it and the id of the event that caused it.
public struct TicketLogEntry: Sendable, Hashable, Codable {
    public var at: Date
    /// The fact's or decision's name (`classified`, `assigned`, `problem-linked`, `sla-breached` ...).
    public var kind: String
    public var fact: TicketFact?
    public var detail: String?
    public var ruleId: String?
    public var rulesVersion: String?
    public var causeId: String?

    public init(
        at: Date, kind: String, fact: TicketFact? = nil, detail: String? = nil, ruleId: String? = nil,
        rulesVersion: String? = nil, causeId: String? = nil
    ) {
        self.at = at
        self.kind = kind
        self.fact = fact
        self.detail = detail
        self.ruleId = ruleId
        self.rulesVersion = rulesVersion
        self.causeId = causeId
    }

    public static func kind(of fact: TicketFact) -> String {
        switch fact {
        case .opened: "opened"
        case .classified: "classified"
        case .assigned: "assigned"
        case .acknowledged: "acknowledged"
        case .noted: "noted"
        case .paused: "paused"
        case .resumed: "resumed"
        case .escalated: "escalated"
        case .resolved: "resolved"
        case .closed: "closed"
        case .reopened: "reopened"
        case .cancelled: "cancelled"
        case .merged: "merged"
        }
    }
}

/// A ticket as the router stores it: the report's facts it routes on, its lifecycle (replayed
/// from the stored facts) and its history. Clocks are never stored as truth: they are computed
/// from the history and the rules in force.
///
/// The report's facts and the contract are fixed when the ticket opens (`let`); the grading
/// (impact, urgency), the incident flag and fingerprint change only by the desk's `reclassify`
/// (``TicketRepository/saveClassification(_:_:)``): a save updates only the columns that can change.
public struct TicketRecord: Sendable {
    public let id: String
    public let account: String
    public let contractPackage: String?
    public let contractId: String?
    public let region: String?
    public let productLine: String
    public let model: String?
    public let version: String?
    public let component: String?
    public let alarmCode: String?
    public let summary: String
    public internal(set) var isIncident: Bool
    public internal(set) var fingerprint: String?
    public var problemId: String?
    public let openedAt: Date
    public let firstTier: String?
    public internal(set) var impact: Int?
    public internal(set) var urgency: Int?
    public var reopenCount: Int
    public var escalationCount: Int
    public var hierarchicalCount: Int
    public var lifecycle: TicketLifecycle
    public var log: [TicketLogEntry]
    /// How many entries of `log` are already stored.
    var storedLogCount: Int
    var isStored: Bool
    /// The model was not sure of the service type: the ticket waits for the triage group to
    /// confirm or correct it (`reclassify` clears it).
    public internal(set) var needsTriage = false
    /// What classification and grading read, stored at opening (so `reclassify` re-grades on the
    /// report itself); nil when loaded (see ``TicketRepository/reportFacts(_:id:)``).
    var reportFacts: ReportFacts?
    /// What decided the service type (stored with the row; nil when loaded).
    var decision: ServiceTypeDecision?

    public var facts: [TicketHistoryEntry] {
        log.compactMap { entry in entry.fact.map { TicketHistoryEntry(at: entry.at, fact: $0) } }
    }

    public var product: Product {
        Product(line: productLine, model: model, version: version, component: component)
    }

    /// Appends the facts of an accepted transition, all attributed to one rule.
    mutating func record(
        _ transition: TicketLifecycle.Transition, ruleId: String?, rulesVersion: String?, causeId: String?,
        detail: String? = nil
    ) {
        for entry in transition.facts {
            log.append(TicketLogEntry(
                at: entry.at, kind: TicketLogEntry.kind(of: entry.fact), fact: entry.fact, detail: detail, ruleId: ruleId,
                rulesVersion: rulesVersion, causeId: causeId))
        }
    }

    /// Appends a decision that is not a lifecycle fact.
    mutating func decide(
        _ kind: String, at: Date, detail: String? = nil, ruleId: String? = nil, rulesVersion: String? = nil,
        causeId: String? = nil
    ) {
        log.append(TicketLogEntry(
            at: at, kind: kind, detail: detail, ruleId: ruleId, rulesVersion: rulesVersion, causeId: causeId))
    }

    /// The grading decisions (impact, urgency) of a classification, with their rules.
    mutating func decideGrading(_ classification: Classification, at: Date, causeId: String?) {
        decide(
            "impact", at: at, detail: "impact \(classification.impact)", ruleId: classification.impactRuleId,
            rulesVersion: classification.rulesVersion, causeId: causeId)
        decide(
            "urgency", at: at, detail: "urgency \(classification.urgency)", ruleId: classification.urgencyRuleId,
            rulesVersion: classification.rulesVersion, causeId: causeId)
    }

    /// SLA and OLA clocks at `now` under `rules`.
    public func clocks(rules: RouterRules, now: Date) -> TicketClocks {
        let priority = lifecycle.priority ?? .p3
        let calendar = rules.calendar(package: contractPackage)
        let facts = self.facts
        let sla = SLAClock.compute(
            history: facts, calendar: calendar, targets: rules.targets(package: contractPackage, priority: priority),
            pausingReasons: rules.pausingReasons, now: now)
        let ola = OLAClock.compute(
            history: facts, calendar: calendar, budgets: rules.olaBudgets(priority: priority),
            pausingReasons: rules.pausingReasons, now: now)
        return TicketClocks(sla: sla, ola: ola, calendar: calendar)
    }
}

/// A ticket's clocks at one instant.
public struct TicketClocks: Sendable {
    public var sla: SLAStatus
    public var ola: [OLAStint]
    public var calendar: BusinessCalendar

    public var currentStint: OLAStint? { ola.last.flatMap { $0.isCurrent ? $0 : nil } }
}
