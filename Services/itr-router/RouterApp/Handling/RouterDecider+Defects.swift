import Foundation
import ITRConfig
import ITREvents
import ServiceKit

extension RouterDecider {
    /// `itr.defect.fixed` from ipd-feedback: resolves the linked problems (fix version and defect
    /// recorded, listed in ``RouterEffects/resolvedProblems``), resolves their incidents still
    /// being worked on (resolution code from `problems.yaml` `fixReleased`), and tells the others
    /// (`itr.ticket.updated` note).
    mutating func defectFixed(_ fixed: DefectFixed) throws {
        try require(fixed.ticketIds.map { .problemOf(ticket: $0) })
        var problemIds = Set(fixed.problemIds)
        for ticketId in fixed.ticketIds {
            if let problemId = try snapshot.problemId(ofTicket: ticketId) { problemIds.insert(problemId) }
        }
        let sorted = problemIds.sorted()
        try require(sorted.flatMap { [.problem($0), .problemTickets($0)] })
        let open = try sorted.filter { try problem($0).map { $0.state != .resolved } ?? false }
        try require(try open.flatMap { try snapshot.ticketIds(problem: $0).map { .ticket($0) } })
        let fixVersion = fixed.fixVersion ?? "unknown"
        let settings = rules.detector.rules
        for problemId in open {
            guard var problem = try problem(problemId) else { continue }
            problem.state = .resolved
            problem.resolvedAt = min(cause.time ?? now, now)
            problem.fixVersion = fixVersion
            problem.defectId = fixed.defectId
            effects.save(problem)
            let ticketIds = try snapshot.ticketIds(problem: problemId)
            for ticketId in ticketIds {
                guard var ticket = try ticket(ticketId) else { continue }
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
                save(ticket)
                if let emitResolved { emit(emitResolved, correlation: ticket.id) }
                if let tell { emit(tell, correlation: ticket.id) }
            }
            emit(
                ProblemResolved(
                    problemId: problemId, fingerprint: problem.fingerprintHash, rootCause: problem.rootCause,
                    fixVersion: fixVersion, defectId: fixed.defectId, ticketIds: ticketIds),
                correlation: problemId)
            effects.resolvedProblems.append(problemId)
        }
    }
}
