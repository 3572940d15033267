import Foundation

/// `itr.ticket.action`: a service-desk tool acts on a ticket (in, `itr.ingress`, `ticket.<action>`).
/// The same body is accepted by `POST /v1/tickets/{id}/actions`.
public struct TicketAction: EventPayload {
    public static let eventType = EventType.ticketAction

    /// What `resolve` carries.
    public struct Resolution: Codable, Sendable, Hashable {
        public var resolutionCode: String
        public var rootCause: String?
        public var workaround: String?
        @DefaultEmpty public var spareParts: [SparePart]
        public var qualityResponsibility: QualityResponsibility?
        public init(
            resolutionCode: String, rootCause: String? = nil, workaround: String? = nil, spareParts: [SparePart] = [],
            qualityResponsibility: QualityResponsibility? = nil
        ) {
            self.resolutionCode = resolutionCode
            self.rootCause = rootCause
            self.workaround = workaround
            self.spareParts = spareParts
            self.qualityResponsibility = qualityResponsibility
        }
    }

    /// What `escalate` carries.
    public struct Escalation: Codable, Sendable, Hashable {
        public var kind: EscalationKind?
        public var toTier: Tier?
        public var reason: String
        public init(kind: EscalationKind? = nil, toTier: Tier? = nil, reason: String) {
            self.kind = kind
            self.toTier = toTier
            self.reason = reason
        }
    }

    public var ticketId: String
    public var action: TicketActionKind
    public var actor: Actor
    /// Required for `note`; optional remark on any other action.
    public var note: String?
    /// Required for `pause`.
    public var pauseReason: PauseReason?
    /// Required for `resolve`.
    public var resolution: Resolution?
    /// Required for `escalate`.
    public var escalation: Escalation?
    /// Required for `merge`: the ticket this one is merged into.
    public var mergeInto: String?
    /// Why (for `reopen`, `cancel`; required for `reclassify`).
    public var reason: String?
    /// Required for `reclassify`: the service type the ticket really has.
    public var serviceType: ServiceType?
    /// `reprioritise`: the new impact, the new urgency (at least one of them).
    public var impact: Impact?
    public var urgency: Urgency?

    public init(
        ticketId: String, action: TicketActionKind, actor: Actor, note: String? = nil, pauseReason: PauseReason? = nil,
        resolution: Resolution? = nil, escalation: Escalation? = nil, mergeInto: String? = nil, reason: String? = nil,
        serviceType: ServiceType? = nil, impact: Impact? = nil, urgency: Urgency? = nil
    ) {
        self.serviceType = serviceType
        self.impact = impact
        self.urgency = urgency
        self.ticketId = ticketId
        self.action = action
        self.actor = actor
        self.note = note
        self.pauseReason = pauseReason
        self.resolution = resolution
        self.escalation = escalation
        self.mergeInto = mergeInto
        self.reason = reason
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        actor.validate("data.actor", &v)
        v.optional(note, "data.note", max: limits.maxDescriptionLength)
        v.optional(reason, "data.reason", max: limits.maxDescriptionLength)
        v.optional(mergeInto, "data.mergeInto")
        switch action {
        case .note where note == nil: v.add("data.note", .missing, "a note action carries the note")
        case .pause where pauseReason == nil: v.add("data.pauseReason", .missing, "a pause names its reason")
        case .resolve where resolution == nil: v.add("data.resolution", .missing, "resolve carries the resolution")
        case .escalate where escalation == nil: v.add("data.escalation", .missing, "escalate carries the escalation")
        case .merge where mergeInto == nil: v.add("data.mergeInto", .missing, "merge names the target ticket")
        case .merge where mergeInto == ticketId: v.add("data.mergeInto", .inconsistent, "cannot merge into itself")
        case .reclassify:
            if serviceType == nil { v.add("data.serviceType", .missing, "reclassify names the new service type") }
            if (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                v.add("data.reason", .missing, "reclassify says why (the reason is kept with the labelled example)")
            }
        case .reprioritise:
            if impact == nil && urgency == nil {
                v.add("data.impact", .missing, "reprioritise names the new impact, the new urgency or both")
            }
            if (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                v.add("data.reason", .missing, "reprioritise says why")
            }
        default: break
        }
        if let r = resolution {
            v.required(r.resolutionCode, "data.resolution.resolutionCode")
            v.optional(r.rootCause, "data.resolution.rootCause", max: limits.maxDescriptionLength)
            v.optional(r.workaround, "data.resolution.workaround", max: limits.maxDescriptionLength)
            v.list(r.spareParts.count, "data.resolution.spareParts")
            for (i, p) in r.spareParts.enumerated() { p.validate("data.resolution.spareParts[\(i)]", &v) }
        }
        if let e = escalation {
            v.required(e.reason, "data.escalation.reason", max: limits.maxSummaryLength)
        }
        return v.problems
    }
}
