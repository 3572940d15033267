import Foundation

public enum DefectReportedKind: EventKind { public static let eventType = EventType.defectReported }
public enum DefectUpdatedKind: EventKind { public static let eventType = EventType.defectUpdated }
public enum DefectFixedKind: EventKind { public static let eventType = EventType.defectFixed }

/// `itr.defect.reported` / `.updated` / `.fixed` (out, `feed.defects`).
public typealias DefectReported = DefectEvent<DefectReportedKind>
public typealias DefectUpdated = DefectEvent<DefectUpdatedKind>
public typealias DefectFixed = DefectEvent<DefectFixedKind>

/// One de-duplicated product defect with its impact across customers (ITR → IPD). Each event
/// carries the full current snapshot, so a consumer needs only the latest one.
public struct DefectEvent<Kind: EventKind>: EventPayload {
    public static var eventType: EventType { Kind.eventType }

    public var defectId: String
    /// Stable hash of productLine, model, component, code and symptomSignature.
    public var fingerprint: String
    public var productLine: String
    public var model: String?
    @DefaultEmpty public var affectedVersions: [String]
    public var component: String?
    public var code: String?
    public var symptomSignature: String
    public var impact: DefectImpact
    @DefaultEmpty public var problemIds: [String]
    @DefaultEmpty public var ticketIds: [String]
    public var status: DefectState
    public var fixVersion: String?
    /// For status `duplicate`: the defect this one was merged into.
    public var duplicateOf: String?
    /// The last released fix that did not hold: a product-caused incident came on that version
    /// or a later one, and the defect went back to `reported`.
    public var regressedFixVersion: String?

    public init(
        defectId: String, fingerprint: String, productLine: String, model: String? = nil,
        affectedVersions: [String] = [], component: String? = nil, code: String? = nil, symptomSignature: String,
        impact: DefectImpact, problemIds: [String] = [], ticketIds: [String] = [], status: DefectState,
        fixVersion: String? = nil, duplicateOf: String? = nil, regressedFixVersion: String? = nil
    ) {
        self.defectId = defectId
        self.fingerprint = fingerprint
        self.productLine = productLine
        self.model = model
        self.affectedVersions = affectedVersions
        self.component = component
        self.code = code
        self.symptomSignature = symptomSignature
        self.impact = impact
        self.problemIds = problemIds
        self.ticketIds = ticketIds
        self.status = status
        self.fixVersion = fixVersion
        self.duplicateOf = duplicateOf
        self.regressedFixVersion = regressedFixVersion
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(defectId, "data.defectId")
        v.required(fingerprint, "data.fingerprint")
        v.required(productLine, "data.productLine")
        v.optional(model, "data.model")
        v.strings(affectedVersions, "data.affectedVersions")
        v.optional(component, "data.component")
        v.optional(code, "data.code")
        v.required(symptomSignature, "data.symptomSignature", max: limits.maxSummaryLength)
        impact.validate("data.impact", &v)
        v.strings(problemIds, "data.problemIds")
        v.strings(ticketIds, "data.ticketIds")
        v.optional(fixVersion, "data.fixVersion")
        v.optional(duplicateOf, "data.duplicateOf")
        if status == .duplicate, duplicateOf == nil { v.add("data.duplicateOf", .missing, "a duplicate names its target") }
        if Kind.eventType == .defectFixed, fixVersion == nil {
            v.add("data.fixVersion", .missing, "a fixed defect names its fix version")
        }
        return v.problems
    }
}

/// `itr.defect.status` (in, `itr.ingress`, `defect.<status>`): R&D's decision on a defect.
public struct DefectStatus: EventPayload {
    public static let eventType = EventType.defectStatus

    public var defectId: String
    public var status: DefectDecision
    /// Required for `duplicate`.
    public var duplicateOf: String?
    /// Required for `fix-released`.
    public var fixVersion: String?
    public var note: String?
    public var actor: Actor?

    public init(
        defectId: String, status: DefectDecision, duplicateOf: String? = nil, fixVersion: String? = nil,
        note: String? = nil, actor: Actor? = nil
    ) {
        self.defectId = defectId
        self.status = status
        self.duplicateOf = duplicateOf
        self.fixVersion = fixVersion
        self.note = note
        self.actor = actor
    }

    public func validate(limits: ReportLimits, now: Date) -> [ValidationProblem] {
        var v = Validator(limits: limits, now: now)
        v.required(defectId, "data.defectId")
        v.optional(duplicateOf, "data.duplicateOf")
        v.optional(fixVersion, "data.fixVersion")
        v.optional(note, "data.note", max: limits.maxDescriptionLength)
        actor?.validate("data.actor", &v)
        if status == .duplicate, duplicateOf == nil { v.add("data.duplicateOf", .missing, "duplicate names the defect") }
        if status == .fixReleased, fixVersion == nil { v.add("data.fixVersion", .missing, "fix-released names the version") }
        return v.problems
    }
}
