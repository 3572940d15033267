import AMQPClient
import Foundation
import GRDB

/// Messages to publish, written in the same transaction as the state change that caused them
/// and published later by ``OutboxRelay`` (transactional outbox).
public enum Outbox {
    /// A pending row.
    public struct Entry: Sendable, Hashable {
        public var seq: Int64
        public var exchange: String
        public var routingKey: String
        public var message: AMQPMessage
    }

    /// Adds a message to publish once the surrounding transaction commits. Returns its sequence number.
    @discardableResult
    public static func enqueue(_ db: Database, message: AMQPMessage, exchange: String, routingKey: String) throws -> Int64 {
        // created_at as Unix seconds: a number, no date formatting per event.
        try db.cachedStatement(sql: "INSERT INTO outbox (exchange, routing_key, message, created_at) VALUES (?, ?, ?, ?)")
            .execute(arguments: [exchange, routingKey, AMQPMessageCodec.encode(message), Date().timeIntervalSince1970])
        return db.lastInsertedRowID
    }

    /// Up to `limit` pending rows with `seq > after`, in sequence order.
    public static func pending(_ db: Database, after: Int64 = 0, limit: Int) throws -> [Entry] {
        let rows = try Row.fetchAll(
            db, sql: "SELECT seq, exchange, routing_key, message FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            arguments: [after, limit])
        return try rows.map { row in
            let data: Data = row["message"]
            return Entry(
                seq: row["seq"], exchange: row["exchange"], routingKey: row["routing_key"],
                message: try AMQPMessageCodec.decode(data))
        }
    }

    /// Deletes published rows.
    public static func delete(_ db: Database, seqs: [Int64]) throws {
        guard !seqs.isEmpty else { return }
        for chunk in stride(from: 0, to: seqs.count, by: 500) {
            let part = Array(seqs[chunk..<min(chunk + 500, seqs.count)])
            let placeholders = Array(repeating: "?", count: part.count).joined(separator: ",")
            try db.execute(sql: "DELETE FROM outbox WHERE seq IN (\(placeholders))", arguments: StatementArguments(part))
        }
    }

    /// How many rows are pending.
    public static func count(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0
    }
}
