import Foundation
import ITRConfig
import ITREvents
import ServiceKit

/// Reads and writes tickets, their history, OLA stints and due moments. Every query is by
/// primary key or an index: the cost per ticket does not grow with the number of tickets.
public enum TicketRepository {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    public struct StorageError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func exists(_ db: any SQLTransaction, id: String) throws -> Bool {
        try db.fetchOne("SELECT 1 FROM tickets WHERE id = ?", [.text(id)]) != nil
    }

    /// Loads a ticket and replays its lifecycle under `policy`; nil when unknown.
    public static func load(_ db: any SQLTransaction, id: String, policy: TicketLifecycle.Policy) throws -> TicketRecord? {
        guard let row = try db.fetchOne(
            """
            SELECT account, contract_package, contract_id, region, product_line, model, version, component,
                alarm_code, summary, is_incident, fingerprint, problem_id, opened_at, first_tier, impact, urgency,
                reopen_count, escalation_count, hierarchical_count, needs_triage
            FROM tickets WHERE id = ?
            """,
            [.text(id)])
        else { return nil }
        let rows = try db.fetch(
            """
            SELECT at, kind, fact, detail, rule_id, rules_version, cause_id FROM ticket_history
            WHERE ticket_id = ? ORDER BY seq
            """,
            [.text(id)])
        var log: [TicketLogEntry] = []
        log.reserveCapacity(rows.count)
        var facts: [TicketHistoryEntry] = []
        facts.reserveCapacity(rows.count)
        for history in rows {
            let at = Date(timeIntervalSince1970: try history.double(0))
            let fact = try history[2].string.map { try FactJSON.decode($0) }
            if let fact { facts.append(TicketHistoryEntry(at: at, fact: fact)) }
            log.append(TicketLogEntry(
                at: at, kind: try history.string(1), fact: fact, detail: history[3].string, ruleId: history[4].string,
                rulesVersion: history[5].string, causeId: history[6].string))
        }
        let lifecycle: TicketLifecycle
        do {
            lifecycle = try TicketLifecycle(id: id, replaying: facts, policy: policy)
        } catch {
            throw StorageError(description: "ticket \(id): stored history does not replay: \(error)")
        }
        var ticket = TicketRecord(
            id: id, account: try row.string(0), contractPackage: row[1].string, contractId: row[2].string,
            region: row[3].string, productLine: try row.string(4), model: row[5].string, version: row[6].string,
            component: row[7].string, alarmCode: row[8].string, summary: try row.string(9), isIncident: try row.int64(10) != 0,
            fingerprint: row[11].string, problemId: row[12].string,
            openedAt: Date(timeIntervalSince1970: try row.double(13)), firstTier: row[14].string,
            impact: row[15].int64.map(Int.init), urgency: row[16].int64.map(Int.init), reopenCount: try row.int(17),
            escalationCount: try row.int(18), hierarchicalCount: try row.int(19), lifecycle: lifecycle, log: log,
            storedLogCount: log.count, isStored: true)
        ticket.needsTriage = try row.int64(20) != 0
        return ticket
    }

    /// Sorted keys: the same facts are stored as the same text.
    static let factsEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// What the ticket's classification read when it opened (nil for tickets stored before
    /// they were kept) and what decided its service type.
    public static func classificationInputs(_ db: any SQLTransaction, id: String) throws -> (ReportFacts?, ServiceTypeDecision?) {
        guard let row = try db.fetchOne(
            "SELECT report_facts, classified_by, model_version, model_confidence FROM tickets WHERE id = ?", [.text(id)])
        else { return (nil, nil) }
        let facts = try row[0].string.map { try JSONDecoder().decode(ReportFacts.self, from: Data($0.utf8)) }
        let decision = row[1].string.flatMap(ServiceTypeDecision.Decider.init(rawValue:)).map {
            ServiceTypeDecision(by: $0, ruleId: "", modelVersion: row[2].string, confidence: row[3].double)
        }
        return (facts, decision)
    }

    /// Writes what a `reclassify` changes beyond the lifecycle: the grading, the incident flag
    /// and fingerprint, the triage flag and what decided.
    public static func saveClassification(_ db: any SQLTransaction, _ ticket: TicketRecord) throws {
        try db.execute(
            """
            UPDATE tickets SET impact = ?, urgency = ?, is_incident = ?, fingerprint = ?, needs_triage = ?,
                classified_by = ?, model_version = ?, model_confidence = ?
            WHERE id = ?
            """,
            [
                ticket.impact.sqlValue, ticket.urgency.sqlValue, ticket.isIncident.sqlValue, ticket.fingerprint.sqlValue,
                ticket.needsTriage.sqlValue, ticket.decision?.by.rawValue.sqlValue ?? .null,
                ticket.decision?.modelVersion.sqlValue ?? .null, ticket.decision?.confidence.sqlValue ?? .null,
                ticket.id.sqlValue,
            ])
    }

    /// Writes what a `reprioritise` changes beyond the lifecycle: the impact and the urgency.
    public static func saveGrading(_ db: any SQLTransaction, _ ticket: TicketRecord) throws {
        try db.execute(
            "UPDATE tickets SET impact = ?, urgency = ? WHERE id = ?",
            [ticket.impact.sqlValue, ticket.urgency.sqlValue, ticket.id.sqlValue])
    }

    /// Keeps a desk correction as a labelled example (`GET /v1/classifier/corrections`).
    public static func saveCorrection(_ db: any SQLTransaction, _ correction: ClassifierCorrection) throws {
        try db.execute(
            """
            INSERT INTO classifier_corrections (
                ticket_id, at, title, description, from_type, to_type, decided_by, model_version, confidence, actor,
                reason, cause_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                correction.ticketId.sqlValue, correction.at.timeIntervalSince1970.sqlValue, correction.title.sqlValue,
                correction.description.sqlValue, correction.fromType?.rawValue.sqlValue ?? .null,
                correction.toType.rawValue.sqlValue, correction.decidedBy?.rawValue.sqlValue ?? .null,
                correction.modelVersion.sqlValue, correction.confidence.sqlValue, correction.actor.sqlValue,
                correction.reason.sqlValue, correction.causeId.sqlValue,
            ])
    }

    /// The stored corrections, oldest first, from sequence number `after` (exclusive).
    public static func corrections(_ db: any SQLTransaction, after: Int64 = 0, limit: Int = 100_000) throws -> [ClassifierCorrection] {
        try db.fetch(
            """
            SELECT seq, ticket_id, at, title, description, from_type, to_type, decided_by, model_version, confidence,
                actor, reason, cause_id
            FROM classifier_corrections WHERE seq > ? ORDER BY seq LIMIT ?
            """,
            [.integer(after), limit.sqlValue]
        ).map { row in
            ClassifierCorrection(
                seq: try row.int64(0), ticketId: try row.string(1), at: Date(timeIntervalSince1970: try row.double(2)),
                title: try row.string(3), description: row[4].string,
                fromType: row[5].string.flatMap(ServiceType.init(rawValue:)),
                toType: ServiceType(rawValue: try row.string(6)) ?? .softwareOperation,
                decidedBy: row[7].string.flatMap(ServiceTypeDecision.Decider.init(rawValue:)), modelVersion: row[8].string,
                confidence: row[9].double, actor: try row.string(10), reason: try row.string(11), causeId: row[12].string)
        }
    }

    /// The instant a ticket's stored state describes: its last history line (facts take the time
    /// of the event that caused them, see `RouterEngine.factTime`), never after `now`. Clocks
    /// are computed and due moments planned from this instant, not from the moment the event
    /// happened to be processed: the plan is a function of the history and the rules alone, and a
    /// moment that falls between it and `now` is stored already due and fires at once.
    public static func asOf(_ ticket: TicketRecord, now: Date) -> Date {
        min(ticket.log.last?.at ?? now, now)
    }

    /// Writes the ticket row (inserted when new, its changing columns updated otherwise), its new
    /// history lines, its OLA stints and its due moments.
    ///
    /// Due moments: the ones due at or before ``asOf(_:now:)`` (to `ClockStatus.tolerance`) stay
    /// (the scheduler fires them, checking they still hold); the later ones are replaced by a
    /// fresh plan. Returns the earliest moment stored. `clocks`: the ticket's clocks at ``asOf(_:now:)`` when the caller
    /// has them already.
    @discardableResult
    public static func save(
        _ db: any SQLTransaction, _ ticket: inout TicketRecord, rules: RouterRules, now: Date, causeId: String?,
        traceparent: String?, clocks: TicketClocks? = nil
    ) throws -> Date? {
        let asOf = asOf(ticket, now: now)
        let clocks = clocks ?? ticket.clocks(rules: rules, now: asOf)
        let lifecycle = ticket.lifecycle
        let sla = clocks.sla
        func met(_ clock: ClockStatus) -> Bool? { clock.outcome }
        let before = ticket.isStored ? try storedOutcomes(db, ticketId: ticket.id) : StoredOutcomes()
        let acknowledgedAt = ticket.log.first { $0.kind == "acknowledged" }?.at
        let closedAt: Date? = [.closed, .cancelled, .merged].contains(lifecycle.state) ? ticket.log.last(where: {
            $0.kind == "closed" || $0.kind == "cancelled" || $0.kind == "merged"
        })?.at : nil
        let closeReason: String? = {
            switch lifecycle.state {
            case .closed:
                if case .closed(let reason)? = ticket.log.last(where: { $0.kind == "closed" })?.fact {
                    return reason == .confirmed ? CloseReason.confirmed.rawValue : CloseReason.timeout.rawValue
                }
                return nil
            case .cancelled: return CloseReason.cancelled.rawValue
            case .merged: return CloseReason.merged.rawValue
            default: return nil
            }
        }()
        let resolvedAt = ticket.log.last { $0.kind == "resolved" }.map(\.at)
        let resolution = lifecycle.resolution
            ?? ticket.log.compactMap { entry -> Resolution? in
                if case .resolved(let resolution)? = entry.fact { return resolution }
                return nil
            }.last
        let resolutionCode = resolution?.code
        // The resolver's own judgement when it gave one, else the resolution code's.
        let responsibility = (resolution?.responsibility ?? resolutionCode.flatMap {
            rules.judge.judge(resolutionCode: $0)?.responsibility
        })?.rawValue
        let acknowledged = acknowledgedAt?.timeIntervalSince1970
        let responseSeconds = sla.response.isStopped ? sla.response.elapsed : nil
        let resolutionSeconds = sla.resolution.isStopped ? sla.resolution.elapsed : nil
        if ticket.isStored {
            // The columns set at opening (account, contract, product, summary, fingerprint, opened_at,
            // first tier, impact, urgency) never change: the row is updated, not replaced, so the
            // indexes on them are left alone.
            try db.execute(
                """
                    UPDATE tickets SET
                        state = ?, tier = ?, grp = ?, service_type = ?, priority = ?, problem_id = ?, acknowledged_at = ?,
                        response_seconds = ?, resolution_seconds = ?, resolved_at = ?, closed_at = ?, close_reason = ?,
                        reopen_count = ?, escalation_count = ?, hierarchical_count = ?, resolution_code = ?,
                        quality_responsibility = ?, response_met = ?, resolution_met = ?, updated_at = ?
                    WHERE id = ?
                    """,
                SQLValue.list(
                stateName(lifecycle.state), lifecycle.tier, lifecycle.group, lifecycle.serviceType?.rawValue,
                lifecycle.priority?.rawValue, ticket.problemId, acknowledged, responseSeconds, resolutionSeconds,
                resolvedAt?.timeIntervalSince1970, closedAt?.timeIntervalSince1970, closeReason, ticket.reopenCount,
                ticket.escalationCount, ticket.hierarchicalCount, resolutionCode, responsibility, met(sla.response),
                met(sla.resolution), now.timeIntervalSince1970, ticket.id))
        } else {
            try db.execute(
                """
                    INSERT INTO tickets (
                        id, state, tier, grp, first_tier, service_type, priority, impact, urgency, account,
                        contract_package, contract_id, region, product_line, model, version, component, alarm_code, summary,
                        is_incident, fingerprint, problem_id, opened_at, acknowledged_at, response_seconds,
                        resolution_seconds, resolved_at, closed_at, close_reason, reopen_count, escalation_count,
                        hierarchical_count, resolution_code, quality_responsibility, response_met, resolution_met, updated_at,
                        needs_triage, report_facts, classified_by, model_version, model_confidence)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                SQLValue.list(
                ticket.id, stateName(lifecycle.state), lifecycle.tier, lifecycle.group, ticket.firstTier,
                lifecycle.serviceType?.rawValue, lifecycle.priority?.rawValue, ticket.impact, ticket.urgency, ticket.account,
                ticket.contractPackage, ticket.contractId, ticket.region, ticket.productLine, ticket.model, ticket.version,
                ticket.component, ticket.alarmCode, ticket.summary, ticket.isIncident, ticket.fingerprint, ticket.problemId,
                ticket.openedAt.timeIntervalSince1970, acknowledged, responseSeconds, resolutionSeconds,
                resolvedAt?.timeIntervalSince1970, closedAt?.timeIntervalSince1970, closeReason, ticket.reopenCount,
                ticket.escalationCount, ticket.hierarchicalCount, resolutionCode, responsibility, met(sla.response),
                met(sla.resolution), now.timeIntervalSince1970, ticket.needsTriage,
                try ticket.reportFacts.map { String(decoding: try factsEncoder.encode($0), as: UTF8.self) },
                ticket.decision?.by.rawValue, ticket.decision?.modelVersion, ticket.decision?.confidence))
        }

        if ticket.storedLogCount < ticket.log.count {
            var rows: [[SQLValue]] = []
            for seq in ticket.storedLogCount..<ticket.log.count {
                let entry = ticket.log[seq]
                let fact = try entry.fact.map { try FactJSON.encode($0) }
                rows.append(SQLValue.list(
                    ticket.id, seq, entry.at.timeIntervalSince1970, entry.kind, fact, entry.detail, entry.ruleId,
                    entry.rulesVersion, entry.causeId))
            }
            try insertRows(
                db, "ticket_history (ticket_id, seq, at, kind, fact, detail, rule_id, rules_version, cause_id)", rows)
        }
        ticket.storedLogCount = ticket.log.count

        if ticket.isStored {
            try db.execute("DELETE FROM ola_stints WHERE ticket_id = ?", SQLValue.list(ticket.id))
        }
        try insertRows(
            db, "ola_stints (ticket_id, idx, tier, budget_seconds, elapsed_seconds, met, started_at)",
            clocks.ola.enumerated().map { index, stint in
                SQLValue.list(
                    ticket.id, index, stint.tier, stint.clock.target, stint.clock.elapsed, stint.clock.outcome,
                    stint.clock.startedAt?.timeIntervalSince1970)
            })

        ServiceLevelMetrics.recordDecisions(
            before: before,
            after: StoredOutcomes(
                response: met(sla.response), resolution: met(sla.resolution),
                stints: clocks.ola.map { ($0.tier, $0.clock.outcome) }))

        let moments = rules.planner.plan(
            sla: sla, ola: clocks.currentStint, calendar: clocks.calendar, autoCloseAt: lifecycle.autoCloseAt, now: asOf)
        if ticket.isStored {
            try db.execute("DELETE FROM due_moments WHERE ticket_id = ? AND due_at > ?", SQLValue.list(ticket.id, asOf.addingTimeInterval(ClockStatus.tolerance).timeIntervalSince1970))
        }
        try insertMoments(db, ticketId: ticket.id, moments: moments, causeId: causeId, traceparent: traceparent)
        ticket.isStored = true
        return moments.first?.at
    }

    /// Re-plans a ticket's due moments under `rules` without changing anything else: its clocks
    /// at ``asOf(_:now:)``, the moments after that instant replaced by a fresh plan. `after`:
    /// plan nothing at or before this instant (a moment that just failed its check is not planned
    /// again). Returns the earliest moment stored.
    @discardableResult
    public static func replan(
        _ db: any SQLTransaction, _ ticket: TicketRecord, rules: RouterRules, now: Date, after: Date? = nil, cause: Cause? = nil
    ) throws -> Date? {
        let asOf = asOf(ticket, now: now)
        let clocks = ticket.clocks(rules: rules, now: asOf)
        let floor = max(asOf, after ?? asOf)
        let moments = rules.planner.plan(
            sla: clocks.sla, ola: clocks.currentStint, calendar: clocks.calendar, autoCloseAt: ticket.lifecycle.autoCloseAt,
            now: asOf
        ).filter { $0.at > floor }
        try db.execute("DELETE FROM due_moments WHERE ticket_id = ? AND due_at > ?", SQLValue.list(ticket.id, asOf.addingTimeInterval(ClockStatus.tolerance).timeIntervalSince1970))
        try insertMoments(db, ticketId: ticket.id, moments: moments, causeId: cause?.id, traceparent: cause?.traceparent)
        return moments.first?.at
    }

    /// The outcomes stored for a ticket's clocks (what the counters compare a save against).
    struct StoredOutcomes {
        var response: Bool?
        var resolution: Bool?
        var stints: [(tier: String, outcome: Bool?)] = []
    }

    static func storedOutcomes(_ db: any SQLTransaction, ticketId: String) throws -> StoredOutcomes {
        let row = try db.fetchOne("SELECT response_met, resolution_met FROM tickets WHERE id = ?", [.text(ticketId)])
        let stints = try db.fetch("SELECT tier, met FROM ola_stints WHERE ticket_id = ? ORDER BY idx", [.text(ticketId)])
            .map { (tier: try $0.string(0), outcome: $0[1].int64.map { $0 != 0 }) }
        return StoredOutcomes(
            response: row?[0].int64.map { $0 != 0 }, resolution: row?[1].int64.map { $0 != 0 }, stints: stints)
    }

    static func insertMoments(
        _ db: any SQLTransaction, ticketId: String, moments: [PlannedMoment], causeId: String?, traceparent: String?
    ) throws {
        try insertRows(
            db, "due_moments (ticket_id, due_at, kind, ord, cause_id, traceparent)",
            try moments.map { moment in
                SQLValue.list(
                    ticketId, moment.at.timeIntervalSince1970, try MomentKindJSON.encode(moment.kind), moment.kind.order,
                    causeId, traceparent)
            })
    }

    /// Inserts `rows` into `table (columns)` with as few statements as it takes (a statement per
    /// 32 rows): a save's history lines, stints and moments are one round trip each on
    /// PostgreSQL, not one per row.
    static func insertRows(_ db: any SQLTransaction, _ table: String, _ rows: [[SQLValue]]) throws {
        guard let width = rows.first?.count else { return }
        let row = "(" + SQLValue.placeholders(width) + ")"
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + 32, rows.count)]
            try db.execute(
                "INSERT INTO \(table) VALUES " + Array(repeating: row, count: chunk.count).joined(separator: ", "),
                chunk.flatMap { $0 })
            start += chunk.count
        }
    }

    /// The router's name of a state (`pending` carries no reason here; the history has it).
    public static func stateName(_ state: TicketLifecycle.State) -> String { state.name }

    // MARK: Problems

    /// What the router needs of a problem when linking a new incident to it.
    public struct ProblemLink: Sendable, Hashable {
        public var id: String
        public var state: ProblemRecord.State
        public var workaround: String?
    }

    /// The oldest open (not resolved) problem with this fingerprint key: one indexed row
    /// (`problems_open_fingerprint`), nil when there is none.
    public static func oldestOpenProblem(_ db: any SQLTransaction, fingerprint: IncidentFingerprint) throws -> ProblemLink? {
        try problemLink(
            db.fetchOne(
                """
                SELECT id, state, workaround FROM problems WHERE fingerprint = ? AND state != 'resolved'
                ORDER BY opened_at LIMIT 1
                """,
                [.text(fingerprint.key)]))
    }

    /// A problem by id, nil when unknown.
    public static func problemLink(_ db: any SQLTransaction, id: String) throws -> ProblemLink? {
        try problemLink(db.fetchOne("SELECT id, state, workaround FROM problems WHERE id = ?", [.text(id)]))
    }

    private static func problemLink(_ row: SQLRow?) throws -> ProblemLink? {
        guard let row else { return nil }
        return ProblemLink(
            id: try row.string(0), state: ProblemRecord.State(rawValue: try row.string(1)) ?? .open, workaround: row[2].string)
    }

    /// Open (not resolved) problems with this fingerprint key, oldest first.
    public static func openProblems(_ db: any SQLTransaction, fingerprint: IncidentFingerprint) throws -> [OpenProblem] {
        try db.fetch(
            "SELECT id FROM problems WHERE fingerprint = ? AND state != 'resolved' ORDER BY opened_at", [.text(fingerprint.key)]
        ).map { OpenProblem(id: try $0.string(0), fingerprint: fingerprint) }
    }

    /// Incidents with this fingerprint not linked to a problem, opened in `window` before `openedAt`
    /// (at most `limit`, newest first). Reads only the partial index of unlinked incidents
    /// (`tickets_unlinked_incidents`, migration `itr-router-v2`): the incidents a recurring fault
    /// already linked to a problem are not in it, so the cost does not grow with them.
    public static func recentIncidents(
        _ db: any SQLTransaction, fingerprint: IncidentFingerprint, openedAt: Date, window: TimeInterval, excluding id: String,
        limit: Int
    ) throws -> [IncidentRecord] {
        let rows = try db.fetch(
            """
            SELECT id, priority, opened_at FROM tickets
            WHERE fingerprint = ? AND problem_id IS NULL AND opened_at >= ? AND opened_at <= ? AND id != ?
            ORDER BY opened_at DESC LIMIT ?
            """,
            SQLValue.list(
                fingerprint.key, openedAt.addingTimeInterval(-window).timeIntervalSince1970, openedAt.timeIntervalSince1970,
                id, limit))
        return try rows.map { row in
            IncidentRecord(
                ticketId: try row.string(0), fingerprint: fingerprint, priority: Priority(rawValue: row[1].string ?? "") ?? .p3,
                openedAt: Date(timeIntervalSince1970: try row.double(2)))
        }
    }

    /// Ids of the tickets linked to a problem.
    public static func ticketIds(_ db: any SQLTransaction, problemId: String) throws -> [String] {
        try db.fetch("SELECT id FROM tickets WHERE problem_id = ? ORDER BY opened_at, id", [.text(problemId)]).map { try $0.string(0) }
    }
}
