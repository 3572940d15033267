import Foundation
import GRDB
import ITREvents
import ServiceKit

/// The extractor's tables (next to ServiceKit's inbox and outbox) and the queries on them, on
/// both engines. Every function runs inside the caller's transaction.
///
/// Moments: SQLite as GRDB's date text (what existing databases hold), PostgreSQL as Unix seconds
/// (see ``SQLTransaction/moment(_:)`` and ``moment(_:)``). Counts and flags are integers on both.
public enum LTCStore {
    /// The migrations in both dialects. The SQLite names and text are what existing databases
    /// recorded (`ltc-v1`, then `ltc-v2` moving the JSON lists into rows). No PostgreSQL database
    /// ever held version 1 (ltc-extractor refused `DATABASE_URL` before both existed), so on
    /// PostgreSQL `ltc-v1` makes the tables as they are after `ltc-v2`, which has nothing to do there.
    public static let migrations: [StoreMigration] = [
        StoreMigration(name: "ltc-v1", sqlite: LTCSchema.version1, postgres: LTCSchema.postgres),
        StoreMigration(name: "ltc-v2", sqlite: LTCSchema.version2, postgres: []),
    ]

    /// The migrations into GRDB's migrator (SQLite).
    public static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.register(migrations)
    }

    // MARK: Tickets

    public static func ticket(_ db: some SQLTransaction, id: String) throws -> TicketFacts? {
        guard
            let row = try db.fetchOne(
                """
                SELECT ticket_id, account, product, opened_at, alarm_code, service_type, priority, contract_package
                FROM ltc_ticket WHERE ticket_id = ?
                """, [.text(id)])
        else { return nil }
        return TicketFacts(
            ticketId: try row.string(0), account: row[1].string, product: decodeJSON(Product.self, row[2].string),
            openedAt: moment(row[3]), alarmCode: row[4].string,
            serviceType: row[5].string.flatMap(ServiceType.init(rawValue:)),
            priority: row[6].string.flatMap(Priority.init(rawValue:)),
            contractPackage: row[7].string)
    }

    public static func save(_ db: some SQLTransaction, ticket: TicketFacts) throws {
        try db.execute(
            """
            INSERT INTO ltc_ticket (ticket_id, account, product, opened_at, alarm_code, service_type, priority, contract_package)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (ticket_id) DO UPDATE SET account = excluded.account, product = excluded.product,
                opened_at = excluded.opened_at, alarm_code = excluded.alarm_code, service_type = excluded.service_type,
                priority = excluded.priority, contract_package = excluded.contract_package
            """,
            [
                .text(ticket.ticketId), ticket.account.sqlValue, encodeJSON(ticket.product).sqlValue, db.moment(ticket.openedAt),
                ticket.alarmCode.sqlValue, ticket.serviceType?.rawValue.sqlValue ?? .null, ticket.priority?.rawValue.sqlValue ?? .null,
                ticket.contractPackage.sqlValue,
            ])
    }

    /// The accounts stored for `tickets` (those that have one).
    public static func accounts(_ db: some SQLTransaction, ofTickets tickets: [String]) throws -> Set<String> {
        try values(db, "SELECT DISTINCT account FROM ltc_ticket WHERE account IS NOT NULL AND ticket_id IN", tickets)
    }

    // MARK: Observations

    /// Records it (a repeat of the same kind, key, ticket and ref is ignored) and returns every
    /// observation of its kind and key within `window` before it.
    public static func observe(_ db: some SQLTransaction, _ observation: Observation, window: TimeInterval) throws -> [Observation] {
        try db.execute(
            "INSERT INTO ltc_observation (kind, key, ticket_id, ref, unit, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                .text(observation.kind.rawValue), .text(observation.key), .text(observation.ticketId), .text(observation.ref),
                .text(observation.unit), db.moment(observation.at),
            ])
        let rows = try db.fetch(
            "SELECT key, ticket_id, ref, unit, at FROM ltc_observation WHERE kind = ? AND key = ? AND at >= ? AND at <= ? ORDER BY at",
            [
                .text(observation.kind.rawValue), .text(observation.key), db.moment(observation.at.addingTimeInterval(-window)),
                db.moment(observation.at),
            ])
        return try rows.map {
            Observation(
                kind: observation.kind, key: try $0.string(0), ticketId: try $0.string(1), ref: try $0.string(2),
                unit: try $0.string(3), at: try moment($0, 4))
        }
    }

    // MARK: Values

    /// A moment as the store columns keep it (GRDB's date text on SQLite, Unix seconds on
    /// PostgreSQL); nil for NULL or what is neither.
    static func moment(_ value: SQLValue) -> Date? {
        switch value {
        case .real(let seconds): Date(timeIntervalSince1970: seconds)
        case .integer(let seconds): Date(timeIntervalSince1970: Double(seconds))
        case .text(let text): Date.fromDatabaseValue(text.databaseValue)
        default: nil
        }
    }

    /// Column `index` of `row` as a moment; an error when it is not one.
    static func moment(_ row: SQLRow, _ index: Int) throws -> Date {
        guard let date = moment(row[index]) else {
            throw SQLStoreError.unexpectedValue(column: index, expected: "a moment", got: row[index])
        }
        return date
    }

    /// The first column of `sql` + ` (?, ?, ...)` over `keys`, in chunks (bounded statements).
    static func values(_ db: some SQLTransaction, _ sql: String, _ keys: [String]) throws -> Set<String> {
        var found: Set<String> = []
        var start = keys.startIndex
        while start < keys.endIndex {
            let chunk = keys[start..<min(start + 100, keys.endIndex)]
            for row in try db.fetch(sql + " (\(SQLValue.placeholders(chunk.count)))", chunk.map(SQLValue.text)) {
                if let value = row[0].string { found.insert(value) }
            }
            start = chunk.endIndex
        }
        return found
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
