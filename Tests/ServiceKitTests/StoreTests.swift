import AMQPClient
import Foundation
import GRDB
import Testing

@testable import ServiceKit

@Suite struct StoreTests {
    @Test func codecRoundTripsEveryFieldKind() throws {
        let headers: AMQPTable = [
            "bool": .bool(true), "i8": .int8(-8), "i16": .int16(-1600), "i32": .int32(.min), "i64": .int64(.max),
            "u8": .uint8(255), "u16": .uint16(65535), "u32": .uint32(.max), "float": .float(3.5),
            "double": .double(-0.000123), "nan": .double(.nan), "decimal": .decimal(scale: 2, value: 12345),
            "string": .string("故障报告 🚨"), "bytes": .bytes([0, 1, 254, 255]), "timestamp": .timestamp(1_700_000_000),
            "table": .table(["inner": .array([.int32(1), .string("二"), .void, .table([:])])]), "array": .array([]),
            "void": .void, "": .string("empty key"),
        ]
        let full = AMQPMessage(
            body: Data([0, 0xFF, 0x10] + Array("正文".utf8)),
            properties: AMQPProperties(
                contentType: "application/json", contentEncoding: "gzip", headers: headers, deliveryMode: 2, priority: 9,
                correlationID: "corr", replyTo: "reply", expiration: "60000", messageID: "msg-1", timestamp: 1_700_000_001,
                type: "itr.ticket.opened", userID: "guest", appID: "itr-router"))
        let decoded = try AMQPMessageCodec.decode(AMQPMessageCodec.encode(full))
        #expect(decoded.body == full.body)
        var expected = full.properties
        var actual = decoded.properties
        // NaN != NaN: compare its bit pattern, then the rest with ==.
        guard case .double(let nan)? = actual.headers["nan"] else {
            Issue.record("nan header lost")
            return
        }
        #expect(nan.bitPattern == Double.nan.bitPattern)
        expected.headers["nan"] = nil
        actual.headers["nan"] = nil
        #expect(actual == expected)

        let empty = AMQPMessage(body: Data(), properties: AMQPProperties())
        #expect(try AMQPMessageCodec.decode(AMQPMessageCodec.encode(empty)) == empty)
        // Deterministic: same message, same bytes.
        #expect(AMQPMessageCodec.encode(full) == AMQPMessageCodec.encode(full))
    }

    @Test func codecRejectsGarbage() {
        #expect(throws: AMQPMessageCodec.DecodingError.self) { try AMQPMessageCodec.decode(Data([9])) }
        var truncated = AMQPMessageCodec.encode(event(id: "x"))
        truncated = truncated.prefix(10)
        #expect(throws: AMQPMessageCodec.DecodingError.self) { try AMQPMessageCodec.decode(truncated) }
    }

    @Test func storeIsWALWithNormalSync() throws {
        let store = try makeTemporaryStore()
        let (mode, sync) = try store.pool.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        #expect(sync == 1)  // NORMAL
    }

    @Test func serviceMigrationsRunAfterTheSharedOnes() throws {
        let store = try makeTemporaryStore { migrator in
            migrator.registerMigration("tickets-v1") { db in
                try db.execute(sql: "CREATE TABLE ticket (id TEXT PRIMARY KEY, title TEXT)")
            }
        }
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO ticket VALUES ('T-1', '网络中断')")
        }
        #expect(try store.pool.read { db in try String.fetchOne(db, sql: "SELECT title FROM ticket") } == "网络中断")
    }

    @Test func inboxDeduplicatesInsideTheTransaction() async throws {
        let store = try makeTemporaryStore()
        let first = try await store.pool.write { db in try Inbox.claim(db, source: "/crm", id: "e-1") }
        let again = try await store.pool.write { db in try Inbox.claim(db, source: "/crm", id: "e-1") }
        let otherSource = try await store.pool.write { db in try Inbox.claim(db, source: "/erp", id: "e-1") }
        #expect(first && !again && otherSource)

        // A rolled-back transaction leaves no claim behind.
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await store.pool.write { db in
                _ = try Inbox.claim(db, source: "/crm", id: "e-2")
                throw Abort()
            }
        }
        #expect(try await store.pool.read { db in try Inbox.contains(db, source: "/crm", id: "e-2") } == false)
        #expect(try await store.pool.read { db in try Inbox.contains(db, source: "/crm", id: "e-1") } == true)
    }

    @Test func inboxPrunesWhatWasProcessedBeforeADate() async throws {
        let store = try makeTemporaryStore()
        let day = Date(timeIntervalSince1970: 1_790_000_000)
        try await store.pool.write { db in
            for hour in 0..<10 {
                _ = try Inbox.claim(db, source: "/crm", id: "h-\(hour)", at: day.addingTimeInterval(Double(hour) * 3_600))
            }
        }
        let pruned = try await store.pool.write { db in try Inbox.prune(db, processedBefore: day.addingTimeInterval(4 * 3_600)) }
        #expect(pruned == 4)
        #expect(try await store.pool.read { db in try Inbox.contains(db, source: "/crm", id: "h-3") } == false)
        #expect(try await store.pool.read { db in try Inbox.contains(db, source: "/crm", id: "h-4") } == true)
    }

    @Test func outboxKeepsOrderAndDeletes() async throws {
        let store = try makeTemporaryStore()
        try await store.pool.write { db in
            for index in 0..<5 {
                try Outbox.enqueue(db, message: event(id: "e-\(index)"), exchange: "itr.events", routingKey: "k.\(index)")
            }
        }
        let pending = try await store.pool.read { db in try Outbox.pending(db, limit: 10) }
        #expect(pending.map(\.routingKey) == ["k.0", "k.1", "k.2", "k.3", "k.4"])
        #expect(pending[2].message == event(id: "e-2"))
        try await store.pool.write { db in try Outbox.delete(db, seqs: [pending[0].seq, pending[3].seq]) }
        let left = try await store.pool.read { db in try Outbox.pending(db, limit: 10) }
        #expect(left.map(\.routingKey) == ["k.1", "k.2", "k.4"])
        #expect(try await store.pool.read { db in try Outbox.count(db) } == 3)
    }
}
