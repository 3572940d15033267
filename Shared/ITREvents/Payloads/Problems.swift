import Foundation

// Problem management: recurring or major incidents become problems, analysed problems with a
// workaround become known errors.

/// `itr.problem.opened`.
public struct ProblemOpened: EventPayload {
    public static let eventType = EventType.problemOpened

    public var problemId: String
    public var title: String
    /// Stable hash of the fingerprint fields; equal fingerprints are the same problem.
    public var fingerprint: String
    public var productLine: String
    public var model: String?
    public var component: String?
    /// Alarm or error code.
    public var code: String?
    /// Normalised symptom text.
    public var symptom: String?
    public var trigger: ProblemTrigger
    @DefaultEmpty public var ticketIds: [String]

    public init(
        problemId: String, title: String, fingerprint: String, productLine: String, model: String? = nil,
        component: String? = nil, code: String? = nil, symptom: String? = nil, trigger: ProblemTrigger,
        ticketIds: [String]
    ) {
        self.problemId = problemId
        self.title = title
        self.fingerprint = fingerprint
        self.productLine = productLine
        self.model = model
        self.component = component
        self.code = code
        self.symptom = symptom
        self.trigger = trigger
        self.ticketIds = ticketIds
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(problemId, "data.problemId")
        v.required(title, "data.title", max: limits.maxSummaryLength)
        v.required(fingerprint, "data.fingerprint")
        v.required(productLine, "data.productLine")
        v.optional(model, "data.model")
        v.optional(component, "data.component")
        v.optional(code, "data.code")
        v.optional(symptom, "data.symptom", max: limits.maxSummaryLength)
        v.strings(ticketIds, "data.ticketIds", nonEmpty: true)
        return v.problems
    }
}

/// `itr.problem.known-error`: root cause and workaround documented.
public struct ProblemKnownError: EventPayload {
    public static let eventType = EventType.problemKnownError

    public var problemId: String
    public var title: String
    public var fingerprint: String
    public var rootCause: String
    public var workaround: String
    @DefaultEmpty public var ticketIds: [String]

    public init(
        problemId: String, title: String, fingerprint: String, rootCause: String, workaround: String,
        ticketIds: [String]
    ) {
        self.problemId = problemId
        self.title = title
        self.fingerprint = fingerprint
        self.rootCause = rootCause
        self.workaround = workaround
        self.ticketIds = ticketIds
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(problemId, "data.problemId")
        v.required(title, "data.title", max: limits.maxSummaryLength)
        v.required(fingerprint, "data.fingerprint")
        v.required(rootCause, "data.rootCause", max: limits.maxDescriptionLength)
        v.required(workaround, "data.workaround", max: limits.maxDescriptionLength)
        v.strings(ticketIds, "data.ticketIds")
        return v.problems
    }
}

/// `itr.problem.resolved`: the cause is removed (often by a fix version from R&D).
public struct ProblemResolved: EventPayload {
    public static let eventType = EventType.problemResolved

    public var problemId: String
    public var fingerprint: String
    public var rootCause: String?
    public var fixVersion: String?
    public var defectId: String?
    @DefaultEmpty public var ticketIds: [String]

    public init(
        problemId: String, fingerprint: String, rootCause: String? = nil, fixVersion: String? = nil,
        defectId: String? = nil, ticketIds: [String]
    ) {
        self.problemId = problemId
        self.fingerprint = fingerprint
        self.rootCause = rootCause
        self.fixVersion = fixVersion
        self.defectId = defectId
        self.ticketIds = ticketIds
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(problemId, "data.problemId")
        v.required(fingerprint, "data.fingerprint")
        v.optional(rootCause, "data.rootCause", max: limits.maxDescriptionLength)
        v.optional(fixVersion, "data.fixVersion")
        v.optional(defectId, "data.defectId")
        v.strings(ticketIds, "data.ticketIds")
        return v.problems
    }
}
