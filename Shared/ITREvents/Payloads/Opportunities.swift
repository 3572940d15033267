import Foundation

public enum OpportunityIdentifiedKind: EventKind { public static let eventType = EventType.opportunityIdentified }
public enum OpportunityUpdatedKind: EventKind { public static let eventType = EventType.opportunityUpdated }

/// `itr.opportunity.identified` / `itr.opportunity.updated` (out, `feed.opportunities`).
public typealias OpportunityIdentified = OpportunityEvent<OpportunityIdentifiedKind>
public typealias OpportunityUpdated = OpportunityEvent<OpportunityUpdatedKind>

/// A sales opportunity revealed by tickets (ITR → LTC). Same shape for identified and updated.
public struct OpportunityEvent<Kind: EventKind>: EventPayload {
    public static var eventType: EventType { Kind.eventType }

    public var opportunityId: String
    public var account: String
    public var kind: OpportunityKind
    public var product: Product?
    public var quantity: Int?
    /// Sum of the price lines (decimal string amount, see ``Money``).
    public var estimatedValue: Money?
    @DefaultEmpty public var priceLines: [PriceLine]
    /// 0...1.
    public var confidence: Double
    /// Human-readable reasons for the confidence.
    @DefaultEmpty public var reasons: [String]
    @DefaultEmpty public var ticketIds: [String]
    /// Signal rule ids that fired (e.g. `out-of-warranty-repair`, `contract-expiring`).
    @DefaultEmpty public var signals: [String]
    public var suggestedOwner: String?
    public var status: OpportunityState

    public init(
        opportunityId: String, account: String, kind: OpportunityKind, product: Product? = nil, quantity: Int? = nil,
        estimatedValue: Money? = nil, priceLines: [PriceLine] = [], confidence: Double, reasons: [String] = [],
        ticketIds: [String], signals: [String] = [], suggestedOwner: String? = nil, status: OpportunityState = .open
    ) {
        self.opportunityId = opportunityId
        self.account = account
        self.kind = kind
        self.product = product
        self.quantity = quantity
        self.estimatedValue = estimatedValue
        self.priceLines = priceLines
        self.confidence = confidence
        self.reasons = reasons
        self.ticketIds = ticketIds
        self.signals = signals
        self.suggestedOwner = suggestedOwner
        self.status = status
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(opportunityId, "data.opportunityId")
        v.required(account, "data.account")
        product?.validate("data.product", &v)
        v.atLeast(quantity, "data.quantity", 1)
        estimatedValue?.validate("data.estimatedValue", &v)
        v.list(priceLines.count, "data.priceLines")
        for (i, line) in priceLines.enumerated() { line.validate("data.priceLines[\(i)]", &v) }
        if !confidence.isFinite || !(0...1).contains(confidence) {
            v.add("data.confidence", .outOfRange, "must be between 0 and 1")
        }
        v.strings(reasons, "data.reasons", max: limits.maxSummaryLength)
        v.strings(ticketIds, "data.ticketIds")
        v.strings(signals, "data.signals")
        v.optional(suggestedOwner, "data.suggestedOwner")
        return v.problems
    }
}

/// `itr.opportunity.status` (in, `itr.ingress`, `opportunity.<status>`): sales reports back.
public struct OpportunityStatus: EventPayload {
    public static let eventType = EventType.opportunityStatus

    public var opportunityId: String
    public var status: OpportunityState
    public var note: String?
    public var actor: Actor?
    /// The value actually won, when `won`.
    public var value: Money?

    public init(
        opportunityId: String, status: OpportunityState, note: String? = nil, actor: Actor? = nil, value: Money? = nil
    ) {
        self.opportunityId = opportunityId
        self.status = status
        self.note = note
        self.actor = actor
        self.value = value
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(opportunityId, "data.opportunityId")
        if status == .open { v.add("data.status", .unknownValue, "sales report accepted, rejected, won or lost") }
        v.optional(note, "data.note", max: limits.maxDescriptionLength)
        actor?.validate("data.actor", &v)
        value?.validate("data.value", &v)
        return v.problems
    }
}
