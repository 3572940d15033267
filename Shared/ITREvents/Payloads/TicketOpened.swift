import Foundation

/// `itr.ticket.opened`: intake accepted a report and opened a ticket (out).
public struct TicketOpened: EventPayload {
    public static let eventType = EventType.ticketOpened

    public var ticketId: String
    /// The CloudEvent id and source of the `itr.report.submitted` that opened it.
    public var reportId: String
    public var reportSource: String
    public var sourceSystem: String
    public var upstreamId: String
    public var channel: Channel
    /// The customer's account (as in `customer.account`), repeated for routing and filtering.
    public var account: String
    /// Whether the account is in the contract catalogue.
    public var accountKnown: Bool
    public var customer: Customer
    public var product: Product
    public var summary: String
    public var description: String?
    public var severity: ReportedSeverity?
    public var alarm: Alarm?
    public var occurredAt: Date
    public var openedAt: Date
    public var language: Language
    public var categoryHint: String?
    @DefaultEmpty public var attachments: [Attachment]
    /// A known error the report matched; its workaround goes to the ticket at once.
    public var knownError: KnownErrorMatch?

    public init(
        ticketId: String, reportId: String, reportSource: String, sourceSystem: String, upstreamId: String,
        channel: Channel, account: String, accountKnown: Bool, customer: Customer, product: Product, summary: String,
        description: String? = nil, severity: ReportedSeverity? = nil, alarm: Alarm? = nil, occurredAt: Date,
        openedAt: Date, language: Language, categoryHint: String? = nil, attachments: [Attachment] = [],
        knownError: KnownErrorMatch? = nil
    ) {
        self.ticketId = ticketId
        self.reportId = reportId
        self.reportSource = reportSource
        self.sourceSystem = sourceSystem
        self.upstreamId = upstreamId
        self.channel = channel
        self.account = account
        self.accountKnown = accountKnown
        self.customer = customer
        self.product = product
        self.summary = summary
        self.description = description
        self.severity = severity
        self.alarm = alarm
        self.occurredAt = occurredAt
        self.openedAt = openedAt
        self.language = language
        self.categoryHint = categoryHint
        self.attachments = attachments
        self.knownError = knownError
    }

    /// The ticket opened from `report` (received as `event`).
    public init(
        ticketId: String, report: ReportSubmitted, event: CloudEvent, accountKnown: Bool, openedAt: Date,
        knownError: KnownErrorMatch? = nil
    ) {
        self.init(
            ticketId: ticketId, reportId: event.id, reportSource: event.source, sourceSystem: report.sourceSystem,
            upstreamId: report.upstreamId, channel: report.channel, account: report.customer.account,
            accountKnown: accountKnown, customer: report.customer, product: report.product, summary: report.summary,
            description: report.description, severity: report.severity, alarm: report.alarm,
            occurredAt: report.occurredAt, openedAt: openedAt, language: report.language,
            categoryHint: report.categoryHint, attachments: report.attachments, knownError: knownError)
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.required(reportId, "data.reportId", max: limits.maxURILength)
        v.required(reportSource, "data.reportSource", max: limits.maxURILength)
        v.required(sourceSystem, "data.sourceSystem")
        v.required(upstreamId, "data.upstreamId")
        v.required(account, "data.account")
        customer.validate("data.customer", &v)
        product.validate("data.product", &v)
        v.required(summary, "data.summary", max: limits.maxSummaryLength)
        v.optional(description, "data.description", max: limits.maxDescriptionLength)
        alarm?.validate("data.alarm", &v)
        v.time(occurredAt, "data.occurredAt")
        v.time(openedAt, "data.openedAt")
        v.optional(categoryHint, "data.categoryHint")
        v.list(attachments.count, "data.attachments", max: limits.maxAttachments)
        for (i, a) in attachments.enumerated() { a.validate("data.attachments[\(i)]", &v) }
        knownError?.validate("data.knownError", &v)
        return v.problems
    }
}

/// `itr.ticket.correlated` (internal): intake folded a repeated alarm into an open ticket.
public struct TicketCorrelated: EventPayload {
    public static let eventType = EventType.ticketCorrelated

    public var ticketId: String
    /// The CloudEvent id of the report that was folded in.
    public var reportId: String
    public var upstreamId: String
    public var alarmCode: String
    public var device: String?
    /// How many reports the ticket has absorbed so far (including the first).
    public var count: Int
    public var firstSeenAt: Date
    public var lastSeenAt: Date
    /// True when the alarm has been cleared by the monitoring system.
    public var cleared: Bool

    public init(
        ticketId: String, reportId: String, upstreamId: String, alarmCode: String, device: String? = nil, count: Int,
        firstSeenAt: Date, lastSeenAt: Date, cleared: Bool
    ) {
        self.ticketId = ticketId
        self.reportId = reportId
        self.upstreamId = upstreamId
        self.alarmCode = alarmCode
        self.device = device
        self.count = count
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
        self.cleared = cleared
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.required(reportId, "data.reportId", max: limits.maxURILength)
        v.required(upstreamId, "data.upstreamId")
        v.required(alarmCode, "data.alarmCode")
        v.optional(device, "data.device")
        v.atLeast(count, "data.count", 1)
        v.time(firstSeenAt, "data.firstSeenAt")
        v.time(lastSeenAt, "data.lastSeenAt")
        if lastSeenAt < firstSeenAt { v.add("data.lastSeenAt", .inconsistent, "before firstSeenAt") }
        return v.problems
    }
}
