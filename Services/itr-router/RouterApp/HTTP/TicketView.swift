import Foundation
import ITRConfig
import ITREvents
import ServiceKit

/// `GET /v1/tickets/{id}`: state, clocks (computed now from the history), tier, problem, the
/// full history with the rule behind each decision, and what is due next.
public struct TicketView: Sendable, Codable {
    public struct Clocks: Sendable, Codable {
        public var response: ClockStatus
        public var resolution: ClockStatus
        public var ola: [OLAStintView]
        /// Business seconds all tiers used so far, against the SLA resolution target.
        public var olaElapsedTotalSeconds: Double
        public var slaResolutionTargetSeconds: Double
        public var calendar: String
    }

    public struct OLAStintView: Sendable, Codable {
        public var tier: String
        public var budgetSeconds: Double
        public var elapsedSeconds: Double
        public var dueAt: Date?
        public var startedAt: Date?
        public var stoppedAt: Date?
        public var isCurrent: Bool
        public var isBreached: Bool
    }

    public struct ProblemView: Sendable, Codable {
        public var id: String
        public var state: String
        public var title: String
        public var fingerprint: String
        public var rootCause: String?
        public var workaround: String?
        public var fixVersion: String?
        public var defectId: String?
    }

    public struct HistoryLine: Sendable, Codable {
        public var seq: Int
        public var at: Date
        public var kind: String
        public var detail: String?
        public var ruleId: String?
        public var rulesVersion: String?
        public var causationId: String?
        public var fact: TicketFact?
    }

    public struct DueMoment: Sendable, Codable {
        public var at: Date
        public var kind: PlannedMoment.Kind
    }

    public var ticketId: String
    public var state: String
    public var pendingReason: String?
    public var tier: String?
    public var group: String?
    public var serviceType: ServiceType?
    /// What decided the service type: `rule`, `model` (with `modelVersion` and `confidence`) or
    /// `desk`; absent for tickets opened before it was recorded.
    public var classifiedBy: String?
    public var modelVersion: String?
    public var confidence: Double?
    /// The model was not sure: waiting for the triage group to confirm or reclassify.
    public var needsTriage: Bool
    public var priority: Priority?
    public var account: String
    public var contractPackage: String?
    public var contractId: String?
    public var product: Product
    public var summary: String
    public var openedAt: Date
    public var reopenCount: Int
    public var problem: ProblemView?
    public var clocks: Clocks
    public var due: [DueMoment]
    public var history: [HistoryLine]
    public var rulesVersion: String

    public static func load(_ db: any SQLTransaction, id: String, rules: RouterRules, now: Date) throws -> TicketView? {
        guard let ticket = try TicketRepository.load(db, id: id, policy: rules.policy) else { return nil }
        let clocks = ticket.clocks(rules: rules, now: now)
        let problem = try ticket.problemId.flatMap { try ProblemRecord.load(db, id: $0) }.map {
            ProblemView(
                id: $0.id, state: $0.state.rawValue, title: $0.title, fingerprint: $0.fingerprintHash, rootCause: $0.rootCause,
                workaround: $0.workaround, fixVersion: $0.fixVersion, defectId: $0.defectId)
        }
        let due = try db.fetch("SELECT due_at, kind FROM due_moments WHERE ticket_id = ? ORDER BY due_at, ord", [.text(id)])
            .compactMap { row -> DueMoment? in
                guard let text = row[1].string, let at = row[0].double,
                    let kind = try? TicketRepository.decoder.decode(PlannedMoment.Kind.self, from: Data(text.utf8))
                else { return nil }
                return DueMoment(at: Date(timeIntervalSince1970: at), kind: kind)
            }
        var pendingReason: String?
        if case .pending(let reason) = ticket.lifecycle.state { pendingReason = reason.rawValue }
        let (_, decision) = try TicketRepository.classificationInputs(db, id: id)
        let ola = clocks.ola.map {
            OLAStintView(
                tier: $0.tier, budgetSeconds: $0.clock.target, elapsedSeconds: $0.clock.elapsed, dueAt: $0.clock.dueAt,
                startedAt: $0.clock.startedAt, stoppedAt: $0.clock.stoppedAt, isCurrent: $0.isCurrent,
                isBreached: $0.clock.isBreached)
        }
        return TicketView(
            ticketId: ticket.id, state: ticket.lifecycle.state.name, pendingReason: pendingReason, tier: ticket.lifecycle.tier,
            group: ticket.lifecycle.group, serviceType: ticket.lifecycle.serviceType,
            classifiedBy: decision?.by.rawValue, modelVersion: decision?.modelVersion, confidence: decision?.confidence,
            needsTriage: ticket.needsTriage, priority: ticket.lifecycle.priority,
            account: ticket.account, contractPackage: ticket.contractPackage, contractId: ticket.contractId,
            product: ticket.product, summary: ticket.summary, openedAt: ticket.openedAt, reopenCount: ticket.reopenCount,
            problem: problem,
            clocks: Clocks(
                response: clocks.sla.response, resolution: clocks.sla.resolution, ola: ola,
                olaElapsedTotalSeconds: ola.reduce(0) { $0 + $1.elapsedSeconds },
                slaResolutionTargetSeconds: clocks.sla.resolution.target, calendar: clocks.calendar.definition.id),
            due: due,
            history: ticket.log.enumerated().map { index, entry in
                HistoryLine(
                    seq: index, at: entry.at, kind: entry.kind, detail: entry.detail, ruleId: entry.ruleId,
                    rulesVersion: entry.rulesVersion, causationId: entry.causeId, fact: entry.fact)
            },
            rulesVersion: rules.version)
    }
}
