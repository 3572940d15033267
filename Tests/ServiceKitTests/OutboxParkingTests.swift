import AMQPClient
import Foundation
import GRDB
import Testing

@testable import ServiceKit

/// A row that cannot be published is parked with its reason, and holds up nothing.
@Suite struct OutboxParkingTests {
    func configuration() -> OutboxRelay.Configuration {
        var configuration = OutboxRelay.Configuration()
        configuration.window = 8
        configuration.pollInterval = .seconds(30)
        configuration.initialBackoff = .milliseconds(10)
        configuration.maximumBackoff = .milliseconds(40)
        return configuration
    }

    func enqueue(_ store: ServiceStore, _ ids: Range<Int>) async throws {
        try await store.pool.write { db in
            for index in ids {
                try Outbox.enqueue(db, message: event(id: "e-\(index)"), exchange: "itr.events", routingKey: "r.\(index)")
            }
        }
    }

    func run(_ relay: OutboxRelay, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay.run() }
            relay.notify()
            try await body()
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    @Test(arguments: [AMQPError.Code.unencodable, .unroutable])
    func aRowThatCanNeverBePublishedIsParkedAtOnceAndTheRestFlows(_ code: AMQPError.Code) async throws {
        let store = try makeTemporaryStore()
        let publisher = FakePublisher()
        publisher.failWhen({ $0.properties.messageID == "e-3" }, with: AMQPError(code, "no way"))
        let metrics = ServiceMetrics(service: "parking-\(UUID())", registry: .init())
        let relay = OutboxRelay(store: store, publisher: publisher, configuration: configuration(), metrics: metrics)
        try await enqueue(store, 0..<30)
        try await run(relay) { () async throws in
            #expect(await eventually { publisher.published.count == 29 })
            #expect(try await eventually { try await store.pool.read { try Outbox.count($0) } == 0 })
        }
        let parked = try await store.pool.read { try Outbox.parked($0) }
        #expect(parked.map(\.routingKey) == ["r.3"])
        #expect(parked.first?.reason.contains("no way") == true && parked.first?.messageID == "e-3")
        #expect(publisher.attempts == 30, "tried once, never again")
        #expect(metrics.render().contains("itr_outbox_parked_total{service=\"\(metrics.service)\"} 1"))
        #expect(metrics.render().contains("itr_outbox_parked{service=\"\(metrics.service)\"} 1"))
    }

    @Test func aRowTheBrokerKeepsRefusingIsParkedAfterItsAttempts() async throws {
        let store = try makeTemporaryStore()
        let publisher = FakePublisher()
        publisher.failWhen({ $0.properties.messageID == "e-1" }, with: AMQPError(.publishNacked, "queue full"))
        let relay = OutboxRelay(store: store, publisher: publisher, configuration: configuration())
        try await enqueue(store, 0..<5)
        try await run(relay) { () async throws in
            #expect(try await eventually { try await store.pool.read { try Outbox.parkedCount($0) } == 1 })
            #expect(await eventually { publisher.published.count == 4 })
        }
        let parked = try #require(try await store.pool.read { try Outbox.parked($0) }.first)
        #expect(parked.routingKey == "r.1" && parked.reason.contains("refused by the broker \(Outbox.maximumAttempts) times"))
        #expect(parked.attempts == Outbox.maximumAttempts - 1)
        // Connection trouble never parks: a plain failure is retried until it succeeds.
        #expect(try await store.pool.read { try Outbox.count($0) } == 0)
    }

    @Test func anUndecodableRowIsParkedAndTheRestFlows() async throws {
        let store = try makeTemporaryStore()
        let publisher = FakePublisher()
        try await enqueue(store, 0..<3)
        try await store.pool.write { db in
            try db.execute(
                sql: "INSERT INTO outbox (exchange, routing_key, message, created_at) VALUES ('itr.events', 'bad', X'FF00', 0)")
        }
        try await enqueue(store, 3..<6)
        let relay = OutboxRelay(store: store, publisher: publisher, configuration: configuration())
        try await run(relay) { () async throws in
            #expect(await eventually { publisher.published.count == 6 })
            #expect(try await eventually { try await store.pool.read { try Outbox.count($0) } == 0 })
        }
        let parked = try await store.pool.read { try Outbox.parked($0) }
        #expect(parked.map(\.routingKey) == ["bad"])
        #expect(parked.first?.reason.contains("cannot be decoded") == true)
    }

    @Test func unparkedRowsArePublishedAgain() async throws {
        let store = try makeTemporaryStore()
        let publisher = FakePublisher()
        publisher.failWhen({ $0.properties.messageID == "e-2" }, with: AMQPError(.unroutable, "no queue"))
        let relay = OutboxRelay(store: store, publisher: publisher, configuration: configuration())
        try await enqueue(store, 0..<4)
        try await run(relay) { () async throws in
            #expect(try await eventually { try await store.pool.read { try Outbox.parkedCount($0) } == 1 })
            publisher.failWhen(nil)
            let unparked = try await store.pool.write { try Outbox.unpark($0) }
            #expect(unparked == 1)
            relay.notify()
            #expect(await eventually { publisher.published.count == 4 })
            #expect(try await eventually { try await store.pool.read { try Outbox.count($0) + Outbox.parkedCount($0) } == 0 })
        }
    }

    @Test func enqueueRefusesWhatTheWireCannotCarryUnlessItMayBeCut() async throws {
        let store = try makeTemporaryStore()
        var long = event(id: "e-1")
        long.properties.contentType = String(repeating: "t", count: 300)
        let message = long
        await #expect(throws: Outbox.RefusedMessage.self) {
            try await store.pool.write { db in
                try Outbox.enqueue(db, message: message, exchange: "itr.events", routingKey: "x")
            }
        }
        #expect(try await store.pool.read { try Outbox.count($0) } == 0, "the refused message's transaction rolled back")
        try await store.pool.write { db in
            try Outbox.enqueue(db, message: message, exchange: "", routingKey: "itr.rejected", fitting: true)
        }
        let kept = try #require(try await store.pool.read { try Outbox.pending($0, limit: 1) }.first)
        #expect(kept.message.properties.contentType!.utf8.count <= 255)
        #expect(kept.message.properties.headers[AMQPWire.truncatedHeader] == "content_type")
    }
}
