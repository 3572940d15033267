import Foundation

// The ticket's lifecycle events published by itr-router.

/// `itr.ticket.classified`: service type, impact x urgency → priority, contract package, and what
/// decided the service type: an explicit-signal rule, the trained model (its version, confidence
/// and runner-up; `needsTriage` when it was not sure enough) or the service desk's `reclassify`
/// (again for the same ticket, with the previous type and the reason).
public struct TicketClassified: EventPayload {
    public static let eventType = EventType.ticketClassified

    /// Who decided the service type.
    public enum Decider: String, Codable, Sendable, Hashable, CaseIterable {
        case rule, model, desk
    }

    /// The model's decision.
    public struct ModelDecision: Codable, Sendable, Hashable {
        public var version: String
        /// Probability of the chosen service type, 0...1.
        public var confidence: Double
        public var runnerUp: ServiceType?
        public var runnerUpConfidence: Double?

        public init(version: String, confidence: Double, runnerUp: ServiceType? = nil, runnerUpConfidence: Double? = nil) {
            self.version = version
            self.confidence = confidence
            self.runnerUp = runnerUp
            self.runnerUpConfidence = runnerUpConfidence
        }
    }

    public var ticketId: String
    public var serviceType: ServiceType
    public var impact: Impact
    public var urgency: Urgency
    public var priority: Priority
    /// The customer's contract package (e.g. `gold-24x7`); absent for unknown accounts.
    public var contractPackage: String?
    public var account: String?
    /// The classification rule that matched (the model step's id, e.g. `st.model`, for a model
    /// decision; `action.reclassify` for the desk's) and the version of the rule set.
    public var ruleId: String
    public var rulesVersion: String
    /// Absent in events of earlier versions (read as `rule`).
    public var decidedBy: Decider?
    /// With `decidedBy` = `model`.
    public var model: ModelDecision?
    /// The model was below the configured confidence: the ticket went to the triage group.
    public var needsTriage: Bool?
    /// With `decidedBy` = `desk`: the type before, the reason and who.
    public var previousServiceType: ServiceType?
    public var reason: String?
    public var actor: Actor?

    public init(
        ticketId: String, serviceType: ServiceType, impact: Impact, urgency: Urgency, priority: Priority,
        contractPackage: String? = nil, account: String? = nil, ruleId: String, rulesVersion: String,
        decidedBy: Decider? = nil, model: ModelDecision? = nil, needsTriage: Bool? = nil,
        previousServiceType: ServiceType? = nil, reason: String? = nil, actor: Actor? = nil
    ) {
        self.ticketId = ticketId
        self.serviceType = serviceType
        self.impact = impact
        self.urgency = urgency
        self.priority = priority
        self.contractPackage = contractPackage
        self.account = account
        self.ruleId = ruleId
        self.rulesVersion = rulesVersion
        self.decidedBy = decidedBy
        self.model = model
        self.needsTriage = needsTriage
        self.previousServiceType = previousServiceType
        self.reason = reason
        self.actor = actor
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.optional(contractPackage, "data.contractPackage")
        v.optional(account, "data.account")
        v.required(ruleId, "data.ruleId")
        v.required(rulesVersion, "data.rulesVersion")
        v.optional(reason, "data.reason", max: limits.maxDescriptionLength)
        if let model {
            v.required(model.version, "data.model.version")
            if !(0...1).contains(model.confidence) {
                v.add("data.model.confidence", .outOfRange, "a probability is between 0 and 1")
            }
            if let runner = model.runnerUpConfidence, !(0...1).contains(runner) {
                v.add("data.model.runnerUpConfidence", .outOfRange, "a probability is between 0 and 1")
            }
        }
        if decidedBy == .model && model == nil { v.add("data.model", .missing, "a model decision carries the model") }
        if decidedBy == .desk && previousServiceType == nil {
            v.add("data.previousServiceType", .missing, "a desk reclassification names the previous type")
        }
        actor?.validate("data.actor", &v)
        return v.problems
    }
}

/// `itr.ticket.assigned`: the ticket went to a group at a tier, with its OLA due time.
public struct TicketAssigned: EventPayload {
    public static let eventType = EventType.ticketAssigned

    public var ticketId: String
    public var group: String
    public var tier: Tier
    public var assignee: String?
    public var priority: Priority?
    public var olaDueAt: Date?
    public var olaBudgetMinutes: Int?
    public var reason: String?

    public init(
        ticketId: String, group: String, tier: Tier, assignee: String? = nil, priority: Priority? = nil,
        olaDueAt: Date? = nil, olaBudgetMinutes: Int? = nil, reason: String? = nil
    ) {
        self.ticketId = ticketId
        self.group = group
        self.tier = tier
        self.assignee = assignee
        self.priority = priority
        self.olaDueAt = olaDueAt
        self.olaBudgetMinutes = olaBudgetMinutes
        self.reason = reason
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.required(group, "data.group")
        v.optional(assignee, "data.assignee")
        v.atLeast(olaBudgetMinutes, "data.olaBudgetMinutes", 1)
        v.optional(reason, "data.reason", max: limits.maxSummaryLength)
        return v.problems
    }
}

/// `itr.ticket.escalated`: functional (to the next tier) or hierarchical (to management).
public struct TicketEscalated: EventPayload {
    public static let eventType = EventType.ticketEscalated

    public var ticketId: String
    public var kind: EscalationKind
    public var fromTier: Tier?
    public var toTier: Tier?
    /// Step in the escalation chain, from 1.
    public var step: Int
    public var group: String?
    /// Roles to notify, e.g. `duty-manager`, `service-director`.
    @DefaultEmpty public var notifyRoles: [String]
    /// e.g. `ola-expired`, `tier-cannot-solve`, `sla-at-risk`, `manual`.
    public var reason: String
    /// Share of the SLA resolution time used when escalating (0.8 = 80 %).
    public var slaShare: Double?

    public init(
        ticketId: String, kind: EscalationKind, fromTier: Tier? = nil, toTier: Tier? = nil, step: Int,
        group: String? = nil, notifyRoles: [String] = [], reason: String, slaShare: Double? = nil
    ) {
        self.ticketId = ticketId
        self.kind = kind
        self.fromTier = fromTier
        self.toTier = toTier
        self.step = step
        self.group = group
        self.notifyRoles = notifyRoles
        self.reason = reason
        self.slaShare = slaShare
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.atLeast(step, "data.step", 1)
        v.optional(group, "data.group")
        v.strings(notifyRoles, "data.notifyRoles")
        v.required(reason, "data.reason", max: limits.maxSummaryLength)
        v.range(slaShare, "data.slaShare", 0...100)
        if kind == .functional, toTier == nil { v.add("data.toTier", .missing, "functional escalation names the tier") }
        return v.problems
    }
}

/// `itr.ticket.resolved`: fixed, with what was done and who caused it (feeds LTC and IPD).
public struct TicketResolved: EventPayload {
    public static let eventType = EventType.ticketResolved

    public var ticketId: String
    public var resolutionCode: String
    public var rootCause: String?
    public var workaround: String?
    @DefaultEmpty public var spareParts: [SparePart]
    public var qualityResponsibility: QualityResponsibility
    public var product: Product
    public var priority: Priority
    public var serviceType: ServiceType
    public var account: String
    public var contractPackage: String?
    public var problemId: String?
    public var resolvedBy: Actor?
    public var resolvedAt: Date

    public init(
        ticketId: String, resolutionCode: String, rootCause: String? = nil, workaround: String? = nil,
        spareParts: [SparePart] = [], qualityResponsibility: QualityResponsibility, product: Product,
        priority: Priority, serviceType: ServiceType, account: String, contractPackage: String? = nil,
        problemId: String? = nil, resolvedBy: Actor? = nil, resolvedAt: Date
    ) {
        self.ticketId = ticketId
        self.resolutionCode = resolutionCode
        self.rootCause = rootCause
        self.workaround = workaround
        self.spareParts = spareParts
        self.qualityResponsibility = qualityResponsibility
        self.product = product
        self.priority = priority
        self.serviceType = serviceType
        self.account = account
        self.contractPackage = contractPackage
        self.problemId = problemId
        self.resolvedBy = resolvedBy
        self.resolvedAt = resolvedAt
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.required(resolutionCode, "data.resolutionCode")
        v.optional(rootCause, "data.rootCause", max: limits.maxDescriptionLength)
        v.optional(workaround, "data.workaround", max: limits.maxDescriptionLength)
        v.list(spareParts.count, "data.spareParts")
        for (i, p) in spareParts.enumerated() { p.validate("data.spareParts[\(i)]", &v) }
        product.validate("data.product", &v)
        v.required(account, "data.account")
        v.optional(contractPackage, "data.contractPackage")
        v.optional(problemId, "data.problemId")
        resolvedBy?.validate("data.resolvedBy", &v)
        v.time(resolvedAt, "data.resolvedAt")
        return v.problems
    }
}

/// `itr.ticket.closed`: confirmed by the customer, timed out, cancelled or merged.
public struct TicketClosed: EventPayload {
    public static let eventType = EventType.ticketClosed

    public var ticketId: String
    public var reason: CloseReason
    public var closedAt: Date
    /// For `merged`: the ticket it was merged into.
    public var mergedInto: String?
    public var note: String?

    public init(ticketId: String, reason: CloseReason, closedAt: Date, mergedInto: String? = nil, note: String? = nil) {
        self.ticketId = ticketId
        self.reason = reason
        self.closedAt = closedAt
        self.mergedInto = mergedInto
        self.note = note
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.time(closedAt, "data.closedAt")
        if reason == .merged, mergedInto == nil { v.add("data.mergedInto", .missing, "merged tickets name the target") }
        v.optional(mergedInto, "data.mergedInto")
        v.optional(note, "data.note", max: limits.maxDescriptionLength)
        return v.problems
    }
}

/// `itr.ticket.reopened`: the customer (or an engineer) reopened a resolved ticket.
public struct TicketReopened: EventPayload {
    public static let eventType = EventType.ticketReopened

    public var ticketId: String
    public var reason: String
    /// How many times the ticket has been reopened, this one included.
    public var reopenCount: Int
    public var actor: Actor?
    public var reopenedAt: Date

    public init(ticketId: String, reason: String, reopenCount: Int, actor: Actor? = nil, reopenedAt: Date) {
        self.ticketId = ticketId
        self.reason = reason
        self.reopenCount = reopenCount
        self.actor = actor
        self.reopenedAt = reopenedAt
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.required(reason, "data.reason", max: limits.maxDescriptionLength)
        v.atLeast(reopenCount, "data.reopenCount", 1)
        actor?.validate("data.actor", &v)
        v.time(reopenedAt, "data.reopenedAt")
        return v.problems
    }
}

/// `itr.ticket.updated` (internal): an action that changed the ticket without a dedicated event
/// (acknowledge, note, pause, resume, ...), with the state it led to.
public struct TicketUpdated: EventPayload {
    public static let eventType = EventType.ticketUpdated

    public var ticketId: String
    public var action: TicketActionKind
    /// The router's name of the resulting state (e.g. `in-progress`, `paused`).
    public var state: String
    public var note: String?
    public var pauseReason: PauseReason?
    public var actor: Actor?
    public var at: Date

    public init(
        ticketId: String, action: TicketActionKind, state: String, note: String? = nil,
        pauseReason: PauseReason? = nil, actor: Actor? = nil, at: Date
    ) {
        self.ticketId = ticketId
        self.action = action
        self.state = state
        self.note = note
        self.pauseReason = pauseReason
        self.actor = actor
        self.at = at
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.required(state, "data.state")
        v.optional(note, "data.note", max: limits.maxDescriptionLength)
        actor?.validate("data.actor", &v)
        v.time(at, "data.at")
        return v.problems
    }
}

/// `itr.ticket.action-rejected` (internal): the router refused an action.
public struct TicketActionRejected: EventPayload {
    public static let eventType = EventType.ticketActionRejected

    public var ticketId: String
    /// The action as requested (kept as text: it may not be a known action).
    public var action: String
    /// e.g. `unknown-ticket`, `invalid-transition`, `invalid-action`.
    public var reasonCode: String
    public var message: String
    /// The CloudEvent id of the refused action.
    public var actionId: String?

    public init(ticketId: String, action: String, reasonCode: String, message: String, actionId: String? = nil) {
        self.ticketId = ticketId
        self.action = action
        self.reasonCode = reasonCode
        self.message = message
        self.actionId = actionId
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.required(action, "data.action")
        v.required(reasonCode, "data.reasonCode")
        v.required(message, "data.message", max: limits.maxDescriptionLength)
        v.optional(actionId, "data.actionId", max: limits.maxURILength)
        return v.problems
    }
}
