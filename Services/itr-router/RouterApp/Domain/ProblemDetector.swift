import Foundation
import ITRConfig

/// An incident as the problem detector sees it.
public struct IncidentRecord: Sendable, Hashable, Codable {
    public var ticketId: String
    public var fingerprint: IncidentFingerprint
    public var priority: Priority
    public var openedAt: Date

    public init(ticketId: String, fingerprint: IncidentFingerprint, priority: Priority, openedAt: Date) {
        self.ticketId = ticketId
        self.fingerprint = fingerprint
        self.priority = priority
        self.openedAt = openedAt
    }
}

/// A problem not yet resolved, with the fingerprint it was opened for.
public struct OpenProblem: Sendable, Hashable, Codable {
    public var id: String
    public var fingerprint: IncidentFingerprint
    public init(id: String, fingerprint: IncidentFingerprint) {
        self.id = id
        self.fingerprint = fingerprint
    }
}

/// What to do with an incident, and which rule decided it.
public struct ProblemDecision: Sendable, Hashable, Codable {
    public enum Outcome: Sendable, Hashable, Codable {
        /// Open a new problem linking these incidents (the new one included).
        case openProblem(incidents: [String])
        case joinProblem(id: String)
        case nothing
    }
    public var outcome: Outcome
    /// Nil when nothing happens.
    public var ruleId: String?
    public var rulesVersion: String
}

/// Incident → problem (事件升级为问题), pure.
///
/// In order: join an open problem with the same fingerprint; else open one for a major
/// incident (priorities in `majorIncident`); else open one when at least `threshold` incidents
/// with this fingerprint (this one included) were opened within `window` before it; else nothing.
public struct ProblemDetector: Sendable {
    public var rules: ProblemsSection
    public var rulesVersion: String

    public init(rules: ProblemsSection, rulesVersion: String) {
        self.rules = rules
        self.rulesVersion = rulesVersion
    }

    public init(_ bundle: ConfigBundle) {
        self.init(rules: bundle.problems, rulesVersion: bundle.rulesVersion)
    }

    /// Whether `decide` reads `recent` for this incident: not when it joins an open problem or is
    /// a major incident (the caller then need not look the recent incidents up).
    public func needsRecentIncidents(_ incident: IncidentRecord, openProblems: [OpenProblem]) -> Bool {
        !openProblems.contains { $0.fingerprint == incident.fingerprint }
            && !rules.majorIncidentPriorities.contains(incident.priority)
    }

    /// - Parameters:
    ///   - incident: the new (or reclassified) incident.
    ///   - recent: other incidents the caller found for this fingerprint (others are ignored, as are
    ///     those outside the window and the incident itself).
    ///   - openProblems: problems not yet resolved.
    public func decide(incident: IncidentRecord, recent: [IncidentRecord], openProblems: [OpenProblem]) -> ProblemDecision {
        if let problem = openProblems.first(where: { $0.fingerprint == incident.fingerprint }) {
            return ProblemDecision(outcome: .joinProblem(id: problem.id), ruleId: rules.joinRuleId, rulesVersion: rulesVersion)
        }
        if rules.majorIncidentPriorities.contains(incident.priority) {
            return ProblemDecision(
                outcome: .openProblem(incidents: [incident.ticketId]), ruleId: rules.majorIncidentRuleId,
                rulesVersion: rulesVersion)
        }
        let windowStart = incident.openedAt.addingTimeInterval(-rules.recurrenceWindow)
        let matching = recent.filter {
            $0.ticketId != incident.ticketId && $0.fingerprint == incident.fingerprint
                && $0.openedAt >= windowStart && $0.openedAt <= incident.openedAt
        }
        if matching.count + 1 >= rules.recurrenceThreshold {
            let ids = matching.sorted { ($0.openedAt, $0.ticketId) < ($1.openedAt, $1.ticketId) }.map(\.ticketId)
            return ProblemDecision(
                outcome: .openProblem(incidents: ids + [incident.ticketId]), ruleId: rules.recurrenceRuleId,
                rulesVersion: rulesVersion)
        }
        return ProblemDecision(outcome: .nothing, ruleId: nil, rulesVersion: rulesVersion)
    }
}
