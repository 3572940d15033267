import Foundation

/// `itr.report.submitted`: an upstream system reports an issue (in, `itr.ingress`, `report.<channel>`).
public struct ReportSubmitted: EventPayload {
    public static let eventType = EventType.reportSubmitted

    /// The upstream system, e.g. `crm-portal`, `nms-east`.
    public var sourceSystem: String
    public var channel: Channel
    /// The report's id in the upstream system.
    public var upstreamId: String
    public var customer: Customer
    public var product: Product
    public var summary: String
    public var description: String?
    public var severity: ReportedSeverity?
    /// Required for `monitoring` reports.
    public var alarm: Alarm?
    public var occurredAt: Date
    public var language: Language
    /// The reporter's guess at a category (free text, a hint for classification).
    public var categoryHint: String?
    @DefaultEmpty public var attachments: [Attachment]

    public init(
        sourceSystem: String, channel: Channel, upstreamId: String, customer: Customer, product: Product,
        summary: String, description: String? = nil, severity: ReportedSeverity? = nil, alarm: Alarm? = nil,
        occurredAt: Date, language: Language, categoryHint: String? = nil, attachments: [Attachment] = []
    ) {
        self.sourceSystem = sourceSystem
        self.channel = channel
        self.upstreamId = upstreamId
        self.customer = customer
        self.product = product
        self.summary = summary
        self.description = description
        self.severity = severity
        self.alarm = alarm
        self.occurredAt = occurredAt
        self.language = language
        self.categoryHint = categoryHint
        self.attachments = attachments
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(sourceSystem, "data.sourceSystem")
        v.required(upstreamId, "data.upstreamId")
        customer.validate("data.customer", &v)
        product.validate("data.product", &v)
        v.required(summary, "data.summary", max: limits.maxSummaryLength)
        v.optional(description, "data.description", max: limits.maxDescriptionLength)
        if channel == .monitoring, alarm == nil {
            v.add("data.alarm", .missing, "monitoring reports carry the alarm")
        }
        alarm?.validate("data.alarm", &v)
        v.time(occurredAt, "data.occurredAt")
        v.optional(categoryHint, "data.categoryHint")
        v.list(attachments.count, "data.attachments", max: limits.maxAttachments)
        for (i, a) in attachments.enumerated() { a.validate("data.attachments[\(i)]", &v) }
        return v.problems
    }
}

/// `itr.report.rejected`: input that could not be accepted, and why (out).
public struct ReportRejected: EventPayload {
    public static let eventType = EventType.reportRejected

    /// e.g. `validation-failed`, `malformed-event`, `unknown-type`, `unauthorized-source`, `too-large`.
    public var reasonCode: String
    public var message: String
    @DefaultEmpty public var problems: [ValidationProblem]
    public var originalId: String?
    public var originalSource: String?
    public var originalType: String?
    public var channel: Channel?
    public var upstreamId: String?

    public init(
        reasonCode: String, message: String, problems: [ValidationProblem] = [], originalId: String? = nil,
        originalSource: String? = nil, originalType: String? = nil, channel: Channel? = nil, upstreamId: String? = nil
    ) {
        self.reasonCode = reasonCode
        self.message = message
        self.problems = problems
        self.originalId = originalId
        self.originalSource = originalSource
        self.originalType = originalType
        self.channel = channel
        self.upstreamId = upstreamId
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(reasonCode, "data.reasonCode")
        v.required(message, "data.message", max: limits.maxDescriptionLength)
        v.list(problems.count, "data.problems")
        for (i, p) in problems.enumerated() { v.required(p.code.rawValue, "data.problems[\(i)].code") }
        v.optional(originalId, "data.originalId", max: limits.maxURILength)
        v.optional(originalSource, "data.originalSource", max: limits.maxURILength)
        v.optional(originalType, "data.originalType")
        v.optional(upstreamId, "data.upstreamId")
        return v.problems
    }
}
