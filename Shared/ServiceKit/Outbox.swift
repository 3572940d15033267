import AMQPClient
import Foundation

/// Messages to publish, written in the same transaction as the state change that caused them
/// and published later by ``OutboxRelay`` (transactional outbox).
///
/// A row that cannot be published is **parked**, never dropped and never allowed to hold up
/// the rows behind it: it stays in the table with `parked_at` and `parked_reason` set, is
/// counted by `itr_outbox_parked`, listed by `GET /v1/outbox/parked` (and `itrctl status`,
/// `itrctl dlq`), and published again only when someone asks (``unpark(_:seqs:)``). Parked are
/// rows the wire cannot carry, rows whose stored message cannot be decoded, messages no queue
/// took (not even the alternate exchange's) and rows the broker refused
/// ``maximumAttempts`` times in a row.
public enum Outbox {
    /// What every outgoing message is checked against where it is made: AMQP 0-9-1's short
    /// strings, a content header well under the default `frame_max` (128 KiB), a body under
    /// the `max_message_size` this project configures (16 MiB). The relay's connection checks
    /// again against what it negotiated. `AMQP_MAX_MESSAGE_SIZE` lowers the body limit here as
    /// it does for the connection, so that kept copies are cut to what the relay can publish.
    public static let limits: AMQPMessageLimits = {
        let configured = ProcessInfo.processInfo.environment["AMQP_MAX_MESSAGE_SIZE"].flatMap(Int.init)
        guard let configured, (4096...(512 << 20)).contains(configured) else { return AMQPMessageLimits() }
        return AMQPMessageLimits(maximumBodyBytes: configured)
    }()
    /// Broker refusals (nacks, closed channels) of one row before it is parked.
    public static let maximumAttempts = 5

    /// A pending row.
    public struct Entry: Sendable, Hashable {
        public var seq: Int64
        public var exchange: String
        public var routingKey: String
        public var message: AMQPMessage
        /// Broker refusals so far.
        public var attempts: Int = 0
    }

    /// A parked row: what it was for and why it is parked.
    public struct Parked: Sendable, Hashable, Codable {
        public var seq: Int64
        public var exchange: String
        public var routingKey: String
        public var reason: String
        /// Unix seconds.
        public var parkedAt: Double
        public var attempts: Int
        public var messageID: String?
        public var type: String?
        public var bodyBytes: Int
    }

    /// A message refused where it was made: it can never be published as it is. Thrown by
    /// ``enqueue(_:message:exchange:routingKey:fitting:)``; the error says which field.
    public struct RefusedMessage: Error, CustomStringConvertible, Sendable {
        public var exchange: String
        public var routingKey: String
        public var error: AMQPError
        public var description: String {
            "outbox: refused a message for '\(exchange)' with routing key '\(routingKey.prefix(80))': \(error.message)"
        }
    }

    /// Adds a message to publish once the surrounding transaction commits. Returns its sequence number.
    ///
    /// - Parameter fitting: the message copies outside input and may be cut to fit
    ///   (``AMQPWire/fitted(_:limits:)``); otherwise a message that does not fit is refused
    ///   with ``RefusedMessage``.
    @discardableResult
    public static func enqueue(
        _ db: some SQLTransaction, message: AMQPMessage, exchange: String, routingKey: String, fitting: Bool = false
    ) throws -> Int64 {
        let message = fitting ? AMQPWire.fitted(message, limits: limits) : message
        do {
            try AMQPWire.check(message, exchange: exchange, routingKey: routingKey, limits: limits)
        } catch {
            throw RefusedMessage(exchange: exchange, routingKey: routingKey, error: error)
        }
        // created_at as Unix seconds: a number, no date formatting per event.
        return try db.insert(
            "INSERT INTO outbox (exchange, routing_key, message, created_at, owner) VALUES (?, ?, ?, ?, ?)",
            [
                .text(exchange), .text(routingKey), .blob(AMQPMessageCodec.encode(message)), .real(Date().timeIntervalSince1970),
                db.instance.map(SQLValue.text) ?? .null,
            ],
            returning: "seq")
    }

    /// Up to `limit` pending (not parked) rows with `seq > after`, in sequence order.
    /// Throws when a row cannot be decoded (the relay uses ``nextRows(_:after:limit:)``).
    public static func pending(_ db: some SQLTransaction, after: Int64 = 0, limit: Int) throws -> [Entry] {
        let rows = try nextRows(db, after: after, limit: limit)
        if let bad = rows.undecodable.first {
            throw SQLStoreError.corruptRow("outbox row \(bad.seq) cannot be decoded: \(bad.reason)")
        }
        return rows.entries
    }

    /// Up to `limit` pending rows with `seq > after`: those that decode, and those that do not
    /// (with why), so that one bad row holds up nothing.
    ///
    /// - Parameter owner: only the rows of this instance (several instances on one database).
    public static func nextRows(
        _ db: some SQLTransaction, after: Int64, limit: Int, owner: String? = nil
    ) throws -> (entries: [Entry], undecodable: [(seq: Int64, reason: String)]) {
        let rows = try db.fetch(
            """
            SELECT seq, exchange, routing_key, message, attempts FROM outbox
            WHERE seq > ? AND parked_at IS NULL\(owner == nil ? "" : " AND owner = ?") ORDER BY seq LIMIT ?
            """,
            [.integer(after)] + (owner.map { [.text($0)] } ?? []) + [.integer(Int64(limit))])
        var entries: [Entry] = []
        var undecodable: [(Int64, String)] = []
        entries.reserveCapacity(rows.count)
        for row in rows {
            let seq = try row.int64(0)
            do {
                guard let data = row[3].data else { throw AMQPMessageCodec.DecodingError(offset: 0, message: "no message") }
                entries.append(
                    Entry(
                        seq: seq, exchange: try row.string(1), routingKey: try row.string(2), message: try AMQPMessageCodec.decode(data),
                        attempts: try row.int(4)))
            } catch {
                undecodable.append((seq, "the stored message cannot be decoded: \(error)"))
            }
        }
        return (entries, undecodable)
    }

    /// Deletes published rows.
    public static func delete(_ db: some SQLTransaction, seqs: [Int64]) throws {
        try chunked(seqs) { placeholders, part in
            try db.execute("DELETE FROM outbox WHERE seq IN (\(placeholders))", part)
        }
    }

    /// Parks a row with its reason (it stays, but is not published again until unparked).
    public static func park(_ db: some SQLTransaction, seq: Int64, reason: String, now: Date = Date()) throws {
        try db.execute(
            "UPDATE outbox SET parked_at = ?, parked_reason = ? WHERE seq = ?",
            [.real(now.timeIntervalSince1970), .text(String(reason.prefix(2000))), .integer(seq)])
    }

    /// Counts one more broker refusal of each row.
    public static func countAttempt(_ db: some SQLTransaction, seqs: [Int64]) throws {
        try chunked(seqs) { placeholders, part in
            try db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE seq IN (\(placeholders))", part)
        }
    }

    /// Makes parked rows pending again (all of them when `seqs` is nil); returns how many.
    @discardableResult
    public static func unpark(_ db: some SQLTransaction, seqs: [Int64]? = nil) throws -> Int {
        if let seqs {
            var changed = 0
            try chunked(seqs) { placeholders, part in
                changed += try db.execute(
                    "UPDATE outbox SET parked_at = NULL, parked_reason = NULL, attempts = 0 WHERE parked_at IS NOT NULL AND seq IN (\(placeholders))",
                    part)
            }
            return changed
        }
        return try db.execute("UPDATE outbox SET parked_at = NULL, parked_reason = NULL, attempts = 0 WHERE parked_at IS NOT NULL", [])
    }

    /// The parked rows, oldest first.
    public static func parked(_ db: some SQLTransaction, limit: Int = 1000) throws -> [Parked] {
        let rows = try db.fetch(
            """
            SELECT seq, exchange, routing_key, parked_reason, parked_at, attempts, message FROM outbox
            WHERE parked_at IS NOT NULL ORDER BY seq LIMIT ?
            """,
            [.integer(Int64(limit))])
        return try rows.map { row in
            let data = row[6].data ?? Data()
            let message = try? AMQPMessageCodec.decode(data)
            return Parked(
                seq: try row.int64(0), exchange: try row.string(1), routingKey: try row.string(2), reason: row[3].string ?? "",
                parkedAt: row[4].double ?? 0, attempts: try row.int(5), messageID: message?.properties.messageID,
                type: message?.properties.type, bodyBytes: message?.body.count ?? data.count)
        }
    }

    /// A relay's sign of life (several instances on one database). Returns false when the
    /// instance had no row: its first beat, or another relay took it for dead and adopted its
    /// rows (``adoptOrphans(_:instance:aliveSince:)`` deletes the rows of the silent).
    @discardableResult
    public static func heartbeat(_ db: some SQLTransaction, instance: String, now: Date = Date()) throws -> Bool {
        let seen = SQLValue.real(now.timeIntervalSince1970)
        if try db.execute("UPDATE outbox_relays SET seen_at = ? WHERE instance = ?", [seen, .text(instance)]) > 0 { return true }
        try db.execute(
            "INSERT INTO outbox_relays (instance, seen_at) VALUES (?, ?) ON CONFLICT (instance) DO UPDATE SET seen_at = excluded.seen_at",
            [.text(instance), seen])
        return false
    }

    /// Makes `instance` the owner of the pending rows of instances that are gone: whose relay's
    /// last sign of life is older than `aliveSince`, or (an instance that died before its relay
    /// ever said so, or rows written without an owner) whose owner never gave one and that were
    /// written before `aliveSince`. Returns how many. Two relays adopting at once take each row
    /// once (the second finds it owned by a live one).
    ///
    /// PostgreSQL: adoptions are serialised by an advisory lock. Without it two relays adopting
    /// at once could both take the same rows: the second one's UPDATE, waiting for the first's
    /// row locks, re-checks the rows it waited for with the heartbeats it read before (an
    /// anti-join is not re-run), so it took rows the first had just made its own (seen in
    /// `SQLStoreTests`, 3 runs in 6).
    @discardableResult
    public static func adoptOrphans(_ db: some SQLTransaction, instance: String, aliveSince: Date) throws -> Int {
        if db.dialect == .postgres {
            try db.execute("SELECT pg_advisory_xact_lock(hashtext('itr-outbox-adoption'))", [])
        }
        let cutoff = SQLValue.real(aliveSince.timeIntervalSince1970)
        let adopted = try db.execute(
            """
            UPDATE outbox SET owner = ? WHERE parked_at IS NULL AND (owner IS NULL OR owner <> ?)
                AND NOT EXISTS (SELECT 1 FROM outbox_relays r WHERE r.instance = outbox.owner AND r.seen_at >= ?)
                AND (EXISTS (SELECT 1 FROM outbox_relays r WHERE r.instance = outbox.owner) OR outbox.created_at < ?)
            """,
            [.text(instance), .text(instance), cutoff, cutoff])
        try db.execute("DELETE FROM outbox_relays WHERE seen_at < ? AND instance <> ?", [cutoff, .text(instance)])
        return adopted
    }

    /// How many rows are pending (parked ones not included).
    public static func count(_ db: some SQLTransaction) throws -> Int {
        try db.fetchOne("SELECT COUNT(*) FROM outbox WHERE parked_at IS NULL", [])?.int(0) ?? 0
    }

    /// How many rows are parked.
    public static func parkedCount(_ db: some SQLTransaction) throws -> Int {
        try db.fetchOne("SELECT COUNT(*) FROM outbox WHERE parked_at IS NOT NULL", [])?.int(0) ?? 0
    }

    private static func chunked(_ seqs: [Int64], _ body: (String, [SQLValue]) throws -> Void) throws {
        for chunk in stride(from: 0, to: seqs.count, by: 500) {
            let part = seqs[chunk..<min(chunk + 500, seqs.count)].map { SQLValue.integer($0) }
            try body(SQLValue.placeholders(part.count), part)
        }
    }
}
