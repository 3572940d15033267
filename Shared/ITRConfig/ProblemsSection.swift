import Foundation

/// `problems.yaml`: when incidents open or join a problem.
public struct ProblemsSection: Sendable, Hashable {
    public static let fileName = "problems.yaml"
    /// Rule id recorded when an incident joins an open problem with the same fingerprint.
    public var joinRuleId: String
    /// Recurrence: `threshold` incidents with one fingerprint within `window` open a problem.
    public var recurrenceRuleId: String
    public var recurrenceThreshold: Int
    public var recurrenceWindow: TimeInterval
    /// Major incident: any incident of these priorities opens a problem on its own.
    public var majorIncidentRuleId: String
    public var majorIncidentPriorities: [Priority]
    /// Resolution code (from `quality.yaml`) given to open incidents of a problem whose fix R&D released.
    public var fixReleasedResolutionCode: String = "SW-DEFECT"
    /// Rule id recorded when a fix release resolves a problem and moves its incidents forward.
    public var fixReleasedRuleId: String = "problem.fix-released"
    /// zh↔en symptom synonyms (`synonyms:`, canonical token → terms), applied before fingerprinting
    /// by the router, intake (known errors) and ipd-feedback (defects). Optional: none when absent.
    public var synonyms: SymptomSynonyms = .none

    public init(
        joinRuleId: String, recurrenceRuleId: String, recurrenceThreshold: Int, recurrenceWindow: TimeInterval,
        majorIncidentRuleId: String, majorIncidentPriorities: [Priority]
    ) {
        self.joinRuleId = joinRuleId
        self.recurrenceRuleId = recurrenceRuleId
        self.recurrenceThreshold = recurrenceThreshold
        self.recurrenceWindow = recurrenceWindow
        self.majorIncidentRuleId = majorIncidentRuleId
        self.majorIncidentPriorities = majorIncidentPriorities
    }

    static func decode(_ root: ConfigNode) -> ProblemsSection {
        root.checkKeys(["join", "recurrence", "majorIncident", "fixReleased", "synonyms"])
        var section = ProblemsSection(
            joinRuleId: "problem.join", recurrenceRuleId: "problem.recurrence", recurrenceThreshold: 3,
            recurrenceWindow: 7 * 86_400, majorIncidentRuleId: "problem.major-incident", majorIncidentPriorities: [.p1])
        if let join = root.required("join") {
            join.checkKeys(["id"])
            section.joinRuleId = join.required("id")?.identifier() ?? section.joinRuleId
        }
        if let recurrence = root.required("recurrence") {
            recurrence.checkKeys(["id", "threshold", "window"])
            section.recurrenceRuleId = recurrence.required("id")?.identifier() ?? section.recurrenceRuleId
            section.recurrenceThreshold = recurrence.required("threshold")?.int(in: 2...1000) ?? section.recurrenceThreshold
            section.recurrenceWindow = recurrence.required("window")?.duration() ?? section.recurrenceWindow
        }
        if let major = root.required("majorIncident") {
            major.checkKeys(["id", "priorities"])
            section.majorIncidentRuleId = major.required("id")?.identifier() ?? section.majorIncidentRuleId
            section.majorIncidentPriorities = major.required("priorities")?.oneOfList(Priority.self) ?? []
        }
        if let fix = root["fixReleased"] {
            fix.checkKeys(["id", "resolutionCode"])
            section.fixReleasedRuleId = fix.required("id")?.identifier() ?? section.fixReleasedRuleId
            section.fixReleasedResolutionCode = fix.required("resolutionCode")?.identifier() ?? section.fixReleasedResolutionCode
        }
        if let synonyms = root["synonyms"] { section.synonyms = SymptomSynonyms.decode(synonyms) }
        return section
    }
}
