import Foundation
import ITREvents
import ServiceKit

/// Opportunities: the `ltc_opportunity` row (scalars, counts, the deferred-update mark) and its
/// links as rows (`ltc_opportunity_ticket`, `_reason`, `_unit`). A merge touches only the rows it
/// adds or changes; the bounded lists an event carries are read when the event is written.
/// Every function runs inside the caller's transaction, on either engine.
extension LTCStore {
    static let opportunityColumns = """
        id, account, kind, product_key, product, confidence, signals, suggested_owner, status, identified_at,
        updated_at, revision, status_note, won_value, ticket_count, reason_count
        """

    /// The most recently identified opportunity for the merge key (the row only: no lists loaded).
    public static func latestOpportunity(
        _ db: some SQLTransaction, account: String, kind: OpportunityKind, productKey: String
    ) throws -> Opportunity? {
        try db.fetchOne(
            """
            SELECT \(opportunityColumns) FROM ltc_opportunity WHERE account = ? AND kind = ? AND product_key = ?
            ORDER BY identified_at DESC LIMIT 1
            """, [.text(account), .text(kind.rawValue), .text(productKey)]
        ).flatMap(opportunity(from:))
    }

    /// The opportunity with its bounded lists, quantity and price lines loaded.
    public static func opportunity(_ db: some SQLTransaction, id: String) throws -> Opportunity? {
        guard var o = try db.fetchOne("SELECT \(opportunityColumns) FROM ltc_opportunity WHERE id = ?", [.text(id)])
            .flatMap(opportunity(from:))
        else { return nil }
        try loadLinks(db, into: &o)
        return o
    }

    /// The accounts of the opportunities `ids` (those that exist). An opportunity's account never changes.
    public static func accounts(_ db: some SQLTransaction, ofOpportunities ids: [String]) throws -> Set<String> {
        try values(db, "SELECT DISTINCT account FROM ltc_opportunity WHERE id IN", ids)
    }

    /// A new opportunity: its row and every link of its first signal.
    public static func insert(_ db: some SQLTransaction, opportunity o: Opportunity, signal: OpportunitySignal) throws {
        try db.execute(
            """
            INSERT INTO ltc_opportunity (id, account, kind, product_key, product, confidence, signals, suggested_owner,
                status, identified_at, updated_at, revision, status_note, won_value, ticket_count, reason_count)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)
            """,
            [
                .text(o.id), .text(o.account), .text(o.kind.rawValue), .text(o.productKey), encodeJSON(o.product).sqlValue,
                .real(o.confidence), encodeJSON(o.signals).sqlValue, o.suggestedOwner.sqlValue, .text(o.status.rawValue),
                db.moment(o.identifiedAt), db.moment(o.updatedAt), o.revision.sqlValue, o.statusNote.sqlValue,
                encodeJSON(o.wonValue).sqlValue,
            ])
        var counts = (tickets: 0, reasons: 0)
        try link(db, id: o.id, tickets: signal.ticketIds, count: &counts.tickets)
        _ = try upsert(db, id: o.id, units: signal.units)
        try link(db, id: o.id, reasons: signal.reasons, count: &counts.reasons)
        try db.execute(
            "UPDATE ltc_opportunity SET ticket_count = ?, reason_count = ? WHERE id = ?",
            [counts.tickets.sqlValue, counts.reasons.sqlValue, .text(o.id)])
    }

    /// Folds a later signal into `o` (a row read by ``latestOpportunity``): links its new tickets
    /// and units (same key replaced), lets the domain decide what changes
    /// (``Opportunity/absorb(_:newTickets:unitsChanged:confidencePerTicket:maximumConfidence:)``),
    /// then links its reasons and writes the row. Work is per row the signal brings, never per
    /// ticket already linked. Returns false when it adds nothing (then nothing is written).
    public static func absorb(
        _ db: some SQLTransaction, _ o: inout Opportunity, signal: OpportunitySignal, confidencePerTicket: Double,
        maximumConfidence: Double
    ) throws -> Bool {
        let before = o.ticketCount
        let unitsChanged = try upsert(db, id: o.id, units: signal.units)
        try link(db, id: o.id, tickets: signal.ticketIds, count: &o.ticketCount)
        guard
            o.absorb(
                signal, newTickets: o.ticketCount - before, unitsChanged: unitsChanged, confidencePerTicket: confidencePerTicket,
                maximumConfidence: maximumConfidence)
        else { return false }
        try link(db, id: o.id, reasons: signal.reasons, count: &o.reasonCount)
        try update(db, opportunity: o)
        return true
    }

    /// Writes the row's mutable scalars and counts (never the links).
    public static func update(_ db: some SQLTransaction, opportunity o: Opportunity) throws {
        try db.execute(
            """
            UPDATE ltc_opportunity SET product_key = ?, product = ?, confidence = ?, signals = ?, suggested_owner = ?,
                status = ?, updated_at = ?, revision = ?, status_note = ?, won_value = ?, ticket_count = ?, reason_count = ?
            WHERE id = ?
            """,
            [
                .text(o.productKey), encodeJSON(o.product).sqlValue, .real(o.confidence), encodeJSON(o.signals).sqlValue,
                o.suggestedOwner.sqlValue, .text(o.status.rawValue), db.moment(o.updatedAt), o.revision.sqlValue,
                o.statusNote.sqlValue, encodeJSON(o.wonValue).sqlValue, o.ticketCount.sqlValue, o.reasonCount.sqlValue,
                .text(o.id),
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
    public static func markPending(_ db: some SQLTransaction, id: String, since: Date, cause: PendingCause) throws {
        try db.execute(
            """
            UPDATE ltc_opportunity SET pending_since = COALESCE(pending_since, ?), pending_cause_id = ?,
                pending_correlation_id = ?, pending_traceparent = ?, pending_tracestate = ?
            WHERE id = ?
            """,
            [
                db.moment(since), .text(cause.eventId), cause.correlationId.sqlValue, cause.traceparent.sqlValue,
                cause.tracestate.sqlValue, .text(id),
            ])
    }

    public static func clearPending(_ db: some SQLTransaction, id: String) throws {
        try db.execute(
            """
            UPDATE ltc_opportunity SET pending_since = NULL, pending_cause_id = NULL, pending_correlation_id = NULL,
                pending_traceparent = NULL, pending_tracestate = NULL
            WHERE id = ? AND pending_since IS NOT NULL
            """, [.text(id)])
    }

    /// Opportunities with a change not yet emitted since before `cutoff`, oldest change first.
    public static func pendingOpportunities(
        _ db: some SQLTransaction, changedBefore cutoff: Date, limit: Int
    ) throws -> [(id: String, account: String)] {
        try db.fetch(
            """
            SELECT id, account FROM ltc_opportunity WHERE pending_since IS NOT NULL AND pending_since <= ?
            ORDER BY pending_since LIMIT ?
            """, [db.moment(cutoff), limit.sqlValue]
        ).map { (try $0.string(0), try $0.string(1)) }
    }

    /// The cause of the opportunity's change not yet emitted, when it has one since before `cutoff`.
    public static func pendingCause(_ db: some SQLTransaction, id: String, changedBefore cutoff: Date) throws -> PendingCause? {
        try db.fetchOne(
            """
            SELECT pending_cause_id, pending_correlation_id, pending_traceparent, pending_tracestate FROM ltc_opportunity
            WHERE id = ? AND pending_since IS NOT NULL AND pending_since <= ?
            """, [.text(id), db.moment(cutoff)]
        ).map { row in
            PendingCause(eventId: row[0].string ?? "", correlationId: row[1].string, traceparent: row[2].string, tracestate: row[3].string)
        }
    }

    /// How many opportunities have a change not yet emitted.
    public static func pendingCount(_ db: some SQLTransaction) throws -> Int {
        try db.fetchOne("SELECT COUNT(*) FROM ltc_opportunity WHERE pending_since IS NOT NULL", [])?.int(0) ?? 0
    }

    // MARK: Links

    /// Links the tickets not linked yet (in order); `count` is the opportunity's ticket count.
    /// Returns how many were new. A long list (a recurrence signal names every ticket in its
    /// window) is linked by multi-row inserts after one read of the last position, not one
    /// statement per ticket.
    @discardableResult
    static func link(_ db: some SQLTransaction, id: String, tickets: [String], count: inout Int) throws -> Int {
        var added = 0
        if tickets.count > 4 {
            let last = try db.fetchOne("SELECT COALESCE(MAX(seq), 0) FROM ltc_opportunity_ticket WHERE opportunity_id = ?", [.text(id)])?
                .int(0) ?? 0
            let unique = orderedUnique(tickets)
            var start = 0
            while start < unique.count {
                let chunk = unique[start..<min(start + 50, unique.count)]
                var arguments: [SQLValue] = []
                arguments.reserveCapacity(chunk.count * 3)
                for (offset, ticket) in zip(chunk.indices, chunk) {
                    arguments += [.text(id), .text(ticket), (last + offset + 1).sqlValue]
                }
                let rows = Array(repeating: "(?, ?, ?)", count: chunk.count).joined(separator: ", ")
                added += try db.execute(
                    "INSERT INTO ltc_opportunity_ticket (opportunity_id, ticket_id, seq) VALUES \(rows) ON CONFLICT DO NOTHING", arguments)
                start = chunk.endIndex
            }
        } else {
            for ticket in tickets {
                added += try db.execute(
                    """
                    INSERT INTO ltc_opportunity_ticket (opportunity_id, ticket_id, seq)
                    VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) FROM ltc_opportunity_ticket WHERE opportunity_id = ?) + 1)
                    ON CONFLICT DO NOTHING
                    """, [.text(id), .text(ticket), .text(id)])
            }
        }
        count += added
        return added
    }

    static func link(_ db: some SQLTransaction, id: String, reasons: [String], count: inout Int) throws {
        for reason in reasons {
            let added = try db.execute(
                "INSERT INTO ltc_opportunity_reason (opportunity_id, reason, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [.text(id), .text(reason), (count + 1).sqlValue])
            count += added
        }
    }

    /// Adds or replaces units by key. Returns whether any row changed.
    static func upsert(_ db: some SQLTransaction, id: String, units: [OpportunitySignal.Unit]) throws -> Bool {
        var changed = false
        for unit in units {
            let line = unit.priceLine
            let rows = try db.execute(
                """
                INSERT INTO ltc_opportunity_unit (opportunity_id, key, quantity, offering, description, line_quantity, amount, currency)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (opportunity_id, key) DO UPDATE SET quantity = excluded.quantity, offering = excluded.offering,
                    description = excluded.description, line_quantity = excluded.line_quantity, amount = excluded.amount,
                    currency = excluded.currency
                WHERE ltc_opportunity_unit.quantity IS DISTINCT FROM excluded.quantity
                    OR ltc_opportunity_unit.offering IS DISTINCT FROM excluded.offering
                    OR ltc_opportunity_unit.description IS DISTINCT FROM excluded.description
                    OR ltc_opportunity_unit.line_quantity IS DISTINCT FROM excluded.line_quantity
                    OR ltc_opportunity_unit.amount IS DISTINCT FROM excluded.amount
                    OR ltc_opportunity_unit.currency IS DISTINCT FROM excluded.currency
                """,
                [
                    .text(id), .text(unit.key), unit.quantity.sqlValue, line?.offering.sqlValue ?? .null,
                    line?.description.sqlValue ?? .null, line?.quantity.sqlValue ?? .null, line?.unitPrice.amount.sqlValue ?? .null,
                    line?.unitPrice.currency.sqlValue ?? .null,
                ])
            if rows > 0 { changed = true }
        }
        return changed
    }

    /// Loads the bounded lists (most recent tickets and reasons), the quantity and the folded price lines.
    static func loadLinks(_ db: some SQLTransaction, into o: inout Opportunity) throws {
        let limit = Opportunity.listLimit.sqlValue
        o.ticketIds = try db.fetch(
            "SELECT ticket_id FROM ltc_opportunity_ticket WHERE opportunity_id = ? ORDER BY seq DESC LIMIT ?", [.text(o.id), limit]
        ).map { try $0.string(0) }.reversed()
        o.reasons = try db.fetch(
            "SELECT reason FROM ltc_opportunity_reason WHERE opportunity_id = ? ORDER BY seq DESC LIMIT ?", [.text(o.id), limit]
        ).map { try $0.string(0) }.reversed()
        o.quantity = try db.fetchOne(
            "SELECT COALESCE(SUM(quantity), 0) FROM ltc_opportunity_unit WHERE opportunity_id = ?", [.text(o.id)])?.int(0) ?? 0
        // Valuation.fold in SQL: lines with the same offering and unit price summed, in first-seen
        // order, each with the description of its first line (`rowid`: SQLite's, or PostgreSQL's column).
        o.priceLines = try db.fetch(
            """
            SELECT g.offering, f.description, g.quantity, g.amount, g.currency FROM (
                SELECT offering, amount, currency, SUM(line_quantity) AS quantity, MIN(rowid) AS first FROM ltc_opportunity_unit
                WHERE opportunity_id = ? AND offering IS NOT NULL GROUP BY offering, amount, currency
            ) g JOIN ltc_opportunity_unit f ON f.rowid = g.first
            ORDER BY g.first
            """, [.text(o.id)]
        ).map { row in
            PriceLine(
                offering: try row.string(0), description: row[1].string, quantity: try row.int(2),
                unitPrice: Money(amount: try row.string(3), currency: try row.string(4)))
        }
    }

    // MARK: Listing

    /// A page of opportunities, newest first, and how many match in all.
    public static func list(_ db: some SQLTransaction, _ query: OpportunityQuery) throws -> (items: [Opportunity], total: Int) {
        var clauses: [String] = []
        var arguments: [SQLValue] = []
        if let account = query.account { clauses.append("account = ?"); arguments.append(.text(account)) }
        if let kind = query.kind { clauses.append("kind = ?"); arguments.append(.text(kind.rawValue)) }
        if let status = query.status { clauses.append("status = ?"); arguments.append(.text(status.rawValue)) }
        if let from = query.from { clauses.append("identified_at >= ?"); arguments.append(db.moment(from)) }
        if let to = query.to { clauses.append("identified_at < ?"); arguments.append(db.moment(to)) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let total = try db.fetchOne("SELECT COUNT(*) FROM ltc_opportunity \(whereSQL)", arguments)?.int(0) ?? 0
        let rows = try db.fetch(
            "SELECT \(opportunityColumns) FROM ltc_opportunity \(whereSQL) ORDER BY identified_at DESC, id LIMIT ? OFFSET ?",
            arguments + [query.limit.sqlValue, query.offset.sqlValue])
        var items: [Opportunity] = []
        for row in rows {
            guard var o = try opportunity(from: row) else { continue }
            try loadLinks(db, into: &o)
            items.append(o)
        }
        return (items, total)
    }

    /// The row's scalars and counts (columns ``opportunityColumns``); the lists stay empty until
    /// ``loadLinks(_:into:)``. Nil for a kind or status this build does not know.
    static func opportunity(from row: SQLRow) throws -> Opportunity? {
        guard let kind = row[2].string.flatMap(OpportunityKind.init(rawValue:)),
            let status = row[8].string.flatMap(OpportunityState.init(rawValue:))
        else { return nil }
        let signal = OpportunitySignal(
            kind: kind, account: try row.string(1), product: decodeJSON(Product.self, row[4].string), signal: "",
            confidence: try row.double(5), reasons: [], ticketIds: [], units: [], suggestedOwner: row[7].string,
            at: try moment(row, 9))
        var o = Opportunity(id: try row.string(0), signal: signal)
        o.signals = decodeJSON([String].self, row[6].string) ?? []
        o.status = status
        o.updatedAt = try moment(row, 10)
        o.revision = try row.int(11)
        o.statusNote = row[12].string
        o.wonValue = decodeJSON(Money.self, row[13].string)
        o.ticketCount = try row.int(14)
        o.reasonCount = try row.int(15)
        return o
    }
}
