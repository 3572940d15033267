import Foundation
import ITRConfig
import ITREvents
import ServiceKit

extension RouterEngine {
    /// `itr.defect.fixed` from ipd-feedback: resolves the linked problems (fix version and defect
    /// recorded), resolves their incidents still being worked on (resolution code from
    /// `problems.yaml` `fixReleased`), and tells the others (`itr.ticket.updated` note).
    /// Returns the problems resolved.
    @discardableResult
    public mutating func defectFixed(_ db: any SQLTransaction, _ fixed: DefectFixed, cause: Cause) throws -> [String] {
        var problemIds = Set(fixed.problemIds)
        for ticketId in fixed.ticketIds {
            if let problemId = try db.fetchOne("SELECT problem_id FROM tickets WHERE id = ?", [.text(ticketId)])?[0].string {
                problemIds.insert(problemId)
            }
        }
        let fixVersion = fixed.fixVersion ?? "unknown"
        let settings = rules.detector.rules
        var resolved: [String] = []
        for problemId in problemIds.sorted() {
            guard var problem = try ProblemRecord.load(db, id: problemId), problem.state != .resolved else { continue }
            problem.state = .resolved
            problem.resolvedAt = min(cause.time ?? now, now)
            problem.fixVersion = fixVersion
            problem.defectId = fixed.defectId
            try problem.save(db)
            let ticketIds = try TicketRepository.ticketIds(db, problemId: problemId)
            for ticketId in ticketIds {
                guard var ticket = try load(db, ticketId) else { continue }
                let at = factTime(ticket, preferred: cause.time)
                ticket.decide(
                    "fix-released", at: at,
                    detail: "defect \(fixed.defectId) fixed in \(fixVersion): problem \(problemId) resolved",
                    ruleId: settings.fixReleasedRuleId, rulesVersion: rules.version, causeId: cause.id)
                var emitResolved: TicketResolved?
                var tell: TicketUpdated?
                switch ticket.lifecycle.state {
                case .assigned, .inProgress, .pending:
                    let resolution = Resolution(
                        code: settings.fixReleasedResolutionCode,
                        rootCause: problem.rootCause ?? "defect \(fixed.defectId) fixed in \(fixVersion)",
                        workaround: problem.workaround)
                    if let transition = try? ticket.lifecycle.apply(.resolve(resolution), at: at) {
                        ticket.record(
                            transition, ruleId: settings.fixReleasedRuleId, rulesVersion: rules.version, causeId: cause.id,
                            detail: "fix version \(fixVersion)")
                        let responsibility = rules.judge.judge(resolutionCode: resolution.code)?.responsibility ?? .productSoftware
                        emitResolved = resolvedEvent(
                            ticket, resolution: resolution, responsibility: responsibility, spareParts: [],
                            actor: Actor(id: "itr-router", role: "system"), at: at)
                    }
                default:
                    tell = TicketUpdated(
                        ticketId: ticket.id, action: .note, state: ticket.lifecycle.state.name,
                        note: "fix released: defect \(fixed.defectId) fixed in \(fixVersion)",
                        actor: Actor(id: "itr-router", role: "system"), at: at)
                }
                try save(db, &ticket, cause: cause)
                if let emitResolved { try emit(db, emitResolved, cause: cause, correlation: ticket.id) }
                if let tell { try emit(db, tell, cause: cause, correlation: ticket.id) }
            }
            try emit(
                db,
                ProblemResolved(
                    problemId: problemId, fingerprint: problem.fingerprintHash, rootCause: problem.rootCause,
                    fixVersion: fixVersion, defectId: fixed.defectId, ticketIds: ticketIds),
                cause: cause, correlation: problemId)
            resolved.append(problemId)
        }
        return resolved
    }
}
