import Foundation
import ITRConfig
import ITREvents

/// What a ticket's resolver recorded when resolving it.
public struct Resolution: Sendable, Hashable, Codable {
    /// A code from `quality.yaml` (e.g. `SW-DEFECT`).
    public var code: String
    public var rootCause: String
    public var workaround: String?
    /// Part numbers of spare parts used.
    public var spareParts: [String]
    /// The quality responsibility the resolver stated (`resolution.qualityResponsibility`), nil
    /// when it is derived from the resolution code (`quality.yaml`).
    public var responsibility: QualityResponsibility?

    public init(
        code: String, rootCause: String, workaround: String? = nil, spareParts: [String] = [],
        responsibility: QualityResponsibility? = nil
    ) {
        self.code = code
        self.rootCause = rootCause
        self.workaround = workaround
        self.spareParts = spareParts
        self.responsibility = responsibility
    }
}

/// Why a functional escalation happened.
public enum EscalationReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The tier's OLA ran out (raised by the planner's `olaBreach` moment).
    case olaBreach = "ola-breach"
    /// The tier holding the ticket asks for the next tier.
    case tierRequest = "tier-request"
    /// A person on the service desk decided it.
    case manual
}

/// How a resolved ticket was closed.
public enum ClosureReason: String, Sendable, Hashable, Codable {
    case confirmed
    case confirmationTimeout = "confirmation-timeout"
}

/// One lifecycle fact of a ticket. Clocks are computed from the list of these.
public enum TicketFact: Sendable, Hashable, Codable {
    case opened
    case classified(serviceType: ServiceType, priority: Priority, ruleId: String, rulesVersion: String)
    case assigned(tier: String, group: String)
    case acknowledged
    case noted(String)
    case paused(PendingReason)
    case resumed
    /// `group`: the group it went to with the tier (nil: it kept its group; also every fact
    /// stored before escalation groups existed).
    case escalated(from: String, to: String, reason: EscalationReason, group: String? = nil)
    case resolved(Resolution)
    case closed(ClosureReason)
    case reopened(reason: String)
    case cancelled(reason: String)
    case merged(into: String)
}

/// A timestamped lifecycle fact.
public struct TicketHistoryEntry: Sendable, Hashable, Codable {
    public var at: Date
    public var fact: TicketFact

    public init(at: Date, fact: TicketFact) {
        self.at = at
        self.fact = fact
    }
}
