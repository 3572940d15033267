import Foundation
import ITRConfig
import ITREvents
import ServiceKit

extension ReportIntake {
    /// Indexes an `itr.problem.known-error` by its fingerprint (a later event for the same
    /// fingerprint replaces the entry).
    func indexKnownError(_ db: some SQLTransaction, event: CloudEvent, policy: IntakePolicy, now: Date) throws -> IntakeOutcome {
        switch event.decodePayload(ProblemKnownError.self, now: now) {
        case .failure(let failure):
            return .rejected(ReportRejection(problems: failure.problems))
        case .success(let knownError):
            try db.execute(
                """
                INSERT INTO known_error (fingerprint, problem_id, title, workaround, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (fingerprint) DO UPDATE SET problem_id = excluded.problem_id, title = excluded.title,
                    workaround = excluded.workaround, updated_at = excluded.updated_at
                """,
                [.text(knownError.fingerprint), .text(knownError.problemId), .text(knownError.title), .text(knownError.workaround),
                 db.moment(now)])
            logger.info(
                "known error indexed",
                metadata: ["problem_id": "\(knownError.problemId)", "event_id": "\(event.id)", "fingerprint": "\(knownError.fingerprint)"])
            return .indexed(problemId: knownError.problemId)
        }
    }

    /// The report's fingerprint, as the router computes it for problems (same recipe, same
    /// `problems.yaml` synonym table).
    static func fingerprint(of report: ReportSubmitted, synonyms: SymptomSynonyms) -> IncidentFingerprint {
        IncidentFingerprint(
            productLine: report.product.line, model: report.product.model, version: report.product.version,
            component: report.product.component, alarmCode: report.alarm?.code, title: report.summary,
            description: report.description ?? "", synonyms: synonyms)
    }

    /// The known error whose fingerprint (its `key` or its `digest`) equals the report's.
    func matchKnownError(_ db: some SQLTransaction, report: ReportSubmitted, policy: IntakePolicy) throws -> KnownErrorMatch? {
        guard hasKnownErrors.load(ordering: .relaxed) else { return nil }
        let fingerprint = Self.fingerprint(of: report, synonyms: policy.symptomSynonyms)
        guard
            let row = try db.fetchOne(
                "SELECT problem_id, title, workaround FROM known_error WHERE fingerprint IN (?, ?) LIMIT 1",
                [.text(fingerprint.digest), .text(fingerprint.key)])
        else { return nil }
        return KnownErrorMatch(problemId: try row.string(0), title: try row.string(1), workaround: try row.string(2))
    }
}
