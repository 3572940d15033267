import ITRConfig

/// Where a functional escalation goes.
public enum EscalationTarget: Sendable, Hashable, Codable {
    /// The next tier of the functional chain.
    case nextTier
    /// A given tier (skipping or going back).
    case tier(String)
}

/// Everything that can happen to a ticket: the router's own decisions (classify, assign,
/// autoClose) and the service desk's actions.
public enum TicketAction: Sendable, Hashable {
    case classify(serviceType: ServiceType, priority: Priority, ruleId: String, rulesVersion: String)
    case assign(tier: String, group: String)
    case acknowledge
    case note(String)
    case pause(PendingReason)
    case resume
    /// `group`: the group the ticket goes to with the tier (nil: it keeps its group).
    case escalate(EscalationTarget, reason: EscalationReason, group: String? = nil)
    case resolve(Resolution)
    /// The customer confirms the resolution.
    case confirm
    case reopen(reason: String)
    case cancel(reason: String)
    case merge(into: String)
    /// The confirmation timeout has run out.
    case autoClose

    /// The action's name as used on the wire (`itr.ticket.action`).
    public var name: String {
        switch self {
        case .classify: "classify"
        case .assign: "assign"
        case .acknowledge: "acknowledge"
        case .note: "note"
        case .pause: "pause"
        case .resume: "resume"
        case .escalate: "escalate"
        case .resolve: "resolve"
        case .confirm: "confirm"
        case .reopen: "reopen"
        case .cancel: "cancel"
        case .merge: "merge"
        case .autoClose: "auto-close"
        }
    }
}
