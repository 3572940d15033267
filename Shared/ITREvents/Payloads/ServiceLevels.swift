import Foundation

public enum SLAWarningKind: EventKind { public static let eventType = EventType.slaWarning }
public enum SLABreachedKind: EventKind { public static let eventType = EventType.slaBreached }

/// `itr.sla.warning` / `itr.sla.breached`: an SLA clock passed its warning share or its target.
public typealias SLAWarning = SLAClockEvent<SLAWarningKind>
public typealias SLABreached = SLAClockEvent<SLABreachedKind>

/// The data of ``SLAWarning`` and ``SLABreached`` (same shape, different type).
public struct SLAClockEvent<Kind: EventKind>: EventPayload {
    public static var eventType: EventType { Kind.eventType }

    public var ticketId: String
    public var clock: SLAClock
    public var priority: Priority
    /// The target in business minutes (within coverage hours).
    public var targetMinutes: Int
    public var dueAt: Date
    /// Share of the target used so far (0.75 = 75 %; >= 1 when breached).
    public var share: Double
    public var contractPackage: String?
    public var serviceType: ServiceType?
    public var account: String?

    public init(
        ticketId: String, clock: SLAClock, priority: Priority, targetMinutes: Int, dueAt: Date, share: Double,
        contractPackage: String? = nil, serviceType: ServiceType? = nil, account: String? = nil
    ) {
        self.ticketId = ticketId
        self.clock = clock
        self.priority = priority
        self.targetMinutes = targetMinutes
        self.dueAt = dueAt
        self.share = share
        self.contractPackage = contractPackage
        self.serviceType = serviceType
        self.account = account
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.atLeast(targetMinutes, "data.targetMinutes", 1)
        if !share.isFinite || share < 0 { v.add("data.share", .outOfRange, "must be a finite number >= 0") }
        v.optional(contractPackage, "data.contractPackage")
        v.optional(account, "data.account")
        return v.problems
    }
}

/// `itr.ola.breached`: a tier did not finish within its OLA budget.
public struct OLABreached: EventPayload {
    public static let eventType = EventType.olaBreached

    public var ticketId: String
    public var tier: Tier
    public var group: String
    public var budgetMinutes: Int
    public var dueAt: Date
    public var breachedAt: Date

    public init(ticketId: String, tier: Tier, group: String, budgetMinutes: Int, dueAt: Date, breachedAt: Date) {
        self.ticketId = ticketId
        self.tier = tier
        self.group = group
        self.budgetMinutes = budgetMinutes
        self.dueAt = dueAt
        self.breachedAt = breachedAt
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(ticketId, "data.ticketId")
        v.required(group, "data.group")
        v.atLeast(budgetMinutes, "data.budgetMinutes", 1)
        v.time(breachedAt, "data.breachedAt")
        return v.problems
    }
}
