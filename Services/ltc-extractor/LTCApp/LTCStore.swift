import Foundation
import GRDB
import ITREvents
import ServiceKit

/// The extractor's tables (next to ServiceKit's inbox and outbox) and the queries on them.
/// Every function runs inside the caller's transaction.
public enum LTCStore {
    public static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("ltc-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE ltc_ticket (
                        ticket_id TEXT PRIMARY KEY NOT NULL,
                        account TEXT,
                        product TEXT,
                        opened_at DATETIME,
                        alarm_code TEXT,
                        service_type TEXT,
                        priority TEXT,
                        contract_package TEXT
                    );
                    CREATE TABLE ltc_observation (
                        kind TEXT NOT NULL,
                        key TEXT NOT NULL,
                        ticket_id TEXT NOT NULL,
                        ref TEXT NOT NULL,
                        unit TEXT NOT NULL,
                        at DATETIME NOT NULL,
                        PRIMARY KEY (kind, key, ticket_id, ref)
                    ) WITHOUT ROWID;
                    CREATE INDEX ltc_observation_window ON ltc_observation (kind, key, at);
                    CREATE TABLE ltc_opportunity (
                        id TEXT PRIMARY KEY NOT NULL,
                        account TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        product_key TEXT NOT NULL,
                        product TEXT,
                        units TEXT NOT NULL,
                        confidence REAL NOT NULL,
                        reasons TEXT NOT NULL,
                        ticket_ids TEXT NOT NULL,
                        signals TEXT NOT NULL,
                        suggested_owner TEXT,
                        status TEXT NOT NULL,
                        identified_at DATETIME NOT NULL,
                        updated_at DATETIME NOT NULL,
                        revision INTEGER NOT NULL,
                        status_note TEXT,
                        won_value TEXT
                    );
                    CREATE INDEX ltc_opportunity_key ON ltc_opportunity (account, kind, product_key, identified_at);
                    CREATE INDEX ltc_opportunity_time ON ltc_opportunity (identified_at, id);
                    """)
        }
    }

    // MARK: Tickets

    public static func ticket(_ db: Database, id: String) throws -> TicketFacts? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM ltc_ticket WHERE ticket_id = ?", arguments: [id]) else {
            return nil
        }
        return TicketFacts(
            ticketId: row["ticket_id"], account: row["account"], product: decodeJSON(Product.self, row["product"]),
            openedAt: row["opened_at"], alarmCode: row["alarm_code"],
            serviceType: (row["service_type"] as String?).flatMap(ServiceType.init(rawValue:)),
            priority: (row["priority"] as String?).flatMap(Priority.init(rawValue:)),
            contractPackage: row["contract_package"])
    }

    public static func save(_ db: Database, ticket: TicketFacts) throws {
        try db.execute(
            sql: """
                INSERT INTO ltc_ticket (ticket_id, account, product, opened_at, alarm_code, service_type, priority, contract_package)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (ticket_id) DO UPDATE SET account = excluded.account, product = excluded.product,
                    opened_at = excluded.opened_at, alarm_code = excluded.alarm_code, service_type = excluded.service_type,
                    priority = excluded.priority, contract_package = excluded.contract_package
                """,
            arguments: [
                ticket.ticketId, ticket.account, encodeJSON(ticket.product), ticket.openedAt, ticket.alarmCode,
                ticket.serviceType?.rawValue, ticket.priority?.rawValue, ticket.contractPackage,
            ])
    }

    // MARK: Observations

    /// Records it (a repeat of the same kind, key, ticket and ref is ignored) and returns every
    /// observation of its kind and key within `window` before it.
    public static func observe(_ db: Database, _ observation: Observation, window: TimeInterval) throws -> [Observation] {
        try db.execute(
            sql: """
                INSERT INTO ltc_observation (kind, key, ticket_id, ref, unit, at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """,
            arguments: [observation.kind.rawValue, observation.key, observation.ticketId, observation.ref, observation.unit, observation.at])
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT * FROM ltc_observation WHERE kind = ? AND key = ? AND at >= ? AND at <= ? ORDER BY at",
            arguments: [observation.kind.rawValue, observation.key, observation.at.addingTimeInterval(-window), observation.at])
        return rows.map {
            Observation(kind: observation.kind, key: $0["key"], ticketId: $0["ticket_id"], ref: $0["ref"], unit: $0["unit"], at: $0["at"])
        }
    }

    // MARK: Opportunities

    /// The most recently identified opportunity for the merge key.
    public static func latestOpportunity(_ db: Database, account: String, kind: OpportunityKind, productKey: String) throws -> Opportunity? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT * FROM ltc_opportunity WHERE account = ? AND kind = ? AND product_key = ?
                ORDER BY identified_at DESC LIMIT 1
                """,
            arguments: [account, kind.rawValue, productKey]
        ).flatMap(opportunity(from:))
    }

    public static func opportunity(_ db: Database, id: String) throws -> Opportunity? {
        try Row.fetchOne(db, sql: "SELECT * FROM ltc_opportunity WHERE id = ?", arguments: [id]).flatMap(opportunity(from:))
    }

    public static func save(_ db: Database, opportunity o: Opportunity) throws {
        try db.execute(
            sql: """
                INSERT INTO ltc_opportunity (id, account, kind, product_key, product, units, confidence, reasons, ticket_ids,
                    signals, suggested_owner, status, identified_at, updated_at, revision, status_note, won_value)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET product_key = excluded.product_key, product = excluded.product,
                    units = excluded.units, confidence = excluded.confidence, reasons = excluded.reasons,
                    ticket_ids = excluded.ticket_ids, signals = excluded.signals, suggested_owner = excluded.suggested_owner,
                    status = excluded.status, updated_at = excluded.updated_at, revision = excluded.revision,
                    status_note = excluded.status_note, won_value = excluded.won_value
                """,
            arguments: [
                o.id, o.account, o.kind.rawValue, o.productKey, encodeJSON(o.product), encodeJSON(o.units), o.confidence,
                encodeJSON(o.reasons), encodeJSON(o.ticketIds), encodeJSON(o.signals), o.suggestedOwner, o.status.rawValue,
                o.identifiedAt, o.updatedAt, o.revision, o.statusNote, encodeJSON(o.wonValue),
            ])
    }

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
            sql: "SELECT * FROM ltc_opportunity \(whereSQL) ORDER BY identified_at DESC, id LIMIT ? OFFSET ?",
            arguments: StatementArguments(arguments + [query.limit, query.offset]))
        return (rows.compactMap(opportunity(from:)), total)
    }

    static func opportunity(from row: Row) -> Opportunity? {
        guard let kind = OpportunityKind(rawValue: row["kind"]), let status = OpportunityState(rawValue: row["status"]),
            let units = decodeJSON([OpportunitySignal.Unit].self, row["units"])
        else { return nil }
        let signal = OpportunitySignal(
            kind: kind, account: row["account"], product: decodeJSON(Product.self, row["product"]), signal: "",
            confidence: row["confidence"], reasons: decodeJSON([String].self, row["reasons"]) ?? [],
            ticketIds: decodeJSON([String].self, row["ticket_ids"]) ?? [], units: units,
            suggestedOwner: row["suggested_owner"], at: row["identified_at"])
        var o = Opportunity(id: row["id"], signal: signal)
        o.signals = decodeJSON([String].self, row["signals"]) ?? []
        o.status = status
        o.updatedAt = row["updated_at"]
        o.revision = row["revision"]
        o.statusNote = row["status_note"]
        o.wonValue = decodeJSON(Money.self, row["won_value"])
        return o
    }

    static func encodeJSON<T: Encodable>(_ value: T?) -> String? {
        guard let value, let data = try? EventCoding.encode(value) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? EventCoding.decoder.decode(T.self, from: Data(text.utf8))
    }
}
