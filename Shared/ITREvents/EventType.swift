/// Every CloudEvents `type` of the ITR contract, plus the internal ones the services exchange.
///
/// Version policy: the type name carries the major version from v2 on (`itr.report.submitted.v2`
/// would be a new type next to v1); v1 types have no suffix. See README.md.
public struct EventType: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    public var description: String { rawValue }

    /// Who produces the type.
    public enum Direction: String, Sendable, Hashable {
        /// From the outside world, on `itr.ingress`.
        case inbound
        /// Published by the services on `itr.events`, relied on by the outside world.
        case outbound
        /// Published on `itr.events` for the services themselves.
        case `internal`
    }

    // MARK: In (on itr.ingress)
    public static let reportSubmitted: EventType = "itr.report.submitted"
    public static let ticketAction: EventType = "itr.ticket.action"
    public static let defectStatus: EventType = "itr.defect.status"
    public static let opportunityStatus: EventType = "itr.opportunity.status"

    // MARK: Out (on itr.events)
    public static let ticketOpened: EventType = "itr.ticket.opened"
    public static let ticketClassified: EventType = "itr.ticket.classified"
    public static let ticketAssigned: EventType = "itr.ticket.assigned"
    public static let ticketEscalated: EventType = "itr.ticket.escalated"
    public static let ticketResolved: EventType = "itr.ticket.resolved"
    public static let ticketClosed: EventType = "itr.ticket.closed"
    public static let ticketReopened: EventType = "itr.ticket.reopened"
    public static let slaWarning: EventType = "itr.sla.warning"
    public static let slaBreached: EventType = "itr.sla.breached"
    public static let olaBreached: EventType = "itr.ola.breached"
    public static let problemOpened: EventType = "itr.problem.opened"
    public static let problemKnownError: EventType = "itr.problem.known-error"
    public static let problemResolved: EventType = "itr.problem.resolved"
    public static let opportunityIdentified: EventType = "itr.opportunity.identified"
    public static let opportunityUpdated: EventType = "itr.opportunity.updated"
    public static let defectReported: EventType = "itr.defect.reported"
    public static let defectUpdated: EventType = "itr.defect.updated"
    public static let defectFixed: EventType = "itr.defect.fixed"
    public static let reportRejected: EventType = "itr.report.rejected"

    // MARK: Internal (on itr.events)
    public static let ticketCorrelated: EventType = "itr.ticket.correlated"
    public static let ticketActionRejected: EventType = "itr.ticket.action-rejected"
    public static let ticketUpdated: EventType = "itr.ticket.updated"

    public static let inbound: [EventType] = [.reportSubmitted, .ticketAction, .defectStatus, .opportunityStatus]
    public static let outbound: [EventType] = [
        .ticketOpened, .ticketClassified, .ticketAssigned, .ticketEscalated, .ticketResolved, .ticketClosed,
        .ticketReopened, .slaWarning, .slaBreached, .olaBreached, .problemOpened, .problemKnownError,
        .problemResolved, .opportunityIdentified, .opportunityUpdated, .defectReported, .defectUpdated,
        .defectFixed, .reportRejected,
    ]
    public static let internalTypes: [EventType] = [.ticketCorrelated, .ticketActionRejected, .ticketUpdated]

    /// Every type this module knows, in contract order.
    public static let allCases: [EventType] = inbound + outbound + internalTypes

    public var isKnown: Bool { Self.allCases.contains(self) }

    public var direction: Direction? {
        if Self.inbound.contains(self) { return .inbound }
        if Self.outbound.contains(self) { return .outbound }
        if Self.internalTypes.contains(self) { return .internal }
        return nil
    }

    /// The `dataschema` URI written on events of this type; the same string is the `$id` of
    /// `Schemas/<type>.json`.
    public var dataschema: String { "https://itr.example.com/schemas/v1/\(rawValue).json" }

    /// The routing key on `itr.events`: the type itself.
    public var eventsRoutingKey: String { rawValue }

    /// The payload type for a known event type.
    public var payloadType: (any EventPayload.Type)? {
        switch self {
        case .reportSubmitted: ReportSubmitted.self
        case .ticketAction: TicketAction.self
        case .defectStatus: DefectStatus.self
        case .opportunityStatus: OpportunityStatus.self
        case .ticketOpened: TicketOpened.self
        case .ticketClassified: TicketClassified.self
        case .ticketAssigned: TicketAssigned.self
        case .ticketEscalated: TicketEscalated.self
        case .ticketResolved: TicketResolved.self
        case .ticketClosed: TicketClosed.self
        case .ticketReopened: TicketReopened.self
        case .slaWarning: SLAWarning.self
        case .slaBreached: SLABreached.self
        case .olaBreached: OLABreached.self
        case .problemOpened: ProblemOpened.self
        case .problemKnownError: ProblemKnownError.self
        case .problemResolved: ProblemResolved.self
        case .opportunityIdentified: OpportunityIdentified.self
        case .opportunityUpdated: OpportunityUpdated.self
        case .defectReported: DefectReported.self
        case .defectUpdated: DefectUpdated.self
        case .defectFixed: DefectFixed.self
        case .reportRejected: ReportRejected.self
        case .ticketCorrelated: TicketCorrelated.self
        case .ticketActionRejected: TicketActionRejected.self
        case .ticketUpdated: TicketUpdated.self
        default: nil
        }
    }
}

/// Exchange names and routing keys of the contract.
public enum EventRouting {
    public static let ingressExchange = "itr.ingress"
    public static let eventsExchange = "itr.events"
    public static let deadLetterExchange = "itr.dlx"
    public static let defectFeedQueue = "feed.defects"
    public static let opportunityFeedQueue = "feed.opportunities"
    public static let rejectedQueue = "itr.rejected"

    /// `report.<channel>` on `itr.ingress`.
    public static func ingressKey(for channel: Channel) -> String { "report.\(channel.rawValue)" }
    /// `ticket.<action>` on `itr.ingress`.
    public static func ingressKey(for action: TicketActionKind) -> String { "ticket.\(action.rawValue)" }
    /// `defect.<status>` on `itr.ingress`.
    public static func ingressKey(for status: DefectDecision) -> String { "defect.\(status.rawValue)" }
    /// `opportunity.<status>` on `itr.ingress`.
    public static func ingressKey(for status: OpportunityState) -> String { "opportunity.\(status.rawValue)" }
}
