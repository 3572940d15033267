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
        // Links as rows (tickets, reasons, units) instead of JSON arrays re-encoded on every merge,
        // counts on the opportunity row, and the deferred-update mark (debounced `updated` events).
        migrator.registerMigration("ltc-v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE ltc_opportunity_ticket (
                        opportunity_id TEXT NOT NULL,
                        ticket_id TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        PRIMARY KEY (opportunity_id, ticket_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX ltc_opportunity_ticket_seq ON ltc_opportunity_ticket (opportunity_id, seq);
                    CREATE TABLE ltc_opportunity_reason (
                        opportunity_id TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        PRIMARY KEY (opportunity_id, reason)
                    ) WITHOUT ROWID;
                    CREATE INDEX ltc_opportunity_reason_seq ON ltc_opportunity_reason (opportunity_id, seq);
                    CREATE TABLE ltc_opportunity_unit (
                        opportunity_id TEXT NOT NULL,
                        key TEXT NOT NULL,
                        quantity INTEGER NOT NULL,
                        offering TEXT,
                        description TEXT,
                        line_quantity INTEGER,
                        amount TEXT,
                        currency TEXT,
                        UNIQUE (opportunity_id, key)
                    );
                    ALTER TABLE ltc_opportunity ADD COLUMN ticket_count INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE ltc_opportunity ADD COLUMN reason_count INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE ltc_opportunity ADD COLUMN pending_since DATETIME;
                    ALTER TABLE ltc_opportunity ADD COLUMN pending_cause_id TEXT;
                    ALTER TABLE ltc_opportunity ADD COLUMN pending_correlation_id TEXT;
                    ALTER TABLE ltc_opportunity ADD COLUMN pending_traceparent TEXT;
                    ALTER TABLE ltc_opportunity ADD COLUMN pending_tracestate TEXT;
                    INSERT INTO ltc_opportunity_ticket (opportunity_id, ticket_id, seq)
                        SELECT o.id, j.value, j.key + 1 FROM ltc_opportunity o, json_each(o.ticket_ids) j WHERE true
                        ON CONFLICT DO NOTHING;
                    INSERT INTO ltc_opportunity_reason (opportunity_id, reason, seq)
                        SELECT o.id, j.value, j.key + 1 FROM ltc_opportunity o, json_each(o.reasons) j WHERE true
                        ON CONFLICT DO NOTHING;
                    INSERT INTO ltc_opportunity_unit (opportunity_id, key, quantity, offering, description, line_quantity, amount, currency)
                        SELECT o.id, json_extract(j.value, '$.key'), json_extract(j.value, '$.quantity'),
                            json_extract(j.value, '$.priceLine.offering'), json_extract(j.value, '$.priceLine.description'),
                            json_extract(j.value, '$.priceLine.quantity'), json_extract(j.value, '$.priceLine.unitPrice.amount'),
                            json_extract(j.value, '$.priceLine.unitPrice.currency')
                        FROM ltc_opportunity o, json_each(o.units) j WHERE true ORDER BY o.id, j.key
                        ON CONFLICT (opportunity_id, key) DO UPDATE SET quantity = excluded.quantity, offering = excluded.offering,
                            description = excluded.description, line_quantity = excluded.line_quantity,
                            amount = excluded.amount, currency = excluded.currency;
                    UPDATE ltc_opportunity SET
                        ticket_count = (SELECT COUNT(*) FROM ltc_opportunity_ticket t WHERE t.opportunity_id = ltc_opportunity.id),
                        reason_count = (SELECT COUNT(*) FROM ltc_opportunity_reason r WHERE r.opportunity_id = ltc_opportunity.id);
                    ALTER TABLE ltc_opportunity DROP COLUMN ticket_ids;
                    ALTER TABLE ltc_opportunity DROP COLUMN reasons;
                    ALTER TABLE ltc_opportunity DROP COLUMN units;
                    CREATE INDEX ltc_opportunity_pending ON ltc_opportunity (pending_since) WHERE pending_since IS NOT NULL;
                    """)
        }
    }

    // MARK: Tickets

    public static func ticket(_ db: Database, id: String) throws -> TicketFacts? {
        let statement = try db.cachedStatement(sql: "SELECT * FROM ltc_ticket WHERE ticket_id = ?")
        guard let row = try Row.fetchOne(statement, arguments: [id]) else {
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
        try db.cachedStatement(
            sql: """
                INSERT INTO ltc_ticket (ticket_id, account, product, opened_at, alarm_code, service_type, priority, contract_package)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (ticket_id) DO UPDATE SET account = excluded.account, product = excluded.product,
                    opened_at = excluded.opened_at, alarm_code = excluded.alarm_code, service_type = excluded.service_type,
                    priority = excluded.priority, contract_package = excluded.contract_package
                """
        ).execute(
            arguments: [
                ticket.ticketId, ticket.account, encodeJSON(ticket.product), ticket.openedAt, ticket.alarmCode,
                ticket.serviceType?.rawValue, ticket.priority?.rawValue, ticket.contractPackage,
            ])
    }

    // MARK: Observations

    /// Records it (a repeat of the same kind, key, ticket and ref is ignored) and returns every
    /// observation of its kind and key within `window` before it.
    public static func observe(_ db: Database, _ observation: Observation, window: TimeInterval) throws -> [Observation] {
        try db.cachedStatement(
            sql: """
                INSERT INTO ltc_observation (kind, key, ticket_id, ref, unit, at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """
        ).execute(
            arguments: [observation.kind.rawValue, observation.key, observation.ticketId, observation.ref, observation.unit, observation.at])
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT key, ticket_id, ref, unit, at FROM ltc_observation WHERE kind = ? AND key = ? AND at >= ? AND at <= ? ORDER BY at"),
            arguments: [observation.kind.rawValue, observation.key, observation.at.addingTimeInterval(-window), observation.at])
        // Columns by index: no per-row name lookup (these lists span the whole window).
        return rows.map {
            Observation(kind: observation.kind, key: $0[0], ticketId: $0[1], ref: $0[2], unit: $0[3], at: $0[4])
        }
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
