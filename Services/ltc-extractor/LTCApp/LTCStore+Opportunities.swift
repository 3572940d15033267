import Foundation
import GRDB
import ITREvents
import ServiceKit

/// Opportunities: the `ltc_opportunity` row (scalars, counts, the deferred-update mark) and its
/// links as rows (`ltc_opportunity_ticket`, `_reason`, `_unit`). A merge touches only the rows it
/// adds or changes; the bounded lists an event carries are read when the event is written.
/// Every statement is a cached (prepared) one. Every function runs inside the caller's transaction.
extension LTCStore {
    static let opportunityColumns = """
        id, account, kind, product_key, product, confidence, signals, suggested_owner, status, identified_at,
        updated_at, revision, status_note, won_value, ticket_count, reason_count
        """

    /// The most recently identified opportunity for the merge key (the row only: no lists loaded).
    public static func latestOpportunity(_ db: Database, account: String, kind: OpportunityKind, productKey: String) throws -> Opportunity? {
        let statement = try db.cachedStatement(
            sql: """
                SELECT \(opportunityColumns) FROM ltc_opportunity WHERE account = ? AND kind = ? AND product_key = ?
                ORDER BY identified_at DESC LIMIT 1
                """)
        return try Row.fetchOne(statement, arguments: [account, kind.rawValue, productKey]).flatMap(opportunity(from:))
    }

    /// The opportunity with its bounded lists, quantity and price lines loaded.
    public static func opportunity(_ db: Database, id: String) throws -> Opportunity? {
        let statement = try db.cachedStatement(sql: "SELECT \(opportunityColumns) FROM ltc_opportunity WHERE id = ?")
        guard var o = try Row.fetchOne(statement, arguments: [id]).flatMap(opportunity(from:)) else { return nil }
        try loadLinks(db, into: &o)
        return o
    }

    /// A new opportunity: its row and every link of its first signal.
    public static func insert(_ db: Database, opportunity o: Opportunity, signal: OpportunitySignal) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO ltc_opportunity (id, account, kind, product_key, product, confidence, signals, suggested_owner,
                    status, identified_at, updated_at, revision, status_note, won_value, ticket_count, reason_count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)
                """
        ).execute(arguments: [
            o.id, o.account, o.kind.rawValue, o.productKey, encodeJSON(o.product), o.confidence, encodeJSON(o.signals),
            o.suggestedOwner, o.status.rawValue, o.identifiedAt, o.updatedAt, o.revision, o.statusNote, encodeJSON(o.wonValue),
        ])
        var counts = (tickets: 0, reasons: 0)
        _ = try link(db, id: o.id, tickets: signal.ticketIds, count: &counts.tickets)
        _ = try upsert(db, id: o.id, units: signal.units)
        try link(db, id: o.id, reasons: signal.reasons, count: &counts.reasons)
        try db.cachedStatement(sql: "UPDATE ltc_opportunity SET ticket_count = ?, reason_count = ? WHERE id = ?")
            .execute(arguments: [counts.tickets, counts.reasons, o.id])
    }

    /// Folds a later signal into `o` (a row read by ``latestOpportunity``): new ticket links, units
    /// (same key replaced), product, owner, signal ids, then reasons and confidence. Work is per row
    /// the signal brings, never per ticket already linked. Returns false when it adds nothing (then
    /// nothing is written).
    public static func absorb(
        _ db: Database, _ o: inout Opportunity, signal: OpportunitySignal, confidencePerTicket: Double, maximumConfidence: Double
    ) throws -> Bool {
        let before = o.ticketCount
        let unitsChanged = try upsert(db, id: o.id, units: signal.units)
        _ = try link(db, id: o.id, tickets: signal.ticketIds, count: &o.ticketCount)
        let newTickets = o.ticketCount - before
        var changed = newTickets > 0 || unitsChanged
        if o.product == nil, let product = signal.product {
            o.product = product
            changed = true
        }
        if o.suggestedOwner == nil, let owner = signal.suggestedOwner {
            o.suggestedOwner = owner
            changed = true
        }
        if !o.signals.contains(signal.signal) {
            o.signals.append(signal.signal)
            changed = true
        }
        guard changed else { return false }
        try link(db, id: o.id, reasons: signal.reasons, count: &o.reasonCount)
        o.confidence = Opportunity.boosted(
            o.confidence, signal: signal.confidence, newTickets: newTickets, perTicket: confidencePerTicket,
            maximum: maximumConfidence)
        o.updatedAt = max(o.updatedAt, signal.at)
        o.revision += 1
        try update(db, opportunity: o)
        return true
    }

    /// Writes the row's mutable scalars and counts (never the links).
    public static func update(_ db: Database, opportunity o: Opportunity) throws {
        try db.cachedStatement(
            sql: """
                UPDATE ltc_opportunity SET product_key = ?, product = ?, confidence = ?, signals = ?, suggested_owner = ?,
                    status = ?, updated_at = ?, revision = ?, status_note = ?, won_value = ?, ticket_count = ?, reason_count = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            o.productKey, encodeJSON(o.product), o.confidence, encodeJSON(o.signals), o.suggestedOwner, o.status.rawValue,
            o.updatedAt, o.revision, o.statusNote, encodeJSON(o.wonValue), o.ticketCount, o.reasonCount, o.id,
        ])
    }

    // MARK: Deferred updates

    /// What a deferred `updated` event inherits from the last change it coalesces.
    public struct PendingCause: Sendable, Hashable {
        public var eventId: String
        public var correlationId: String?
        public var traceparent: String?
        public var tracestate: String?
    }

    /// Marks the opportunity as changed since its last event (kept: the first change's time; replaced:
    /// the cause, so the update points at the latest change). Same transaction as the change.
    public static func markPending(_ db: Database, id: String, since: Date, cause: PendingCause) throws {
        try db.cachedStatement(
            sql: """
                UPDATE ltc_opportunity SET pending_since = COALESCE(pending_since, ?), pending_cause_id = ?,
                    pending_correlation_id = ?, pending_traceparent = ?, pending_tracestate = ?
                WHERE id = ?
                """
        ).execute(arguments: [since, cause.eventId, cause.correlationId, cause.traceparent, cause.tracestate, id])
    }

    public static func clearPending(_ db: Database, id: String) throws {
        try db.cachedStatement(
            sql: """
                UPDATE ltc_opportunity SET pending_since = NULL, pending_cause_id = NULL, pending_correlation_id = NULL,
                    pending_traceparent = NULL, pending_tracestate = NULL
                WHERE id = ? AND pending_since IS NOT NULL
                """
        ).execute(arguments: [id])
    }

    /// Opportunities with a change not yet emitted since before `cutoff`, oldest change first.
    public static func pendingOpportunities(_ db: Database, changedBefore cutoff: Date, limit: Int) throws -> [(id: String, cause: PendingCause)] {
        let statement = try db.cachedStatement(
            sql: """
                SELECT id, pending_cause_id, pending_correlation_id, pending_traceparent, pending_tracestate
                FROM ltc_opportunity WHERE pending_since IS NOT NULL AND pending_since <= ?
                ORDER BY pending_since LIMIT ?
                """)
        return try Row.fetchAll(statement, arguments: [cutoff, limit]).map { row in
            (row[0], PendingCause(eventId: row[1] ?? "", correlationId: row[2], traceparent: row[3], tracestate: row[4]))
        }
    }

    /// How many opportunities have a change not yet emitted.
    public static func pendingCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM ltc_opportunity WHERE pending_since IS NOT NULL")) ?? 0
    }

    // MARK: Links

    /// Links the tickets not linked yet (in order); `count` is the opportunity's ticket count.
    /// Returns how many were new. A long list (a recurrence signal names every ticket in its
    /// window) is linked by one statement over a JSON array, not one statement per ticket.
    @discardableResult
    static func link(_ db: Database, id: String, tickets: [String], count: inout Int) throws -> Int {
        if tickets.count > 4 {
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO ltc_opportunity_ticket (opportunity_id, ticket_id, seq)
                    SELECT ?1, j.value, (SELECT COALESCE(MAX(seq), 0) FROM ltc_opportunity_ticket WHERE opportunity_id = ?1) + j.key + 1
                    FROM json_each(?2) j WHERE true
                    ON CONFLICT DO NOTHING
                    """)
            try statement.execute(arguments: [id, jsonArray(tickets)])
            count += db.changesCount
            return db.changesCount
        }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO ltc_opportunity_ticket (opportunity_id, ticket_id, seq)
                VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) FROM ltc_opportunity_ticket WHERE opportunity_id = ?1) + 1)
                ON CONFLICT DO NOTHING
                """)
        var added = 0
        for ticket in tickets {
            try statement.execute(arguments: [id, ticket])
            if db.changesCount > 0 {
                count += 1
                added += 1
            }
        }
        return added
    }

    /// A JSON array of strings (escaped by hand: JSONEncoder costs more than the insert it feeds).
    static func jsonArray(_ strings: [String]) -> String {
        var out = "["
        for (i, string) in strings.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
            out += "\""
        }
        return out + "]"
    }

    static func link(_ db: Database, id: String, reasons: [String], count: inout Int) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO ltc_opportunity_reason (opportunity_id, reason, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
        for reason in reasons {
            try statement.execute(arguments: [id, reason, count + 1])
            if db.changesCount > 0 { count += 1 }
        }
    }

    /// Adds or replaces units by key. Returns whether any row changed.
    static func upsert(_ db: Database, id: String, units: [OpportunitySignal.Unit]) throws -> Bool {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO ltc_opportunity_unit (opportunity_id, key, quantity, offering, description, line_quantity, amount, currency)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (opportunity_id, key) DO UPDATE SET quantity = excluded.quantity, offering = excluded.offering,
                    description = excluded.description, line_quantity = excluded.line_quantity, amount = excluded.amount,
                    currency = excluded.currency
                WHERE quantity IS NOT excluded.quantity OR offering IS NOT excluded.offering
                    OR description IS NOT excluded.description OR line_quantity IS NOT excluded.line_quantity
                    OR amount IS NOT excluded.amount OR currency IS NOT excluded.currency
                """)
        var changed = false
        for unit in units {
            let line = unit.priceLine
            try statement.execute(arguments: [
                id, unit.key, unit.quantity, line?.offering, line?.description, line?.quantity, line?.unitPrice.amount,
                line?.unitPrice.currency,
            ])
            if db.changesCount > 0 { changed = true }
        }
        return changed
    }

    /// Loads the bounded lists (most recent tickets and reasons), the quantity and the folded price lines.
    static func loadLinks(_ db: Database, into o: inout Opportunity) throws {
        let tickets = try db.cachedStatement(
            sql: "SELECT ticket_id FROM ltc_opportunity_ticket WHERE opportunity_id = ? ORDER BY seq DESC LIMIT ?")
        o.ticketIds = try String.fetchAll(tickets, arguments: [o.id, Opportunity.listLimit]).reversed()
        let reasons = try db.cachedStatement(
            sql: "SELECT reason FROM ltc_opportunity_reason WHERE opportunity_id = ? ORDER BY seq DESC LIMIT ?")
        o.reasons = try String.fetchAll(reasons, arguments: [o.id, Opportunity.listLimit]).reversed()
        let quantity = try db.cachedStatement(
            sql: "SELECT COALESCE(SUM(quantity), 0) FROM ltc_opportunity_unit WHERE opportunity_id = ?")
        o.quantity = try Int.fetchOne(quantity, arguments: [o.id]) ?? 0
        // Valuation.fold in SQL: lines with the same offering and unit price summed, in first-seen order.
        let lines = try db.cachedStatement(
            sql: """
                SELECT offering, description, SUM(line_quantity), amount, currency FROM ltc_opportunity_unit
                WHERE opportunity_id = ? AND offering IS NOT NULL
                GROUP BY offering, amount, currency ORDER BY MIN(rowid)
                """)
        o.priceLines = try Row.fetchAll(lines, arguments: [o.id]).map { row in
            PriceLine(
                offering: row[0], description: row[1], quantity: row[2],
                unitPrice: Money(amount: row[3], currency: row[4]))
        }
    }

    // MARK: Listing

    /// A page of opportunities, newest first, and how many match in all.
    public static func list(_ db: Database, _ query: OpportunityQuery) throws -> (items: [Opportunity], total: Int) {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let account = query.account { clauses.append("account = ?"); arguments.append(account) }
        if let kind = query.kind { clauses.append("kind = ?"); arguments.append(kind.rawValue) }
        if let status = query.status { clauses.append("status = ?"); arguments.append(status.rawValue) }
        if let from = query.from { clauses.append("identified_at >= ?"); arguments.append(from) }
        if let to = query.to { clauses.append("identified_at < ?"); arguments.append(to) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let total = try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM ltc_opportunity \(whereSQL)", arguments: StatementArguments(arguments)) ?? 0
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT \(opportunityColumns) FROM ltc_opportunity \(whereSQL) ORDER BY identified_at DESC, id LIMIT ? OFFSET ?",
            arguments: StatementArguments(arguments + [query.limit, query.offset]))
        var items: [Opportunity] = []
        for row in rows {
            guard var o = opportunity(from: row) else { continue }
            try loadLinks(db, into: &o)
            items.append(o)
        }
        return (items, total)
    }

    /// The row's scalars and counts; the lists stay empty until ``loadLinks(_:into:)``.
    static func opportunity(from row: Row) -> Opportunity? {
        guard let kind = OpportunityKind(rawValue: row["kind"]), let status = OpportunityState(rawValue: row["status"])
        else { return nil }
        let signal = OpportunitySignal(
            kind: kind, account: row["account"], product: decodeJSON(Product.self, row["product"]), signal: "",
            confidence: row["confidence"], reasons: [], ticketIds: [], units: [],
            suggestedOwner: row["suggested_owner"], at: row["identified_at"])
        var o = Opportunity(id: row["id"], signal: signal)
        o.signals = decodeJSON([String].self, row["signals"]) ?? []
        o.status = status
        o.updatedAt = row["updated_at"]
        o.revision = row["revision"]
        o.statusNote = row["status_note"]
        o.wonValue = decodeJSON(Money.self, row["won_value"])
        o.ticketCount = row["ticket_count"]
        o.reasonCount = row["reason_count"]
        return o
    }
}
